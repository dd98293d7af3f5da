# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Validation of the finder's input.

Turns whatever the user passes (ndarray of any numeric dtype or byte
order, `~astropy.units.Quantity`, `numpy.ma.MaskedArray`,
`~astropy.nddata.NDData` or `~astropy.nddata.CCDData`, plus an optional
mask) into a float32 array (the input itself, read-only, when it is
already float32 in native byte order; else a private copy, converted in
blocks of rows without full-frame float64 temporaries), a boolean map of
the usable pixels, the unit and the WCS.  The caller's objects are never modified.

Data that float32 cannot hold to the precision of their noise (a large
bias in float64 or 64-bit integer data, values beyond float32's range) are
shifted by a robust offset, computed and subtracted in the input's own
precision, before the cast, and scaled by a power of two if their spread
is beyond what float32 holds comfortably; offset and scale are recorded so
that levels can be reported in the input's terms.  Units that are not linear in flux
(magnitudes, dex, angles) are refused, and a WCS that cannot convert pixel
positions is dropped with a warning.
"""

import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.nddata import NDData
from astropy.units.function.mixin import FunctionMixin
from astropy.utils.exceptions import AstropyUserWarning

from .constants import ROW_PIXELS

__all__ = ['PreparedImage', 'prepare_image', 'as_mask']


@dataclass
class PreparedImage:
    """The finder's working view of an input image."""

    data: np.ndarray  # float32, native byte order, read-only (a view of float32 input)
    valid: np.ndarray  # True where the pixel is finite and not masked
    unit: object = None  # astropy unit or None
    wcs: object = None  # WCS or None
    offset: float = 0.0  # input = data * scale + offset
    scale: float = 1.0  # a power of two


#: Largest number of pixels whose median gives the offset (a regular sample
#: of larger images), so that it costs little on any frame.
_OFFSET_SAMPLE = 1_000_000

#: Data whose typical deviation from the offset is beyond 2**+-_SCALE_LIMIT
#: are scaled by a power of two (exact) to a typical deviation near 1.
_SCALE_LIMIT = 64


def as_mask(mask, shape, name='mask'):
    """
    A boolean copy of a user mask, checked against the image shape.

    Integer masks count non-zero values as masked, like photutils.
    """
    if mask is None:
        return np.zeros(shape, dtype=bool)
    mask = np.asanyarray(mask)
    if mask.dtype.kind not in 'biu':
        raise TypeError(f'{name} must be a boolean or integer array, got dtype {mask.dtype}')
    if mask.shape != tuple(shape):
        raise ValueError(
            f'{name} must have the same shape as data {tuple(shape)}, got {mask.shape}'
        )
    return mask.astype(bool)


def prepare_image(data, mask=None):
    """
    Validate and copy the input of a finder.

    Parameters
    ----------
    data : array_like, `~astropy.units.Quantity`, masked array or `~astropy.nddata.NDData`
        A 2D image.
    mask : array_like or None
        Pixels to ignore (True or non-zero); combined with the mask of a
        masked array or NDData.

    Returns
    -------
    image : `PreparedImage`

    Raises
    ------
    TypeError
        Non-numeric data or mask.
    ValueError
        Data not 2D, empty, a mask of another shape, or a unit that is not
        linear in flux (magnitudes, dex, angles).

    Warns
    -----
    `~astropy.utils.exceptions.AstropyUserWarning`
        A WCS that cannot convert pixel positions (it is dropped), or
        finite pixels beyond float32's range even after the offset (they
        are masked).
    """
    unit = None
    wcs = None
    extra_mask = None
    if isinstance(data, NDData):
        unit = data.unit
        wcs = data.wcs
        extra_mask = data.mask
        data = data.data
    if isinstance(data, u.Quantity):
        if unit is not None and data.unit != unit:
            data = data.to(unit)
        unit = data.unit
        data = data.value
    if isinstance(data, np.ma.MaskedArray):
        if extra_mask is None:
            extra_mask = np.ma.getmaskarray(data)
        else:
            extra_mask = np.asarray(extra_mask, bool) | np.ma.getmaskarray(data)
        data = data.data
    try:
        array = np.asarray(data)
    except Exception as exc:
        raise TypeError(f'data must be a numeric 2D array, could not convert it: {exc}') from None
    if array.dtype.kind not in 'iuf':
        raise TypeError(f'data must be a real numeric array, got dtype {array.dtype}')
    if array.ndim != 2:
        raise ValueError(
            f'data must be a 2D image, got {array.ndim} dimension(s) with shape {array.shape}'
        )
    if array.size == 0:
        raise ValueError(f'data is empty (shape {array.shape})')
    _check_unit(unit)
    valid = np.isfinite(array) if array.dtype.kind == 'f' else np.ones(array.shape, bool)
    if mask is not None:
        valid &= ~as_mask(mask, array.shape)
    if extra_mask is not None and np.ndim(extra_mask) > 0:
        valid &= ~as_mask(extra_mask, array.shape, name='the mask of data')
    work, offset, scale = _as_float32(array, valid)
    # Only a cast from a wider type can overflow float32.
    wider = array.dtype.itemsize > 4 or (array.dtype.kind in 'iu' and array.dtype.itemsize == 4)
    overflow = valid & ~np.isfinite(work) if wider else np.zeros((1, 1), bool)
    if overflow.any():
        warnings.warn(
            f'{int(overflow.sum())} finite pixel(s) of data lie beyond the range of '
            f'float32 even after subtracting the median level {offset:.6g}; they are '
            'treated as masked',
            AstropyUserWarning,
        )
        valid &= ~overflow
    return PreparedImage(
        data=work,
        valid=valid,
        unit=unit,
        wcs=_usable_wcs(wcs, array.shape),
        offset=offset,
        scale=scale,
    )


def _check_unit(unit):
    """Refuse units in which pixel values cannot be summed as flux."""
    if unit is None:
        return
    unit = u.Unit(unit)
    logarithmic = isinstance(unit, (u.FunctionUnitBase, FunctionMixin)) or any(
        isinstance(base, FunctionMixin) for base in getattr(unit, 'bases', [])
    )
    if logarithmic or unit.physical_type in ('angle', 'solid angle'):
        kind = 'logarithmic' if logarithmic else str(unit.physical_type)
        raise ValueError(
            f'data has the unit {unit}, which is {kind}, not a flux: the finder '
            "sums pixel values into 'peak' and 'flux', so it needs data linear in "
            'flux (counts, electrons, ADU, Jy, ...)'
        )


def _row_blocks(shape):
    step = max(1, ROW_PIXELS // max(shape[1], 1))
    return [np.s_[start : start + step] for start in range(0, shape[0], step)]


def _read_only(array):
    view = array.view()
    view.flags.writeable = False
    return view


def _as_float32(array, valid):
    """
    ``array`` as float32 (native byte order, read-only: a view of native
    float32 input, else a copy), with the offset and scale that give back
    the input (``array = work * scale + offset``); 0 and 1 when the cast
    is exact.
    """
    if array.dtype == np.float32 and array.dtype.isnative:
        return _read_only(array), 0.0, 1.0
    with np.errstate(over='ignore'):
        work = array.astype(np.float32)
    if array.dtype.itemsize <= 2 or array.dtype == np.float32:
        return _read_only(work), 0.0, 1.0  # float32 holds these exactly
    with np.errstate(invalid='ignore', over='ignore'):
        exact = all(
            np.array_equal(
                np.where(valid[rows], work[rows].astype(np.float64), 0.0),
                np.where(valid[rows], array[rows], 0),
            )
            for rows in _row_blocks(array.shape)
        )
    if exact or not valid.any():
        return _read_only(work), 0.0, 1.0
    # A regular grid of pixels, not a copy of the valid ones.
    step = max(1, int(np.sqrt(array.size / _OFFSET_SAMPLE)))
    sample = array[::step, ::step][valid[::step, ::step]].astype(np.float64)
    if sample.size == 0:
        sample = array[valid].astype(np.float64)
    offset = float(np.median(sample))
    if array.dtype.kind in 'iu':
        # Subtract in integers, exactly, then cast the (small) differences.
        offset = round(offset)
        for rows in _row_blocks(array.shape):
            if array.dtype.kind == 'u' and array.dtype.itemsize == 8:
                shifted = (array[rows].astype(np.uint64) - np.uint64(offset)).view(np.int64)
            else:
                shifted = array[rows].astype(np.int64) - np.int64(offset)
            work[rows] = shifted
        return _read_only(work), float(offset), 1.0
    spread = float(np.median(np.abs(sample - offset)))
    scale = 1.0
    if spread > 2.0**_SCALE_LIMIT or 0 < spread < 2.0**-_SCALE_LIMIT:
        scale = 2.0 ** int(np.frexp(spread)[1])
    with np.errstate(over='ignore', invalid='ignore'):
        for rows in _row_blocks(array.shape):
            work[rows] = (array[rows].astype(np.float64) - offset) / scale
    return _read_only(work), offset, scale


def _usable_wcs(wcs, shape):
    """``wcs`` if it converts a pixel position to the sky, else None with a warning."""
    if wcs is None:
        return None
    try:
        wcs.pixel_to_world((shape[1] - 1) / 2, (shape[0] - 1) / 2)
    except Exception as exc:
        warnings.warn(
            'the WCS of data cannot convert pixel positions to sky positions '
            f'({exc.__class__.__name__}: {exc}); the catalog will have no '
            'sky_centroid',
            AstropyUserWarning,
        )
        return None
    return wcs
