# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The classical finders asidl is compared with, set up as a careful user
would (`classical_finders`), and running several finders on the same frame
side by side (`compare_finders`).  ``asidl demo``, the documentation and
the benchmarks all use these baselines.
"""

import time
import warnings

import numpy as np
from astropy.table import QTable

from ..utils import source_positions
from .matching import match_sources, score_detections

__all__ = ['classical_finders', 'compare_finders']


class _SubtractBackground:
    """Run a classical finder on the background-subtracted frame, as it expects."""

    def __init__(self, finder, background):
        self.finder = finder
        self.background = background

    def __call__(self, data, mask=None):
        return self.finder(data - self.background, mask=mask)


class _SEPFinder:
    """SEP (SExtractor's algorithms) as a finder returning x/y centroids."""

    def __init__(self, background, rms, nsigma, minarea=3):
        self.background = background
        self.rms = rms
        self.nsigma = nsigma
        self.minarea = minarea

    def __call__(self, data, mask=None):
        import sep

        sub = np.ascontiguousarray(data - self.background, dtype=np.float64)
        rms = np.ascontiguousarray(self.rms, dtype=np.float64)
        objects = sep.extract(sub, self.nsigma, err=rms, mask=mask, minarea=self.minarea)
        if len(objects) == 0:
            return None
        return QTable(
            {'x_centroid': objects['x'], 'y_centroid': objects['y'], 'flux': objects['flux']}
        )


def classical_finders(data, *, fwhm=None, nsigma=5.0, mask=None, reference=None):
    """
    DAOStarFinder, IRAFStarFinder and (if installed) SEP, set up for a raw
    frame as a careful user would.

    The background is removed with `photutils.background.Background2D`
    (64-pixel boxes, sigma-clipped medians); the threshold is ``nsigma``
    times the median background RMS.

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        The raw frame.
    fwhm : float or None, optional
        PSF FWHM in pixels for DAOStarFinder and IRAFStarFinder.  If `None`
        it is fitted (`photutils.psf.fit_fwhm`) to the 30 brightest
        sources of ``reference``.
    nsigma : float, optional
        Detection threshold in units of the background RMS.
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore.
    reference : `~astropy.table.Table`, optional
        A catalog of the frame (e.g. UNetLoGFinder's), needed when
        ``fwhm`` is `None`.

    Returns
    -------
    finders : dict
        Name -> callable ``finder(data, mask=None)``.
    """
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground
    from photutils.detection import DAOStarFinder, IRAFStarFinder

    data = np.asarray(data, dtype=float)
    bkg = Background2D(
        data,
        64,
        filter_size=3,
        sigma_clip=SigmaClip(3.0),
        mask=mask,
        bkg_estimator=MedianBackground(),
        exclude_percentile=90,
    )
    rms = float(np.median(bkg.background_rms))
    if fwhm is None:
        if reference is None or len(reference) == 0:
            raise ValueError('fwhm is required when no reference catalog is given')
        from photutils.psf import fit_fwhm

        brightest = reference[np.argsort(-np.asarray(reference['flux']))[:30]]
        x, y = source_positions(brightest)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            fitted = fit_fwhm(
                data - bkg.background, xypos=np.column_stack([x, y]), fit_shape=7, mask=mask
            )
        fwhm = float(np.nanmedian(fitted))
    finders = {
        'DAOStarFinder': _SubtractBackground(
            DAOStarFinder(threshold=nsigma * rms, fwhm=fwhm), bkg.background
        ),
        'IRAFStarFinder': _SubtractBackground(
            IRAFStarFinder(threshold=nsigma * rms, fwhm=fwhm), bkg.background
        ),
    }
    try:
        import sep  # noqa: F401
    except ImportError:
        pass
    else:
        finders['SEP'] = _SEPFinder(bkg.background, bkg.background_rms, nsigma)
    return finders


def compare_finders(
    data, truth=None, finders=None, *, mask=None, radius=2.0, pixel_scale=None, fwhm=None
):
    """
    Run several finders on the same frame and score them side by side.

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        The frame (raw frames are fine: classical finders get it
        background subtracted, see `classical_finders`).
    truth : `~astropy.table.Table` or None, optional
        True positions (``x``, ``y`` or ``x_centroid``, ``y_centroid``).
        Without it, every finder is cross-matched with the first one.
    finders : dict or None, optional
        Name -> callable ``finder(data, mask=None)`` returning a table or
        `None`.  By default the default `~asidl.UNetLoGFinder` and the
        `classical_finders`.
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore.
    radius : float, optional
        Match radius in pixels.
    pixel_scale : float or None, optional
        Arcseconds per pixel; adds per-square-arcminute columns.
    fwhm : float or None, optional
        FWHM for the default classical finders (fitted if `None`).

    Returns
    -------
    table : `~astropy.table.QTable`
        One row per finder: ``finder``, ``N`` and, with ``truth``, ``TP``,
        ``FP``, ``FN``, ``Dice``, ``precision``, ``recall``, ``RMS``
        (pixels), without it ``matched`` (to the first finder's
        detections) and ``fraction``; then ``seconds``.
    """
    if finders is None:
        from ..finder import UNetLoGFinder

        finder = UNetLoGFinder()
        finders = {'UNetLoGFinder': finder}
        reference = finder(data, mask=mask) if fwhm is None else None
        finders.update(classical_finders(data, fwhm=fwhm, mask=mask, reference=reference))
    rows = []
    ref_x = ref_y = None
    if truth is not None:
        tx, ty = source_positions(truth)
    for name, finder in finders.items():
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            tbl = finder(data, mask=mask)
        seconds = time.perf_counter() - t0
        x, y = source_positions(tbl)
        row = {'finder': name, 'N': len(x)}
        if truth is not None:
            s = score_detections(x, y, tx, ty, radius=radius)
            row.update(
                {
                    'TP': s['tp'],
                    'FP': s['fp'],
                    'FN': s['fn'],
                    'Dice': s['dice'],
                    'precision': s['precision'],
                    'recall': s['recall'],
                    'RMS': s['rms'],
                }
            )
        else:
            if ref_x is None:
                ref_x, ref_y = x, y
            matched = match_sources(x, y, ref_x, ref_y, radius=radius)[0].size
            row.update({'matched': matched, 'fraction': matched / len(x) if len(x) else np.nan})
        row['seconds'] = seconds
        rows.append(row)
    table = QTable(rows=rows)
    if pixel_scale is not None:
        area = np.size(data) * (pixel_scale / 60.0) ** 2
        for col in ('N', 'TP', 'FP', 'FN'):
            if col in table.colnames:
                table[f'{col}_per_arcmin2'] = table[col] / area
    table.meta['radius'] = radius
    return table
