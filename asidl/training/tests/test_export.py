# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Exporting models: the OpenVINO IR of the bundled models and its hashes."""

import json

import numpy as np
import pytest

from asidl.engine import compile_network
from asidl.registry import file_sha256
from asidl.training.export import main, update_bundled_openvino
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
