# Licensed under a 3-clause BSD style license - see LICENSE.rst
import json

import numpy as np
import pytest

from asidl import UNetLoGFinder
from asidl.calibration import ConfidenceCalibration, expected_calibration_error, reliability_table
from asidl.datasets import FrameParameters, simulate_frame
from asidl.registry import register_model


def _overconfident(n, seed):
    """Scores whose real fraction is score squared: the raw score is over-confident."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(0, 1, n)
    return score, rng.uniform(0, 1, n) < score**2


def test_reliability_table_and_ece():
    score, real = _overconfident(20_000, 1)
    table = reliability_table(score, real, bins=5)
    assert list(table['n']) == pytest.approx([4000] * 5, rel=0.05)
    # fraction real in a bin is the mean of score**2 over it
    centres = 0.5 * (table['bin_low'] + table['bin_high'])
    expected = centres**2 + 0.2**2 / 12
    assert np.allclose(table['fraction_real'], expected, atol=0.02)
    # E|s - s^2| for s ~ U(0, 1) is 1/6
    assert expected_calibration_error(score, real, bins=20) == pytest.approx(1 / 6, abs=0.01)
    # a calibrated score has a small error
    assert expected_calibration_error(score**2, real, bins=20) < 0.02
    # empty bins are left out
    assert len(reliability_table([0.05, 0.95], [False, True], bins=10)) == 2


def test_fit_on_one_set_calibrates_another():
    score, real = _overconfident(20_000, 2)
    calibration = ConfidenceCalibration.fit(score, real)
    assert calibration.score.size <= 64
    assert np.all(np.diff(calibration.probability) >= 0)
    held_score, held_real = _overconfident(20_000, 3)
    assert expected_calibration_error(held_score, held_real) > 0.15
    assert expected_calibration_error(calibration(held_score), held_real) < 0.03
    assert calibration(0.5) == pytest.approx(0.25, abs=0.05)
    assert (
        ConfidenceCalibration.from_dict(calibration.to_dict()).score.size == calibration.score.size
    )


@pytest.mark.parametrize(
    'args, match',
    [
        (([0.5, 0.2], [0.1, 0.2]), 'increase'),
        (([0.1, 0.2], [0.3, 0.2]), 'not decrease'),
        (([0.1, 0.2], [0.3, 1.5]), r'\[0, 1\]'),
        (([0.1], [0.3]), 'at least 2'),
        (([0.1, np.nan], [0.3, 0.4]), 'finite'),
    ],
)
def test_bad_calibrations(args, match):
    with pytest.raises(ValueError, match=match):
        ConfidenceCalibration(*args)


def test_bad_fit_input():
    with pytest.raises(ValueError, match='same length'):
        ConfidenceCalibration.fit([0.1, 0.2], [True])
    with pytest.raises(ValueError, match='no detections'):
        ConfidenceCalibration.fit([], [])
    with pytest.raises(ValueError, match='booleans'):
        ConfidenceCalibration.fit([0.1, 0.2], [0.5, 2])
    with pytest.raises(ValueError, match='same confidence'):
        ConfidenceCalibration.fit([0.3, 0.3, 0.3], [True, False, True])
    with pytest.raises(ValueError, match='exactly'):
        ConfidenceCalibration.from_dict({'score': [0, 1]})


@pytest.fixture(scope='module')
def frame():
    return simulate_frame(FrameParameters(shape=(128, 128), density=30, fwhm=4.0), seed=4)


def test_finder_applies_calibration(frame):
    raw = UNetLoGFinder(calibration=False, fwhm=4.0)(frame.data)
    assert raw.meta['confidence'] == 'network'
    flat = ConfidenceCalibration([0.0, 1.0], [0.25, 0.75])
    tbl = UNetLoGFinder(calibration=flat, fwhm=4.0)(frame.data)
    assert tbl.meta['confidence'] == 'calibrated'
    assert np.allclose(tbl['confidence'], 0.25 + 0.5 * raw['confidence'])
    assert np.array_equal(tbl['x_centroid'], raw['x_centroid'])
    with pytest.raises(TypeError, match='calibration must be'):
        UNetLoGFinder(calibration={'score': [0, 1], 'probability': [0, 1]})


def test_registered_calibration_is_used(monkeypatch, tmp_path, frame):
    from asidl.training.unet import build_unet

    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    path = tmp_path / 'mine.keras'
    build_unet(base_filters=2, depth=1, input_stride=2).save(path)
    calibration = ConfidenceCalibration([0.0, 1.0], [0.0, 0.5])
    register_model('calibrated', path, calibration=calibration)
    finder = UNetLoGFinder(model='calibrated')
    assert finder.calibration == calibration
    assert UNetLoGFinder(model='calibrated', calibration=False).calibration is None
    with pytest.raises(TypeError, match='calibration must be'):
        register_model('other', path, calibration=[0, 1])

    # A user registry with an unusable calibration is refused with a warning.
    registry = tmp_path / 'cache' / 'user_registry.json'
    entries = json.loads(registry.read_text())
    entries['calibrated']['calibration'] = {'score': [0.5, 0.1], 'probability': [0, 1]}
    registry.write_text(json.dumps(entries))
    with pytest.warns(UserWarning, match='calibration is unusable'):
        from asidl.registry import available_models

        assert 'calibrated' not in available_models()
