# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from asidl.predict import predict_maps


@pytest.fixture(scope='module')
def echo_model():
    """A tiny model whose output channels are the input, 2x input and 3x input."""
    import keras

    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(3, 1, use_bias=False)
    outputs = conv(inputs)
    model = keras.Model(inputs, outputs)
    conv.set_weights([np.array([1.0, 2.0, 3.0], np.float32).reshape(1, 1, 1, 3)])
    return model


@pytest.mark.parametrize('shape', [(5, 7), (64, 64), (100, 230), (257, 31)])
@pytest.mark.parametrize('tile, margin', [(32, 8), (64, 0), (96, 24)])
def test_stitching_is_exact(echo_model, shape, tile, margin):
    image = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    prob, offsets = predict_maps(image, echo_model, tile_size=tile, margin=margin, batch_size=3)
    assert_array_equal(prob, image)
    assert_array_equal(offsets[0], 2 * image)
    assert_array_equal(offsets[1], 3 * image)


def test_single_channel_model_has_no_offsets():
    import keras

    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 1)(inputs))
    prob, offsets = predict_maps(np.zeros((20, 20), np.float32), model, tile_size=32, margin=4)
    assert offsets is None and prob.shape == (20, 20)


@pytest.mark.parametrize('tile, margin', [(50, 4), (32, 16), (32, -1), (0, 32), (0, 0)])
def test_bad_tiling(echo_model, tile, margin):
    """Each parameter is named in its own message (tile_size=0 is not about tile_margin)."""
    with pytest.raises(ValueError, match='^tile_size' if tile in (0, 50) else '^tile_margin'):
        predict_maps(np.zeros((20, 20), np.float32), echo_model, tile_size=tile, margin=margin)


def test_fixed_input_size_model_gets_its_tile_size():
    import keras

    inputs = keras.Input((64, 64, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 1, use_bias=False)(inputs))
    model.layers[-1].set_weights([np.ones((1, 1, 1, 1), np.float32)])
    image = np.random.default_rng(2).normal(size=(70, 150)).astype(np.float32)
    prob, _ = predict_maps(image, model, tile_size=512, margin=8)
    assert_array_equal(prob, image)
    with pytest.raises(ValueError, match='core'):
        predict_maps(image, model, tile_size=512, margin=32)


@pytest.mark.parametrize('length', [1, 31, 100, 512, 960, 961, 2048, 2560, 10000])
@pytest.mark.parametrize('tile, margin', [(1024, 32), (512, 32), (96, 24)])
def test_tile_shape_covers_the_image_with_little_padding(length, tile, margin):
    from asidl.constants import DEPTH_MULTIPLE
    from asidl.predict import tile_origins, tile_shape

    (t,) = tile_shape((length,), tile, margin)
    assert t % DEPTH_MULTIPLE == 0 and 2 * margin < t <= tile
    n = len(tile_origins(length, t - 2 * margin))
    assert n == -(-length // (tile - 2 * margin))  # no more tiles than full-size ones need
    assert n * (t - 2 * margin) >= length  # the cores cover the axis
    assert n * (t - 2 * margin) - length < n * DEPTH_MULTIPLE


def test_automatic_batches_bound_the_pixels_per_call(echo_model):
    from asidl.predict import BATCH_PIXELS

    calls = []

    class Recorder:
        input_shape = (None, None, None, 1)

        def predict_on_batch(self, batch):
            calls.append(batch.shape)
            return echo_model.predict_on_batch(batch)

    from asidl.predict import tile_shape

    image = np.random.default_rng(3).normal(size=(3000, 700)).astype(np.float32)
    prob, _ = predict_maps(image, Recorder(), tile_size=512, margin=16)
    assert_array_equal(prob, image)
    ty, tx = tile_shape(image.shape, 512, 16)
    n_tiles = -(-3000 // (ty - 32)) * -(-700 // (tx - 32))
    per_call = BATCH_PIXELS // (ty * tx)
    assert 1 < per_call < n_tiles
    assert [c[0] for c in calls] == [per_call] * (n_tiles // per_call) + [n_tiles % per_call]
    assert all(c[1:3] == (ty, tx) for c in calls)
