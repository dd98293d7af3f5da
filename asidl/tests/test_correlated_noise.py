# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The noise correlation of an image and the confidence level it sets."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from asidl import UNetLoGFinder
from asidl.background import noise_correlation
from asidl.calibration import confidence_floor
from asidl.constants import CONFIDENCE_FLOORS
from asidl.datasets import FrameParameters, simulate_frame
from asidl.evaluation import score_detections

WHITE = {}
RESAMPLED = {'resample': 'bilinear'}
PLATE = {'grain': 1.5, 'grain_scale': 1.2, 'block': 2}


def _frame(noise, density=30, seed=1, shape=(192, 192)):
    return simulate_frame(FrameParameters(shape=shape, density=density, **noise), seed=seed)


def _correlation(data):
    valid = np.isfinite(data)
    return noise_correlation(data, valid)


@pytest.mark.parametrize('seed', [1, 2])
def test_noise_correlation_tells_white_from_correlated_noise(seed):
    # White noise reads near 0 even when crowded (confusion is correlated
    # on the PSF scale at both lags); resampling and plate grain do not.
    assert abs(_correlation(_frame(WHITE, 3, seed).data)) < 0.05
    assert _correlation(_frame(WHITE, 250, seed).data) < 0.15
    assert 0.2 < _correlation(_frame(RESAMPLED, 30, seed).data) < 0.45
    assert _correlation(_frame(PLATE, 30, seed).data) > 0.45


def test_noise_correlation_ignores_masked_pixels_and_offsets():
    data = _frame(RESAMPLED).data
    reference = _correlation(data)
    # A bias step and a masked block of garbage change nothing much.
    stepped = data.copy()
    stepped[:, 96:] += 1000.0
    assert _correlation(stepped) == pytest.approx(reference, abs=0.03)
    valid = np.ones(data.shape, dtype=bool)
    garbage = data.copy()
    garbage[40:80, 40:80] = np.random.default_rng(0).uniform(0, 1e5, (40, 40))
    valid[40:80, 40:80] = False
    assert noise_correlation(garbage, valid) == pytest.approx(reference, abs=0.03)


def test_noise_correlation_of_images_too_small_or_flat_is_nan():
    tiny = np.ones((2, 50), dtype=np.float32)
    assert np.isnan(noise_correlation(tiny, tiny > 0))
    flat = np.full((64, 64), 7.0, dtype=np.float32)
    assert np.isnan(noise_correlation(flat, flat > 0))


def test_confidence_floor_steps():
    assert confidence_floor(np.nan) == 0.0
    assert confidence_floor(-0.1) == 0.0
    for start, level in CONFIDENCE_FLOORS:
        assert confidence_floor(start) == level
        assert confidence_floor(start - 1e-3) < level
    assert confidence_floor(1.0) == CONFIDENCE_FLOORS[-1][1]


@pytest.fixture(scope='module')
def finder():
    return UNetLoGFinder(fwhm=4.5, precision='f32')


@pytest.fixture(scope='module')
def all_detections():
    return UNetLoGFinder(fwhm=4.5, precision='f32', min_confidence=None)


@pytest.mark.parametrize(('noise', 'level'), [(WHITE, None), (RESAMPLED, 0.5), (PLATE, 0.8)])
def test_auto_level_follows_the_noise(finder, all_detections, noise, level):
    data = _frame(noise, 30, seed=3, shape=(256, 256)).data
    before = data.copy()
    tbl = finder(data)
    assert_array_equal(data, before)
    everything = all_detections(data)
    assert everything.meta['min_confidence'] is None
    assert everything.meta['noise_correlation'] is None
    assert tbl.meta['min_confidence'] == level
    assert tbl.meta['noise_correlation'] == pytest.approx(_correlation(data), abs=1e-4)
    # The cut is a filter on the same detections: nothing else changes.
    kept = everything[everything['confidence'] >= (level or 0.0)]
    assert_array_equal(tbl['x_centroid'], kept['x_centroid'])
    assert_array_equal(tbl['id'], np.arange(len(tbl)) + 1)
    if level is not None:
        assert len(tbl) < len(everything)


def test_auto_level_removes_plate_grain_detections(finder, all_detections):
    # On simulated plates most low-confidence detections are grain: the
    # cut raises the Dice score (a few frames, seeds fixed).
    gains = []
    for seed in (4, 5):
        frame = _frame(PLATE, 30, seed=seed, shape=(256, 256))
        truth = frame.targets
        dice = [
            score_detections(t['x_centroid'], t['y_centroid'], truth['x'], truth['y'])['dice']
            for t in (finder(frame.data), all_detections(frame.data))
        ]
        gains.append(dice[0] - dice[1])
    assert np.mean(gains) > 0.03


def test_catalogs_from_maps_measure_the_correlation_once(finder, monkeypatch):
    import asidl.maps

    calls = []

    def counting(data, valid):
        calls.append(data.shape)
        return noise_correlation(data, valid)

    monkeypatch.setattr(asidl.maps, 'noise_correlation', counting)
    data = _frame(RESAMPLED, 30, seed=3, shape=(256, 256)).data
    maps = finder.network_maps(data)
    tables = [finder.catalog_from_maps(maps, threshold=t) for t in (0.2, 0.3, 0.2)]
    assert calls == [(256, 256)]
    # The level and correlation are those of a search of the whole image.
    direct = finder(data)
    for tbl in (tables[0], tables[2]):
        assert tbl.meta['min_confidence'] == direct.meta['min_confidence'] == 0.5
        assert tbl.meta['noise_correlation'] == direct.meta['noise_correlation']
        assert_array_equal(tbl['x_centroid'], direct['x_centroid'])


def test_fixed_level_and_uncalibrated_confidence():
    data = _frame(PLATE, 30, seed=3, shape=(256, 256)).data
    fixed = UNetLoGFinder(fwhm=4.5, precision='f32', min_confidence=0.9)(data)
    assert fixed.meta['min_confidence'] == 0.9
    assert fixed.meta['noise_correlation'] is None
    assert np.all(fixed['confidence'] >= 0.9)
    # 'auto' levels are calibrated confidences: without calibration, no cut.
    raw = UNetLoGFinder(fwhm=4.5, precision='f32', calibration=False)(data)
    assert raw.meta['min_confidence'] is None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert UNetLoGFinder(fwhm=4.5, min_confidence=1.0)(np.zeros((64, 64))) is None


@pytest.mark.parametrize('value', ['high', 'AUTO', -0.1, 1.5, True, np.nan, [0.5]])
def test_bad_min_confidence(value):
    with pytest.raises(ValueError, match='min_confidence must be'):
        UNetLoGFinder(min_confidence=value)
