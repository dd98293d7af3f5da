# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Compact mosaics of the background-subtracted pixels around sources.

A filter that reads a kernel's reach of pixels, sampled in a box around
each source, needs only the pixels within the box's plus the kernel's
half size of the source.  `window_mosaic` stacks those windows, one above
the other, into a narrow image on which the filter and the boxes give the
same numbers as on the whole image, at a cost that grows with the number
of sources instead of the image's area (`asidl.photometry.shape_columns`
uses it for DAOStarFinder's shape columns on sparse frames).

The filter must pad beyond the image with zeros (``mode='constant'``,
``cval=0``) and the boxes must read zeros beyond the image, as
`~photutils.detection.DAOStarFinder`'s convolution and cutouts do.  A
window spans the rows within twice the half size of its source, zero
beyond the image, so that the filter there reads what it would beyond
the image.  Its columns stay inside the image: near the left (right)
edge they are the image's first (last) columns, so that a box leaving
the image there leaves the mosaic too, where the cutouts read zeros.
Boxes that leave the image at the top or bottom cannot be kept so in a
stack; `edge_rows` tells them apart, to be measured on the image's first
(last) rows instead.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ['edge_rows', 'window_mosaic']


def edge_rows(iy, half, ny):
    """
    Which boxes of half size ``half`` around rows ``iy`` leave the image
    (of ``ny`` rows) at the top and at the bottom.
    """
    return iy - half < 0, iy + half > ny - 1


def window_mosaic(image, bkg, iy, ix, half):
    """
    The background-subtracted windows around pixels ``(iy, ix)``, stacked.

    Parameters
    ----------
    image : `~asidl.prepare.PreparedImage`
        The image; masked pixels are zero, as beyond the image.
    bkg : `~asidl.background.BackgroundMap`
        Its background.
    iy, ix : `~numpy.ndarray` of int
        The sources' pixels; their boxes must not leave the image at the
        top or bottom (`edge_rows`).
    half : tuple of int
        ``(hy, hx)``, the half size of the boxes and of the filter's
        kernel (DAOStarFinder's cutouts are the kernel's size).

    Returns
    -------
    mosaic : ``(n (4 hy + 1), 4 hx + 1)`` `~numpy.ndarray`
        Float32, the pixel values as ``np.where(image.valid, image.data -
        bkg.rows(...)[0], 0.0)`` gives them, bit for bit.
    my, mx : `~numpy.ndarray` of int
        The sources' pixels in the mosaic.
    """
    hy, hx = half
    ny, nx = image.data.shape
    height, width = 4 * hy + 1, 4 * hx + 1
    if nx < width:
        raise ValueError(f'the image ({nx} columns) is narrower than a window ({width})')
    # A window that would leave the image on the left (right) is its
    # first (last) columns instead: those of the box are beyond the
    # mosaic's edge as beyond the image's, and the kernel reaches no
    # further than the window from any pixel of the box.
    x0 = np.clip(ix - 2 * hx, 0, nx - width)
    y0 = iy - 2 * hy
    data = _blocks(image.data, y0, x0, (height, width), 0)
    valid = _blocks(image.valid, y0, x0, (height, width), False)
    rows = np.clip(y0[:, None] + np.arange(height), 0, ny - 1)
    background = bkg.windows(rows, x0[:, None] + np.arange(width))
    mosaic = np.where(valid, data - background, 0.0)
    return mosaic.reshape(-1, width), np.arange(iy.size) * height + 2 * hy, ix - x0


def _blocks(array, y0, x0, shape, fill):
    """
    ``array[y0 : y0 + h, x0 : x0 + w]`` for each ``(y0, x0)``, with
    ``fill`` in the rows beyond the array (the columns must be inside).
    """
    height, width = shape
    ny = array.shape[0]
    whole = (y0 >= 0) & (y0 <= ny - height)
    if whole.all():
        return sliding_window_view(array, shape)[y0, x0]
    blocks = np.empty((y0.size, height, width), dtype=array.dtype)
    if whole.any():
        blocks[whole] = sliding_window_view(array, shape)[y0[whole], x0[whole]]
    part = np.flatnonzero(~whole)
    rows = y0[part, None] + np.arange(height)
    values = array[np.clip(rows, 0, ny - 1)[:, :, None], x0[part, None, None] + np.arange(width)]
    blocks[part] = np.where(((rows >= 0) & (rows < ny))[:, :, None], values, fill)
    return blocks
