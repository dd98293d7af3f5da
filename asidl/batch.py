# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Find stars in many images, in this process or on a Dask cluster.

`find_stars_in_files` is what ``asidl batch`` and ``asidl find`` run.
Each image is read and searched where it is processed (on a Dask worker,
or here without a client); each worker builds its `~asidl.UNetLoGFinder`,
and so loads the model, once, and keeps it for every later image.  The
catalogs come back to the calling process, which writes them atomically
(temporary name, then rename) as they arrive, so that an
interrupted run leaves only whole catalogs and a re-run can skip the
images already done.  An image that cannot be processed is reported with
its reason and does not stop the others.

Outputs never replace a file that asidl did not write for the same input:
each catalog's meta records its input (path, size and modification time,
or a hash of data in memory) and a digest of the options, and a re-run
skips an image only when these match; an existing file that is not an
asidl catalog (a FITS image, say) or the catalog of another image is
replaced only with ``overwrite=True``.
"""

import glob
import hashlib
import inspect
import json
import os
import sys
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.nddata import NDData
from astropy.table import MaskedColumn, QTable

__all__ = ['BatchResult', 'find_stars_in_files', 'expand_paths']

#: Statuses of an image in a `BatchResult` summary.
DONE, SKIPPED, FAILED = 'done', 'skipped', 'failed'

_GLOB_CHARACTERS = frozenset('*?[')


# --------------------------------------------------------------------------
# The work done for one image (on a worker)

#: Finders built by this process, keyed by their options; a Dask worker
#: keeps its finders (and the models they loaded) between tasks.
_FINDERS = OrderedDict()
_FINDERS_LOCK = threading.Lock()
_FINDERS_MAX = 4
_finder_counts = {'built': 0, 'used': 0}


def _options_key(options):
    return repr(sorted(options.items()))


def _cached_finder(options):
    """The finder with these options, built (and its model loaded) once per process."""
    key = _options_key(options)
    with _FINDERS_LOCK:
        finder = _FINDERS.get(key)
        if finder is None:
            from .finder import UNetLoGFinder

            finder = UNetLoGFinder(**options)
            _FINDERS[key] = finder
            _finder_counts['built'] += 1
            while len(_FINDERS) > _FINDERS_MAX:
                _FINDERS.popitem(last=False)
        else:
            _FINDERS.move_to_end(key)
        _finder_counts['used'] += 1
    return finder


def _finder_cache_info():
    """
    How many finders this process built, used (once per image, and once
    when a worker is prepared) and keeps; for tests and diagnostics.
    """
    with _FINDERS_LOCK:
        return {**_finder_counts, 'cached': len(_FINDERS)}


def _prepare_worker(options):
    """
    Build the finder (loading the model) here; returns None, or the
    exception that invalid options raised.  It never raises, so that a
    Dask worker does not log a traceback for what the caller reports
    cleanly.
    """
    try:
        _cached_finder(options)
    except Exception as exc:
        return exc
    return None


def _options_for_image(options, unit):
    """A plain-number ``peak_max`` is in the image's unit: make it a Quantity there."""
    peak_max = options.get('peak_max')
    if peak_max is None or unit is None or hasattr(peak_max, 'unit'):
        return options
    import astropy.units as u

    if unit == u.dimensionless_unscaled:
        return options
    return {**options, 'peak_max': float(peak_max) * unit}


def _find_one(source, read_options, finder_options, sidecars):
    """
    Read one image, find its stars and render the requested sidecar files.

    Never raises: failures come back as ``{'error': 'Type: message'}``.
    """
    from photutils.utils.exceptions import NoDetectionsWarning

    from .io import empty_catalog, read_image, regions_text
    from .visualization import overlay_png

    t0 = time.perf_counter()
    try:
        image = source if isinstance(source, NDData) else read_image(source, **read_options)
        _check_not_all_masked(image)
        finder = _cached_finder(_options_for_image(finder_options, image.unit))
        if threading.current_thread() is threading.main_thread():
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', NoDetectionsWarning)
                table = finder(image)
        else:
            # catch_warnings is not thread-safe; on a worker thread the
            # warning is shown at most once per process (Python's default).
            table = finder(image)
        if table is None:
            table = empty_catalog(finder, image)
        meta = image.meta or {}
        if 'filename' in meta:
            table.meta['image'] = str(meta['filename'])
        if 'hdu' in meta:
            table.meta['hdu'] = meta['hdu']
        outcome = {'table': table}
        if sidecars.get('regions'):
            outcome['regions'] = regions_text(table, radius=sidecars['region_radius'],
                                             coordinates=sidecars['regions'], wcs=image.wcs)
        if sidecars.get('overlay'):
            title = Path(meta['filename']).name if 'filename' in meta else None
            outcome['overlay'] = overlay_png(image.data, table, title=title)
    except Exception as exc:
        outcome = {'error': _reason(exc)}
    outcome['seconds'] = time.perf_counter() - t0
    return outcome


def _reason(exc):
    return f'{exc.__class__.__name__}: {exc}'


def _check_not_all_masked(image):
    """An image whose mask hides every pixel is an error, not an empty catalog."""
    if image.mask is not None and np.size(image.mask) and np.all(image.mask):
        raise ValueError('every pixel is masked: the bad-pixel mask is non-zero everywhere (is '
                         'the mask file or extension really a science frame?)')


# --------------------------------------------------------------------------
# The calling process: plan, dispatch, write


@dataclass
class _Task:
    source: object        # path string or NDData
    label: str            # how the input is named in messages
    catalog: Path = None  # where the catalog goes; None to keep it in memory

    def sidecar(self, suffix):
        return self.catalog.with_suffix(suffix)

    def identity(self):
        """
        What a catalog's meta records of its input: the path with size and
        modification time, or a hash of data in memory.
        """
        if isinstance(self.source, NDData):
            filename = (self.source.meta or {}).get('filename')
            identity = {'image': str(filename)} if filename else {}
            identity['image_sha256'] = _data_digest(self.source)
            return identity
        try:
            stat = os.stat(self.source)
        except OSError:
            return {'image': self.source}
        return {'image': self.source, 'image_size': stat.st_size,
                'image_mtime_ns': stat.st_mtime_ns}


def _data_digest(image):
    digest = hashlib.sha256()
    for array in (image.data, image.mask):
        if array is not None:
            array = np.ascontiguousarray(array)
            digest.update(f'{array.dtype.str}{array.shape}'.encode())
            digest.update(array.tobytes())
    digest.update(str(image.unit).encode())
    return digest.hexdigest()


def _options_digest(read_options, finder_options, sidecars):
    """A digest of everything that shapes the outputs, recorded in each catalog's meta."""
    text = json.dumps({'read': read_options, 'finder': finder_options, 'sidecars': sidecars},
                      sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _sidecar_suffixes(sidecars):
    return [s for s, on in (('.reg', sidecars.get('regions')), ('.png', sidecars.get('overlay')))
            if on]


def _existing_outputs(tasks, *, overwrite, read_options, finder_options, sidecars):
    """
    Indices of the tasks whose catalog is up to date, to skip.

    A catalog is up to date when its meta records the same input and the
    same options digest.  The catalog of the same input made otherwise is
    redone.  An output path holding a file that asidl did not write (a
    FITS image, any other file) or the catalog of another input is
    refused unless ``overwrite``.

    Raises
    ------
    FileExistsError
        Listing the outputs that would replace files of another origin.
    """
    from .io import asidl_table_meta, written_by_asidl

    digest = _options_digest(read_options, finder_options, sidecars)
    skip, refused = set(), []
    for i, task in enumerate(tasks):
        if task.catalog is None:
            continue
        for path in [task.sidecar(s) for s in _sidecar_suffixes(sidecars)]:
            if path.exists() and not overwrite and not written_by_asidl(path):
                refused.append(f'{path} exists and is not a file asidl wrote')
        if not task.catalog.exists():
            continue
        meta = asidl_table_meta(task.catalog)
        if meta is None:
            if not overwrite:
                refused.append(f'{task.catalog} exists and is not a catalog asidl wrote')
            continue
        if overwrite:
            continue
        identity = task.identity()
        recorded = meta.get('image')
        if recorded not in (None, '') and recorded != identity.get('image'):
            refused.append(f'{task.catalog} is the catalog of another image, {recorded}')
            continue
        if all(meta.get(k) == v for k, v in identity.items()) \
                and meta.get('options_sha256') == digest:
            skip.add(i)
    if refused:
        more = f' (and {len(refused) - 5} more)' if len(refused) > 5 else ''
        raise FileExistsError(f'refusing to replace files: {"; ".join(refused[:5])}{more}. '
                              'Remove them, choose another output, or pass overwrite=True '
                              '(--overwrite) to replace them.')
    return skip


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


def expand_paths(patterns):
    """
    File names from names and glob patterns, in the given order.

    A string or path containing ``*``, ``?`` or ``[`` that is not an
    existing file is a pattern; its matches are sorted.  Other names are
    kept even if the file does not exist (that is reported when it is
    processed).

    Raises
    ------
    FileNotFoundError
        A pattern matches no file.
    """
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    paths = []
    for pattern in patterns:
        text = os.fspath(pattern)
        if _GLOB_CHARACTERS & set(text) and not os.path.exists(text):
            matches = sorted(glob.glob(os.path.expanduser(text)))
            if not matches:
                raise FileNotFoundError(f'no file matches {text!r}')
            paths.extend(matches)
        else:
            paths.append(text)
    return paths


def _finder_options(finder_kwargs):
    """Check the names of the finder options without loading a model."""
    from .finder import UNetLoGFinder
    from .registry import MODEL_SUFFIXES

    allowed = [name for name, p in inspect.signature(UNetLoGFinder.__init__).parameters.items()
               if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(finder_kwargs) - set(allowed))
    if unknown:
        raise TypeError(f'unknown UNetLoGFinder option(s) {", ".join(unknown)}; the options '
                        f'are {", ".join(allowed)}')
    options = dict(finder_kwargs)
    model = options.get('model')
    if model is not None:
        if not isinstance(model, (str, os.PathLike)):
            raise TypeError('model must be a registered model name or the path of a model file '
                            'for batch processing (each worker loads it), got '
                            f'{type(model).__name__}; save a keras.Model with model.save()')
        text = os.fspath(model)
        if Path(text).suffix in MODEL_SUFFIXES:    # a file: workers may have another cwd
            options['model'] = os.path.abspath(os.path.expanduser(text))
    return options


def _plan(images, out_dir, output_format, names):
    """The tasks, with their catalog paths; checks that no two write the same file."""
    from .io import CATALOG_FORMATS, catalog_stem

    if isinstance(images, (str, os.PathLike, NDData)):
        images = [images]
    images = list(images)
    if names is not None and len(names) != len(images):
        raise ValueError(f'names has {len(names)} entries for {len(images)} images')
    suffix = '.' + output_format.lower().lstrip('.')
    if suffix not in CATALOG_FORMATS:
        raise ValueError(f'output_format must be one of '
                         f'{", ".join(s[1:] for s in CATALOG_FORMATS)}, got {output_format!r}')
    tasks = []
    for i, image in enumerate(images):
        if isinstance(image, NDData):
            filename = (image.meta or {}).get('filename')
            label = str(filename) if filename else f'NDData[{i}]'
            stem = catalog_stem(filename) if filename else f'image_{i:04d}'
            source = image
        elif isinstance(image, (str, os.PathLike)):
            source = os.path.abspath(os.path.expanduser(os.fspath(image)))
            label = os.fspath(image)
            stem = catalog_stem(source)
        else:
            raise TypeError(f'images must be file names or NDData objects; item {i} is a '
                            f'{type(image).__name__}')
        if names is not None:
            stem = str(names[i])
        catalog = None if out_dir is None else Path(out_dir) / (stem + suffix)
        tasks.append(_Task(source=source, label=label, catalog=catalog))
    _check_outputs(tasks)
    return tasks


def _check_outputs(tasks, sidecar_suffixes=('.reg', '.png')):
    inputs = {os.path.realpath(t.source) for t in tasks if isinstance(t.source, str)}
    seen = {}
    for task in tasks:
        if task.catalog is None:
            continue
        for path in [task.catalog] + [task.sidecar(s) for s in sidecar_suffixes]:
            real = os.path.realpath(path)
            if real in inputs:
                raise ValueError(f'the output {path} of {task.label} would overwrite an input '
                                 'image; choose another output directory or format')
        real = os.path.realpath(task.catalog)
        if real in seen:
            raise ValueError(f'{seen[real]} and {task.label} would both write {task.catalog}; '
                             'give them distinct names')
        seen[real] = task.label


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
            print(f'\rasidl: {self.done}/{self.total} images{note}', end='', file=sys.stderr,
                  flush=True)

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
    from .io import remove_stale_temporaries, write_bytes, write_catalog

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


def _run(tasks, *, client, read_options, finder_options, sidecars, overwrite, progress,
         on_done=None):
    """Process ``tasks``; the engine of `find_stars_in_files` and of the command line."""
    t_start = time.perf_counter()
    n = len(tasks)
    rows = [None] * n
    catalogs = [None] * n
    todo = []
    skip = _existing_outputs(tasks, overwrite=overwrite, read_options=read_options,
                             finder_options=finder_options, sidecars=sidecars)
    digest = _options_digest(read_options, finder_options, sidecars)
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
                outcome = {'error': f'writing {task.catalog} failed: {_reason(exc)}',
                           'seconds': outcome['seconds']}
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
            _cached_finder(finder_options)       # invalid options raise here, once
            for i in todo:
                finish(i, _find_one(tasks[i].source, read_options, finder_options, sidecars))
        elif todo:
            _dispatch(client, tasks, todo, read_options, finder_options, sidecars, finish)
    finally:
        bar.close()
    in_memory = all(task.catalog is None for task in tasks)
    return BatchResult(summary=_summary(tasks, rows), catalogs=catalogs if in_memory else [],
                       wall_seconds=time.perf_counter() - t_start)


def _dispatch(client, tasks, todo, read_options, finder_options, sidecars, finish):
    from distributed import KilledWorker, as_completed

    # Build the finder on one worker first: bad options (or a model the
    # workers cannot load) raise here, instead of failing every image.
    error = client.submit(_prepare_worker, finder_options, pure=False).result()
    if isinstance(error, Exception):
        raise error
    sources = [tasks[i].source for i in todo]
    arrays = [j for j, s in enumerate(sources) if isinstance(s, NDData)]
    if arrays:
        scattered = client.scatter([sources[j] for j in arrays])
        for j, future in zip(arrays, scattered):
            sources[j] = future
    futures = [client.submit(_find_one, source, read_options, finder_options, sidecars,
                             pure=False, key=f'asidl-find-{i}-{os.urandom(6).hex()}')
               for i, source in zip(todo, sources)]
    index = {future.key: i for future, i in zip(futures, todo)}
    pending = set(futures)
    try:
        for future in as_completed(futures):
            pending.discard(future)
            try:
                outcome = future.result()
            except KilledWorker as exc:
                outcome = {'error': f'{_reason(exc)} (the workers running it died; out of '
                                    'memory?)', 'seconds': 0.0}
            except Exception as exc:   # cancelled, or not deserializable here
                outcome = {'error': _reason(exc), 'seconds': 0.0}
            future.release()
            finish(index[future.key], outcome)
    finally:
        if pending:
            client.cancel(list(pending))


def _summary(tasks, rows):
    status, n_sources, seconds, error = zip(*rows) if rows else ((), (), (), ())
    table = QTable()
    table['input'] = np.array([t.label for t in tasks], dtype=str)
    table['catalog'] = np.array(['' if t.catalog is None or s == FAILED else str(t.catalog)
                                 for t, s in zip(tasks, status)], dtype=str)
    table['status'] = np.array(status, dtype='<U7')
    table['n_sources'] = MaskedColumn([0 if v is None else v for v in n_sources], dtype=int,
                                      mask=[v is None for v in n_sources])
    table['seconds'] = np.array(seconds, dtype=float)
    table['error'] = np.array(error, dtype=str)
    from . import __version__
    from .io import SUMMARY_CONTENT

    table.meta.update({'asidl_version': __version__, 'content': SUMMARY_CONTENT})
    return table


def find_stars_in_files(images, *, client=None, out_dir=None, output_format='ecsv',
                        overwrite=False, names=None, hdu=None, mask=None, mask_hdu='auto',
                        regions=None, region_radius=4.0, overlay=False, progress=False,
                        **finder_kwargs):
    """
    Find the stars of many images, on a Dask cluster or in this process.

    Parameters
    ----------
    images : str, path-like, `~astropy.nddata.NDData` or a list of them
        FITS file names or glob patterns (see `expand_paths`; read with
        `asidl.io.read_image`), or images already in memory.  Files are
        read by the workers, so with a remote cluster they must be at the
        same path there.
    client : `distributed.Client`, optional
        Where to run.  Each worker builds its finder, loading the model,
        once.  Without a client the images are processed one after the
        other in this process.
    out_dir : str or path-like, optional
        Directory (created if needed) for the catalogs, one per image,
        named after the file (``frame.fits`` -> ``frame.ecsv``) or, for
        NDData without a ``filename`` in ``meta``, ``image_0000.ecsv``
        etc.  Without ``out_dir``, the catalogs are returned in memory.
    output_format : {'ecsv', 'fits', 'csv'}, optional
        Catalog format (see `asidl.io.write_catalog`).
    overwrite : bool, optional
        Redo every image, and replace output files that asidl did not
        write for it.  By default an image is skipped when its catalog
        records the same input (path, size and modification time, or a
        hash of data in memory) and the same options, which makes an
        interrupted run resumable; an asidl catalog of the same image made
        otherwise is redone, and any other existing file at an output path
        (a FITS image, the catalog of another image) raises
        `FileExistsError`.  CSV catalogs carry no metadata and are always
        redone.
    names : list of str, optional
        Catalog file names (without suffix), one per image.
    hdu, mask, mask_hdu
        How files are read; see `asidl.io.read_image`.
    regions : {'image', 'sky'} or None, optional
        Also write a DS9 region file (``frame.reg``) beside each catalog
        with a circle per source, in pixel or sky coordinates.
    region_radius : float, optional
        Circle radius in pixels.
    overlay : bool, optional
        Also write a PNG of each image with its sources (``frame.png``).
    progress : bool, optional
        Show a progress bar on stderr (tqdm if installed).
    **finder_kwargs
        Options of `~asidl.UNetLoGFinder` (``model``, ``threshold`` ...).
        ``model`` must be a registered name or a file path.  A
        ``peak_max`` given as a plain number is in each image's unit.

    Returns
    -------
    result : `BatchResult`
        ``result.summary`` has a row per image with its status and, for
        failures, the reason; ``result.ok`` is True if none failed;
        ``result.catalogs`` holds the catalogs when ``out_dir`` is None.

    Raises
    ------
    TypeError, ValueError
        Invalid options (raised before any image is processed), or two
        images that would write the same catalog.
    FileExistsError
        Outputs that would replace files asidl did not write for the same
        input, without ``overwrite`` (raised before any image is processed).
    FileNotFoundError
        A glob pattern that matches nothing.

    Notes
    -----
    Each catalog is written to a temporary file in ``out_dir`` and renamed
    when complete, after its region file and overlay, so a catalog that
    exists is whole; a run that is interrupted and started again skips
    the images already done.  An image that fails (not FITS, corrupt, no
    2D image, ...) gets no catalog and does not stop the others; if the
    worker processing it dies, Dask retries the image on another worker
    before reporting it as failed.

    Examples
    --------
    >>> from astropy.nddata import NDData
    >>> from asidl.batch import find_stars_in_files
    >>> from asidl.datasets import FrameParameters, simulate_frame
    >>> frames = [NDData(simulate_frame(FrameParameters(shape=(96, 96), density=30),
    ...                                 seed=s).data) for s in (1, 2)]
    >>> result = find_stars_in_files(frames, fwhm=4.5)   # the simulator's default
    >>> result.ok, [len(t) > 0 for t in result.catalogs]
    (True, [True, True])
    >>> result.summary['status'].tolist()
    ['done', 'done']
    """
    finder_options = _finder_options(finder_kwargs)
    if regions not in (None, 'image', 'sky'):
        raise ValueError(f"regions must be None, 'image' or 'sky', got {regions!r}")
    if not isinstance(overwrite, bool):
        raise TypeError(f'overwrite must be True or False, got {overwrite!r}')
    if out_dir is None and (regions or overlay):
        raise ValueError('regions and overlay files need an out_dir')
    if isinstance(images, (str, os.PathLike)):
        images = [images]
    if not isinstance(images, NDData):
        images = [image for item in images
                  for image in ([item] if isinstance(item, NDData) else expand_paths(item))]
    tasks = _plan(images, out_dir, output_format, names)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    read_options = {'hdu': hdu, 'mask': _absolute(mask), 'mask_hdu': mask_hdu}
    sidecars = {'regions': regions, 'region_radius': float(region_radius), 'overlay': overlay}
    return _run(tasks, client=client, read_options=read_options, finder_options=finder_options,
                sidecars=sidecars, overwrite=overwrite, progress=progress)


def _absolute(mask):
    if isinstance(mask, (str, os.PathLike)):
        return os.path.abspath(os.path.expanduser(os.fspath(mask)))
    return mask
