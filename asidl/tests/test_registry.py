# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Model registry: bundled model offline, downloads, hashes, errors."""

import numpy as np
import pytest

from asidl import UNetLoGFinder, registry
from asidl.registry import (
    ModelDownloadError,
    available_models,
    file_sha256,
    load_model,
    model_info,
    model_path,
    register_model,
    unregister_model,
)


def test_registry_lists_models():
    names = available_models()
    assert registry.DEFAULT_MODEL in names
    assert 'asidl-meerlicht-2022' in names
    for name in names:
        entry = model_info(name)
        assert entry['normalization'] in ('asinh', 'standardize')
        assert entry.get('bundled') or entry.get('user') or entry['url'].startswith('https://')


def test_bundled_model_matches_its_hash():
    entry = model_info(registry.DEFAULT_MODEL)
    path = model_path(registry.DEFAULT_MODEL)
    assert path.exists()
    assert entry['sha256'] and file_sha256(path) == entry['sha256']


def test_bundled_model_loads_without_network(monkeypatch, tmp_path):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path))
    import pooch

    def no_network(*args, **kwargs):
        raise AssertionError('the bundled model must not be downloaded')

    monkeypatch.setattr(pooch, 'retrieve', no_network)
    model, name, norm = load_model(registry.DEFAULT_MODEL)
    assert name == registry.DEFAULT_MODEL and norm == 'asinh'
    assert model.output_shape[-1] == 3
    assert list(tmp_path.iterdir()) == []


def test_unknown_name_lists_known_models():
    with pytest.raises(ValueError) as err:
        model_info('asidl-nonexistent')
    for name in available_models():
        assert name in str(err.value)


def _entries(url, sha=None):
    return {'remote-test': {'file': 'remote-test.keras', 'sha256': sha, 'url': url,
                            'normalization': 'asinh'}}


def test_offline_download_says_how_to_place_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path))
    # Port 9 (discard) on the loopback interface refuses the connection
    # at once: no traffic leaves the machine.
    entries = _entries('http://127.0.0.1:9/remote-test.keras')
    with pytest.raises(ModelDownloadError) as err:
        model_path('remote-test', entries=entries)
    message = str(err.value)
    assert str(tmp_path / 'remote-test.keras') in message
    assert 'ASIDL_DATA_DIR' in message and 'by hand' in message


def test_cached_file_is_used_and_hash_checked(monkeypatch, tmp_path):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path))
    cached = tmp_path / 'remote-test.keras'
    cached.write_bytes(b'model bytes')
    good = file_sha256(cached)
    url = 'http://127.0.0.1:9/remote-test.keras'
    assert model_path('remote-test', entries=_entries(url, good)) == cached
    with pytest.raises(ValueError, match='does not match'):
        model_path('remote-test', entries=_entries(url, '0' * 64))


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'models'))
    assert registry.cache_dir() == tmp_path / 'models'
    monkeypatch.delenv('ASIDL_DATA_DIR')
    assert 'asidl' in str(registry.cache_dir())


def _meerlicht_architecture():
    """The ASID-L authors' U-Net (16 -> 256 channels, dropout), as published."""
    import keras
    from keras import layers

    def block(x, filters, rate):
        x = layers.Conv2D(filters, 3, activation='relu', kernel_initializer='he_normal',
                          padding='same')(x)
        x = layers.Dropout(rate)(x)
        return layers.Conv2D(filters, 3, activation='relu', kernel_initializer='he_normal',
                             padding='same')(x)

    inputs = keras.Input((256, 256, 1))
    skips = []
    x = inputs
    for filters, rate in ((16, 0.1), (32, 0.1), (64, 0.2), (128, 0.2)):
        x = block(x, filters, rate)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = block(x, 256, 0.3)
    for filters, rate in ((128, 0.2), (64, 0.2), (32, 0.1), (16, 0.1)):
        x = layers.Conv2DTranspose(filters, 2, strides=2, padding='same')(x)
        x = layers.concatenate([x, skips.pop()])
        x = block(x, filters, rate)
    outputs = layers.Conv2D(1, 1, activation='sigmoid')(x)
    return keras.Model(inputs, outputs)


def test_keras2_hdf5_model_of_the_authors_architecture_runs(tmp_path, frame):
    """The loading path of asidl-meerlicht-2022 works offline on a same-architecture file."""
    model = _meerlicht_architecture()
    path = tmp_path / 'TrainedModel.h5'
    model.save(path)
    finder = UNetLoGFinder(model=path, normalization='standardize', tile_size=256,
                           tile_margin=0, threshold=0.05)
    assert finder.normalization == 'standardize'
    prob = finder.probability_map(frame.data)
    assert prob.shape == frame.data.shape and np.all((prob >= 0) & (prob <= 1))
    # The registry entry is understood the same way once the file is in the cache.
    entry = model_info('asidl-meerlicht-2022')
    assert entry['normalization'] == 'standardize' and entry['file'].endswith('.h5')


@pytest.mark.remote_data
def test_published_meerlicht_model(frame):
    finder = UNetLoGFinder(model='asidl-meerlicht-2022', tile_margin=0)
    assert finder.normalization == 'standardize'
    finder.probability_map(frame.data)


@pytest.fixture
def tiny_model_file(tmp_path):
    from asidl.training.unet import build_unet

    path = tmp_path / 'trained' / 'mine.keras'
    path.parent.mkdir()
    build_unet(base_filters=2, depth=1, input_stride=2).save(path)
    return path


def test_register_model_round_trip(monkeypatch, tmp_path, tiny_model_file):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    copied = register_model('my-telescope', tiny_model_file, threshold=0.35,
                            description='for testing')
    assert copied.parent == tmp_path / 'cache' and copied.exists()
    assert 'my-telescope' in available_models()
    info = model_info('my-telescope')
    assert info['sha256'] == file_sha256(tiny_model_file) and info['normalization'] == 'asinh'

    # Usable by name, and independent of the original file.
    tiny_model_file.unlink()
    finder = UNetLoGFinder(model='my-telescope')
    assert finder.model_name == 'my-telescope' and finder.threshold == 0.35
    assert UNetLoGFinder(model='my-telescope', threshold=0.1).threshold == 0.1
    assert UNetLoGFinder(model=copied).threshold == 0.2      # by path: the paper's value
    assert finder.probability_map(np.random.default_rng(1).normal(10, 1, (40, 40))).shape \
        == (40, 40)

    with pytest.raises(ValueError, match='already registered'):
        register_model('my-telescope', copied)

    # A changed file is caught by its hash.
    with open(copied, 'ab') as fh:
        fh.write(b'tampered')
    with pytest.raises(ValueError, match='sha256'):
        model_path('my-telescope')

    unregister_model('my-telescope')
    assert 'my-telescope' not in available_models() and not copied.exists()
    with pytest.raises(ValueError, match='not a user-registered model'):
        unregister_model('my-telescope')


@pytest.mark.parametrize('name, kwargs, match', [
    ('asidl-default', {}, "package's own"),
    ('bad name', {}, 'letters, digits'),
    ('x.keras', {}, 'letters, digits'),
    ('fine', {'normalization': 'zscale'}, 'normalization'),
    ('fine', {'threshold': -1}, 'threshold'),
])
def test_register_model_bad_arguments(monkeypatch, tmp_path, tiny_model_file, name, kwargs,
                                      match):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    with pytest.raises(ValueError, match=match):
        register_model(name, tiny_model_file, **kwargs)


def test_register_model_rejects_non_models(monkeypatch, tmp_path):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    bogus = tmp_path / 'bogus.keras'
    bogus.write_text('not a model')
    with pytest.raises(ValueError, match='could not load'):
        register_model('bogus', bogus)
    with pytest.raises(ValueError, match='existing'):
        register_model('missing', tmp_path / 'missing.keras')
    assert 'bogus' not in available_models()


@pytest.mark.parametrize('name', [n for n in available_models()
                                  if model_info(n).get('bundled')])
def test_bundled_models_work_offline_and_find_stars(name):
    from asidl.datasets import load_example_frame
    from asidl.evaluate import score_detections

    entry = model_info(name)
    assert file_sha256(model_path(name)) == entry['sha256']
    finder = UNetLoGFinder(model=name)
    assert finder.threshold == entry.get('threshold', 0.2)
    data, header, truth = load_example_frame()
    tbl = finder(data)
    scores = score_detections(tbl['x_centroid'], tbl['y_centroid'], truth['x'], truth['y'])
    assert scores['dice'] > 0.6
