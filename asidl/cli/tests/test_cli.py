# Licensed under a 3-clause BSD style license - see LICENSE.rst
import subprocess
import sys

import pytest

from asidl.cli import main


def test_help_runs_as_a_command():
    out = subprocess.run(
        [sys.executable, '-m', 'asidl.cli', '--help'], capture_output=True, text=True, check=True
    ).stdout
    assert 'demo' in out and 'train' in out


def test_demo(tmp_path, capsys):
    png = tmp_path / 'overlay.png'
    assert main(['demo', '--output', str(png)]) == 0
    out = capsys.readouterr().out
    assert 'UNetLoGFinder found' in out and 'DAOStarFinder' in out and 'Dice' in out
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_unknown_command_fails():
    with pytest.raises(SystemExit) as err:
        main(['no-such-command'])
    assert err.value.code == 2


@pytest.mark.slow
def test_train_and_export(tmp_path, capsys):
    model = tmp_path / 'mine.keras'
    args = [
        'train',
        str(tmp_path / 'ckpt'),
        '--epochs',
        '1',
        '--steps-per-epoch',
        '1',
        '--batch-size',
        '2',
        '--frame-size',
        '32',
        '--base-filters',
        '2',
        '--depth',
        '2',
        '--n-validation',
        '1',
        '--export',
        str(model),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert 'epoch 1/1' in out and 'val Dice' in out
    assert model.exists() and (tmp_path / 'ckpt' / 'state.json').exists()


def test_option_defaults_are_the_finders():
    """The command line describes the finder's defaults without importing it."""
    import inspect

    from asidl import UNetLoGFinder
    from asidl.cli import build_parser
    from asidl.cli.options import finder_defaults, finder_kwargs

    signature = {
        name: p.default
        for name, p in inspect.signature(UNetLoGFinder.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    defaults = finder_defaults()
    assert defaults == {name: signature[name] for name in defaults}
    args = build_parser().parse_args(['find', 'frame.fits'])
    assert finder_kwargs(args) == {name: signature[name] for name in finder_kwargs(args)}


@pytest.mark.parametrize(
    ('text', 'value'), [('auto', 'auto'), ('none', None), ('None', None), ('0.5', 0.5), ('1', 1.0)]
)
def test_min_confidence_option(text, value):
    from asidl.cli import build_parser

    args = build_parser().parse_args(['find', 'frame.fits', '--min-confidence', text])
    assert args.min_confidence == value


@pytest.mark.parametrize('text', ['high', '-0.1', '1.5', 'nan'])
def test_bad_min_confidence_option(text, capsys):
    with pytest.raises(SystemExit) as err:
        main(['find', 'frame.fits', '--min-confidence', text])
    assert err.value.code == 2
    assert '--min-confidence' in capsys.readouterr().err


@pytest.mark.parametrize(
    ('text', 'value'), [('auto', 'auto'), ('none', None), ('asidl-fast', 'asidl-fast')]
)
def test_undersampled_model_option(text, value):
    from asidl.cli import build_parser

    args = build_parser().parse_args(['find', 'frame.fits', '--undersampled-model', text])
    assert args.undersampled_model == value


def test_unknown_undersampled_model(tmp_path, capsys):
    import numpy as np
    from astropy.io import fits

    path = tmp_path / 'frame.fits'
    fits.PrimaryHDU(np.zeros((32, 32), np.float32)).writeto(path)
    assert main(['find', str(path), '--undersampled-model', 'nope']) == 2
    err = capsys.readouterr().err
    assert 'undersampled_model must be' in err and 'asidl-fast' in err
    assert not list(tmp_path.glob('*.ecsv'))


def test_help_and_import_do_not_load_the_finder():
    """``import asidl`` and ``asidl --help`` leave photutils, astropy and OpenVINO unimported."""
    code = (
        'import sys\n'
        'import asidl\n'
        'from asidl.cli import main\n'
        'try:\n'
        '    main(["find", "--help"])\n'
        'except SystemExit:\n'
        '    pass\n'
        'heavy = ("photutils", "astropy", "openvino", "scipy", "tensorflow", "keras",\n'
        '         "matplotlib", "dask", "distributed")\n'
        'print(sorted({m.split(".")[0] for m in sys.modules} & set(heavy)))\n'
    )
    out = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == '[]'


def test_train_option_defaults_are_train_s():
    """``asidl train`` describes the defaults of `asidl.training.train.train`."""
    import inspect

    from asidl.cli import build_parser
    from asidl.training.train import train

    signature = {name: p.default for name, p in inspect.signature(train).parameters.items()}
    args = build_parser().parse_args(['train', 'checkpoints'])
    frame_shape = signature.pop('frame_shape')
    assert (args.frame_size, args.frame_size) == frame_shape
    for name in (
        'epochs',
        'steps_per_epoch',
        'batch_size',
        'base_filters',
        'depth',
        'input_stride',
        'learning_rate',
        'seed',
        'n_validation',
        'initial_model',
    ):
        assert getattr(args, name) == signature[name], name
