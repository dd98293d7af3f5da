# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Measurements of the image at the finder's detections.

`box_photometry` gives the ``peak`` and ``flux`` of each source in a small
box of background-subtracted pixels, `refine_bright` places bright
sources from the image's own core, and `shape_columns` measures
DAOStarFinder's ``sharpness``, ``roundness1``, ``roundness2`` and
``n_pixels`` with DAOStarFinder's own catalog (`dao_shape_columns`, its
``xycoords`` path), a band of rows at a time.  Every measurement of a
source depends on that source alone, so a catalog may measure any subset
of its sources and get the same numbers.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from photutils.detection import DAOStarFinder

from .localize import log_parabola_offsets, neighbourhood
from .mosaic import edge_rows, window_mosaic

__all__ = [
    'BRIGHT_PEAK_SNR',
    'PHOT_RADIUS',
    'SHAPE_COLUMNS',
    'box_photometry',
    'dao_shape_columns',
    'refine_bright',
    'shape_columns',
    'subtracted_windows',
]

#: Half size of the box in which ``peak`` and ``flux`` are measured.
PHOT_RADIUS = 2

#: Sources whose brightest pixel exceeds this many times the noise are
#: positioned from the image's own core (see `refine_bright`): there the
#: data pin the centre down better than the network's offset votes.
BRIGHT_PEAK_SNR = 20.0

# What a pixel of a `~asidl.mosaic.window_mosaic` costs `shape_columns`,
# gathered, subtracted and convolved, in pixels of a band (measured: the
# two cost the same at 0.75 to 1.1 mosaic pixels per band pixel).
_MOSAIC_PIXEL_COST = 4 / 3

# Sources from which the bands of `shape_columns` are measured on threads.
_PARALLEL_SOURCES = 2000

#: DAOStarFinder's shape columns, in its order.
SHAPE_COLUMNS = ('sharpness', 'roundness1', 'roundness2', 'n_pixels')


def subtracted_windows(image, bkg, iy, ix, radius):
    """
    Background-subtracted data in the ``(2 radius + 1)`` squares around
    pixels ``(iy, ix)``.

    Parameters
    ----------
    image : `~asidl.prepare.PreparedImage`
        The image.
    bkg : `~asidl.background.BackgroundMap`
        Its background.
    iy, ix : `~numpy.ndarray` of int
        Centre pixels.
    radius : int
        Half size of the squares.

    Returns
    -------
    windows : ``(n, 2 radius + 1, 2 radius + 1)`` `~numpy.ndarray`
        Float64, NaN where a pixel is masked or outside the image.
    """
    values, inside, yy, xx = neighbourhood(image.data, iy, ix, radius)
    # Each window is a grid of pixels: rows yy[:, :, 0] by columns xx[:, 0, :].
    subtracted = values.astype(np.float64) - bkg.background_on_grids(yy[:, :, 0], xx[:, 0, :])
    return np.where(inside & image.valid[yy, xx], subtracted, np.nan)


def box_photometry(image, bkg, iy, ix):
    """
    Peak and sum of the background-subtracted data in the boxes of half
    size `PHOT_RADIUS` around pixels ``(iy, ix)``, masked pixels excluded.

    Returns
    -------
    peak, flux : `~numpy.ndarray`
        In the units of ``image.data`` (before its ``scale`` and
        ``offset``); ``peak`` is NaN where the whole box is masked.
    """
    if iy.size == 0:
        return np.zeros(0), np.zeros(0)
    values = subtracted_windows(image, bkg, iy, ix, PHOT_RADIUS)
    use = np.isfinite(values)
    peak = np.where(use, values, -np.inf).max(axis=(1, 2))
    peak = np.where(np.isfinite(peak), peak, np.nan)
    flux = np.where(use, values, 0.0).sum(axis=(1, 2))
    return peak, flux


def refine_bright(image, bkg, y, x):
    """
    Positions of bright sources from the image's own core.

    Sources whose brightest pixel in the 3x3 pixels around ``(y, x)``
    exceeds `BRIGHT_PEAK_SNR` times the noise get the log-parabola peak of
    the background-subtracted data (`~asidl.localize.log_parabola_offsets`)
    where it lies within a pixel of ``(y, x)``.

    Returns
    -------
    y, x : `~numpy.ndarray` of float
        New arrays where any position changed, else the inputs.
    """
    if y.size == 0:
        return y, x
    ny, nx = image.data.shape
    iy = np.clip(np.round(y).astype(int), 0, ny - 1)
    ix = np.clip(np.round(x).astype(int), 0, nx - 1)
    sub = subtracted_windows(image, bkg, iy, ix, 1)
    bright = np.max(
        np.where(np.isfinite(sub), sub, -np.inf), axis=(1, 2)
    ) > BRIGHT_PEAK_SNR * bkg.noise_at(iy, ix)
    if not bright.any():
        return y, x
    sel = np.flatnonzero(bright)
    dy, dx = log_parabola_offsets(sub[sel])
    by, bx = iy[sel] + dy, ix[sel] + dx
    good = np.isfinite(by) & (np.hypot(by - y[sel], bx - x[sel]) < 1.0)
    y, x = y.copy(), x.copy()
    y[sel[good]] = by[good]
    x[sel[good]] = bx[good]
    return y, x


def shape_columns(image, bkg, x, y, fwhm, *, rows=512, windows=None):
    """
    DAOStarFinder's shape columns of the sources at ``(x, y)``
    (`dao_shape_columns`) on the background-subtracted image, made a band
    of ``rows`` rows (plus the kernel's reach) at a time, so that memory
    does not grow with the image.

    Where a band's sources are sparse, only the pixels around them are
    subtracted and convolved, in a `~asidl.mosaic.window_mosaic`, with
    the same result, bit for bit: DAOStarFinder's statistics read the
    convolved image only within a kernel's size of each source.

    Parameters
    ----------
    image : `~asidl.prepare.PreparedImage`
        The image; masked pixels count as background.
    bkg : `~asidl.background.BackgroundMap`
        Its background.
    x, y : `~numpy.ndarray`
        Positions of the sources, in pixels.
    fwhm : float or None
        As for `dao_shape_columns`.
    rows : int, optional
        Rows per band; the columns do not depend on it.
    windows : bool or None, optional
        Measure on the mosaic of the sources' windows (`True`), on whole
        bands (`False`), or on whichever has fewer pixels (`None`, the
        default); the columns do not depend on it.

    Returns
    -------
    columns : dict
        As `dao_shape_columns`.
    """
    if fwhm is None:
        return dao_shape_columns(None, x, y, None)
    columns = {
        name: np.empty(x.size, dtype=int if name == 'n_pixels' else float) for name in SHAPE_COLUMNS
    }
    ny, nx = image.data.shape
    half = tuple(size // 2 for size in DAOStarFinder(threshold=1.0, fwhm=float(fwhm)).kernel.shape)
    height, width = 4 * half[0] + 1, 4 * half[1] + 1
    halo = int(np.ceil(2 * fwhm)) + 3
    row = np.clip(np.round(y).astype(int), 0, ny - 1)

    def measure(sel, lo, hi, ys):
        """Sources ``sel``, at rows ``ys`` of the rows ``lo:hi``."""
        background = bkg.rows(lo, hi)[0]
        subtracted = np.where(image.valid[lo:hi], image.data[lo:hi] - background, 0.0)
        _fill(columns, sel, dao_shape_columns(subtracted, x[sel], ys, fwhm))

    def band(start):
        """The sources of the rows ``start:start + rows``."""
        inside = np.flatnonzero((row >= start) & (row < start + rows))
        if inside.size == 0:
            return
        lo, hi = max(start - halo, 0), min(start + rows + halo, ny)
        if windows is False or nx < width:
            measure(inside, lo, hi, y[inside] - lo)
            return
        # The pixels DAOStarFinder's cutouts are centred on in the band
        # (it rounds half to even, so a position halfway between rows may
        # go either way, as the band's first row is even or odd).
        iy = lo + np.round(y[inside] - lo).astype(int)
        top, bottom = edge_rows(iy, half[0], ny)
        bottom &= ~top
        stacked = ~top & ~bottom
        if (
            windows is None
            and _MOSAIC_PIXEL_COST * stacked.sum() * height * width >= (hi - lo) * nx
        ):
            measure(inside, lo, hi, y[inside] - lo)
            return
        # Boxes that leave the image at the top (bottom) are measured on
        # its first (last) rows, which reach as far as their windows.
        for sel, lo, hi in ((top, 0, min(height, ny)), (bottom, max(ny - height, 0), ny)):
            if sel.any():
                measure(inside[sel], lo, hi, (iy[sel] - lo).astype(float))
        if stacked.any():
            sel = inside[stacked]
            ix = np.round(x[sel]).astype(int)
            mosaic, my, mx = window_mosaic(image, bkg, iy[stacked], ix, half)
            _fill(columns, sel, dao_shape_columns(mosaic, mx, my, fwhm))

    # Bands write disjoint sources; numpy, scipy and photutils' catalog
    # release the GIL in their array work, so threads share it out.
    starts = range(0, ny, rows)
    threads = min(os.cpu_count() or 1, 4, len(starts))
    if threads > 1 and x.size > _PARALLEL_SOURCES:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(band, starts))
    else:
        for start in starts:
            band(start)
    return columns


def _fill(columns, sel, measured):
    for name in SHAPE_COLUMNS:
        columns[name][sel] = measured[name]


def dao_shape_columns(data, x, y, fwhm):
    """
    DAOStarFinder's shape statistics of the sources at ``(x, y)``.

    The statistics are those of `~photutils.detection.DAOStarFinder`,
    computed by its own catalog with its circular Gaussian kernel of the
    given FWHM (``ratio=1``, ``sigma_radius=1.5``), around the pixel
    nearest each position (as DAOStarFinder does around its peak pixels).

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        The background-subtracted image, finite everywhere (masked pixels
        set to zero).  The statistics do not depend on the units or scale
        of the data.
    x, y : 1D array_like
        Positions of the sources, in pixels.
    fwhm : float or None
        FWHM of the kernel in pixels.  `None` (the FWHM is not known)
        gives NaN statistics and ``n_pixels`` of zero.

    Returns
    -------
    columns : dict
        ``sharpness``, ``roundness1``, ``roundness2`` (floats, NaN where
        DAOStarFinder's marginal fits fail; DAOStarFinder drops such
        sources) and ``n_pixels`` (the size of the kernel array), one
        value per source, keyed by name in `SHAPE_COLUMNS` order.

    Examples
    --------
    A round star and one extended along x (negative roundness):

    >>> import numpy as np
    >>> from astropy.modeling.models import Gaussian2D
    >>> from asidl.photometry import dao_shape_columns
    >>> yy, xx = np.mgrid[:25, :25]
    >>> image = (Gaussian2D(100, 12, 12, 1.2, 1.2)(xx, yy)
    ...          + Gaussian2D(100, 5, 5, 2.0, 1.0)(xx, yy))
    >>> columns = dao_shape_columns(image, [12, 5], [12, 5], fwhm=2.8)
    >>> columns['roundness2'].round(2) + 0
    array([ 0., -1.])
    >>> columns['sharpness'].round(2), columns['n_pixels']
    (array([0.52, 0.54]), array([25, 25]))
    """
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if fwhm is None or x.size == 0:
        nan = np.full(x.size, np.nan)
        return {
            'sharpness': nan,
            'roundness1': nan.copy(),
            'roundness2': nan.copy(),
            'n_pixels': np.zeros(x.size, dtype=int),
        }
    # With xycoords, DAOStarFinder skips its own search; the threshold
    # enters only daofind_mag and the filters, neither of which is used.
    dao = DAOStarFinder(threshold=1.0, fwhm=float(fwhm), xycoords=np.column_stack((x, y)))
    catalog = dao._get_raw_catalog(np.asarray(data, dtype=float))
    return {name: np.asarray(getattr(catalog, name)) for name in SHAPE_COLUMNS}
