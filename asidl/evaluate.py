# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Scoring detections against a truth catalog, and comparing finders.

Detections are matched one-to-one to truth positions within a radius
(closest pairs first).  Matched detections are true positives (TP),
unmatched detections false positives (FP) and unmatched truth false
negatives (FN); the Dice coefficient is ``2 TP / (2 TP + FP + FN)``
(paper eq. 5).

Real images have no truth catalog.  There, `negative_image_test`
estimates how many detections are noise: the frame reflected about its
smooth background turns stars into holes while the noise keeps its
amplitude and correlations, so what a finder reports on the reflected
frame estimates what it reports on noise.
"""

import time
import warnings

import numpy as np
from astropy.table import QTable
from scipy.spatial import cKDTree

__all__ = ['match_sources', 'score_detections', 'combine_scores', 'compare_finders',
           'classical_finders', 'plot_detections', 'build_epsf', 'artificial_star_test',
           'scores_by_bin', 'plot_dice_versus_density', 'negative_image',
           'negative_image_test']


def match_sources(x, y, truth_x, truth_y, *, radius=2.0):
    """
    Match detections to truth positions one-to-one within ``radius``.

    Parameters
    ----------
    x, y : array_like
        Detected positions (pixels).
    truth_x, truth_y : array_like
        True positions (pixels).
    radius : float, optional
        Largest allowed separation in pixels.

    Returns
    -------
    detection_index, truth_index : `~numpy.ndarray` of int
        Indices of the matched pairs.
    """
    det = np.column_stack([np.asarray(x, float).ravel(), np.asarray(y, float).ravel()])
    tru = np.column_stack([np.asarray(truth_x, float).ravel(), np.asarray(truth_y, float).ravel()])
    if len(det) == 0 or len(tru) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    pairs = cKDTree(det).sparse_distance_matrix(cKDTree(tru), radius, output_type='ndarray')
    if pairs.size == 0:
        return np.zeros(0, int), np.zeros(0, int)
    pairs = pairs[np.argsort(pairs['v'], kind='stable')]
    used_det = np.zeros(len(det), bool)
    used_tru = np.zeros(len(tru), bool)
    di, ti = [], []
    for i, j in zip(pairs['i'], pairs['j']):
        if not used_det[i] and not used_tru[j]:
            used_det[i] = used_tru[j] = True
            di.append(i)
            ti.append(j)
    return np.array(di, int), np.array(ti, int)


def score_detections(x, y, truth_x, truth_y, *, radius=2.0):
    """
    TP, FP, FN, Dice, precision, recall and position RMS of detections.

    Parameters
    ----------
    x, y : array_like
        Detected positions (pixels).
    truth_x, truth_y : array_like
        True positions (pixels).
    radius : float, optional
        Match radius in pixels.

    Returns
    -------
    scores : dict
        ``tp``, ``fp``, ``fn`` (int), ``dice``, ``precision``, ``recall``
        and ``rms`` (pixels, over matched pairs; NaN without matches).

    Examples
    --------
    >>> from asidl.evaluate import score_detections
    >>> s = score_detections([10.1, 30.0], [10.0, 5.0], [10.0, 50.0], [10.0, 50.0])
    >>> s['tp'], s['fp'], s['fn'], round(s['dice'], 3)
    (1, 1, 1, 0.5)
    """
    di, ti = match_sources(x, y, truth_x, truth_y, radius=radius)
    n_det = np.size(x)
    n_true = np.size(truth_x)
    tp = int(di.size)
    fp = int(n_det - tp)
    fn = int(n_true - tp)
    denom = 2 * tp + fp + fn
    if tp:
        dx = np.asarray(x, float).ravel()[di] - np.asarray(truth_x, float).ravel()[ti]
        dy = np.asarray(y, float).ravel()[di] - np.asarray(truth_y, float).ravel()[ti]
        rms = float(np.sqrt(np.mean(dx**2 + dy**2)))
    else:
        rms = float('nan')
    return {
        'tp': tp, 'fp': fp, 'fn': fn,
        'dice': 2 * tp / denom if denom else 1.0,
        'precision': tp / n_det if n_det else float('nan'),
        'recall': tp / n_true if n_true else float('nan'),
        'rms': rms,
    }



def combine_scores(scores):
    """
    Scores of several frames taken together.

    Parameters
    ----------
    scores : iterable of dict
        Outputs of `score_detections`.

    Returns
    -------
    scores : dict
        Summed ``tp``, ``fp``, ``fn``, the ``dice`` of the sums and the
        ``rms`` over all matches (NaN without matches).
    """
    scores = list(scores)
    tp = sum(s['tp'] for s in scores)
    fp = sum(s['fp'] for s in scores)
    fn = sum(s['fn'] for s in scores)
    squares = sum(s['rms'] ** 2 * s['tp'] for s in scores if s['tp'])
    return {'tp': tp, 'fp': fp, 'fn': fn, 'dice': 2 * tp / max(2 * tp + fp + fn, 1),
            'rms': float(np.sqrt(squares / tp)) if tp else float('nan')}

def _positions(tbl):
    """x, y arrays of a finder's table (or empty arrays for None)."""
    if tbl is None:
        return np.zeros(0), np.zeros(0)
    for x, y in (('x_centroid', 'y_centroid'), ('x', 'y')):
        if x in tbl.colnames:
            return np.asarray(tbl[x], float), np.asarray(tbl[y], float)
    raise ValueError(f'the table has no x_centroid/y_centroid columns: {tbl.colnames}')


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
        return QTable({'x_centroid': objects['x'], 'y_centroid': objects['y'],
                       'flux': objects['flux']})


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
    bkg = Background2D(data, 64, filter_size=3, sigma_clip=SigmaClip(3.0), mask=mask,
                       bkg_estimator=MedianBackground(), exclude_percentile=90)
    rms = float(np.median(bkg.background_rms))
    if fwhm is None:
        if reference is None or len(reference) == 0:
            raise ValueError('fwhm is required when no reference catalog is given')
        from photutils.psf import fit_fwhm

        brightest = reference[np.argsort(-np.asarray(reference['flux']))[:30]]
        x, y = _positions(brightest)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            fitted = fit_fwhm(data - bkg.background, xypos=np.column_stack([x, y]),
                              fit_shape=7, mask=mask)
        fwhm = float(np.nanmedian(fitted))
    finders = {
        'DAOStarFinder': _SubtractBackground(
            DAOStarFinder(threshold=nsigma * rms, fwhm=fwhm), bkg.background),
        'IRAFStarFinder': _SubtractBackground(
            IRAFStarFinder(threshold=nsigma * rms, fwhm=fwhm), bkg.background),
    }
    try:
        import sep  # noqa: F401
    except ImportError:
        pass
    else:
        finders['SEP'] = _SEPFinder(bkg.background, bkg.background_rms, nsigma)
    return finders


def negative_image(data, *, mask=None, box_size=64):
    """
    The frame reflected about its smooth background, ``2 * background -
    data``: stars become holes, the noise keeps its amplitude and
    correlations.

    The background is `photutils.background.Background2D` with
    sigma-clipped medians in ``box_size`` boxes (3x3 median filter); boxes
    with up to 90% of their pixels clipped or masked still count, so that
    crowded fields keep a background.

    Parameters
    ----------
    data : 2D array_like
        The frame (raw or calibrated).  NaN pixels stay NaN.
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore when estimating the background.
    box_size : int, optional
        Background box size in pixels.

    Returns
    -------
    reflected : 2D float `~numpy.ndarray`
        A new array.
    """
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground

    data = np.asarray(data, dtype=float)
    bad = ~np.isfinite(data) if mask is None else (np.asarray(mask, bool) | ~np.isfinite(data))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        bkg = Background2D(data, box_size, filter_size=3, sigma_clip=SigmaClip(3.0),
                           bkg_estimator=MedianBackground(), mask=bad if bad.any() else None,
                           exclude_percentile=90)
    return 2.0 * bkg.background - data


def negative_image_test(data, finder, *, mask=None, box_size=64):
    """
    Estimate a finder's false detections on a real image without a truth
    catalog, by running it on the image and on its `negative_image`.

    The count on the reflected frame estimates the count of noise
    detections on the frame itself.  It is a lower bound where the noise
    is skewed towards positive values (photographic grain, unresolved
    faint stars), and it also counts the finder's reactions to holes
    (over-subtracted or dead regions), which the positive frame lacks.

    Parameters
    ----------
    data : 2D array_like
        The frame (raw or calibrated).
    finder : callable
        ``finder(data, mask=None)`` returning a table or `None`, for
        example a `~asidl.UNetLoGFinder` or a photutils star finder (give
        classical finders background-subtracted data through a wrapper;
        see `classical_finders`).
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore.
    box_size : int, optional
        Background box size of the reflection.

    Returns
    -------
    result : dict
        ``found`` (detections on the frame), ``negative`` (on the
        reflected frame), ``false_fraction`` (``negative / found``; NaN
        when nothing is found), ``net`` (``found - negative``, an estimate
        of the real sources found), and the two tables ``catalog`` and
        ``negative_catalog`` (either may be `None`).
    """
    data = np.asarray(data, dtype=float)
    reflected = negative_image(data, mask=mask, box_size=box_size)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        catalog = finder(data, mask=mask)
        negative_catalog = finder(reflected, mask=mask)
    found = 0 if catalog is None else len(catalog)
    negative = 0 if negative_catalog is None else len(negative_catalog)
    return {'found': found, 'negative': negative,
            'false_fraction': negative / found if found else float('nan'),
            'net': found - negative, 'catalog': catalog, 'negative_catalog': negative_catalog}


def compare_finders(data, truth=None, finders=None, *, mask=None, radius=2.0,
                    pixel_scale=None, fwhm=None):
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
        from .finder import UNetLoGFinder

        finder = UNetLoGFinder()
        finders = {'UNetLoGFinder': finder}
        reference = finder(data, mask=mask) if fwhm is None else None
        finders.update(classical_finders(data, fwhm=fwhm, mask=mask, reference=reference))
    rows = []
    ref_x = ref_y = None
    if truth is not None:
        tx, ty = _positions(truth)
    for name, finder in finders.items():
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            tbl = finder(data, mask=mask)
        seconds = time.perf_counter() - t0
        x, y = _positions(tbl)
        row = {'finder': name, 'N': len(x)}
        if truth is not None:
            s = score_detections(x, y, tx, ty, radius=radius)
            row.update({'TP': s['tp'], 'FP': s['fp'], 'FN': s['fn'], 'Dice': s['dice'],
                        'precision': s['precision'], 'recall': s['recall'],
                        'RMS': s['rms']})
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


def plot_detections(data, x, y, truth_x, truth_y, *, radius=2.0, ax=None, title=None):
    """
    Detections over the image, coloured by TP (green), FP (red) and FN
    (orange), as in the paper's Figs 7 and 8.

    Returns
    -------
    ax : `matplotlib.axes.Axes`
    """
    import matplotlib.pyplot as plt
    from astropy.visualization import ImageNormalize, ZScaleInterval

    if ax is None:
        ax = plt.figure(figsize=(7, 7)).add_subplot()
    x, y = np.asarray(x, float), np.asarray(y, float)
    truth_x, truth_y = np.asarray(truth_x, float), np.asarray(truth_y, float)
    di, ti = match_sources(x, y, truth_x, truth_y, radius=radius)
    fp = np.setdiff1d(np.arange(x.size), di)
    fn = np.setdiff1d(np.arange(truth_x.size), ti)
    ax.imshow(data, origin='lower', cmap='Greys_r',
              norm=ImageNormalize(data, interval=ZScaleInterval()))
    style = dict(s=40, facecolors='none', linewidths=1.0)
    ax.scatter(x[di], y[di], edgecolors='limegreen', label=f'TP ({di.size})', **style)
    ax.scatter(x[fp], y[fp], edgecolors='red', label=f'FP ({fp.size})', **style)
    ax.scatter(truth_x[fn], truth_y[fn], edgecolors='orange', marker='s',
               label=f'FN ({fn.size})', **style)
    ax.legend(loc='upper right', fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def build_epsf(data, catalog, *, size=15, n_stars=40, oversampling=1, mask=None):
    """
    The image's own PSF, from its brightest isolated sources (photutils EPSF).

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        Background-subtracted image.
    catalog : `~astropy.table.Table`
        Detections with ``x_centroid``, ``y_centroid`` and ``flux``.
    size : int, optional
        Side of the star cutouts (odd).
    n_stars : int, optional
        Largest number of stars to build the PSF from.
    oversampling : int, optional
        EPSF oversampling factor.
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore.

    Returns
    -------
    epsf : `photutils.psf.ImagePSF`
    """
    from astropy.nddata import NDData
    from photutils.psf import EPSFBuilder, extract_stars

    x, y = _positions(catalog)
    half = size // 2
    ny, nx = data.shape
    inside = (x > half) & (x < nx - 1 - half) & (y > half) & (y < ny - 1 - half)
    # isolated: no other detection within the cutout
    tree = cKDTree(np.column_stack([x, y]))
    counts = np.array([len(n) for n in tree.query_ball_point(np.column_stack([x, y]),
                                                              half * np.sqrt(2))])
    candidates = np.flatnonzero(inside & (counts == 1))
    if candidates.size < 3:
        raise ValueError(f'only {candidates.size} isolated sources to build a PSF from; '
                         'at least 3 are needed')
    flux = np.asarray(catalog['flux'], float)[candidates]
    chosen = candidates[np.argsort(-flux)[:n_stars]]
    stars = extract_stars(NDData(np.asarray(data, float), mask=mask),
                          QTable({'x': x[chosen], 'y': y[chosen]}), size=size)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        epsf, _ = EPSFBuilder(oversampling=oversampling, maxiters=10, progress_bar=False)(stars)
    if not np.all(np.isfinite(epsf.data)):
        raise ValueError('the PSF could not be built from the isolated sources of the image')
    return epsf


def artificial_star_test(data, finder=None, *, fluxes=None, n_per_flux=50, radius=2.0,
                         epsf=None, seed=0, mask=None):
    """
    Completeness versus flux on a real image, by injecting artificial stars.

    Stars made with the image's own PSF (`build_epsf`) are added at random
    positions away from existing detections, a few at a time so as not to
    change the crowding, and the fraction the finder recovers within
    ``radius`` is measured at each flux.

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        The image (raw frames are fine).
    finder : callable or None, optional
        Finder to test; the default `~asidl.UNetLoGFinder` if `None`.
    fluxes : array_like or None, optional
        Total fluxes to inject, in data units above the background; by
        default 8 values spaced logarithmically between the 2nd and 90th
        percentiles of the fluxes of the detected sources.
    n_per_flux : int, optional
        Stars injected at each flux.
    radius : float, optional
        Recovery radius in pixels.
    epsf : `photutils.psf.ImagePSF` or None, optional
        PSF to inject; built from the image if `None`.
    seed : int, optional
        Seed of the random positions.
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore.

    Returns
    -------
    table : `~astropy.table.QTable`
        ``flux``, ``n_injected``, ``n_recovered``, ``fraction``.
    """
    from photutils.datasets import make_model_image

    from .normalize import background_map
    from .prepare import prepare_image

    if finder is None:
        from .finder import UNetLoGFinder

        finder = UNetLoGFinder()
    data = np.asarray(data, dtype=float)
    original = finder(data, mask=mask)
    if original is None:
        raise ValueError('the finder detects nothing in the image: no PSF to inject')
    image = prepare_image(data, mask)
    bkg = background_map(image.data, image.valid)
    background = bkg.rows(0, data.shape[0])[0]
    if epsf is None:
        epsf = build_epsf(data - background, original, mask=mask)
    if fluxes is None:
        detected = np.asarray(original['flux'], float)
        detected = detected[detected > 0]
        fluxes = np.geomspace(np.percentile(detected, 2), np.percentile(detected, 90), 8)
    fluxes = np.atleast_1d(np.asarray(fluxes, dtype=float))

    rng = np.random.default_rng(seed)
    ox, oy = _positions(original)
    occupied = cKDTree(np.column_stack([ox, oy]))
    ny, nx = data.shape
    per_image = max(1, int(0.02 * len(ox)) + 5)     # a few per image: crowding unchanged
    rows = []
    for flux in fluxes:
        recovered = injected = 0
        while injected < n_per_flux:
            n = min(per_image, n_per_flux - injected)
            x = rng.uniform(5, nx - 6, 4 * n)
            y = rng.uniform(5, ny - 6, 4 * n)
            free = occupied.query(np.column_stack([x, y]))[0] > 3 * radius
            x, y = x[free][:n], y[free][:n]
            if x.size == 0:
                continue
            params = QTable({'x_0': x, 'y_0': y, 'flux': np.full(x.size, flux)})
            shape = tuple(np.array(epsf.data.shape) // np.array(epsf.oversampling))
            stars = make_model_image(data.shape, epsf, params, model_shape=shape)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                tbl = finder(data + stars, mask=mask)
            dx, dy = _positions(tbl)
            recovered += match_sources(dx, dy, x, y, radius=radius)[0].size
            injected += x.size
        rows.append((flux, injected, recovered, recovered / injected))
    return QTable(rows=rows, names=('flux', 'n_injected', 'n_recovered', 'fraction'))


def scores_by_bin(x, y, truth, *, column='snr', bins=(3, 5, 10, 20, 50, 100, np.inf),
                  radius=2.0):
    """
    Completeness and position error of detections in bins of a truth column.

    Parameters
    ----------
    x, y : array_like
        Detected positions.
    truth : `~astropy.table.Table`
        True sources with ``x``, ``y`` and ``column``.
    column : str, optional
        Truth column to bin on, e.g. ``'snr'`` or ``'mag'``.
    bins : sequence of float, optional
        Bin edges.
    radius : float, optional
        Match radius in pixels.

    Returns
    -------
    table : `~astropy.table.QTable`
        ``low``, ``high``, ``n_true``, ``n_found``, ``completeness`` and
        ``rms`` (pixels, of the matched positions in the bin).
    """
    tx, ty = _positions(truth)
    values = np.asarray(truth[column], float)
    di, ti = match_sources(x, y, tx, ty, radius=radius)
    err = np.full(tx.size, np.nan)
    err[ti] = np.hypot(np.asarray(x, float)[di] - tx[ti], np.asarray(y, float)[di] - ty[ti])
    rows = []
    for low, high in zip(bins[:-1], bins[1:]):
        sel = (values >= low) & (values < high)
        found = sel & np.isfinite(err)
        rows.append((low, high, int(sel.sum()), int(found.sum()),
                     found.sum() / sel.sum() if sel.any() else np.nan,
                     float(np.sqrt(np.mean(err[found] ** 2))) if found.any() else np.nan))
    return QTable(rows=rows, names=('low', 'high', 'n_true', 'n_found', 'completeness', 'rms'))


def plot_dice_versus_density(table, *, ax=None):
    """
    Dice coefficient against source density for several finders (paper Fig. 5).

    Parameters
    ----------
    table : `~astropy.table.Table`
        Columns ``finder``, ``density`` and ``Dice``, e.g. the output of
        ``benchmarks/quality_vs_density.py``.

    Returns
    -------
    ax : `matplotlib.axes.Axes`
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure(figsize=(6, 4)).add_subplot()
    names = [str(n) for n in table['finder']]
    for name in dict.fromkeys(n.split(' (')[0] for n in names):
        sel = np.array([n.split(' (')[0] == name for n in names])
        ax.plot(table['density'][sel], table['Dice'][sel], 'o-', label=name)
    ax.set_xscale('log')
    ax.set_xlabel('true sources per square arcminute')
    ax.set_ylabel('Dice')
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.figure.tight_layout()
    return ax
