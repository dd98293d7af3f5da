# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Frames and finders shared by the benchmark scripts."""

import numpy as np
from astropy.stats import SigmaClip
from photutils.background import Background2D, MedianBackground
from photutils.detection import DAOStarFinder

from asidl.evaluate import score_detections
from asidl.simulate import FrameParameters, simulate_frame

#: MeerLICHT-like instrument: 0.56"/pixel, seeing 2.5", sky 400 e-, read noise 10 e-.
MEERLICHT = dict(pixel_scale=0.56, psf='moffat', fwhm=2.5 / 0.56, beta=3.0, sky=400.0,
                 read_noise=10.0, gain=1.0, bias=500.0, full_well=100_000.0,
                 saturation_adu=65535.0)


def meerlicht_frame(density, seed, *, shape=(512, 512), artifacts=True):
    """A simulated raw MeerLICHT-like frame at ``density`` targets per arcmin^2."""
    rng = np.random.default_rng(seed)
    params = FrameParameters(shape=shape, density=density, **MEERLICHT)
    if artifacts:
        area_mpix = shape[0] * shape[1] / 1e6
        params.n_cosmic_rays = int(rng.poisson(150 * area_mpix))
        params.n_trails = int(rng.random() < 0.3)
        params.spikes = True
        params.n_hot_pixels = int(rng.poisson(50 * area_mpix))
        params.n_galaxies = int(rng.poisson(40 * area_mpix))
    return simulate_frame(params, rng=rng)


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
