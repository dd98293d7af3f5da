# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
from numpy.testing import assert_allclose

from asidl.training.losses import asidl_loss, bce_dice_loss, offset_loss


def _np(x):
    return float(np.asarray(x))


def test_perfect_prediction_has_near_zero_loss():
    y = np.zeros((2, 16, 16, 1), np.float32)
    y[0, 5:8, 5:8] = 1
    assert _np(bce_dice_loss(y, y)) < 1e-3


def test_loss_is_per_image():
    """An empty image predicted empty does not dilute the Dice of a busy one."""
    busy = np.zeros((1, 16, 16, 1), np.float32)
    busy[0, 2:14, 2:14] = 1
    pred = busy * 0.5
    empty = np.zeros_like(busy)
    single = _np(bce_dice_loss(busy, pred))
    pair = _np(bce_dice_loss(np.concatenate([busy, empty]), np.concatenate([pred, empty])))
    assert_allclose(pair, single / 2, rtol=0.02)


def test_no_double_sigmoid():
    """The cross-entropy is taken on probabilities: predicting 0.9 for a 1 costs -log(0.9)."""
    y = np.ones((1, 4, 4, 1), np.float32)
    p = np.full_like(y, 0.9)
    dice = (2 * 0.9 * 16 + 1) / (16 + 0.81 * 16 + 1)
    assert_allclose(_np(bce_dice_loss(y, p)), -np.log(0.9) + 1 - dice, rtol=1e-4)


def test_offset_loss_only_on_the_mask():
    mask = np.zeros((1, 8, 8, 1), np.float32)
    mask[0, 3, 3] = 1
    true = np.zeros((1, 8, 8, 2), np.float32)
    pred = np.ones_like(true)  # wrong everywhere, by 1 in each coordinate
    assert_allclose(_np(offset_loss(mask, true, pred)), 2 / 2)
    assert _np(offset_loss(np.zeros_like(mask), true, pred)) == 0


def test_asidl_loss_combines_heads():
    y = np.zeros((1, 8, 8, 3), np.float32)
    y[0, 3, 3, 0] = 1
    y[0, 3, 3, 1:] = [0.2, -0.3]
    assert _np(asidl_loss(y, y)) < 1e-3
    worse = y.copy()
    worse[0, 3, 3, 1] = 1.2
    assert _np(asidl_loss(y, worse)) > _np(asidl_loss(y, y)) + 0.4
