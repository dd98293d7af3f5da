# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Measuring the FWHM of an image's stars from a source catalog."""

import numpy as np
import pytest

from asidl.datasets import sky_electrons
from asidl.fwhm import FWHMEstimate, measure_fwhm
from asidl.tests.helpers import meerlicht_frame


def _frame(fwhm, psf='moffat', seed=0):
    """A 384x384 raw frame with many cosmic rays and hot pixels."""
    return meerlicht_frame(
        (384, 384), 40.0, seed, fwhm=fwhm, psf=psf, n_cosmic_rays=150, n_hot_pixels=100
    )


def _background(frame):
    p = frame.parameters
    return (sky_electrons(p) / p.gain + p.bias).astype(np.float32), np.sqrt(
        p.sky + p.read_noise**2
    ) / p.gain


def _artifact_pixels(frame, n=40):
    """The brightest pixels farther than 5 pixels from every star: cosmic rays and hot pixels."""
    t = frame.truth
    order = np.argsort(frame.data, axis=None)[::-1]
    ys, xs = np.unravel_index(order[:4000], frame.data.shape)
    far = np.min(np.hypot(ys[:, None] - t['y'][None, :], xs[:, None] - t['x'][None, :]), axis=1) > 5
    return xs[far][:n].astype(float), ys[far][:n].astype(float)


@pytest.mark.parametrize(
    'fwhm, psf',
    [(1.2, 'moffat'), (1.6, 'moffat'), (1.4, 'gaussian'), (3.0, 'moffat'), (9.0, 'gaussian')],
)
def test_measures_the_fwhm_despite_cosmic_rays(fwhm, psf):
    """Within 10% with artifacts among the candidates, which fit far sharper than stars."""
    frame = _frame(fwhm, psf)
    stars = frame.truth[frame.truth['target'] & (frame.truth['snr'] > 5)]
    assert np.count_nonzero(stars['snr'] > 20) >= 20
    ax, ay = _artifact_pixels(frame)
    assert ax.size >= 20
    x = np.concatenate([stars['x'], ax])
    y = np.concatenate([stars['y'], ay])
    background, noise = _background(frame)
    valid = np.ones(frame.data.shape, bool)
    estimate = measure_fwhm(frame.data, valid, background, noise, x, y)
    assert isinstance(estimate, FWHMEstimate)
    assert estimate == pytest.approx(fwhm, rel=0.10)
    assert estimate.n_stars >= 5 and estimate.scatter < 0.2 * fwhm
    # The artifacts alone give no FWHM, or one far sharper than the stars'.
    alone = measure_fwhm(frame.data, valid, background, noise, ax, ay)
    assert alone is None or alone < 0.6 * fwhm


def test_too_few_or_saturated_stars_give_none():
    frame = _frame(3.0)
    background, noise = _background(frame)
    valid = np.ones(frame.data.shape, bool)
    t = frame.truth[frame.truth['target']]
    bright = t[np.argsort(-t['snr'])]
    assert (
        measure_fwhm(frame.data, valid, background, noise, bright['x'][:4], bright['y'][:4]) is None
    )
    assert measure_fwhm(frame.data, valid, background, noise, [], []) is None
    # Clip the frame just above the sky: every star is saturated.
    clipped = np.minimum(frame.data, np.percentile(frame.data, 60))
    assert measure_fwhm(clipped, valid, background, noise, t['x'], t['y']) is None
    # Masked stars are not used either.
    assert measure_fwhm(frame.data, np.zeros_like(valid), background, noise, t['x'], t['y']) is None


def test_background_map_gives_the_full_background_result():
    """Evaluated around the stars only, the background map gives the full-frame result."""
    from asidl.background import background_map

    frame = _frame(3.0)
    valid = np.ones(frame.data.shape, bool)
    valid[100:140, 200:260] = False
    bkg = background_map(frame.data, valid)
    full = bkg.rows(0, frame.data.shape[0])[0]
    t = frame.truth[frame.truth['target']]
    noise = bkg.noise_at(t['y'], t['x'])
    from_map = measure_fwhm(frame.data, valid, bkg, noise, t['x'], t['y'])
    from_image = measure_fwhm(frame.data, valid, full, noise, t['x'], t['y'])
    assert from_map is not None and from_map.n_stars >= 5
    assert from_map == from_image and from_map.n_stars == from_image.n_stars


def test_the_fitter_is_imported_while_the_first_pass_runs():
    """`prefetch_fitter` imports photutils.psf on a thread, once."""
    import subprocess
    import sys

    code = (
        'import sys\n'
        'from asidl.fwhm import prefetch_fitter\n'
        'thread = prefetch_fitter()\n'
        'thread.join()\n'
        "assert 'photutils.psf' in sys.modules\n"
        'assert prefetch_fitter() is None\n'
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == 'ok'


def _astropy_stars(model, fwhm, n=12, size=7, seed=0):
    """
    Stars of astropy's Moffat2D or Gaussian2D averaged over their pixels
    (oversampled 25 times per side), at random sub-pixel offsets.
    """
    from astropy.convolution import discretize_model
    from astropy.modeling.models import Gaussian2D, Moffat2D

    rng = np.random.default_rng(seed)
    half = size // 2
    stars = []
    for dy, dx in rng.uniform(-0.5, 0.5, (n, 2)):
        if model == 'gaussian':
            sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
            m = Gaussian2D(1000.0, half + dx, half + dy, sigma, sigma)
        else:
            alpha = fwhm / (2 * np.sqrt(2 ** (1 / model) - 1))
            m = Moffat2D(1000.0, half + dx, half + dy, alpha, model)
        stars.append(discretize_model(m, (0, size), (0, size), mode='oversample', factor=25))
    return np.array(stars)


@pytest.mark.parametrize('model', ['gaussian', 2.0, 3.0, 4.5])
@pytest.mark.parametrize('fwhm', [1.2, 1.6, 2.2])
def test_integrated_moffat_fits_give_the_fwhm_of_undersampled_stars(model, fwhm):
    """Within 3% for Gaussian and Moffat stars, where a Gaussian fit is 7-24% too broad."""
    from asidl.moffat import fit_moffat_fwhm

    stars = _astropy_stars(model, fwhm)[:, 1:6, 1:6]
    fitted = fit_moffat_fwhm(stars, np.ones(stars.shape, bool), guess=2.0)
    assert np.all(np.isfinite(fitted))
    assert np.median(fitted) == pytest.approx(fwhm, rel=0.03)


def test_moffat_fits_leave_out_masked_pixels():
    from asidl.moffat import fit_moffat_fwhm, integrated_moffat

    pixels = np.arange(5.0) - 2
    star = integrated_moffat(5000.0, 0.2, -0.3, 1.5, 3.0, pixels, pixels)
    assert integrated_moffat(
        1.0, 0, 0, 1.5, 3.0, np.arange(-40.0, 41), np.arange(-40.0, 41)
    ).sum() == (pytest.approx(1.0, rel=0.02))
    good = np.ones((1, 5, 5), bool)
    hit = star.copy()
    hit[0, 3] = 1e6  # a cosmic ray, masked
    good[0, 0, 3] = False
    assert fit_moffat_fwhm(hit[None], good, 2.0)[0] == pytest.approx(1.5, rel=1e-3)
    assert fit_moffat_fwhm(star[None], np.ones((1, 5, 5), bool), 2.0)[0] == pytest.approx(
        1.5, rel=1e-3
    )
    # Nothing to fit: NaN.
    assert np.isnan(fit_moffat_fwhm(np.zeros((1, 5, 5)), np.ones((1, 5, 5), bool), 2.0)[0])
