# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Validation of the finder's input.

Turns whatever the user passes (ndarray of any numeric dtype or byte
order, `~astropy.units.Quantity`, `numpy.ma.MaskedArray`,
`~astropy.nddata.NDData` or `~astropy.nddata.CCDData`, plus an optional
mask) into a private float32 copy, a boolean map of the usable pixels,
the unit and the WCS.  The caller's objects are never modified.
"""

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.nddata import NDData

__all__ = ['PreparedImage', 'prepare_image', 'as_mask']


@dataclass
class PreparedImage:
    """The finder's working view of an input image."""

    data: np.ndarray          # float32 copy, native byte order
    valid: np.ndarray         # True where the pixel is finite and not masked
    unit: object = None       # astropy unit or None
    wcs: object = None        # WCS or None


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
        raise ValueError(f'{name} must have the same shape as data {tuple(shape)}, '
                         f'got {mask.shape}')
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
        Data not 2D, empty, or a mask of another shape.
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
        raise ValueError(f'data must be a 2D image, got {array.ndim} dimension(s) '
                         f'with shape {array.shape}')
    if array.size == 0:
        raise ValueError(f'data is empty (shape {array.shape})')
    work = array.astype(np.float32)    # always a copy, native byte order
    valid = np.isfinite(work)
    valid &= ~as_mask(mask, work.shape)
    if extra_mask is not None and np.ndim(extra_mask) > 0:
        valid &= ~as_mask(extra_mask, work.shape, name='the mask of data')
    return PreparedImage(data=work, valid=valid, unit=unit, wcs=wcs)
