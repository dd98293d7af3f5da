# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The FWHM of the stars of an image, measured from a catalog of its sources.

`measure_fwhm` keeps the bright, isolated and unsaturated sources of a
first detection pass, fits each with a pixel-integrated circular Gaussian
(`photutils.psf.fit_fwhm`) in a box matched to the width it finds, and
returns a sigma-clipped median.  Cosmic rays and hot pixels that reach
the catalog, or hit a star, have sharp edges or fit much sharper than the
stars, and are rejected: the estimate is the median of the fits around
their most common width.  Undersampled stars (a Gaussian FWHM below
`~asidl.moffat.UNDERSAMPLED_FWHM`) are fitted again with pixel-integrated
Moffat profiles, whose wings would otherwise widen the Gaussian fit.
"""

import importlib
import sys
import threading
import warnings

import numpy as np
from astropy.stats import sigma_clip
from astropy.utils.exceptions import AstropyUserWarning
from scipy.spatial import cKDTree

from .constants import ROW_PIXELS
from .moffat import UNDERSAMPLED_FWHM, fit_moffat_fwhm

__all__ = [
    'FWHMEstimate',
    'FWHMWarning',
    'measure_fwhm',
    'prefetch_fitter',
    'MIN_FWHM_STARS',
    'FWHM_STAR_SNR',
]

#: Fewest usable stars from which an FWHM is measured ...
MIN_FWHM_STARS = 5

#: ... and fewest of their fits that must agree with the estimate.
_MIN_AGREEING = 3

#: Lowest peak signal-to-noise ratio of a star used to measure the FWHM.
FWHM_STAR_SNR = 20.0

#: At most this many stars (the brightest usable ones) are fitted.
MAX_FWHM_STARS = 30

#: A source whose faintest 4-connected neighbour holds less than this
#: fraction of its peak has a sharp edge no PSF of 1 pixel or more makes:
#: a hot pixel or a cosmic-ray track.
SHARP_EDGE = 0.02

#: Fits narrower than this (pixels) are hot pixels or cosmic rays.
MIN_STAR_FWHM = 0.8

#: Widths within this fraction of the most common one count as that one.
_MODE_WIDTH = 0.15


#: FWHM assumed for the first fit, before the image's is known (pixels).
_FIRST_GUESS = 4.0


class FWHMWarning(AstropyUserWarning):
    """The FWHM of an image could not be measured."""


class FWHMEstimate(float):
    """
    A measured FWHM in pixels (a `float`) with how it was measured.

    Attributes
    ----------
    n_stars : int
        Stars whose fits entered the median.
    scatter : float
        Sigma-clipped standard deviation of their FWHMs, in pixels.
    """

    def __new__(cls, value, n_stars, scatter):
        self = super().__new__(cls, value)
        self.n_stars = int(n_stars)
        self.scatter = float(scatter)
        return self


def _import_quietly(name):
    try:
        importlib.import_module(name)
    except Exception:  # noqa: S110 - the fit's own import raises it again
        pass


def prefetch_fitter():
    """
    Start importing `photutils.psf` (a few tenths of a second) on a
    background thread, so that the import overlaps with the detection pass
    whose sources `measure_fwhm` then fits.

    Returns
    -------
    thread : `threading.Thread` or None
        To join before the fit; `None` if the module is already imported.
    """
    if 'photutils.psf' in sys.modules:
        return None
    thread = threading.Thread(target=_import_quietly, args=('photutils.psf',), daemon=True)
    thread.start()
    return thread


def _fit_box(fwhm):
    """
    An odd box reaching about half the FWHM on each side of the centre.

    A Gaussian fitted to the core of a Moffat profile within that radius
    has its FWHM (within a few per cent for beta of 2 to 5); larger boxes
    let the wings widen the fit.
    """
    return int(2 * max(1, int(np.round(0.5 * fwhm))) + 1)


def _saturation_level(data, valid):
    """
    The image's largest value if it repeats (a clipped detector), else `None`;
    found over blocks of rows, without copying the image.
    """
    top, count = -np.inf, 0
    step = max(1, ROW_PIXELS // max(data.shape[1], 1))
    for start in range(0, data.shape[0], step):
        values = data[start : start + step][valid[start : start + step]]
        if values.size == 0:
            continue
        block_top = values.max()
        if block_top > top:
            top, count = block_top, 0
        if block_top == top:
            count += np.count_nonzero(values == top)
    return float(top) if count > 1 else None


def _subtracted(data, valid, background, y0, y1, x0, x1):
    """
    Background-subtracted data of the pixels ``[y0:y1, x0:x1]`` (inside the
    image), 0 where invalid, in float64.
    """
    if hasattr(background, 'cutout'):
        level = background.cutout(y0, y1, x0, x1)[0]
    else:
        level = background[y0:y1, x0:x1]
    return np.where(valid[y0:y1, x0:x1], data[y0:y1, x0:x1] - level, 0.0)


def _windows(data, valid, background, iy, ix, radius):
    """
    The ``(2 radius + 1)`` squares of data around pixels ``(iy, ix)`` (inside
    the image), their validity, and their background-subtracted values (0
    where invalid, float64), as `_subtracted` gives them.
    """
    from .localize import neighbourhood

    values, _, yy, xx = neighbourhood(data, iy, ix, radius)
    if hasattr(background, 'windows'):
        # Each window is a grid of pixels: rows yy[:, :, 0] by columns xx[:, 0, :].
        level = background.windows(yy[:, :, 0], xx[:, 0, :])
    else:
        level = background[yy, xx]
    good = valid[yy, xx]
    return values, good, np.where(good, values - level, 0.0)


def _usable(data, valid, background, noise, x, y, radius, isolation, saturation):
    """Which sources are bright, isolated, unsaturated and unmasked."""
    ny, nx = data.shape
    ix = np.round(x).astype(int)
    iy = np.round(y).astype(int)
    margin = max(radius, 2)  # the box, and the neighbours of the core's brightest pixel
    keep = (ix >= margin) & (ix < nx - margin) & (iy >= margin) & (iy < ny - margin)
    peak = np.full(x.size, -np.inf)
    idx = np.flatnonzero(keep)
    if idx.size:
        # The 5x5 pixels around each source: its 3x3 core and their neighbours.
        values, good, sub = _windows(data, valid, background, iy[idx], ix[idx], 2)
        core = sub[:, 1:4, 1:4].reshape(idx.size, 9)
        brightest = np.argmax(core, axis=1)
        cy, cx = brightest // 3 + 1, brightest % 3 + 1
        rows = np.arange(idx.size)
        top = sub[rows, cy, cx]
        cross = np.stack(
            [
                sub[rows, cy - 1, cx],
                sub[rows, cy + 1, cx],
                sub[rows, cy, cx - 1],
                sub[rows, cy, cx + 1],
            ],
            axis=1,
        )
        # Only sources bright enough are looked at in their fit boxes (the
        # 5x5 windows already are those of boxes of radius 2).
        ok = (top > FWHM_STAR_SNR * noise[idx]) & ~(cross.min(axis=1) < SHARP_EDGE * top)
        bright = np.flatnonzero(ok)
        if bright.size:
            if radius == 2:
                values, good = values[bright], good[bright]
            else:
                values, good, _ = _windows(
                    data, valid, background, iy[idx[bright]], ix[idx[bright]], radius
                )
            usable = good.all(axis=(1, 2))
            if saturation is not None:
                usable &= ~(values.max(axis=(1, 2)) >= saturation)
            ok[bright] = usable
        keep[idx] = ok
        peak[idx[ok]] = top[ok]
    if x.size > 1:
        # A neighbour's core or wings inside the box would widen the fit.
        distance, _ = cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=2)
        keep &= distance[:, 1] > isolation
    return keep, peak


def _fit(data, valid, background, x, y, fwhm):
    """
    FWHMs fitted to the sources at ``x, y`` (well inside the image).

    The fits see only the pixels of their boxes, so they are made on a
    mosaic of background-subtracted stamps around the sources, side by
    side, instead of on a background-subtracted copy of the whole image.
    """
    from photutils.psf import fit_fwhm

    fit_shape = _fit_box(fwhm)
    half = fit_shape // 2 + 2
    size = 2 * half + 1
    ny, nx = data.shape
    mosaic = np.zeros((size, size * x.size))
    masked = np.ones(mosaic.shape, dtype=bool)
    mx, my = np.empty(x.size), np.empty(x.size)
    for k in range(x.size):
        cx, cy = int(np.round(x[k])), int(np.round(y[k]))
        y0, y1 = max(cy - half, 0), min(cy + half + 1, ny)
        x0, x1 = max(cx - half, 0), min(cx + half + 1, nx)
        top, left = y0 - (cy - half), k * size + x0 - (cx - half)
        mosaic[top : top + y1 - y0, left : left + x1 - x0] = _subtracted(
            data, valid, background, y0, y1, x0, x1
        )
        masked[top : top + y1 - y0, left : left + x1 - x0] = ~valid[y0:y1, x0:x1]
        mx[k] = x[k] - (cx - half) + k * size
        my[k] = y[k] - (cy - half)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # fitting and convergence chatter
        fitted = fit_fwhm(
            mosaic, xypos=np.column_stack([mx, my]), fwhm=fwhm, fit_shape=fit_shape, mask=masked
        )
    return np.asarray(fitted, dtype=float)


def _robust_median(values):
    """
    The values kept, and their median and standard deviation: sharp fits
    out, then those around the most common width, sigma-clipped.  The mode
    rather than the median picks the stars even where artifacts that
    reached the catalog outnumber them.
    """
    values = values[np.isfinite(values) & (values >= MIN_STAR_FWHM)]
    if values.size == 0:
        return values, np.nan, np.nan
    logs = np.log(values)
    near = np.abs(logs[:, None] - logs[None, :]) < _MODE_WIDTH
    counts = near.sum(axis=1)
    mode = np.max(values[counts == counts.max()])
    values = values[np.abs(np.log(values / mode)) < 2 * _MODE_WIDTH]
    clipped = sigma_clip(values, sigma=3.0, maxiters=5, masked=True)
    kept = values[~np.ma.getmaskarray(clipped)]
    return kept, float(np.median(kept)), float(np.std(kept))


def measure_fwhm(data, valid, background, noise, x, y, *, guess=None):
    """
    The FWHM of the stars of an image, from the positions of its sources.

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        The image, not background subtracted.
    valid : 2D bool `~numpy.ndarray`
        Pixels carrying data.
    background : 2D `~numpy.ndarray` or `~asidl.background.BackgroundMap`
        The background to subtract from ``data``: an image, or a map
        evaluated only around the sources (no full-frame copy is made).
    noise : `~numpy.ndarray`
        The background noise (standard deviation) at each source.
    x, y : `~numpy.ndarray`
        Source positions in pixels (0-based), e.g. a finder's first pass.
    guess : float or None, optional
        A first guess of the FWHM in pixels, which sets the box of the
        first fit (4 pixels if `None`); the second fit's box follows the
        first's result.

    Returns
    -------
    fwhm : `FWHMEstimate` or None
        The sigma-clipped median FWHM of the usable stars, in pixels, or
        `None` if there are fewer than `MIN_FWHM_STARS` of them (peak
        S/N of at least `FWHM_STAR_SNR`, unsaturated, unmasked, without a
        neighbour nearby) or fewer than three of their fits agree.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    noise = np.broadcast_to(np.asarray(noise, dtype=float), x.shape)
    if x.size < MIN_FWHM_STARS:
        return None
    saturation = _saturation_level(data, valid)
    fwhm = _FIRST_GUESS if guess is None else float(guess)
    radius = None
    for _ in range(3):  # refit until the box matches the width found
        if _fit_box(fwhm) // 2 == radius:
            break
        radius = _fit_box(fwhm) // 2
        isolation = max(2 * radius + 1, 1.5 * fwhm)
        keep, peak = _usable(data, valid, background, noise, x, y, radius, isolation, saturation)
        if np.count_nonzero(keep) < MIN_FWHM_STARS:
            return None
        idx = np.flatnonzero(keep)
        idx = idx[np.argsort(-peak[idx] / noise[idx], kind='stable')[:MAX_FWHM_STARS]]
        used, fwhm, scatter = _robust_median(_fit(data, valid, background, x[idx], y[idx], fwhm))
        if used.size < _MIN_AGREEING or not np.isfinite(fwhm):
            return None
    if fwhm < UNDERSAMPLED_FWHM:
        refit = _moffat_refit(data, valid, background, noise, x, y, fwhm, saturation)
        if refit is not None:
            used, fwhm, scatter = refit
    return FWHMEstimate(fwhm, used.size, scatter)


def _moffat_refit(data, valid, background, noise, x, y, fwhm, saturation):
    """
    The FWHMs of undersampled stars fitted again with pixel-integrated
    Moffat profiles (`~asidl.moffat.fit_moffat_fwhm`) in 5x5 boxes, as
    `_robust_median` gives them; `None` if too few stars can be used.
    """
    radius = 2
    keep, peak = _usable(
        data, valid, background, noise, x, y, radius, max(2 * radius + 1, 1.5 * fwhm), saturation
    )
    idx = np.flatnonzero(keep)
    if idx.size < MIN_FWHM_STARS:
        return None
    idx = idx[np.argsort(-peak[idx] / noise[idx], kind='stable')[:MAX_FWHM_STARS]]
    iy, ix = np.round(y[idx]).astype(int), np.round(x[idx]).astype(int)
    _, good, subtracted = _windows(data, valid, background, iy, ix, radius)
    used, refit, scatter = _robust_median(fit_moffat_fwhm(subtracted, good, fwhm))
    if used.size < _MIN_AGREEING or not np.isfinite(refit):
        return None
    return used, refit, scatter
