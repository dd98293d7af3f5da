# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
from numpy.testing import assert_allclose

from asidl.evaluate import match_sources, score_detections


def test_one_to_one_matching_prefers_closest():
    # two detections near one true star: only the closest matches
    di, ti = match_sources([10.0, 10.5], [10.0, 10.0], [10.4], [10.0])
    assert di.tolist() == [1] and ti.tolist() == [0]


def test_scores():
    s = score_detections([1.0, 5.0, 50.0], [1.0, 5.0, 50.0], [1.3, 5.0, 20.0], [1.0, 5.4, 20.0])
    assert (s['tp'], s['fp'], s['fn']) == (2, 1, 1)
    assert_allclose(s['dice'], 4 / 6)
    assert_allclose(s['rms'], np.sqrt((0.3**2 + 0.4**2) / 2))
    assert_allclose(s['precision'], 2 / 3)
    assert_allclose(s['recall'], 2 / 3)


def test_radius():
    assert score_detections([0.0], [0.0], [2.5], [0.0])['tp'] == 0
    assert score_detections([0.0], [0.0], [2.5], [0.0], radius=3)['tp'] == 1


def test_empty_inputs():
    s = score_detections([], [], [1.0], [1.0])
    assert (s['tp'], s['fp'], s['fn'], s['dice']) == (0, 0, 1, 0.0)
    assert np.isnan(s['rms'])
    assert score_detections([], [], [], [])['dice'] == 1.0
