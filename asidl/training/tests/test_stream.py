# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from asidl.datasets import target_mask
from asidl.training.stream import TrainingStream, augment


@pytest.mark.parametrize('k', range(4))
@pytest.mark.parametrize('flip', [False, True])
def test_augment_moves_offsets_with_the_image(k, flip):
    n = 32
    ys, xs = np.array([5.3, 20.7]), np.array([9.6, 17.2])
    mask, offsets = target_mask(ys, xs, (n, n))
    image = np.zeros((n, n, 1), np.float32)
    image[np.round(ys).astype(int), np.round(xs).astype(int)] = 1
    y = np.stack([mask, offsets[0], offsets[1]], -1).astype(np.float32)
    xa, ya = augment(image, y, k, flip)
    # where do the stars go? follow them with the same array operations
    py, px = ys.copy(), xs.copy()
    for _ in range(k):
        py, px = n - 1 - px, py
    if flip:
        px = n - 1 - px
    expected_mask, expected_offsets = target_mask(py, px, (n, n))
    assert_array_equal(ya[..., 0], expected_mask)
    assert_allclose(ya[..., 1], expected_offsets[0], atol=1e-5)
    assert_allclose(ya[..., 2], expected_offsets[1], atol=1e-5)
    assert xa[np.round(py).astype(int), np.round(px).astype(int), 0].all()


def test_stream_batches_are_reproducible():
    a = TrainingStream(3, frame_shape=(32, 32), batch_size=4, pool_size=8, fresh_per_batch=2)
    b = TrainingStream(3, frame_shape=(32, 32), batch_size=4, pool_size=8, fresh_per_batch=2)
    xa, ya = next(a)
    xb, yb = next(b)
    assert xa.shape == (4, 32, 32, 1) and ya.shape == (4, 32, 32, 3)
    assert_array_equal(xa, xb)
    assert_array_equal(ya, yb)
    assert set(np.unique(ya[..., 0])) <= {0.0, 1.0}


def test_stream_uses_a_custom_parameter_distribution():
    from asidl.datasets import meerlicht_like

    shapes = []

    def draw(rng, shape):
        shapes.append(shape)
        return meerlicht_like(shape, density=50, rng=rng, artifacts=False)

    stream = TrainingStream(
        3, frame_shape=(64, 64), batch_size=2, pool_size=3, fresh_per_batch=1, draw=draw
    )
    x, y = next(stream)
    assert shapes == [(64, 64)] * 4  # the pool, then one fresh frame
    assert x.shape == (2, 64, 64, 1) and y.shape == (2, 64, 64, 3)
    assert y[..., 0].sum() > 0  # 50 stars/arcmin^2: targets in every frame
