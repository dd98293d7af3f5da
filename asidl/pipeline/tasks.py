# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Planning a run in the calling process: the images (`expand_paths`), the
catalog each writes (`Task`, `plan_tasks`), the finder options checked
without loading a model (`check_finder_options`), and which outputs exist
already: up to date, to redo, or not asidl's to replace
(`existing_outputs`).
"""

import glob
import hashlib
import inspect
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.nddata import NDData

from ..constants import DEFAULT_PRECISION

__all__ = [
    'Task',
    'check_finder_options',
    'check_outputs',
    'existing_outputs',
    'expand_paths',
    'options_digest',
    'plan_tasks',
]

_GLOB_CHARACTERS = frozenset('*?[')


@dataclass
class Task:
    """
    One image of a run and where its catalog goes.

    Attributes
    ----------
    source : str or `~astropy.nddata.NDData`
        The image: an absolute file name, or data in memory.
    label : str
        How the image is named in messages and in the summary.
    catalog : `~pathlib.Path` or None
        The catalog file; `None` to keep the catalog in memory.
    """

    source: object
    label: str
    catalog: Path = None

    def sidecar(self, suffix):
        """The file beside the catalog with this suffix (``'.reg'``, ``'.png'``)."""
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
        return {
            'image': self.source,
            'image_size': stat.st_size,
            'image_mtime_ns': stat.st_mtime_ns,
        }


def _data_digest(image):
    digest = hashlib.sha256()
    for array in (image.data, image.mask):
        if array is not None:
            array = np.ascontiguousarray(array)
            digest.update(f'{array.dtype.str}{array.shape}'.encode())
            digest.update(array.tobytes())
    digest.update(str(image.unit).encode())
    return digest.hexdigest()


def options_digest(read_options, finder_options, sidecars):
    """
    A digest (sha256, hex) of everything that shapes the outputs, recorded
    in each catalog's meta as ``options_sha256``.  ``precision='auto'``
    (given or by default) counts as the precision it stands for on this
    CPU, so a catalog made in bfloat16 is not taken for one made in float32
    elsewhere.
    """
    from ..engine import resolve_precision

    precision = resolve_precision(finder_options.get('precision', DEFAULT_PRECISION))
    finder_options = {**finder_options, 'precision': precision}
    text = json.dumps(
        {'read': read_options, 'finder': finder_options, 'sidecars': sidecars},
        sort_keys=True,
        default=repr,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _sidecar_suffixes(sidecars):
    return [
        s for s, on in (('.reg', sidecars.get('regions')), ('.png', sidecars.get('overlay'))) if on
    ]


def existing_outputs(tasks, *, overwrite, read_options, finder_options, sidecars):
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
    from ..io import asidl_table_meta, written_by_asidl

    digest = options_digest(read_options, finder_options, sidecars)
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
        if (
            all(meta.get(k) == v for k, v in identity.items())
            and meta.get('options_sha256') == digest
        ):
            skip.add(i)
    if refused:
        more = f' (and {len(refused) - 5} more)' if len(refused) > 5 else ''
        raise FileExistsError(
            f'refusing to replace files: {"; ".join(refused[:5])}{more}. '
            'Remove them, choose another output, or pass overwrite=True '
            '(--overwrite) to replace them.'
        )
    return skip


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


def check_finder_options(finder_kwargs):
    """
    Check the names of the finder options without loading a model.

    Parameters
    ----------
    finder_kwargs : dict
        Keyword arguments of `~asidl.UNetLoGFinder`.

    Returns
    -------
    options : dict
        The options, with a model file's path made absolute (workers may
        run in another directory).

    Raises
    ------
    TypeError
        An unknown option, or a model that is not a name or a file.
    """
    from ..finder import UNetLoGFinder
    from ..registry import MODEL_SUFFIXES

    allowed = [
        name
        for name, p in inspect.signature(UNetLoGFinder.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(finder_kwargs) - set(allowed))
    if unknown:
        raise TypeError(
            f'unknown UNetLoGFinder option(s) {", ".join(unknown)}; the options '
            f'are {", ".join(allowed)}'
        )
    options = dict(finder_kwargs)
    model = options.get('model')
    if model is not None:
        if not isinstance(model, (str, os.PathLike)):
            raise TypeError(
                'model must be a registered model name or the path of a model file '
                'for batch processing (each worker loads it), got '
                f'{type(model).__name__}; save a keras.Model with model.save()'
            )
        text = os.fspath(model)
        if Path(text).suffix in MODEL_SUFFIXES:  # a file: workers may have another cwd
            options['model'] = os.path.abspath(os.path.expanduser(text))
    return options


def plan_tasks(images, out_dir, output_format, names):
    """
    The tasks of a run, with their catalog paths (see `find_stars_in_files`
    for the arguments).

    Returns
    -------
    tasks : list of `Task`

    Raises
    ------
    ValueError, TypeError
        Invalid arguments, or outputs that `check_outputs` refuses.
    """
    from ..io import CATALOG_FORMATS, catalog_stem

    if isinstance(images, (str, os.PathLike, NDData)):
        images = [images]
    images = list(images)
    if names is not None and len(names) != len(images):
        raise ValueError(f'names has {len(names)} entries for {len(images)} images')
    suffix = '.' + output_format.lower().lstrip('.')
    if suffix not in CATALOG_FORMATS:
        raise ValueError(
            f'output_format must be one of '
            f'{", ".join(s[1:] for s in CATALOG_FORMATS)}, got {output_format!r}'
        )
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
            raise TypeError(
                f'images must be file names or NDData objects; item {i} is a {type(image).__name__}'
            )
        if names is not None:
            stem = str(names[i])
        catalog = None if out_dir is None else Path(out_dir) / (stem + suffix)
        tasks.append(Task(source=source, label=label, catalog=catalog))
    check_outputs(tasks)
    return tasks


def check_outputs(tasks, sidecar_suffixes=('.reg', '.png')):
    """
    Check that no output of ``tasks`` (catalog, region file or overlay)
    would overwrite an input image, and that no two tasks write the same
    catalog.

    Raises
    ------
    ValueError
        Naming the clash.
    """
    inputs = {os.path.realpath(t.source) for t in tasks if isinstance(t.source, str)}
    seen = {}
    for task in tasks:
        if task.catalog is None:
            continue
        for path in [task.catalog] + [task.sidecar(s) for s in sidecar_suffixes]:
            real = os.path.realpath(path)
            if real in inputs:
                raise ValueError(
                    f'the output {path} of {task.label} would overwrite an input '
                    'image; choose another output directory or format'
                )
        real = os.path.realpath(task.catalog)
        if real in seen:
            raise ValueError(
                f'{seen[real]} and {task.label} would both write {task.catalog}; '
                'give them distinct names'
            )
        seen[real] = task.label
