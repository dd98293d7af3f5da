# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The OpenVINO engine: bundled models without TensorFlow, the same outputs
as TensorFlow in float32, and TensorFlow as the fallback for everything
it cannot run.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import asidl
from asidl import UNetLoGFinder, _model_files, registry
from asidl.engine import (
    CompiledNetwork,
    EngineWarning,
    _used_precision,
    compile_network,
    load_network,
    native_precision,
)
from asidl.registry import available_models, file_sha256, load_model, model_info, openvino_files
from asidl.tests.helpers import write_frame

BUNDLED = [n for n in available_models() if model_info(n).get('bundled')]

#: The directory from which ``python -c`` imports this checkout of asidl.
SOURCE_ROOT = Path(asidl.__file__).resolve().parents[1]


def _run_python(code, tmp_path):
    """Run ``code`` in a fresh interpreter (TensorFlow's log level left alone)."""
    env = {k: v for k, v in os.environ.items() if k != 'TF_CPP_MIN_LOG_LEVEL'}
    env['ASIDL_DATA_DIR'] = str(tmp_path / 'cache')
    return subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)],
        cwd=SOURCE_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.mark.parametrize('name', BUNDLED)
def test_every_bundled_model_ships_its_ir_with_matching_hashes(name):
    xml, bin_ = openvino_files(name)
    ir = model_info(name)['openvino']
    assert xml.parent == bin_.parent == model_path_dir()
    assert (file_sha256(xml), file_sha256(bin_)) == (ir['xml_sha256'], ir['bin_sha256'])
    assert xml.stem == Path(model_info(name)['file']).stem
    # Converted from the registered .keras file, not an earlier one.
    assert ir['source_sha256'] == model_info(name)['sha256']


def model_path_dir():
    return Path(asidl.__file__).parent / 'data' / 'models'


def test_finder_and_find_command_never_import_tensorflow(tmp_path):
    write_frame(tmp_path / 'frame.fits', seed=5, shape=(96, 128))
    proc = _run_python(
        f"""
        import sys
        from asidl import UNetLoGFinder
        from asidl.cli import main
        from asidl.datasets import FrameParameters, simulate_frame

        finder = UNetLoGFinder(fwhm=3.0)
        assert finder.engine == 'openvino', finder.engine
        frame = simulate_frame(FrameParameters(shape=(96, 128), density=30), seed=1)
        assert len(finder(frame.data)) > 0
        assert main(['find', {str(tmp_path / 'frame.fits')!r}, '-q', '--fwhm', '3',
                     '-o', {str(tmp_path / 'frame.ecsv')!r}]) == 0
        print('tensorflow' in sys.modules, 'keras' in sys.modules)
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['False', 'False']
    assert (tmp_path / 'frame.ecsv').exists()
    # Without TensorFlow there are no TensorFlow or CUDA log lines.
    assert proc.stderr == ''


@pytest.mark.parametrize('name', BUNDLED)
def test_float32_outputs_match_tensorflow(name):
    keras_model = load_model(name)[0]
    network = compile_network(openvino_files(name)[0], name=name, precision='f32')
    assert network.input_shape == tuple(keras_model.input_shape)
    assert network.output_shape == tuple(keras_model.output_shape)
    rng = np.random.default_rng(0)
    # Tiles of different sizes go through the same compiled model.
    for shape in [(2, 96, 160, 1), (1, 64, 64, 1), (3, 128, 32, 1)]:
        batch = rng.normal(0.5, 1.0, size=shape).astype(np.float32)
        expected = np.asarray(keras_model.predict_on_batch(batch))
        got = network.predict_on_batch(batch)
        assert got.shape == expected.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_finder_results_match_the_tensorflow_path(finder, frame):
    """The default model in float32 (OpenVINO) and the same model given as a Keras object."""
    entry = model_info('asidl-default')
    finder = UNetLoGFinder(precision='f32', calibration=finder.calibration)
    catalog = finder(frame.data)
    keras_finder = UNetLoGFinder(
        model=load_model('asidl-default')[0],
        threshold=entry['threshold'],
        calibration=finder.calibration,
    )
    assert finder.engine == 'openvino' and keras_finder.engine == 'tensorflow'
    np.testing.assert_allclose(
        finder.probability_map(frame.data),
        keras_finder.probability_map(frame.data),
        atol=1e-4,
        rtol=0,
    )
    other = keras_finder(frame.data)
    assert len(other) == len(catalog)
    for col in ('x_centroid', 'y_centroid', 'confidence'):
        np.testing.assert_allclose(other[col], catalog[col], atol=1e-3)
    assert catalog.meta['engine'] == 'openvino' and catalog.meta['precision'] == 'f32'
    assert other.meta['engine'] == 'tensorflow'


def test_compiled_models_are_cached_per_process():
    xml = openvino_files('asidl-fast')[0]
    a = compile_network(xml, precision='f32')
    b = compile_network(xml, precision='f32')
    assert a._compiled is b._compiled
    assert compile_network(xml, precision='bf16')._compiled is not a._compiled


def test_bfloat16_is_an_option(frame):
    # OpenVINO runs bfloat16 only where the CPU has it, and the finder says
    # which precision ran.
    expected = native_precision()
    finder = UNetLoGFinder(precision='bf16')
    assert isinstance(finder.model, CompiledNetwork) and finder.model.precision == expected
    tbl = finder(frame.data)
    assert tbl.meta['precision'] == expected and len(tbl) > 0
    assert f"precision='{expected}'" in repr(finder)


def test_the_default_precision_is_the_cpus_native_one(finder, catalog):
    assert native_precision() in ('f32', 'bf16')
    assert finder.precision == native_precision() == catalog.meta['precision']
    assert UNetLoGFinder(precision='f32').precision == 'f32'


def test_the_precision_recorded_is_the_one_openvino_runs():
    class Compiled:
        def __init__(self, reported):
            self.reported = reported

        def get_property(self, name):
            assert name == 'INFERENCE_PRECISION_HINT'
            return self.reported

    # bfloat16 asked on a CPU without it: OpenVINO runs float32.
    assert _used_precision(Compiled('f32'), 'bf16') == 'f32'
    assert _used_precision(Compiled('bf16'), 'bf16') == 'bf16'
    assert _used_precision(Compiled('float32'), 'f32') == 'f32'


def test_auto_precision_enters_the_options_digest_as_the_one_it_stands_for():
    from asidl.pipeline.tasks import options_digest

    auto = options_digest({}, {'precision': 'auto'}, {})
    assert auto == options_digest({}, {'precision': native_precision()}, {})
    assert auto == options_digest({}, {}, {})  # the default
    other = 'f32' if native_precision() == 'bf16' else 'bf16'
    assert auto != options_digest({}, {'precision': other}, {})


@pytest.mark.parametrize('precision', ['f16', 'float32', None, 32, 'AUTO'])
def test_bad_precision(precision):
    with pytest.raises(ValueError, match='^precision must be one of'):
        UNetLoGFinder(precision=precision)


def test_keras_objects_and_files_keep_the_tensorflow_path(tmp_path):
    keras_model = load_model('asidl-fast')[0]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert UNetLoGFinder(model=keras_model).engine == 'tensorflow'
        path = shutil.copy(registry.model_path('asidl-fast'), tmp_path / 'mine.keras')
        by_path = UNetLoGFinder(model=path, precision='bf16')
    # Keras runs float32 whatever was asked, and says so in the catalog.
    assert by_path.engine == 'tensorflow' and by_path.precision == 'f32'


# --------------------------------------------------------------------------
# A bundled model whose IR cannot be used runs with TensorFlow, with a warning


@pytest.fixture
def package_copy(monkeypatch, tmp_path):
    """A copy of the package's model directory, used as the package's own."""
    directory = tmp_path / 'models'
    directory.mkdir()
    for name in ('asidl-fast',):
        entry = model_info(name)
        for file in (entry['file'], entry['openvino']['xml'], entry['openvino']['bin']):
            shutil.copy(model_path_dir() / file, directory / file)
    entries = {'asidl-fast': model_info('asidl-fast')}
    (directory / 'registry.json').write_text(json.dumps(entries))
    monkeypatch.setattr(_model_files, 'PACKAGE_DIR', directory)
    _model_files.package_entries.cache_clear()
    yield directory
    _model_files.package_entries.cache_clear()


def _rewrite_entry(directory, **changes):
    entries = json.loads((directory / 'registry.json').read_text())
    entries['asidl-fast'].update(changes)
    (directory / 'registry.json').write_text(json.dumps(entries))
    _model_files.package_entries.cache_clear()


def _falls_back(message):
    with pytest.warns(EngineWarning, match=message) as record:
        network, name, normalization = load_network('asidl-fast')
    assert len(record) == 1
    assert not isinstance(network, CompiledNetwork) and name == 'asidl-fast'
    assert normalization == 'asinh'
    return network


def test_the_package_copy_itself_runs_with_openvino(package_copy):
    network, _, _ = load_network('asidl-fast')
    assert isinstance(network, CompiledNetwork)


def test_corrupt_ir_is_detected_by_its_hash(package_copy, frame):
    weights = package_copy / model_info('asidl-fast')['openvino']['bin']
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    network = _falls_back('runs with TensorFlow.*bin file.*does not match its registered sha256')
    # The fallback gives the float32 results.
    reference = compile_network(model_path_dir() / model_info('asidl-fast')['openvino']['xml'])
    batch = np.random.default_rng(3).normal(size=(1, 64, 96, 1)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(network.predict_on_batch(batch)),
        reference.predict_on_batch(batch),
        atol=1e-4,
        rtol=0,
    )


def test_ir_of_an_earlier_keras_file_is_not_used(package_copy):
    """A .keras file replaced (and its sha256 updated) without regenerating the IR."""
    _rewrite_entry(
        package_copy,
        sha256=file_sha256(model_path_dir() / 'asidl-default-v1.keras'),
        file='asidl-default-v1.keras',
    )
    shutil.copy(model_path_dir() / 'asidl-default-v1.keras', package_copy)
    _falls_back('converted from another .keras file.*python -m asidl.training.export --openvino')


def test_missing_ir_file(package_copy):
    (package_copy / model_info('asidl-fast')['openvino']['xml']).unlink()
    _falls_back('xml file of model .asidl-fast. is missing')


def test_entry_without_ir(package_copy):
    entries = json.loads((package_copy / 'registry.json').read_text())
    del entries['asidl-fast']['openvino']
    (package_copy / 'registry.json').write_text(json.dumps(entries))
    _model_files.package_entries.cache_clear()
    _falls_back('no OpenVINO conversion in the registry')


def test_ir_files_are_read_only_from_the_package(package_copy):
    ir = dict(model_info('asidl-fast')['openvino'], xml='../outside.xml')
    _rewrite_entry(package_copy, openvino=ir)
    _falls_back('refusing to use the file')


def test_ir_that_openvino_cannot_compile(package_copy):
    ir = dict(model_info('asidl-fast')['openvino'])
    xml = package_copy / ir['xml']
    xml.write_text('<net name="broken"><layers></net>')
    _rewrite_entry(package_copy, openvino=dict(ir, xml_sha256=file_sha256(xml)))
    with pytest.warns(EngineWarning, match='OpenVINO could not compile its IR'):
        finder = UNetLoGFinder(model='asidl-fast')
    assert finder.engine == 'tensorflow'


def test_networks_copy_and_pickle(finder):
    import copy
    import pickle

    for clone in (copy.deepcopy(finder.model), pickle.loads(pickle.dumps(finder.model))):
        assert isinstance(clone, CompiledNetwork)
        assert (clone.name, clone.precision) == (finder.model.name, finder.model.precision)
        assert clone._compiled is finder.model._compiled  # compiled once per process


def test_find_command_precision_option(tmp_path):
    from astropy.table import QTable

    from asidl.cli import main

    write_frame(tmp_path / 'frame.fits', seed=6, shape=(96, 96))
    assert (
        main(
            [
                'find',
                str(tmp_path / 'frame.fits'),
                '-q',
                '--fwhm',
                '3',
                '--precision',
                'f32',
                '-o',
                str(tmp_path / 'frame.ecsv'),
            ]
        )
        == 0
    )
    meta = QTable.read(tmp_path / 'frame.ecsv').meta
    assert meta['engine'] == 'openvino' and meta['precision'] == 'f32'


def test_load_network_looks_models_up_in_the_registry_it_is_given():
    from asidl.registry import ModelRegistry

    models = ModelRegistry()
    network, name, normalization = load_network('asidl-fast', registry=models)
    assert isinstance(network, CompiledNetwork) and normalization == 'asinh'
    assert 'entries' in vars(models)  # read, and kept for the finder's other questions
    with pytest.raises(ValueError, match="unknown model 'asidl-fast'"):
        load_network('asidl-fast', registry=ModelRegistry({}))


def _tiny_ir(tmp_path, kind):
    """A tiny channels-last OpenVINO network ending as Keras models end (or not)."""
    import openvino
    from openvino import opset13 as ops

    image = ops.parameter([-1, -1, -1, 1], np.float32, name='image')
    planar = ops.transpose(image, ops.constant(np.array([0, 3, 1, 2])))
    probability = ops.sigmoid(planar)
    if kind == 'concat':
        offsets = ops.concat([ops.multiply(planar, ops.constant(np.float32(2))), planar], 1)
        last = ops.transpose(
            ops.concat([probability, offsets], 1), ops.constant(np.array([0, 2, 3, 1]))
        )
    elif kind == 'single':
        last = ops.transpose(probability, ops.constant(np.array([0, 2, 3, 1])))
    else:  # channels-last without a final transpose
        last = ops.sigmoid(image)
    path = tmp_path / f'{kind}.xml'
    openvino.save_model(openvino.Model([ops.result(last)], [image]), path)
    return path


@pytest.mark.parametrize('kind', ['concat', 'single', 'plain'])
def test_networks_run_channel_first_with_keras_outputs(tmp_path, kind):
    # The compiled network drops the final transpose (and concatenation) to
    # channels-last; predict_on_batch still gives what the IR computes.
    xml = _tiny_ir(tmp_path, kind)
    batch = np.random.default_rng(3).normal(size=(3, 8, 12, 1)).astype(np.float32)
    network = compile_network(xml)
    p = 1 / (1 + np.exp(-batch))
    expected = np.concatenate([p, 2 * batch, batch], axis=-1) if kind == 'concat' else p
    out = network.predict_on_batch(batch)
    assert out.shape == expected.shape
    assert_allclose(out, expected, rtol=1e-6, atol=1e-7)
    parts = network.predict_planes(batch)
    assert [part.shape[1] for part in parts] == ([1, 2] if kind == 'concat' else [1])
    assert_allclose(
        np.concatenate(parts, axis=1), np.moveaxis(expected, -1, 1), rtol=1e-6, atol=1e-7
    )
    assert network.output_shape[-1] == expected.shape[-1]


def test_convolutions_of_concatenations_run_as_sums_with_the_same_outputs(tmp_path):
    # A decoder's skip connection, concat([a, b]) -> 3x3 convolution, is
    # compiled as conv(a) + conv(b) with the weights' slices: no Concat of
    # feature maps is left, and the network computes the same function.
    import openvino
    from openvino import opset13 as ops

    from asidl.engine import _split_concatenations

    rng = np.random.default_rng(7)
    image = ops.parameter([-1, 1, -1, -1], np.float32, name='image')

    def conv(x, c_in, c_out):
        w = ops.constant(rng.normal(size=(c_out, c_in, 3, 3)).astype(np.float32))
        return ops.convolution(x, w, [1, 1], [1, 1], [1, 1], [1, 1])

    a = ops.relu(conv(image, 1, 3))
    b = ops.relu(conv(a, 3, 5))
    joined = conv(ops.concat([a, b, image], 1), 9, 2)  # three parts, 3 + 5 + 1 channels
    model = openvino.Model([ops.result(joined)], [image])
    x = rng.normal(size=(2, 1, 16, 20)).astype(np.float32)
    core = openvino.Core()
    options = {'INFERENCE_PRECISION_HINT': 'f32'}
    expected = core.compile_model(model, 'CPU', options)({0: x})[0]

    split = _split_concatenations(model.clone())
    kinds = [op.get_type_name() for op in split.get_ordered_ops()]
    assert 'Concat' not in kinds and kinds.count('Convolution') == 5
    out = core.compile_model(split, 'CPU', options)({0: x})[0]
    assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_infer_requests_are_reused_and_never_shared_by_threads(tmp_path):
    # Calls take idle requests (a new one allocates the network's memory
    # again); threads running at once each get their own, with the
    # results of running alone.
    from concurrent.futures import ThreadPoolExecutor

    network = compile_network(_tiny_ir(tmp_path, 'concat'))
    rng = np.random.default_rng(11)
    batches = [rng.normal(size=(2, 8, 12 + k, 1)).astype(np.float32) for k in range(12)]
    expected = [network.predict_on_batch(batch) for batch in batches]
    pools = [pool for _, pool in network._idle.values()]
    assert sum(pool.qsize() for pool in pools) <= network.streams + 1
    with ThreadPoolExecutor(4) as threads:
        outs = list(threads.map(lambda b: network.predict_planes(b, one_stream=True), batches * 3))
    for out, want in zip(outs, expected * 3):
        assert_allclose(np.moveaxis(np.concatenate(out, axis=1), 1, -1), want, rtol=1e-6)
    pools = [pool for _, pool in network._idle.values()]
    assert sum(pool.qsize() for pool in pools) <= network.streams + 1 + 4
