# Licensed under a 3-clause BSD style license - see LICENSE.rst
import json

import numpy as np
import pytest

from asidl import UNetLoGFinder
from asidl.training.export import export_model
from asidl.training.train import train
from asidl.training.unet import build_unet


@pytest.mark.parametrize('input_stride', [1, 2, 4])
def test_unet_shapes(input_stride):
    model = build_unet(base_filters=2, depth=2, input_stride=input_stride)
    out = model.predict_on_batch(np.zeros((1, 32, 48, 1), np.float32))
    assert out.shape == (1, 32, 48, 3)
    assert np.all((out[..., 0] >= 0) & (out[..., 0] <= 1))
    # Space-to-depth: the first layer sees each block of pixels once.
    assert (model.get_layer('space_to_depth').strides == (input_stride,) * 2
            if input_stride > 1 else 'space_to_depth' not in [lay.name for lay in model.layers])


def test_unet_with_stride_keeps_full_resolution():
    # A single bright pixel must be able to move the output at its own pixel
    # differently from its neighbours in the same 4x4 block.
    import keras

    keras.utils.set_random_seed(7)     # a fixed, non-degenerate initialization
    model = build_unet(base_filters=4, depth=1, input_stride=4)
    image = np.zeros((1, 32, 32, 1), np.float32)
    image[0, 13, 13] = 5.0
    out = model.predict_on_batch(image)[0, 12:16, 12:16, 0]
    assert np.unique(np.round(out, 6)).size > 1


@pytest.mark.parametrize('kwargs', [{'base_filters': 0}, {'depth': 5}, {'depth': 1.5},
                                    {'input_stride': 3}, {'input_stride': 4, 'depth': 4}])
def test_unet_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        build_unet(**kwargs)


def test_train_checkpoint_resume_and_export(tmp_path):
    kwargs = dict(steps_per_epoch=2, batch_size=2, frame_shape=(32, 32), base_filters=2,
                  depth=2, n_validation=1, verbose=0, log=lambda line: None)
    history = train(tmp_path, epochs=1, **kwargs)
    assert len(history) == 1 and np.isfinite(history[0]['loss'])
    state = json.loads((tmp_path / 'state.json').read_text())
    assert state['epoch'] == 1 and state['config']['validation_fwhm'] == 'true'
    assert (tmp_path / 'last.keras').exists() and (tmp_path / 'best.keras').exists()
    history = train(tmp_path, epochs=2, **kwargs)
    assert [h['epoch'] for h in history] == [1, 2]

    model_file = export_model(tmp_path / 'best.keras', tmp_path / 'mine.keras')
    finder = UNetLoGFinder(model=model_file, tile_size=64, tile_margin=16)
    assert finder.model_name == 'mine.keras'
    prob = finder.probability_map(np.random.default_rng(0).normal(100, 5, (40, 40)))
    assert prob.shape == (40, 40)

    with pytest.raises(ValueError, match='.keras'):
        export_model(tmp_path / 'best.keras', tmp_path / 'mine.h5')


def test_train_from_initial_weights(tmp_path):
    start = build_unet(base_filters=2, depth=2)
    before = [w.copy() for w in start.get_weights()]
    history = train(tmp_path, epochs=1, steps_per_epoch=1, batch_size=2, frame_shape=(32, 32),
                    base_filters=4, depth=3, n_validation=1, initial_model=start, verbose=0,
                    log=None)
    assert len(history) == 1
    state = json.loads((tmp_path / 'state.json').read_text())
    assert state['config']['initial_model'] == start.name
    assert state['config']['base_filters'] is None     # the initial model's, not 4
    import keras

    trained = keras.models.load_model(tmp_path / 'last.keras', compile=False)
    # The initial network's architecture, not base_filters=4/depth=3; its
    # weights moved, and the caller's model was left alone.
    assert trained.count_params() == start.count_params()
    assert any(not np.array_equal(a, b) for a, b in zip(trained.get_weights(), before))
    for a, b in zip(start.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_validate_with_the_true_fwhm():
    from asidl.training.train import validate, validation_frames

    frames = validation_frames(2, shape=(64, 64), seed=5)
    model = build_unet(base_filters=2, depth=1, input_stride=2)
    true = validate(model, frames, fwhm='true')
    measured = validate(model, frames)
    for scores in (true, measured):
        assert scores['tp'] + scores['fn'] == sum(len(f.targets) for f in frames)
    with pytest.raises(ValueError, match="'measured' or 'true'"):
        validate(model, frames, fwhm=3.0)
