# Licensed under a 3-clause BSD style license - see LICENSE.rst
import json
import shutil

import numpy as np
import pytest

from asidl import UNetLoGFinder
from asidl.conftest import TINY_TRAINING
from asidl.training.export import export_model
from asidl.training.train import learning_rate_at, train
from asidl.training.unet import build_unet


@pytest.mark.parametrize('input_stride', [1, 2, 4])
def test_unet_shapes(input_stride):
    model = build_unet(base_filters=2, depth=2, input_stride=input_stride)
    out = model.predict_on_batch(np.zeros((1, 32, 48, 1), np.float32))
    assert out.shape == (1, 32, 48, 3)
    assert np.all((out[..., 0] >= 0) & (out[..., 0] <= 1))
    # Space-to-depth: the first layer sees each block of pixels once.
    assert (
        model.get_layer('space_to_depth').strides == (input_stride,) * 2
        if input_stride > 1
        else 'space_to_depth' not in [lay.name for lay in model.layers]
    )


def test_unet_stem_filters():
    model = build_unet(base_filters=4, depth=1, input_stride=2, stem_filters=3)
    assert model.get_layer('space_to_depth').filters == 3
    assert model.get_layer('depth_to_space').filters == 3
    assert model.get_layer('down0_conv1').filters == 4


def test_depth_to_space_layer(tmp_path):
    import keras

    from asidl.training.layers import DepthToSpace

    inputs = keras.Input(shape=(None, None, 8))
    model = keras.Model(inputs, DepthToSpace(2)(inputs))
    x = np.arange(2 * 3 * 4 * 8, dtype=np.float32).reshape(2, 3, 4, 8)
    out = model.predict_on_batch(x)
    assert out.shape == (2, 6, 8, 2)
    # Channel (a * 2 + b) * 2 + k of a position is channel k of pixel (a, b) of its block.
    np.testing.assert_array_equal(out[1, 2 * 2 + 1, 2 * 3 + 0], x[1, 2, 3, 4:6])
    model.save(tmp_path / 'd2s.keras')
    loaded = keras.models.load_model(tmp_path / 'd2s.keras')
    np.testing.assert_array_equal(loaded.predict_on_batch(x), out)
    with pytest.raises(ValueError, match='block_size'):
        DepthToSpace(0)


def test_model_files_with_asidl_layers_load_in_a_fresh_process(tmp_path):
    # The registry registers asidl's layers itself: nothing imported them.
    import subprocess
    import sys

    import keras

    from asidl.training.layers import DepthToSpace

    inputs = keras.Input(shape=(None, None, 4))
    keras.Model(inputs, DepthToSpace(2)(inputs)).save(tmp_path / 'd2s.keras')
    code = (
        'from asidl.registry import load_model; '
        f'model, _, _ = load_model({str(tmp_path / "d2s.keras")!r}); '
        'print(model.layers[-1].__class__.__name__)'
    )
    out = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.split()[-1] == 'DepthToSpace'


def test_unet_with_stride_keeps_full_resolution():
    # A single bright pixel must be able to move the output at its own pixel
    # differently from its neighbours in the same 4x4 block.
    import keras

    keras.utils.set_random_seed(7)  # a fixed, non-degenerate initialization
    model = build_unet(base_filters=4, depth=1, input_stride=4)
    image = np.zeros((1, 32, 32, 1), np.float32)
    image[0, 13, 13] = 5.0
    out = model.predict_on_batch(image)[0, 12:16, 12:16, 0]
    assert np.unique(np.round(out, 6)).size > 1


@pytest.mark.parametrize(
    'kwargs',
    [
        {'base_filters': 0},
        {'depth': 5},
        {'depth': 1.5},
        {'input_stride': 3},
        {'input_stride': 4, 'depth': 4},
        {'input_stride': 2, 'stem_filters': 0},
    ],
)
def test_unet_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        build_unet(**kwargs)


@pytest.mark.slow
def test_train_writes_checkpoints_and_history(tiny_training):
    directory, history = tiny_training
    assert [h['epoch'] for h in history] == [1, 2]
    assert all(np.isfinite(h['loss']) for h in history)
    state = json.loads((directory / 'state.json').read_text())
    assert state['epoch'] == 2 and state['config']['validation_fwhm'] == 'true'
    np.testing.assert_equal(state['history'], history)  # NaN RMS without matches
    assert (directory / 'last.keras').exists() and (directory / 'best.keras').exists()
    # The cosine decay: the full rate, then half of it.
    assert [h['learning_rate'] for h in history] == [2e-3, 1e-3]


@pytest.mark.slow
def test_train_does_nothing_once_done(tiny_training, tmp_path):
    directory, history = tiny_training
    copy = shutil.copytree(directory, tmp_path / 'copy')
    lines = []
    np.testing.assert_equal(train(copy, epochs=2, log=lines.append, **TINY_TRAINING), history)
    assert lines == [f'resuming from epoch 2 in {copy}']


@pytest.mark.slow
def test_export_a_trained_model(tiny_training, tmp_path):
    directory, _ = tiny_training
    model_file = export_model(directory / 'best.keras', tmp_path / 'mine.keras')
    finder = UNetLoGFinder(model=model_file, tile_size=64, tile_margin=16, fwhm=3.0)
    assert finder.model_name == 'mine.keras'
    prob = finder.probability_map(np.random.default_rng(0).normal(100, 5, (40, 40)))
    assert prob.shape == (40, 40)

    with pytest.raises(ValueError, match='.keras'):
        export_model(directory / 'best.keras', tmp_path / 'mine.h5')


class _Interrupt(Exception):
    pass


def _interrupt_after_epoch_1(line):
    if line.startswith('epoch 1/'):
        raise _Interrupt


@pytest.mark.slow
def test_resumed_run_matches_an_uninterrupted_one(tiny_training, tmp_path):
    """
    A run stopped after its first epoch and resumed ends with the same
    weights and history as one that ran through.
    """
    import keras

    directory, history = tiny_training
    with pytest.raises(_Interrupt):
        train(tmp_path, epochs=2, log=_interrupt_after_epoch_1, **TINY_TRAINING)
    assert json.loads((tmp_path / 'state.json').read_text())['epoch'] == 1
    resumed = train(tmp_path, epochs=2, log=None, **TINY_TRAINING)

    def without_seconds(entries):
        return [{k: v for k, v in e.items() if k != 'seconds'} for e in entries]

    np.testing.assert_equal(without_seconds(resumed), without_seconds(history))
    for name in ('last.keras', 'best.keras'):
        ours = keras.models.load_model(tmp_path / name, compile=False).get_weights()
        theirs = keras.models.load_model(directory / name, compile=False).get_weights()
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)


def test_learning_rate_decays_to_a_floor():
    rates = [learning_rate_at(epoch, 30, 2e-3) for epoch in range(30)]
    assert rates[0] == 2e-3
    assert rates[15] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    # The last epochs would fall below 2% of the initial rate; they stay at it.
    assert rates[-1] == min(rates) == 2e-3 * 0.02
    assert 0.5 * 2e-3 * (1 + np.cos(np.pi * 29 / 30)) < 2e-3 * 0.02


@pytest.mark.slow
def test_train_records_the_learning_rate_it_used(tiny_training, tmp_path):
    """The learning rate in the history and the log is the optimizer's, after the floor."""
    import keras

    from asidl.training.losses import asidl_loss

    # Resume the tiny run as if it were the last epoch of 30, where the
    # cosine decay is below the floor.
    directory, _ = tiny_training
    copy = shutil.copytree(directory, tmp_path / 'copy')
    state = json.loads((copy / 'state.json').read_text())
    state['epoch'] = 29
    (copy / 'state.json').write_text(json.dumps(state))
    lines = []
    history = train(copy, epochs=30, log=lines.append, **TINY_TRAINING)
    floor = 2e-3 * 0.02
    assert history[-1]['epoch'] == 30 and history[-1]['learning_rate'] == floor
    assert lines[-1].split('lr ')[1].startswith(f'{floor:.2e}')
    model = keras.models.load_model(copy / 'last.keras', custom_objects={'asidl_loss': asidl_loss})
    assert float(model.optimizer.learning_rate) == pytest.approx(floor)


@pytest.mark.slow
def test_train_from_initial_weights(tmp_path):
    start = build_unet(base_filters=2, depth=2)
    before = [w.copy() for w in start.get_weights()]
    history = train(
        tmp_path,
        epochs=1,
        steps_per_epoch=1,
        batch_size=2,
        frame_shape=(32, 32),
        base_filters=4,
        depth=3,
        n_validation=1,
        initial_model=start,
        verbose=0,
        log=None,
    )
    assert len(history) == 1
    state = json.loads((tmp_path / 'state.json').read_text())
    assert state['config']['initial_model'] == start.name
    assert state['config']['base_filters'] is None  # the initial model's, not 4
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
