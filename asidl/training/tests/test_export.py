# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Exporting models: the OpenVINO IR of the bundled models and its hashes."""

import json

import numpy as np
import pytest

from asidl.engine import compile_network
from asidl.registry import file_sha256
from asidl.training.export import fold_heads, main, update_bundled_openvino
from asidl.training.unet import build_unet


@pytest.fixture
def model_dir(tmp_path):
    """A registry directory with one small bundled model and one download."""
    model = build_unet(base_filters=2, depth=1, input_stride=2)
    model.save(tmp_path / 'tiny-v2.keras')
    (tmp_path / 'old.xml').write_text('stale')
    entries = {
        'tiny': {
            'file': 'tiny-v2.keras',
            'sha256': file_sha256(tmp_path / 'tiny-v2.keras'),
            'bundled': True,
            'normalization': 'asinh',
            'openvino': {'xml': 'old.xml', 'xml_sha256': '0' * 64},
        },
        'remote': {
            'file': 'remote.h5',
            'sha256': None,
            'url': 'https://example.invalid/x.h5',
            'normalization': 'standardize',
        },
    }
    (tmp_path / 'registry.json').write_text(json.dumps(entries, indent=2))
    return tmp_path, model


def test_regenerating_the_ir_of_every_bundled_model(model_dir):
    directory, model = model_dir
    main(['--openvino', '--directory', str(directory)])
    entries = json.loads((directory / 'registry.json').read_text())
    ir = entries['tiny']['openvino']
    assert ir['xml'] == 'tiny-v2.xml' and ir['bin'] == 'tiny-v2.bin'
    assert ir['xml_sha256'] == file_sha256(directory / 'tiny-v2.xml')
    assert ir['bin_sha256'] == file_sha256(directory / 'tiny-v2.bin')
    assert ir['source_sha256'] == entries['tiny']['sha256']
    assert 'openvino' not in entries['remote']
    assert not (directory / 'old.xml').exists()  # IR no model uses is removed
    batch = np.random.default_rng(0).normal(size=(2, 64, 96, 1)).astype(np.float32)
    np.testing.assert_allclose(
        compile_network(directory / 'tiny-v2.xml').predict_on_batch(batch),
        model.predict_on_batch(batch),
        atol=1e-4,
        rtol=0,
    )


def test_a_changed_model_file_must_be_registered_first(model_dir):
    directory, _ = model_dir
    build_unet(base_filters=2, depth=1, input_stride=1).save(directory / 'tiny-v2.keras')
    with pytest.raises(ValueError, match='update "sha256" in registry.json'):
        update_bundled_openvino(directory)


def _with_random_biases(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if len(weights) == 2:  # make the biases matter
            layer.set_weights([weights[0], rng.normal(size=weights[1].shape).astype(np.float32)])
    return model


def test_folded_heads_give_the_same_maps():
    model = _with_random_biases(build_unet(base_filters=4, depth=1, input_stride=2, stem_filters=3))
    folded = fold_heads(model)
    names = {layer.name for layer in folded.layers}
    # Nothing but the unfolding of the three maps runs at full resolution.
    assert not names & {'depth_to_space', 'probability', 'offset'}
    assert [type(layer).__name__ for layer in folded.layers].count('DepthToSpace') == 2
    batch = np.random.default_rng(1).normal(size=(2, 32, 64, 1)).astype(np.float32)
    np.testing.assert_allclose(
        folded.predict_on_batch(batch), model.predict_on_batch(batch), atol=1e-6, rtol=0
    )


def test_heads_after_a_depth_to_space_layer_are_folded():
    import keras

    from asidl.training.layers import DepthToSpace

    inputs = keras.Input(shape=(None, None, 1))
    x = keras.layers.Conv2D(4, 2, strides=2, activation='relu')(inputs)
    x = DepthToSpace(2, name='depth_to_space')(keras.layers.Conv2D(12, 3, padding='same')(x))
    heads = [
        keras.layers.Conv2D(1, 1, activation='sigmoid', name='probability')(x),
        keras.layers.Conv2D(2, 1, name='offset')(x),
    ]
    model = _with_random_biases(
        keras.Model(inputs, keras.layers.Concatenate(name='outputs')(heads)), seed=2
    )
    folded = fold_heads(model)
    assert not {layer.name for layer in folded.layers} & {'depth_to_space', 'probability'}
    batch = np.random.default_rng(3).normal(size=(1, 16, 24, 1)).astype(np.float32)
    np.testing.assert_allclose(
        folded.predict_on_batch(batch), model.predict_on_batch(batch), atol=1e-6, rtol=0
    )


@pytest.mark.parametrize('input_stride', [1, 4])
def test_networks_without_a_stride_2_stem_are_not_folded(input_stride):
    model = build_unet(base_filters=2, depth=1, input_stride=input_stride)
    assert fold_heads(model) is model
