# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Frames and finders shared by the benchmark scripts."""

import warnings
from pathlib import Path

import numpy as np

from asidl.datasets import meerlicht_like, simulate_frame
from asidl.evaluation import classical_finders, score_detections


def meerlicht_frame(density, seed, *, shape=(512, 512), artifacts=True):
    """A simulated raw MeerLICHT-like frame at ``density`` targets per arcmin^2."""
    rng = np.random.default_rng(seed)
    return simulate_frame(meerlicht_like(shape, density, rng=rng, artifacts=artifacts), rng=rng)


#: Thresholds tried, in units of the background RMS per pixel.  SEP runs
#: with SExtractor's default 3x3 detection filter, which lowers the noise,
#: so its useful range starts lower.
THRESHOLDS = {'DAOStarFinder': (2, 3, 4, 5, 7, 10), 'SEP': (1, 1.5, 2, 3, 4, 5)}


def classical_catalogs(data, fwhm, thresholds=None):
    """
    Catalogs of DAOStarFinder and SEP (when installed) at several thresholds,
    set up by `asidl.evaluation.classical_finders` (background subtracted).

    Returns
    -------
    catalogs : dict
        ``{finder name: {nsigma: table or None}}``.
    """
    thresholds = THRESHOLDS if thresholds is None else thresholds
    out = {}
    for k in sorted(set().union(*thresholds.values())):
        for name, finder in classical_finders(data, fwhm=fwhm, nsigma=k).items():
            if k not in thresholds.get(name, ()):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                out.setdefault(name, {})[k] = finder(data)
    return out


#: Thresholds of the matched filter, in units of its own noise.
MATCHED_FILTER_THRESHOLDS = (2.5, 3, 3.5, 4, 4.5, 5, 6, 8, 10, 15)


def matched_filter_catalogs(frame, thresholds=MATCHED_FILTER_THRESHOLDS):
    """
    The ideal classical detector, as a reference: a matched filter that
    knows the true PSF, background and noise of a simulated frame.

    The frame minus its true background (bias + sky) is correlated with the
    true PSF and divided by the filtered noise, giving a map of the
    signal-to-noise ratio of a point source at every pixel; local maxima
    (3x3) above each threshold are detections.  It has no defence against
    artifacts, and merges stars closer than about a FWHM.

    Returns
    -------
    catalogs : dict
        ``{nsigma: table with x_centroid, y_centroid}``.
    """
    from astropy.table import QTable
    from scipy import ndimage

    from asidl.datasets import sky_electrons
    from asidl.datasets.stars import psf_stamps

    p = frame.parameters
    size = 2 * int(np.ceil(2 * p.fwhm)) + 1
    psf = psf_stamps(p, np.zeros(1), np.zeros(1), np.array([p.fwhm]), size)[0].astype(float)
    sky = sky_electrons(p)
    background = sky / p.gain + p.bias
    noise = np.sqrt(sky + p.read_noise**2) / p.gain
    snr = ndimage.correlate(frame.data - background, psf, mode='constant') / (
        noise * np.sqrt(np.sum(psf**2))
    )
    peaks = snr == ndimage.maximum_filter(snr, size=3)
    out = {}
    for k in thresholds:
        iy, ix = np.nonzero(peaks & (snr > k))
        out[k] = QTable({'x_centroid': ix.astype(float), 'y_centroid': iy.astype(float)})
    return out


#: SExtractor's defaults: DETECT_THRESH, DETECT_MINAREA, BACK_SIZE, BACK_FILTERSIZE.
SEP_THRESH, SEP_MINAREA, SEP_BACK_SIZE, SEP_BACK_FILTER = 1.5, 5, 64, 3


def sep_sextractor_defaults(data):
    """
    SEP run as SExtractor runs by default: background mesh of 64 pixels
    with a 3x3 median filter, subtracted; detection at 1.5 times the
    global background RMS with the default 3x3 pyramidal filter, at least
    5 pixels, default deblending.  Returns a table of positions and fluxes.
    """
    import sep
    from astropy.table import QTable

    # Crowded 100-Mpix frames need more room than SEP's defaults; small
    # frames should not pay for allocating it.
    sep.set_extract_pixstack(max(300_000, min(np.size(data), 20_000_000)))
    sep.set_sub_object_limit(4096)
    data = np.ascontiguousarray(data, dtype=np.float64)
    bkg = sep.Background(
        data, bw=SEP_BACK_SIZE, bh=SEP_BACK_SIZE, fw=SEP_BACK_FILTER, fh=SEP_BACK_FILTER
    )
    objects = sep.extract(data - bkg.back(), SEP_THRESH, err=bkg.globalrms, minarea=SEP_MINAREA)
    return QTable({'x_centroid': objects['x'], 'y_centroid': objects['y'], 'flux': objects['flux']})


def score(tbl, truth):
    if tbl is None:
        return score_detections([], [], truth['x'], truth['y'])
    return score_detections(tbl['x_centroid'], tbl['y_centroid'], truth['x'], truth['y'])


def save_result(table, path):
    """Write a benchmark table as ECSV (creating the directory) and say so."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.write(path, format='ascii.ecsv', overwrite=True)
    print(f'wrote {path}')
