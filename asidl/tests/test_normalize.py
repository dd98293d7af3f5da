# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from asidl.background import background_map
from asidl.normalize import normalize


@pytest.fixture
def noise():
    return np.random.default_rng(0).normal(1000.0, 20.0, (200, 300)).astype(np.float32)


def test_background_and_noise_maps(noise):
    valid = np.ones(noise.shape, bool)
    bkg = background_map(noise, valid, box=50)
    assert bkg.background.shape == (4, 6)
    assert_allclose(bkg.background, 1000, atol=3)
    assert_allclose(bkg.noise, 20, rtol=0.1)


def test_offsets_and_gradients_removed(noise):
    valid = np.ones(noise.shape, bool)
    ref = normalize(noise, valid)
    shifted = normalize(noise + 12345.0, valid)
    assert_allclose(shifted, ref, atol=2e-3)
    gradient = noise + np.linspace(0, 500, 300)[None, :]
    out = normalize(gradient, valid)
    assert abs(np.median(out)) < 0.05
    assert abs(np.median(out[:, :20]) - np.median(out[:, -20:])) < 0.1


def test_saturated_star_is_compressed(noise):
    data = noise.copy()
    data[100, 150] = 65535
    out = normalize(data, np.ones(data.shape, bool))
    assert out.max() < 10  # asinh keeps a 3000-sigma pixel within a few units
    assert out.dtype == np.float32


def test_invalid_pixels_are_zero_and_ignored(noise):
    data = noise.copy()
    data[:, :100] = 0.0  # blank, off-detector region
    valid = np.ones(data.shape, bool)
    valid[:, :100] = False
    out = normalize(data, valid)
    assert np.all(out[:, :100] == 0)
    assert abs(np.median(out[:, 100:])) < 0.05


def test_input_not_modified(noise):
    before = noise.copy()
    normalize(noise, np.ones(noise.shape, bool))
    np.testing.assert_array_equal(before, noise)


def test_standardize(noise):
    out = normalize(noise, np.ones(noise.shape, bool), method='standardize')
    assert abs(out.mean()) < 1e-3 and abs(out.std() - 1) < 1e-3


def test_unknown_method(noise):
    with pytest.raises(ValueError, match='normalization'):
        normalize(noise, np.ones(noise.shape, bool), method='zscore')


def test_all_invalid_does_not_fail(noise):
    out = normalize(noise, np.zeros(noise.shape, bool))
    assert np.all(out == 0)


def test_background_at_matches_full_resolution_rows(noise):
    data = noise + np.linspace(0, 500, 300)[None, :] + np.linspace(0, 80, 200)[:, None]
    bkg = background_map(data, np.ones(data.shape, bool), box=64)
    full, _ = bkg.rows(0, 200)
    yy, xx = np.mgrid[0:200:7, 0:300:11]
    assert_allclose(bkg.background_at(yy, xx), full[yy, xx], rtol=1e-5)
    # a linear background is followed to the frame edges (partial last blocks too)
    truth = 1000 + np.linspace(0, 500, 300)[None, :] + np.linspace(0, 80, 200)[:, None]
    assert np.abs(full - truth).max() < 10


def test_normalize_in_row_chunks_is_exact(monkeypatch):
    import asidl.normalize

    rng = np.random.default_rng(8)
    data = rng.normal(1000, 20, (300, 200)) + np.linspace(0, 50, 200)
    valid = np.ones(data.shape, bool)
    whole = asidl.normalize.normalize(data, valid)
    monkeypatch.setattr(asidl.normalize, 'ROW_PIXELS', 2000)  # 10-row chunks on threads
    monkeypatch.setattr(asidl.normalize.os, 'cpu_count', lambda: 4)
    assert_array_equal(asidl.normalize.normalize(data, valid), whole)


def test_normalization_follows_a_linear_gradient_exactly():
    # A linear gradient (any slope, masked regions or not) changes the
    # normalized image only by float rounding.
    from asidl.datasets import FrameParameters, simulate_frame

    frame = simulate_frame(FrameParameters(shape=(160, 192), density=40.0, fwhm=3.5), seed=42)
    ny, nx = frame.data.shape
    ramp = np.linspace(0, 300, nx)[None, :] - np.linspace(0, 120, ny)[:, None]
    for valid in (np.ones((ny, nx), bool), np.arange(nx)[None, :] > 50 + np.zeros((ny, 1))):
        plain = normalize(frame.data, valid)
        tilted = normalize(frame.data + ramp.astype(np.float32), valid)
        np.testing.assert_allclose(tilted, plain, atol=2e-4)


def test_band_normalization_equals_the_whole_frame(noise):
    """A band of rows normalized on its own gives the same values as in the whole frame."""
    from asidl.normalize import standardize_statistics

    valid = np.ones(noise.shape, bool)
    valid[5:9, 3:30] = False
    bkg = background_map(noise, valid)
    whole = normalize(noise, valid, bkg=bkg)
    band = normalize(noise[17:41], valid[17:41], bkg=bkg, first_row=17)
    np.testing.assert_array_equal(band, whole[17:41])
    stats = standardize_statistics(noise, valid)
    np.testing.assert_allclose(stats, [noise[valid].mean(), noise[valid].std()], rtol=1e-6)
    whole = normalize(noise, valid, method='standardize')
    band = normalize(noise[17:41], valid[17:41], method='standardize', statistics=stats)
    np.testing.assert_array_equal(band, whole[17:41])
