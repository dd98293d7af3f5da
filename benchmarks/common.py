# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Frames and finders shared by the benchmark scripts."""

import numpy as np
from astropy.stats import SigmaClip
from photutils.background import Background2D, MedianBackground
from photutils.detection import DAOStarFinder

from asidl.evaluate import score_detections
from asidl.simulate import meerlicht_like, simulate_frame


def meerlicht_frame(density, seed, *, shape=(512, 512), artifacts=True):
    """A simulated raw MeerLICHT-like frame at ``density`` targets per arcmin^2."""
    rng = np.random.default_rng(seed)
    return simulate_frame(meerlicht_like(shape, density, rng=rng, artifacts=artifacts), rng=rng)


def dao_catalogs(data, fwhm, nsigmas=(2, 3, 4, 5, 7, 10)):
    """DAOStarFinder on a background-subtracted frame, at several thresholds."""
    bkg = Background2D(data, 64, filter_size=3, sigma_clip=SigmaClip(3.0),
                       bkg_estimator=MedianBackground(), exclude_percentile=90)
    sub = data - bkg.background
    rms = float(np.median(bkg.background_rms))
    out = {}
    for k in nsigmas:
        tbl = DAOStarFinder(fwhm=fwhm, threshold=k * rms)(sub)
        out[k] = tbl
    return out


def score(tbl, truth):
    if tbl is None:
        return score_detections([], [], truth['x'], truth['y'])
    return score_detections(tbl['x_centroid'], tbl['y_centroid'], truth['x'], truth['y'])
