# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The background and noise maps of raw frames.

`background_map` measures a coarse background and noise map: block
medians and median absolute deviations over blocks of
`~asidl.constants.BACKGROUND_BOX` pixels, after the frame's plane is
taken out, so that they follow bias steps and gradients and ignore stars.
`BackgroundMap` interpolates them to any pixel, row band or cutout.  The
normalization (`asidl.normalize`), photometry and the FWHM measurement
use them.  `noise_correlation` measures how much of the noise is
correlated between neighbouring pixels, as in resampled mosaics, coadds
and photographic plates.

The block statistics are computed with a reshape (no Python loop over
blocks) because photutils' `~photutils.background.Background2D`, which
does the same with more options, costs more than the network itself on
large frames.
"""

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from astropy.stats import mad_std
from scipy import ndimage

from .constants import BACKGROUND_BOX, ROW_PIXELS

__all__ = ['BackgroundMap', 'background_map', 'noise_correlation']

# MAD to Gaussian standard deviation.
_MAD_TO_STD = 1.4826

#: Block statistics use every second pixel in each direction: a 64x64 block
#: still gives 1024 samples, at a quarter of the cost.
_SAMPLE = 2


def _threads(n_tasks):
    return max(1, min(os.cpu_count() or 1, 8, n_tasks))


def _block_median(data, valid, box):
    """
    Median of the valid pixels of each block (NaN for blocks with none),
    from ``data`` sampled every `_SAMPLE` pixels (``box`` is in full pixels).
    Large frames are shared out over threads by rows of blocks (numpy
    releases the GIL while it partitions), with the same result.
    """
    step = box // _SAMPLE
    gy = -(-data.shape[0] // step)
    threads = _threads(gy // 4) if data.size > ROW_PIXELS else 1
    if threads == 1:
        return _block_median_rows(data, valid, box)
    edges = np.linspace(0, gy, threads + 1).astype(int) * step
    with ThreadPoolExecutor(threads) as pool:
        parts = pool.map(
            lambda k: _block_median_rows(
                data[edges[k] : edges[k + 1]], valid[edges[k] : edges[k + 1]], box
            ),
            range(threads),
        )
        return np.concatenate(list(parts))


def _block_median_rows(data, valid, box):
    step = box // _SAMPLE
    ny, nx = data.shape
    gy, gx = -(-ny // step), -(-nx // step)
    if ny % step == 0 and nx % step == 0 and valid.all():
        blocks = data.reshape(gy, step, gx, step).transpose(0, 2, 1, 3).reshape(gy, gx, -1)
        return np.median(blocks, axis=2)
    padded = np.full((gy * step, gx * step), np.nan, dtype=np.float32)
    padded[:ny, :nx] = np.where(valid, data, np.nan)
    blocks = padded.reshape(gy, step, gx, step).transpose(0, 2, 1, 3).reshape(gy, gx, -1)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)  # all-NaN blocks
        return np.nanmedian(blocks, axis=2)


def _fill_and_smooth(grid):
    """Fill empty blocks from their nearest neighbours and median-filter 3x3."""
    bad = ~np.isfinite(grid)
    if bad.all():
        return np.zeros_like(grid)
    if bad.any():
        idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
        grid = grid[tuple(idx)]
    # Odd reflection continues gradients past the edges, so the median
    # filter leaves a linear background untouched, corners included.
    padded = (
        np.pad(grid, 1, mode='reflect', reflect_type='odd')
        if min(grid.shape) > 1
        else np.pad(grid, 1, mode='edge')
    )
    return ndimage.median_filter(padded, size=3)[1:-1, 1:-1]


def _block_centres(length, box):
    """Pixel coordinate of the centre of each block (the last may be partial)."""
    starts = np.arange(0, length, box)
    ends = np.minimum(starts + box, length)
    return (starts + ends - 1) / 2.0


def _axis_weights(pixels, centres):
    """
    Indices of the two nearest block centres and the interpolation weight
    along one axis.  Beyond the outermost centres the weight leaves [0, 1],
    so a gradient is extrapolated linearly to the frame edge instead of
    flattening there.
    """
    pixels = np.asarray(pixels, dtype=float)
    n = centres.size
    if n == 1:
        zeros = np.zeros(pixels.shape, dtype=int)
        return zeros, zeros, np.zeros(pixels.shape, dtype=np.float32)
    i0 = np.clip(np.searchsorted(centres, pixels) - 1, 0, n - 2)
    i1 = i0 + 1
    weight = (pixels - centres[i0]) / (centres[i1] - centres[i0])
    return i0, i1, weight.astype(np.float32)


class BackgroundMap:
    """
    Coarse background and noise of a frame, evaluated by bilinear
    interpolation between block centres.

    Attributes
    ----------
    background, noise : 2D `~numpy.ndarray`
        One value per block, in data units.
    shape : tuple of int
        Shape of the frame.
    box : int
        Block size in pixels.
    """

    def __init__(self, background, noise, shape, box):
        self.background = background
        self.noise = noise
        self.shape = tuple(shape)
        self.box = box
        self._cy = _block_centres(shape[0], box)
        self._cx = _block_centres(shape[1], box)

    @staticmethod
    def _interp(grid, wy, wx):
        (y0, y1, fy), (x0, x1, fx) = wy, wx
        top = grid[y0, x0] * (1 - fx) + grid[y0, x1] * fx
        bottom = grid[y1, x0] * (1 - fx) + grid[y1, x1] * fx
        return top * (1 - fy) + bottom * fy

    def _on_grid(self, grid, ys, xs):
        """
        Separable bilinear interpolation on the pixel grid ``ys x xs``:
        along x on the rows of blocks that ``ys`` needs, then along y for
        each run of rows between the same two block centres, with no
        full-size gathers.
        """
        y0, y1, fy = _axis_weights(ys, self._cy)
        x0, x1, fx = _axis_weights(xs, self._cx)
        if y0.size == 0:
            return np.zeros((0, len(xs)), np.float32)
        first, last = int(y0.min()), int(y1.max()) + 1
        grid = grid[first:last].astype(np.float32)
        along_x = grid[:, x0] * (1 - fx) + grid[:, x1] * fx  # (blocks needed, len(xs))
        out = np.empty((len(y0), len(xs)), np.float32)
        # Rows between the same pair of block centres share their two rows of
        # along_x: one step per run of equal y0.
        starts = np.flatnonzero(np.diff(y0, prepend=-1))
        for start, stop in zip(starts, [*starts[1:], len(y0)]):
            top, bottom = along_x[y0[start] - first], along_x[y1[start] - first]
            np.multiply(top, (1 - fy[start:stop])[:, None], out=out[start:stop])
            out[start:stop] += bottom * fy[start:stop, None]
        return out

    def rows(self, start, stop):
        """Full-resolution ``(background, noise)`` of rows ``start:stop``."""
        return self.cutout(start, stop, 0, self.shape[1])

    def cutout(self, y0, y1, x0, x1):
        """
        Full-resolution ``(background, noise)`` of the pixels ``[y0:y1,
        x0:x1]``, float32; each pixel's value is the same whatever the
        cutout it is part of (the interpolation is separable).
        """
        ys, xs = np.arange(y0, y1), np.arange(x0, x1)
        return self._on_grid(self.background, ys, xs), self._on_grid(self.noise, ys, xs)

    def background_pixels(self, y, x):
        """
        Background at integer pixels ``y, x`` (arrays of any shape), float32:
        the values `rows` and `cutout` give there, bit for bit.
        """
        y, x = np.asarray(y), np.asarray(x)
        y0, y1, fy = _axis_weights(y.ravel(), self._cy)
        x0, x1, fx = _axis_weights(x.ravel(), self._cx)
        grid = self.background.astype(np.float32)
        top = grid[y0, x0] * (1 - fx) + grid[y0, x1] * fx
        bottom = grid[y1, x0] * (1 - fx) + grid[y1, x1] * fx
        return (top * (1 - fy) + bottom * fy).reshape(y.shape)

    def windows(self, rows, cols):
        """
        Background on the grids ``rows[k] x cols[k]`` (integer arrays of
        shapes ``(n, h)`` and ``(n, w)``), as an ``(n, h, w)`` float32
        array: the values `rows`, `cutout` and `background_pixels` give
        there, bit for bit.
        """
        y0, y1, fy = _axis_weights(rows, self._cy)
        x0, x1, fx = _axis_weights(cols, self._cx)
        grid = self.background.astype(np.float32)
        # As _on_grid, along x first, on the few rows of blocks each window
        # spans (``base`` on): four gathers per pixel would cost more.
        base = y0.min(axis=1)
        spans = np.clip(
            base[:, None] + np.arange(int((y1.max(axis=1) - base).max()) + 1), 0, grid.shape[0] - 1
        )[:, :, None]
        along_x = (
            grid[spans, x0[:, None, :]] * (1 - fx)[:, None, :]
            + grid[spans, x1[:, None, :]] * fx[:, None, :]
        )
        top = np.take_along_axis(along_x, (y0 - base[:, None])[:, :, None], axis=1)
        bottom = np.take_along_axis(along_x, (y1 - base[:, None])[:, :, None], axis=1)
        return top * (1 - fy)[:, :, None] + bottom * fy[:, :, None]

    def background_at(self, y, x):
        """Background at pixel positions ``y, x`` (arrays of any shape)."""
        return self._interp(
            np.asarray(self.background, dtype=float),
            _axis_weights(y, self._cy),
            _axis_weights(x, self._cx),
        )

    def background_on_grids(self, rows, cols):
        """
        Background on the grids ``rows[k] x cols[k]`` (arrays of shapes
        ``(n, h)`` and ``(n, w)``), as an ``(n, h, w)`` float64 array: what
        `background_at` gives at those pixels, bit for bit, from the
        interpolation weights of ``n (h + w)`` coordinates instead of
        ``n h w``.
        """
        (y0, y1, fy), (x0, x1, fx) = _axis_weights(rows, self._cy), _axis_weights(cols, self._cx)
        return self._interp(
            np.asarray(self.background, dtype=float),
            (y0[:, :, None], y1[:, :, None], fy[:, :, None]),
            (x0[:, None, :], x1[:, None, :], fx[:, None, :]),
        )

    def noise_at(self, y, x):
        """Noise (standard deviation) at pixel positions ``y, x``."""
        return self._interp(
            np.asarray(self.noise, dtype=float),
            _axis_weights(y, self._cy),
            _axis_weights(x, self._cx),
        )


def _plane_slopes(sampled, valid):
    """
    Slopes per full-resolution pixel, ``(d/dy, d/dx)``, of the plane of a
    frame sampled every `_SAMPLE` pixels: medians of differences between
    pixels half the frame apart, which a linear gradient shifts exactly and
    stars (on either side of a difference) do not bias.
    """

    def slope(axis):
        n = sampled.shape[axis]
        lag = n // 2
        if lag < 4:
            return np.float32(0.0)
        later = (slice(lag, n), slice(None))[:: 1 if axis == 0 else -1]
        earlier = (slice(0, n - lag), slice(None))[:: 1 if axis == 0 else -1]
        diff = (sampled[later] - sampled[earlier])[valid[later] & valid[earlier]]
        return np.float32(np.median(diff) / (lag * _SAMPLE)) if diff.size else np.float32(0.0)

    if sampled.size > ROW_PIXELS and _threads(2) > 1:
        with ThreadPoolExecutor(2) as pool:  # one axis per thread
            return list(pool.map(slope, (0, 1)))
    return [slope(0), slope(1)]


def background_map(data, valid, *, box=BACKGROUND_BOX):
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
    bkg : `BackgroundMap`
    """
    if box % _SAMPLE:
        raise ValueError(f'box must be a multiple of {_SAMPLE}, got {box}')
    sampled = data[::_SAMPLE, ::_SAMPLE]
    sampled_valid = valid[::_SAMPLE, ::_SAMPLE]
    ys = np.arange(0, data.shape[0], _SAMPLE)
    xs = np.arange(0, data.shape[1], _SAMPLE)
    # Block medians of a frame with a strong gradient depend on how the
    # stars fall within each block; taking out the frame's plane first (and
    # adding it back at the block centres, where bilinear interpolation
    # reproduces it exactly) makes the map follow a linear gradient exactly.
    gy, gx = _plane_slopes(sampled, sampled_valid)
    plane_y, plane_x = gy * ys.astype(np.float32), gx * xs.astype(np.float32)
    detrended = sampled - plane_y[:, None] - plane_x[None, :]
    grid = _fill_and_smooth(_block_median(detrended, sampled_valid, box))
    cy, cx = _block_centres(data.shape[0], box), _block_centres(data.shape[1], box)
    background = grid + (gy * cy)[:, None] + (gx * cx)[None, :]
    bkg = BackgroundMap(background, np.ones_like(background), data.shape, box)
    # The noise is the MAD of the residuals from the interpolated background,
    # not from each block's median, so that a gradient across a block does
    # not count as noise.
    residual = np.empty(sampled.shape, dtype=np.float32)

    def residual_rows(rows):
        residual[rows] = np.abs(sampled[rows] - bkg._on_grid(background, ys[rows], xs))

    step = max(1, ROW_PIXELS // max(xs.size, 1))
    blocks = [slice(start, start + step) for start in range(0, ys.size, step)]
    with ThreadPoolExecutor(_threads(len(blocks))) as pool:
        list(pool.map(residual_rows, blocks))
    sigma = _fill_and_smooth(_block_median(residual, sampled_valid, box) * _MAD_TO_STD)
    # A block of constant values (blank edge, saturated core) has zero MAD;
    # use the frame's typical noise there.
    positive = sigma[sigma > 0]
    floor = np.median(positive) if positive.size else 1.0
    bkg.noise = np.where(sigma > 0, sigma, floor)
    return bkg


def _robust_variance(values):
    """Variance from the median absolute deviation of the finite values."""
    values = values[np.isfinite(values)]
    if values.size < 100:
        return np.nan
    return float(mad_std(values) ** 2)


def noise_correlation(data, valid, *, max_pixels=250_000):
    """
    The short-range correlation of a frame's noise: the correlation of
    neighbouring pixels minus that of pixels two apart, averaged over
    rows and columns.

    With ``D(L)`` the robust (MAD) variance of the differences of pixels
    ``L`` apart, the result is ``(D(2) - D(1)) / D(6)``: the lag-1 minus
    the lag-2 correlation for noise that is uncorrelated six pixels apart.
    Differences take out the background, bias steps and smooth structure,
    and the MAD ignores stars.  White noise gives 0.  Resampling, stacking
    dithered frames and plate grain give the neighbours most of their
    correlation and pixels two apart much less.  On simulated 512x512
    frames with 1 to 75 stars per square arcminute: bilinear and Lanczos
    resampling 0.04 to 0.37, coadds of 4 dithered frames 0.17 to 0.42,
    plate grain 0.22 to 0.55; on the project's real examples, 0.30 for the
    Spitzer GLIMPSE mosaic and 0.83 for the DSS plate of M67.  Unresolved
    faint stars (confusion) are correlated on the scale of the PSF at both
    lags and count little: 0.00 to 0.14 on simulated frames with white
    noise from 1 to 250 stars per square arcminute.  Noise correlated on
    scales much larger than a pixel (pattern noise) is not what this
    measures: 0.02 to 0.15.

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        The frame.
    valid : 2D bool `~numpy.ndarray`
        Pixels carrying data.
    max_pixels : int, optional
        At most about this many pixels are used: groups of three
        consecutive rows spread evenly over the frame.

    Returns
    -------
    correlation : float
        NaN when the frame has too few valid pixels to tell.
    """
    ny, nx = data.shape
    if ny < 3 or nx < 7:
        return np.nan
    n_groups = int(max(1, min(ny // 3, max_pixels // (3 * nx))))
    starts = np.linspace(0, ny - 3, n_groups).astype(int)
    rows = (starts[:, None] + np.arange(3)).ravel()
    pixels = np.where(valid[rows], data[rows], np.nan).astype(np.float64)
    pixels = pixels.reshape(n_groups, 3, nx)

    def variance(lag, *, columns_too=True):
        along_x = _robust_variance(pixels[:, :, lag:] - pixels[:, :, :-lag])
        if not columns_too:
            return along_x
        return np.nanmean([along_x, _robust_variance(pixels[:, lag:] - pixels[:, :-lag])])

    reference = variance(6, columns_too=False)
    if not reference > 0:
        return np.nan
    return float((variance(2) - variance(1)) / reference)
