# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Normalization of raw frames into network input.

Raw frames carry a bias level, amplifier offsets, sky gradients and
saturated stars.  The default normalization, ``'asinh'``, removes a coarse
background map and divides by a coarse noise map (both from block medians,
so they follow bias steps and gradients on the scale of
`~asidl.constants.BACKGROUND_BOX` pixels and ignore stars), then
compresses with an asinh stretch so that saturated stars stay within a
few units.  The network therefore sees signal-to-noise, whatever the
telescope, exposure time or gain.

``'standardize'`` is the global standardization the ASID-L authors
trained their MeerLICHT model with: ``(data - mean) / std`` over the
whole frame.
"""

import numpy as np
from scipy import ndimage

from .constants import ASINH_SOFTENING, BACKGROUND_BOX

__all__ = ['NORMALIZATIONS', 'background_maps', 'normalize', 'evaluate_grid']

NORMALIZATIONS = ('asinh', 'standardize')

# MAD to Gaussian standard deviation.
_MAD_TO_STD = 1.4826


def _block_grid(data, valid, box):
    """Block median and MAD-sigma of the valid pixels, on a coarse grid."""
    ny, nx = data.shape
    gy, gx = -(-ny // box), -(-nx // box)
    padded = np.full((gy * box, gx * box), np.nan, dtype=np.float32)
    padded[:ny, :nx] = np.where(valid, data, np.nan)
    blocks = padded.reshape(gy, box, gx, box).transpose(0, 2, 1, 3).reshape(gy, gx, -1)
    with np.errstate(all='ignore'), _ignore_all_nan():
        med = np.nanmedian(blocks, axis=2)
        mad = np.nanmedian(np.abs(blocks - med[..., None]), axis=2)
    return med, mad * _MAD_TO_STD


class _ignore_all_nan:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter('ignore', RuntimeWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def _fill_and_smooth(grid):
    """Fill empty blocks from their neighbours and median-filter 3x3."""
    bad = ~np.isfinite(grid)
    if bad.all():
        return np.zeros_like(grid)
    if bad.any():
        idx = ndimage.distance_transform_edt(bad, return_distances=False,
                                             return_indices=True)
        grid = grid[tuple(idx)]
    return ndimage.median_filter(grid, size=3, mode='nearest')


def _upsample(grid, shape, box, rows=None):
    """Bilinear interpolation of a block grid at the pixel centres."""
    ny, nx = shape
    ys = np.arange(ny) if rows is None else rows
    yc = (ys + 0.5) / box - 0.5
    xc = (np.arange(nx) + 0.5) / box - 0.5
    gy, gx = grid.shape
    yc = np.clip(yc, 0, gy - 1)
    xc = np.clip(xc, 0, gx - 1)
    y0 = np.minimum(np.floor(yc).astype(int), max(gy - 2, 0))
    x0 = np.minimum(np.floor(xc).astype(int), max(gx - 2, 0))
    y1 = np.minimum(y0 + 1, gy - 1)
    x1 = np.minimum(x0 + 1, gx - 1)
    wy = (yc - y0)[:, None].astype(np.float32)
    wx = (xc - x0)[None, :].astype(np.float32)
    g = grid.astype(np.float32)
    top = g[y0][:, x0] * (1 - wx) + g[y0][:, x1] * wx
    bottom = g[y1][:, x0] * (1 - wx) + g[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


def background_maps(data, valid, *, box=BACKGROUND_BOX):
    """
    Coarse background and noise of a raw frame.

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        The frame.
    valid : 2D bool `~numpy.ndarray`
        Pixels to use (False for masked, NaN or infinite pixels).
    box : int, optional
        Block size in pixels.

    Returns
    -------
    background, noise : 2D `~numpy.ndarray`
        Coarse grids (one value per block, median-filtered); use
        ``_upsample`` to evaluate them at pixel resolution.
    """
    med, sigma = _block_grid(data, valid, box)
    med = _fill_and_smooth(med)
    sigma = _fill_and_smooth(sigma)
    # A block of constant values (blank edge, saturated core) has zero MAD;
    # use the frame's typical noise there.
    positive = sigma[sigma > 0]
    floor = np.median(positive) if positive.size else 1.0
    sigma = np.where(sigma > 0, sigma, floor)
    return med, sigma


def normalize(data, valid, *, method='asinh', maps=None, box=BACKGROUND_BOX):
    """
    Normalize a raw frame into network input.

    Parameters
    ----------
    data : 2D float `~numpy.ndarray`
        The frame (not modified).
    valid : 2D bool `~numpy.ndarray`
        Pixels carrying data; invalid ones are set to 0 (the background
        level) in the output.
    method : {'asinh', 'standardize'}, optional
        See the module docstring.
    maps : tuple of 2D `~numpy.ndarray` or None, optional
        The ``(background, noise)`` grids from `background_maps`, if
        already computed (``'asinh'`` only).
    box : int, optional
        Block size of the background and noise maps.

    Returns
    -------
    normalized : 2D float32 `~numpy.ndarray`
        A new array.
    """
    if method not in NORMALIZATIONS:
        raise ValueError(f'normalization must be one of {NORMALIZATIONS}, got {method!r}')
    if method == 'standardize':
        good = data[valid]
        mean = float(np.mean(good)) if good.size else 0.0
        std = float(np.std(good)) if good.size else 1.0
        out = ((data - mean) / (std if std > 0 else 1.0)).astype(np.float32)
        out[~valid] = 0.0
        return out
    background, noise = maps if maps is not None else background_maps(data, valid, box=box)
    out = np.empty(data.shape, dtype=np.float32)
    # Row blocks bound the memory of the full-resolution maps.
    step = max(box, (4_000_000 // max(data.shape[1], 1)) // box * box)
    for start in range(0, data.shape[0], step):
        rows = np.arange(start, min(start + step, data.shape[0]))
        bkg = _upsample(background, data.shape, box, rows)
        sig = _upsample(noise, data.shape, box, rows)
        chunk = (data[rows[0]:rows[-1] + 1] - bkg) / (ASINH_SOFTENING * sig)
        out[rows[0]:rows[-1] + 1] = np.arcsinh(chunk)
    out[~valid] = 0.0
    return out


def evaluate_grid(grid, y, x, box=BACKGROUND_BOX):
    """Bilinear value of a coarse grid at pixel positions ``y, x``."""
    gy, gx = grid.shape
    yc = np.clip((np.asarray(y) + 0.5) / box - 0.5, 0, gy - 1)
    xc = np.clip((np.asarray(x) + 0.5) / box - 0.5, 0, gx - 1)
    return ndimage.map_coordinates(np.asarray(grid, dtype=float), [yc, xc],
                                   order=1, mode='nearest')
