# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The work done for one image, where it is processed (on a Dask worker, or
in the calling process): read it, find its stars and render its region
file and overlay.  Each process builds its `~asidl.UNetLoGFinder`, and so
loads the model, once per set of options (`cached_finder`) and keeps it
for every later image.
"""

import threading
import time
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
from astropy.nddata import NDData

__all__ = ['cached_finder', 'failure_reason', 'find_one', 'finder_cache_info', 'prepare_worker']

#: Finders built by this process, keyed by their options; a Dask worker
#: keeps its finders (and the models they loaded) between tasks.
_FINDERS = OrderedDict()
_FINDERS_LOCK = threading.Lock()
_FINDERS_MAX = 4
_finder_counts = {'built': 0, 'used': 0}


def _options_key(options):
    return repr(sorted(options.items()))


def cached_finder(options):
    """
    The `~asidl.UNetLoGFinder` with these options, built (and its model
    loaded) once per process; the few most recently used are kept.

    Parameters
    ----------
    options : dict
        Keyword arguments of `~asidl.UNetLoGFinder`.

    Returns
    -------
    finder : `~asidl.UNetLoGFinder`
    """
    key = _options_key(options)
    with _FINDERS_LOCK:
        finder = _FINDERS.get(key)
        if finder is None:
            from ..finder import UNetLoGFinder

            finder = UNetLoGFinder(**options)
            _FINDERS[key] = finder
            _finder_counts['built'] += 1
            while len(_FINDERS) > _FINDERS_MAX:
                _FINDERS.popitem(last=False)
        else:
            _FINDERS.move_to_end(key)
        _finder_counts['used'] += 1
    return finder


def finder_cache_info():
    """
    How many finders this process built, used (once per image, and once
    when a worker is prepared) and keeps; for tests and diagnostics.
    """
    with _FINDERS_LOCK:
        return {**_finder_counts, 'cached': len(_FINDERS)}


def prepare_worker(options):
    """
    Build the finder (loading the model) here; returns None, or the
    exception that invalid options raised.  It never raises, so that a
    Dask worker does not log a traceback for what the caller reports
    cleanly.
    """
    try:
        cached_finder(options)
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


def find_one(source, read_options, finder_options, sidecars):
    """
    Read one image, find its stars and render the requested sidecar files.

    Never raises: failures come back as ``{'error': 'Type: message'}``.
    """
    from photutils.utils.exceptions import NoDetectionsWarning

    from ..io import empty_catalog, read_image, regions_text
    from ..visualization import overlay_png

    t0 = time.perf_counter()
    try:
        image = source if isinstance(source, NDData) else read_image(source, **read_options)
        _check_not_all_masked(image)
        finder = cached_finder(_options_for_image(finder_options, image.unit))
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
            outcome['regions'] = regions_text(
                table,
                radius=sidecars['region_radius'],
                coordinates=sidecars['regions'],
                wcs=image.wcs,
            )
        if sidecars.get('overlay'):
            title = Path(meta['filename']).name if 'filename' in meta else None
            outcome['overlay'] = overlay_png(image.data, table, title=title)
    except Exception as exc:
        outcome = {'error': failure_reason(exc)}
    outcome['seconds'] = time.perf_counter() - t0
    return outcome


def failure_reason(exc):
    """How a failure is reported: ``'ExceptionType: message'``."""
    return f'{exc.__class__.__name__}: {exc}'


def _check_not_all_masked(image):
    """An image whose mask hides every pixel is an error, not an empty catalog."""
    if image.mask is not None and np.size(image.mask) and np.all(image.mask):
        raise ValueError(
            'every pixel is masked: the bad-pixel mask is non-zero everywhere (is '
            'the mask file or extension really a science frame?)'
        )
