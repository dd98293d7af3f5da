# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Training losses.

The paper's loss is binary cross-entropy plus Dice loss (``1 - Dice``).
Both are computed per image and then averaged over the batch, so a
crowded image does not drown the sparse ones.  The network's probability
head already ends in a sigmoid, so the cross-entropy is taken on
probabilities: the authors' published code applied ``from_logits=True`` to
sigmoid outputs (a double sigmoid), which flattens the gradients; we do
not.

`asidl_loss` adds to it a masked L1 loss on the sub-pixel offset head,
evaluated only on the footprint pixels of the targets.
"""

__all__ = ['bce_dice_loss', 'offset_loss', 'asidl_loss', 'OFFSET_WEIGHT']

#: Weight of the offset loss relative to BCE + Dice.
OFFSET_WEIGHT = 1.0

_EPSILON = 1e-6
_SMOOTH = 1.0


def bce_dice_loss(y_true, y_pred, smooth=_SMOOTH):
    """
    Per-image BCE + (1 - Dice), averaged over the batch.

    Parameters
    ----------
    y_true, y_pred : tensor
        ``(n, ny, nx, 1)`` target mask and predicted probability.
    smooth : float, optional
        Added to the numerator and denominator of the Dice coefficient so
        that an empty target predicted empty scores 1.
    """
    from keras import ops

    y_true = ops.cast(y_true, 'float32')
    p = ops.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
    bce = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    bce = ops.mean(bce, axis=(1, 2, 3))
    numerator = 2.0 * ops.sum(y_true * y_pred, axis=(1, 2, 3)) + smooth
    denominator = ops.sum(y_true**2, axis=(1, 2, 3)) + ops.sum(y_pred**2, axis=(1, 2, 3)) + smooth
    dice = numerator / denominator
    return ops.mean(bce + 1.0 - dice)


def offset_loss(mask, true_offsets, pred_offsets):
    """Mean absolute offset error on footprint pixels (0 if there are none)."""
    from keras import ops

    mask = ops.cast(mask, 'float32')
    err = ops.sum(ops.abs(true_offsets - pred_offsets), axis=-1, keepdims=True) * mask
    return ops.sum(err) / (ops.sum(mask) + 1.0)


def asidl_loss(y_true, y_pred):
    """
    Loss of the two-headed asidl U-Net.

    ``y_true`` is ``(n, ny, nx, 3)``: target mask, dy, dx;
    ``y_pred`` is the model output: probability, dy, dx.
    """
    mask = y_true[..., 0:1]
    loss = bce_dice_loss(mask, y_pred[..., 0:1])
    return loss + OFFSET_WEIGHT * offset_loss(mask, y_true[..., 1:3], y_pred[..., 1:3])
