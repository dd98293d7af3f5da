# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Running planned tasks (`run_tasks`): in this process, or dispatched to a
Dask cluster; writing each image's outputs atomically as its result
arrives; and the summary of what happened (`BatchResult`).
"""

import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from astropy.nddata import NDData
from astropy.table import MaskedColumn, QTable

from .tasks import existing_outputs, options_digest
from .worker import cached_finder, failure_reason, find_one, prepare_worker

__all__ = ['DONE', 'FAILED', 'SKIPPED', 'BatchResult', 'run_tasks']

#: Statuses of an image in a `BatchResult` summary.
DONE, SKIPPED, FAILED = 'done', 'skipped', 'failed'


@dataclass
class BatchResult:
    """
    What `find_stars_in_files` did.

    Attributes
    ----------
    summary : `~astropy.table.QTable`
        One row per input, in input order: ``input`` (file name or
        ``NDData[i]``), ``catalog`` (the catalog file, empty for failures
        and without ``out_dir``),
        ``status`` (``'done'``, ``'skipped'`` because an up-to-date catalog existed,
        or ``'failed'``), ``n_sources`` (masked if not known),
        ``seconds`` (reading and finding, on the worker) and ``error``
        (the reason of a failure, else empty).
    catalogs : list
        Without ``out_dir``, the catalog (`~astropy.table.QTable`) of each
        input, `None` for failures; with ``out_dir``, empty (the catalogs
        are in the files).
    wall_seconds : float
        Elapsed time of the whole run.
    """

    summary: QTable
    catalogs: list = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def ok(self):
        """True if no input failed."""
        return not np.any(self.summary['status'] == FAILED)

    @property
    def failures(self):
        """The summary rows of the inputs that failed."""
        return self.summary[self.summary['status'] == FAILED]

    def counts(self):
        """``{status: number of inputs}`` for done, skipped and failed."""
        return {s: int(np.sum(self.summary['status'] == s)) for s in (DONE, SKIPPED, FAILED)}

    def __repr__(self):
        parts = ', '.join(f'{n} {s}' for s, n in self.counts().items())
        return f'<BatchResult: {len(self.summary)} inputs, {parts}>'


class _Progress:
    """tqdm if it is installed, else a counter on stderr; or nothing."""

    def __init__(self, total, enabled):
        self.total, self.done, self._bar = total, 0, None
        self.enabled = enabled and total > 0
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, unit='image', desc='asidl', file=sys.stderr)

    def update(self, failed=0):
        self.done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            if failed:
                self._bar.set_postfix(failed=failed, refresh=False)
            self._bar.update(1)
        else:
            note = f', {failed} failed' if failed else ''
            print(
                f'\rasidl: {self.done}/{self.total} images{note}',
                end='',
                file=sys.stderr,
                flush=True,
            )

    def close(self):
        if self._bar is not None:
            self._bar.close()
        elif self.enabled:
            print(file=sys.stderr)


def _write_outputs(task, outcome, digest):
    """
    Write the sidecar files, then the catalog, whose existence marks the
    image as done; first remove what an earlier, killed run left half-written.
    The catalog's meta records the input and the options digest.
    """
    from ..io import remove_stale_temporaries, write_bytes, write_catalog

    for path in (task.catalog, task.sidecar('.reg'), task.sidecar('.png')):
        remove_stale_temporaries(path)
    if 'regions' in outcome:
        write_bytes(task.sidecar('.reg'), outcome['regions'].encode(), overwrite=True)
    if 'overlay' in outcome:
        write_bytes(task.sidecar('.png'), outcome['overlay'], overwrite=True)
    table = outcome['table']
    table.meta.update(task.identity())
    table.meta['options_sha256'] = digest
    write_catalog(table, task.catalog, overwrite=True)


def run_tasks(
    tasks, *, client, read_options, finder_options, sidecars, overwrite, progress, on_done=None
):
    """
    Process planned ``tasks``: the engine of `find_stars_in_files` and of
    ``asidl find`` and ``asidl batch``.

    Parameters
    ----------
    tasks : list of `~asidl.pipeline.Task`
        From `~asidl.pipeline.plan_tasks`.
    client : `distributed.Client` or None
        Where to run; `None` for this process.
    read_options : dict
        Keyword arguments of `asidl.io.read_image`.
    finder_options : dict
        From `~asidl.pipeline.check_finder_options`.
    sidecars : dict
        ``regions`` (None, ``'image'`` or ``'sky'``), ``region_radius`` and
        ``overlay`` (bool).
    overwrite : bool
        Redo up-to-date catalogs and replace files asidl did not write.
    progress : bool
        Show a progress bar on stderr.
    on_done : callable, optional
        Called as ``on_done(task, status, n_sources, seconds, error)`` as
        each task finishes or is skipped.

    Returns
    -------
    result : `BatchResult`
    """
    t_start = time.perf_counter()
    n = len(tasks)
    rows = [None] * n
    catalogs = [None] * n
    todo = []
    skip = existing_outputs(
        tasks,
        overwrite=overwrite,
        read_options=read_options,
        finder_options=finder_options,
        sidecars=sidecars,
    )
    digest = options_digest(read_options, finder_options, sidecars)
    for i in range(n):
        if i in skip:
            rows[i] = (SKIPPED, None, 0.0, '')
            if on_done is not None:
                on_done(tasks[i], *rows[i])
        else:
            todo.append(i)
    n_failed = 0

    def finish(i, outcome):
        nonlocal n_failed
        task = tasks[i]
        if 'error' not in outcome and task.catalog is not None:
            try:
                _write_outputs(task, outcome, digest)
            except Exception as exc:
                outcome = {
                    'error': f'writing {task.catalog} failed: {failure_reason(exc)}',
                    'seconds': outcome['seconds'],
                }
        if 'error' in outcome:
            n_failed += 1
            rows[i] = (FAILED, None, outcome['seconds'], outcome['error'])
        else:
            rows[i] = (DONE, len(outcome['table']), outcome['seconds'], '')
            if task.catalog is None:
                catalogs[i] = outcome['table']
        bar.update(n_failed)
        if on_done is not None:
            on_done(task, *rows[i])

    bar = _Progress(len(todo), progress)
    try:
        if todo and client is None:
            cached_finder(finder_options)  # invalid options raise here, once
            for i in todo:
                finish(i, find_one(tasks[i].source, read_options, finder_options, sidecars))
        elif todo:
            _dispatch(client, tasks, todo, read_options, finder_options, sidecars, finish)
    finally:
        bar.close()
    in_memory = all(task.catalog is None for task in tasks)
    return BatchResult(
        summary=_summary(tasks, rows),
        catalogs=catalogs if in_memory else [],
        wall_seconds=time.perf_counter() - t_start,
    )


def _dispatch(client, tasks, todo, read_options, finder_options, sidecars, finish):
    from distributed import KilledWorker, as_completed

    # Build the finder on one worker first: bad options (or a model the
    # workers cannot load) raise here, instead of failing every image.
    error = client.submit(prepare_worker, finder_options, pure=False).result()
    if isinstance(error, Exception):
        raise error
    sources = [tasks[i].source for i in todo]
    arrays = [j for j, s in enumerate(sources) if isinstance(s, NDData)]
    if arrays:
        scattered = client.scatter([sources[j] for j in arrays])
        for j, future in zip(arrays, scattered):
            sources[j] = future
    futures = [
        client.submit(
            find_one,
            source,
            read_options,
            finder_options,
            sidecars,
            pure=False,
            key=f'asidl-find-{i}-{os.urandom(6).hex()}',
        )
        for i, source in zip(todo, sources)
    ]
    index = {future.key: i for future, i in zip(futures, todo)}
    pending = set(futures)
    try:
        for future in as_completed(futures):
            pending.discard(future)
            try:
                outcome = future.result()
            except KilledWorker as exc:
                outcome = {
                    'error': f'{failure_reason(exc)} (the workers running it died; out of memory?)',
                    'seconds': 0.0,
                }
            except Exception as exc:  # cancelled, or not deserializable here
                outcome = {'error': failure_reason(exc), 'seconds': 0.0}
            future.release()
            finish(index[future.key], outcome)
    finally:
        if pending:
            client.cancel(list(pending))


def _summary(tasks, rows):
    status, n_sources, seconds, error = zip(*rows) if rows else ((), (), (), ())
    table = QTable()
    table['input'] = np.array([t.label for t in tasks], dtype=str)
    table['catalog'] = np.array(
        ['' if t.catalog is None or s == FAILED else str(t.catalog) for t, s in zip(tasks, status)],
        dtype=str,
    )
    table['status'] = np.array(status, dtype='<U7')
    table['n_sources'] = MaskedColumn(
        [0 if v is None else v for v in n_sources], dtype=int, mask=[v is None for v in n_sources]
    )
    table['seconds'] = np.array(seconds, dtype=float)
    table['error'] = np.array(error, dtype=str)
    from .. import __version__
    from ..io import SUMMARY_CONTENT

    table.meta.update({'asidl_version': __version__, 'content': SUMMARY_CONTENT})
    return table
