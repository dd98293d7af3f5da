# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Model registry: bundled model offline, downloads, hashes, errors."""

import http.server
import json
import os
import threading
from pathlib import Path

import numpy as np
import pooch
import pytest
from astropy.utils.exceptions import AstropyUserWarning

from asidl import UNetLoGFinder, _model_files, registry
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


def _forbid_downloads(monkeypatch, message):
    import pooch

    def no_network(*args, **kwargs):
        raise AssertionError(message)

    monkeypatch.setattr(pooch, 'retrieve', no_network)
    monkeypatch.setattr(pooch.Pooch, 'fetch', no_network)


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
    _forbid_downloads(monkeypatch, 'the bundled model must not be downloaded')
    model, name, norm = load_model(registry.DEFAULT_MODEL)
    assert name == registry.DEFAULT_MODEL and norm == 'asinh'
    assert model.output_shape[-1] == 3
    assert list(tmp_path.iterdir()) == []


def test_unknown_name_lists_known_models():
    with pytest.raises(ValueError) as err:
        model_info('asidl-nonexistent')
    for name in available_models():
        assert name in str(err.value)


def _entries(url, sha='0' * 64):
    return {
        'remote-test': {
            'file': 'remote-test.keras',
            'sha256': sha,
            'url': url,
            'normalization': 'asinh',
        }
    }


def test_offline_download_says_how_to_place_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path))
    monkeypatch.setattr(_model_files, 'DOWNLOAD_RETRIES', 0)  # no waits between attempts
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
    monkeypatch.setenv('ASIDL_DATA_DIR', '~/asidl-models')
    assert registry.cache_dir() == Path.home() / 'asidl-models'
    default = Path(os.path.expanduser(pooch.os_cache('asidl')))
    for unset in (monkeypatch.delenv, lambda name: monkeypatch.setenv(name, '')):
        unset('ASIDL_DATA_DIR')
        assert registry.cache_dir() == default


def _meerlicht_architecture():
    """The ASID-L authors' U-Net (16 -> 256 channels, dropout), as published."""
    import keras
    from keras import layers

    def block(x, filters, rate):
        x = layers.Conv2D(
            filters, 3, activation='relu', kernel_initializer='he_normal', padding='same'
        )(x)
        x = layers.Dropout(rate)(x)
        return layers.Conv2D(
            filters, 3, activation='relu', kernel_initializer='he_normal', padding='same'
        )(x)

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
    finder = UNetLoGFinder(
        model=path, normalization='standardize', tile_size=256, tile_margin=0, threshold=0.05
    )
    assert finder.normalization == 'standardize'
    prob = finder.probability_map(frame.data)
    assert prob.shape == frame.data.shape and np.all((prob >= 0) & (prob <= 1))
    # The registry entry is understood the same way once the file is in the cache.
    entry = model_info('asidl-meerlicht-2022')
    assert entry['normalization'] == 'standardize' and entry['file'].endswith('.h5')


def test_unpinned_meerlicht_model_is_neither_downloaded_nor_loaded(monkeypatch, tmp_path):
    """Its entry has no sha256: a file placed at its cache path is not loaded unchecked."""
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path))
    _forbid_downloads(monkeypatch, 'an unpinned model must not be downloaded')
    entry = model_info('asidl-meerlicht-2022')
    _meerlicht_architecture().save(tmp_path / entry['file'])
    for call in (
        lambda: model_path('asidl-meerlicht-2022'),
        lambda: UNetLoGFinder(model='asidl-meerlicht-2022'),
    ):
        with pytest.raises(ValueError, match='no pinned sha256') as err:
            call()
        assert entry['url'] in str(err.value) and 'register_model' in str(err.value)


@pytest.fixture
def tiny_model_file(tmp_path):
    from asidl.training.unet import build_unet

    path = tmp_path / 'trained' / 'mine.keras'
    path.parent.mkdir()
    build_unet(base_filters=2, depth=1, input_stride=2).save(path)
    return path


def test_register_model_round_trip(monkeypatch, tmp_path, tiny_model_file):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    copied = register_model(
        'my-telescope',
        tiny_model_file,
        threshold=0.35,
        fwhm_range=(2, 9),
        description='for testing',
    )
    assert copied.parent == tmp_path / 'cache' and copied.exists()
    assert 'my-telescope' in available_models()
    info = model_info('my-telescope')
    assert info['sha256'] == file_sha256(tiny_model_file) and info['normalization'] == 'asinh'

    # Usable by name, and independent of the original file.
    tiny_model_file.unlink()
    finder = UNetLoGFinder(model='my-telescope')
    assert finder.model_name == 'my-telescope' and finder.threshold == 0.35
    assert finder.fwhm_range == (2.0, 9.0)
    assert UNetLoGFinder(model='my-telescope', threshold=0.1).threshold == 0.1
    assert UNetLoGFinder(model=copied).threshold == 0.2  # by path: the paper's value
    assert finder.probability_map(np.random.default_rng(1).normal(10, 1, (40, 40))).shape == (
        40,
        40,
    )

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


@pytest.mark.parametrize(
    'name, kwargs, match',
    [
        ('asidl-default', {}, "package's own"),
        ('bad name', {}, 'letters, digits'),
        ('x.keras', {}, 'letters, digits'),
        ('fine', {'normalization': 'zscale'}, 'normalization'),
        ('fine', {'threshold': -1}, 'threshold'),
        ('fine', {'fwhm_range': (6, 2)}, 'fwhm_range'),
        ('fine', {'fwhm_range': 4.0}, 'fwhm_range'),
        ('fine', {'fwhm_range': (0, float('inf'))}, 'fwhm_range'),
    ],
)
def test_register_model_bad_arguments(monkeypatch, tmp_path, tiny_model_file, name, kwargs, match):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    with pytest.raises(ValueError, match=match):
        register_model(name, tiny_model_file, **kwargs)


def test_register_model_rejects_non_models(monkeypatch, tmp_path):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    bogus = tmp_path / 'bogus.keras'
    bogus.write_text('not a model')
    with pytest.raises(ValueError, match='not a valid .keras file'):
        register_model('bogus', bogus)
    with pytest.raises(ValueError, match='does not exist'):
        register_model('missing', tmp_path / 'missing.keras')
    assert 'bogus' not in available_models()


@pytest.mark.parametrize('name', [n for n in available_models() if model_info(n).get('bundled')])
def test_bundled_models_work_offline_and_find_stars(name):
    from asidl.datasets import load_example_frame
    from asidl.evaluation import score_detections

    entry = model_info(name)
    assert file_sha256(model_path(name)) == entry['sha256']
    finder = UNetLoGFinder(model=name)
    assert finder.threshold == entry.get('threshold', 0.2)
    data, header, truth = load_example_frame()
    tbl = finder(data)
    scores = score_detections(tbl['x_centroid'], tbl['y_centroid'], truth['x'], truth['y'])
    assert scores['dice'] > 0.6


# --------------------------------------------------------------------------
# A registry that trusts nothing it reads


def _write_user_registry(directory, entries, *, raw=None):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / 'user_registry.json'
    path.write_text(raw if raw is not None else json.dumps(entries))
    return path


@pytest.fixture
def outside_model(tmp_path, tiny_model_file):
    """A loadable model file outside the cache directory, and the cache directory."""
    cache = tmp_path / 'cache'
    cache.mkdir()
    return tiny_model_file, cache


@pytest.mark.parametrize(
    'file',
    ['../mine.keras', '{abs}', '/etc/passwd', 'sub/mine.keras', '..', '', None, 'link.keras'],
)
def test_files_outside_the_cache_are_never_loaded(monkeypatch, outside_model, file):
    model_file, cache = outside_model
    monkeypatch.setenv('ASIDL_DATA_DIR', str(cache))
    (cache / 'sub').mkdir()
    (cache / 'sub' / 'mine.keras').write_bytes(model_file.read_bytes())
    (cache / 'link.keras').symlink_to(model_file)  # a link out of the cache
    file = str(model_file) if file == '{abs}' else file
    (cache.parent / 'mine.keras').write_bytes(model_file.read_bytes())
    entry = {'file': file, 'sha256': file_sha256(model_file), 'normalization': 'asinh'}
    _write_user_registry(cache, {'escape': entry})
    if file != 'link.keras':
        with pytest.warns(AstropyUserWarning, match="entry 'escape' is ignored"):
            assert 'escape' not in available_models()
        with pytest.raises(ValueError, match="unknown model 'escape'"):
            UNetLoGFinder(model='escape')
    for kind in ({'user': True}, {'url': 'http://127.0.0.1:9/x.keras'}):
        with pytest.raises(ValueError, match='refusing to use the file') as err:
            model_path('escape', entries={'escape': {**entry, **kind}})
        assert 'ASIDL_DATA_DIR' in str(err.value)


@pytest.mark.parametrize('victim', ['../victim.txt', '{abs}', '../victim.keras'])
def test_unregister_never_deletes_outside_the_cache(monkeypatch, tmp_path, victim):
    cache = tmp_path / 'cache'
    monkeypatch.setenv('ASIDL_DATA_DIR', str(cache))
    target = tmp_path / Path(victim.replace('{abs}', 'victim.keras')).name
    target.write_text('precious')
    _write_user_registry(
        cache,
        {
            'bad': {
                'file': str(target) if victim == '{abs}' else victim,
                'sha256': '0' * 64,
                'normalization': 'asinh',
            }
        },
    )
    with pytest.warns(AstropyUserWarning, match='deleted no file'):
        unregister_model('bad')
    assert target.read_text() == 'precious'
    assert json.loads((cache / 'user_registry.json').read_text()) == {}


@pytest.mark.parametrize('sha', ['missing', None, '', 'abc', 'g' * 64])
def test_entries_without_a_valid_sha256_are_not_loaded(monkeypatch, outside_model, sha):
    model_file, cache = outside_model
    monkeypatch.setenv('ASIDL_DATA_DIR', str(cache))
    (cache / 'mine.keras').write_bytes(model_file.read_bytes())
    entry = {'file': 'mine.keras', 'normalization': 'asinh'}
    if sha != 'missing':
        entry['sha256'] = sha
    _write_user_registry(cache, {'mine': entry})
    with pytest.warns(AstropyUserWarning, match="entry 'mine' is ignored: its sha256"):
        assert 'mine' not in available_models()
    with pytest.raises(ValueError, match='no pinned sha256'):
        model_path('mine', entries={'mine': {**entry, 'user': True}})


def test_user_entries_with_a_bad_fwhm_range_are_ignored(monkeypatch, outside_model):
    model_file, cache = outside_model
    monkeypatch.setenv('ASIDL_DATA_DIR', str(cache))
    inside = cache / 'mine.keras'
    inside.write_bytes(model_file.read_bytes())
    entry = {
        'file': 'mine.keras',
        'sha256': file_sha256(inside),
        'normalization': 'asinh',
        'fwhm_range': [6.0, 'wide'],
    }
    (cache / 'user_registry.json').write_text(json.dumps({'mine': entry}))
    with pytest.warns(AstropyUserWarning, match='fwhm_range'):
        assert 'mine' not in available_models()


def test_user_entries_cannot_claim_to_be_bundled(monkeypatch, tmp_path):
    cache = tmp_path / 'cache'
    monkeypatch.setenv('ASIDL_DATA_DIR', str(cache))
    default = model_info(registry.DEFAULT_MODEL)
    entry = {
        'file': default['file'],
        'sha256': default['sha256'],
        'bundled': True,
        'normalization': 'asinh',
    }
    _write_user_registry(cache, {'sneaky': entry})
    with pytest.warns(AstropyUserWarning, match='bundled models exist only in the package'):
        assert 'sneaky' not in available_models()
    with pytest.raises(ValueError, match='bundled models exist only in the package registry'):
        model_path('sneaky', entries={'sneaky': entry})


@pytest.mark.parametrize(
    'content',
    [
        '[1, 2]',
        'null',
        '{"x": "y"}',
        '{"m": {"sha256": null}}',
        '{"m": {"file": 3}}',
        '{not json',
        '\udcff',
        'directory',
    ],
)
def test_a_broken_user_registry_warns_and_never_blocks_the_package_models(
    monkeypatch, tmp_path, content
):
    cache = tmp_path / 'cache'
    monkeypatch.setenv('ASIDL_DATA_DIR', str(cache))
    cache.mkdir()
    path = cache / 'user_registry.json'
    if content == 'directory':
        path.mkdir()
    elif content == '\udcff':
        path.write_bytes(b'\xff\xfe\x00')
    else:
        path.write_text(content)
    with pytest.warns(AstropyUserWarning, match='user model registry .* ASIDL_DATA_DIR'):
        names = available_models()
    assert registry.DEFAULT_MODEL in names and 'asidl-fast' in names
    assert UNetLoGFinder().model_name == registry.DEFAULT_MODEL
    if content in ('{"x": "y"}', '{"m": {"sha256": null}}', '{"m": {"file": 3}}'):
        return  # a JSON object: registering keeps the other entries as they are
    with pytest.raises(ValueError, match='ASIDL_DATA_DIR.*cannot be changed.*Fix or delete'):
        unregister_model('m')


def test_user_model_missing_from_the_cache_names_asidl_data_dir(
    monkeypatch, tmp_path, tiny_model_file
):
    cache = tmp_path / 'cache'
    monkeypatch.setenv('ASIDL_DATA_DIR', str(cache))
    copied = register_model('mine', tiny_model_file)
    copied.unlink()
    with pytest.raises(ValueError, match='missing from .*ASIDL_DATA_DIR'):
        UNetLoGFinder(model='mine')
    not_a_directory = tmp_path / 'file'
    not_a_directory.write_text('')
    monkeypatch.setenv('ASIDL_DATA_DIR', str(not_a_directory))
    with pytest.raises((OSError, ValueError), match='ASIDL_DATA_DIR'):
        register_model('other', tiny_model_file)


def _bad_model_files(directory, good):
    directory.mkdir()
    data = good.read_bytes()
    files = {
        'empty.keras': b'',
        'truncated.keras': data[: len(data) // 2],
        'text.keras': b'not a model',
        'text.h5': b'not a model either',
    }
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return directory


@pytest.mark.parametrize(
    'name, message',
    [
        ('empty.keras', 'not a valid .keras file'),
        ('truncated.keras', 'not a valid .keras file'),
        ('text.keras', 'not a valid .keras file'),
        ('text.h5', 'not a valid .h5 file'),
        ('notes.txt', "has the suffix '.txt'"),
        ('a_directory', 'is a directory'),
        ('a_directory.keras', 'is a directory'),
    ],
)
def test_model_files_that_are_not_models(monkeypatch, tmp_path, tiny_model_file, name, message):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    directory = _bad_model_files(tmp_path / 'bad', tiny_model_file)
    (directory / 'notes.txt').write_bytes(tiny_model_file.read_bytes())
    (directory / 'a_directory').mkdir()
    (directory / 'a_directory.keras').mkdir()
    path = directory / name
    for model in (path, str(path)):
        with pytest.raises(ValueError, match=message):
            UNetLoGFinder(model=model)
    with pytest.raises(ValueError, match=message):
        register_model('bad', path)
    assert 'bad' not in available_models()


def _model(input_shape, channels):
    import keras

    inputs = keras.Input(input_shape)
    return keras.Model(inputs, keras.layers.Conv2D(channels, 1)(inputs))


@pytest.mark.parametrize(
    'input_shape, channels, message',
    [
        ((None, None, 1), 2, r'must map \(n, ny, nx, 1\) images'),
        ((None, None, 3), 1, r'must map \(n, ny, nx, 1\) images'),
        ((64, 64, 1), 1, 'fixed 64x64 inputs'),
    ],
)
def test_register_model_runs_the_finder_model_check(
    monkeypatch, tmp_path, input_shape, channels, message
):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    path = tmp_path / 'odd.keras'
    _model(input_shape, channels).save(path)
    with pytest.raises(ValueError, match=message):
        register_model('odd', path)
    assert 'odd' not in available_models()
    with pytest.raises(ValueError, match=message):  # the finder says the same, up front
        UNetLoGFinder(model=path)


# --------------------------------------------------------------------------
# Downloads go through pooch, from a server on this machine only


class _Server(http.server.ThreadingHTTPServer):
    """Serves ``content`` at any path; the first ``failures`` requests get HTTP 500."""

    def __init__(self, content):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.content, self.failures, self.requests = content, 0, 0

    @property
    def url(self):
        return f'http://127.0.0.1:{self.server_address[1]}/remote-test.keras'


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.requests += 1
        if self.server.requests <= self.server.failures:
            self.send_error(500)
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(self.server.content)))
        self.end_headers()
        self.wfile.write(self.server.content)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = _Server(b'the bytes of a model file')
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_pinned_download_is_fetched_once_and_checked_by_pooch(monkeypatch, tmp_path, server):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    fetched = []
    real_fetch = pooch.Pooch.fetch
    monkeypatch.setattr(
        pooch.Pooch,
        'fetch',
        lambda self, fname, **kw: fetched.append(fname) or real_fetch(self, fname, **kw),
    )
    sha = pooch.file_hash(_write(tmp_path / 'expected', server.content))
    entries = _entries(server.url, sha)
    path = model_path('remote-test', entries=entries)
    assert path == tmp_path / 'cache' / 'remote-test.keras'
    assert path.read_bytes() == server.content and server.requests == 1
    # Cached: checked by pooch against the hash, not downloaded again.
    assert model_path('remote-test', entries=entries) == path and server.requests == 1
    assert fetched == ['remote-test.keras'] * 2
    # A cached file that no longer matches is refused, never replaced.
    path.write_bytes(b'tampered')
    with pytest.raises(ValueError, match='does not match its registered sha256.*Delete it'):
        model_path('remote-test', entries=entries)
    assert path.read_bytes() == b'tampered' and server.requests == 1


def test_a_download_that_does_not_match_its_hash_is_not_kept(monkeypatch, tmp_path, server):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    monkeypatch.setattr(_model_files, 'DOWNLOAD_RETRIES', 0)
    with pytest.raises(ValueError, match='download of model .remote-test. from .* does not match'):
        model_path('remote-test', entries=_entries(server.url, 'a' * 64))
    assert server.requests == 1
    assert not (tmp_path / 'cache' / 'remote-test.keras').exists()


def test_a_failed_download_is_tried_again(monkeypatch, tmp_path, server):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    monkeypatch.setattr(_model_files, 'DOWNLOAD_RETRIES', 1)
    server.failures = 1
    sha = pooch.file_hash(_write(tmp_path / 'expected', server.content))
    path = model_path('remote-test', entries=_entries(server.url, sha))
    assert path.read_bytes() == server.content and server.requests == 2


def _write(path, content):
    path.write_bytes(content)
    return str(path)


# --------------------------------------------------------------------------
# Each registry file is read at most once per finder


REGISTRY_FILES = ('registry.json', 'user_registry.json')


@pytest.fixture
def registry_reads(monkeypatch):
    """Counts of the stats and opens of each registry file, by file name."""
    import builtins
    import io

    counts = {name: 0 for name in REGISTRY_FILES}

    def counting(function):
        def wrapper(path, *args, **kwargs):
            if isinstance(path, (str, os.PathLike)) and os.path.basename(os.fspath(path)) in counts:
                counts[os.path.basename(os.fspath(path))] += 1
            return function(path, *args, **kwargs)

        return wrapper

    for module, name in ((os, 'stat'), (os, 'lstat'), (io, 'open'), (builtins, 'open')):
        monkeypatch.setattr(module, name, counting(getattr(module, name)))
    return counts


@pytest.mark.filterwarnings('ignore::asidl.engine.EngineWarning')
@pytest.mark.parametrize('model', ['asidl-default', 'fallback', 'mine', 'path', 'object'])
def test_a_finder_reads_each_registry_file_once(
    monkeypatch, tmp_path, tiny_model_file, registry_reads, model
):
    monkeypatch.setenv('ASIDL_DATA_DIR', str(tmp_path / 'cache'))
    register_model('mine', tiny_model_file)
    if model == 'fallback':  # a bundled model run by Keras from its .keras file
        from asidl import engine

        def cannot_compile(*args, **kwargs):
            raise RuntimeError('no OpenVINO here')

        monkeypatch.setattr(engine, 'compile_network', cannot_compile)
        model = 'asidl-fast'
    elif model == 'path':
        model = tiny_model_file
    keras_model = load_model(tiny_model_file)[0]
    if model == 'object':
        model = keras_model
    UNetLoGFinder(model=model)  # compiled and loaded once
    for cold in (True, False):
        if cold:
            _model_files.package_entries.cache_clear()
        registry_reads.update(dict.fromkeys(REGISTRY_FILES, 0))
        UNetLoGFinder(model=model)
        assert all(n <= 1 for n in registry_reads.values()), registry_reads
        assert registry_reads['registry.json'] == (1 if cold and model is not keras_model else 0)
    # The user registry is read anew by each finder: a model registered since is found.
    register_model('other', tiny_model_file)
    assert UNetLoGFinder(model='other').model_name == 'other'
