# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The training targets of a frame: the paper's 13-pixel mask
(`~asidl.constants.MASK_FOOTPRINT`) around each target star and the
sub-pixel offset of the star from each mask pixel's centre.
"""

import numpy as np

from ..constants import MASK_OFFSETS

__all__ = ['target_mask']


def target_mask(y, x, shape):
    """
    The paper's training mask and the sub-pixel offset maps for stars at
    ``(y, x)``.

    A pixel claimed by the footprints of several stars belongs to the
    nearest one.

    Parameters
    ----------
    y, x : array_like
        Star positions in pixels (0-based, pixel centres at integers).
    shape : tuple of int
        Shape of the frame.

    Returns
    -------
    mask : `~numpy.ndarray`
        uint8 array, 1 inside the footprint of any star.
    offsets : `~numpy.ndarray`
        float32 array of shape ``(2, ny, nx)``: the owning star's position
        minus the pixel centre, ``dy`` then ``dx``.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    ny, nx = shape
    mask = np.zeros(shape, dtype=np.uint8)
    offsets = np.zeros((2, ny, nx), dtype=np.float32)
    if y.size == 0:
        return mask, offsets
    py = np.round(y)[:, None].astype(int) + MASK_OFFSETS[None, :, 0]
    px = np.round(x)[:, None].astype(int) + MASK_OFFSETS[None, :, 1]
    oy = y[:, None] - py
    ox = x[:, None] - px
    good = (py >= 0) & (py < ny) & (px >= 0) & (px < nx)
    py, px, oy, ox = py[good], px[good], oy[good], ox[good]
    flat = py * nx + px
    # Nearest star wins: sort by pixel, then distance, keep the first.
    order = np.lexsort((oy**2 + ox**2, flat))
    flat, oy, ox = flat[order], oy[order], ox[order]
    first = np.ones(flat.size, dtype=bool)
    first[1:] = flat[1:] != flat[:-1]
    flat, oy, ox = flat[first], oy[first], ox[first]
    mask.ravel()[flat] = 1
    offsets[0].ravel()[flat] = oy
    offsets[1].ravel()[flat] = ox
    return mask, offsets
