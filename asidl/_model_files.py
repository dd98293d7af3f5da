# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Model files: where asidl keeps them, and the checks every one passes.

Bundled models live in the package (`PACKAGE_DIR`, listed in its
``registry.json``); every other model lives in the cache directory of the
`pooch` made by `model_pooch`, `pooch.os_cache` or ``$ASIDL_DATA_DIR``.
A registry's ``file`` is trusted only as a plain file name looked up inside
one of those two directories (`confined`).  This module is private: its
public names are used by `asidl.registry`, which re-exports those meant for
users.
"""

import functools
import json
import os
import re
import zipfile
from pathlib import Path

__all__ = [
    'DATA_DIR_ENV',
    'MODEL_SUFFIXES',
    'PACKAGE_DIR',
    'cache_dir',
    'cache_note',
    'check_model',
    'check_model_file',
    'check_sha256',
    'confined',
    'file_problem',
    'file_sha256',
    'in_package',
    'is_sha256',
    'load_model_file',
    'model_pooch',
    'package_entries',
]

#: Directory of the bundled models and of the package's ``registry.json``.
PACKAGE_DIR = Path(__file__).parent / 'data' / 'models'

#: Environment variable that names the cache directory instead of `pooch.os_cache`.
DATA_DIR_ENV = 'ASIDL_DATA_DIR'

#: Suffixes of the model files asidl loads.
MODEL_SUFFIXES = ('.keras', '.h5', '.hdf5')

#: Download attempts after a failed one (a dropped connection, a bad hash).
DOWNLOAD_RETRIES = 2

_SHA256_PATTERN = re.compile(r'[0-9a-fA-F]{64}')


@functools.cache
def package_entries():
    """The package's ``registry.json``, read once per process."""
    return json.loads((PACKAGE_DIR / 'registry.json').read_text())


def model_pooch(registry=None, urls=None):
    """
    The `pooch.Pooch` of the model cache, for the files in ``registry``.

    Its directory is ``$ASIDL_DATA_DIR`` when that is set, else
    ``pooch.os_cache('asidl')``, read when it is made.  Files whose hash
    does not match are never replaced: a mismatch raises `ValueError`.
    """
    import pooch

    return pooch.create(
        path=pooch.os_cache('asidl'),
        base_url='',
        env=DATA_DIR_ENV,
        registry=registry,
        urls=urls,
        retry_if_failed=DOWNLOAD_RETRIES,
        allow_updates=False,
    )


def cache_dir():
    """Directory where downloaded models are kept (``ASIDL_DATA_DIR`` overrides it)."""
    return model_pooch().abspath


def cache_note():
    """Points at ASIDL_DATA_DIR in messages about the cache, when it is what chose it."""
    if os.environ.get(DATA_DIR_ENV):
        return (
            f' (the cache directory {cache_dir()} is set by the {DATA_DIR_ENV} environment '
            'variable)'
        )
    return ''


def file_sha256(path):
    """The sha256 hex digest of a file."""
    import pooch

    return pooch.file_hash(os.fspath(path), alg='sha256')


def check_sha256(path, sha, what, advice=''):
    """Raise a ValueError, naming ``what``, if the file at ``path`` does not match ``sha``."""
    if file_sha256(path) != sha.lower():
        raise ValueError(
            f'{what} at {path} does not match its registered sha256 {sha}; it is '
            f'corrupt or a different file{advice}'
        )


def is_sha256(value):
    """Whether ``value`` is a sha256 hex digest (64 hexadecimal digits)."""
    return isinstance(value, str) and _SHA256_PATTERN.fullmatch(value) is not None


def file_problem(file, suffixes=MODEL_SUFFIXES):
    """Why a registry ``file`` is not a plain file name with one of ``suffixes``, or None."""
    if not isinstance(file, str) or not file:
        return f'its file must be a file name, got {file!r}'
    if file in ('.', '..') or Path(file).name != file or '/' in file or '\\' in file:
        return f'its file {file!r} is not a plain file name inside the cache directory'
    if Path(file).suffix.lower() not in suffixes:
        return f'its file {file!r} is not a {" or ".join(suffixes)} file'
    return None


def confined(directory, file, name, suffixes=MODEL_SUFFIXES):
    """``directory / file``, refusing anything that resolves outside ``directory``."""
    problem = file_problem(file, suffixes)
    if problem is None:
        root = Path(directory).resolve()
        path = Path(directory) / file
        if path.resolve().parent != root:
            problem = f'its file {file!r} resolves to {path.resolve()}, outside {root}'
    if problem is not None:
        where = (
            'the package'
            if Path(directory) == PACKAGE_DIR
            else f'the cache directory{cache_note()}'
        )
        raise ValueError(
            f'refusing to use the file of model {name!r}: {problem}; model files '
            f'are read only from {where}'
        )
    return path


def in_package(file, name, suffixes=MODEL_SUFFIXES):
    """`confined` to `PACKAGE_DIR`: the path of a bundled file."""
    return confined(PACKAGE_DIR, file, name, suffixes)


def check_model(model, *, tile_margin=None):
    """
    Check that a Keras model is one `~asidl.UNetLoGFinder` can run.

    Parameters
    ----------
    model : `keras.Model`
    tile_margin : int or None, optional
        The finder's tile margin; a model with a fixed input size must
        leave a core inside it.  `None` uses the finder's default,
        ``asidl.constants.TILE_MARGIN``.

    Raises
    ------
    ValueError
        The model does not map ``(n, ny, nx, 1)`` images to ``(n, ny, nx,
        1)`` probabilities or ``(n, ny, nx, 3)`` probabilities and offsets,
        or its fixed input size is too small for the tile margin.
    """
    from .constants import TILE_MARGIN

    margin = TILE_MARGIN if tile_margin is None else tile_margin
    try:
        shape_in = tuple(model.input_shape)
        shape_out = tuple(model.output_shape)
    except (AttributeError, ValueError, TypeError) as exc:
        raise ValueError(
            f'model must be a Keras model with one input and one output: {exc}'
        ) from None
    if (
        len(shape_in) != 4
        or shape_in[-1] != 1
        or len(shape_out) != 4
        or shape_out[-1] not in (1, 3)
    ):
        raise ValueError(
            'model must map (n, ny, nx, 1) images to (n, ny, nx, 1) '
            'probabilities or (n, ny, nx, 3) probabilities and offsets; '
            f'got input {shape_in} and output {shape_out}'
        )
    fixed = [n for n in shape_in[1:3] if n is not None]
    if fixed and min(fixed) <= 2 * margin:
        raise ValueError(
            f'the model takes fixed {shape_in[1]}x{shape_in[2]} inputs, which leave '
            f'no core inside a tile margin of {margin} pixels on each side; '
            'UNetLoGFinder needs inputs larger than twice tile_margin (build the '
            'model with keras.Input((None, None, 1)) to take any tile size)'
        )


def check_model_file(path):
    """Raise a ValueError saying why ``path`` is not a model file asidl can load."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f'model path {path} is a directory, not a model file; give a .keras or Keras 2 .h5 file'
        )
    suffix = path.suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ValueError(
            f'model file {path} has the suffix {suffix or "(none)"!r}; asidl loads '
            '.keras and Keras 2 .h5 (or .hdf5) model files'
        )
    if not path.is_file():
        raise ValueError(f'model file {path} does not exist')
    if suffix == '.keras':
        try:
            with zipfile.ZipFile(path) as archive:
                valid = 'config.json' in archive.namelist()
        except (zipfile.BadZipFile, OSError):
            valid = False
        if not valid:
            raise ValueError(
                f'{path} is not a valid .keras file: a .keras model is a zip '
                'archive holding a config.json, and this file is empty, truncated '
                'or of another kind'
            )
    else:
        with open(path, 'rb') as fh:
            head = fh.read(8)
        if head != b'\x89HDF\r\n\x1a\n':
            raise ValueError(
                f'{path} is not a valid {suffix} file: it is not an HDF5 file '
                '(empty, truncated or of another kind)'
            )


def load_model_file(path):
    """
    The Keras model in a model file, loaded once per process while the
    file is unchanged; a `ValueError` says why a file cannot be loaded.
    """
    path = Path(path).expanduser()
    check_model_file(path)
    return _load(str(path.resolve()), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load(path, mtime_ns):
    import keras

    from .training import layers  # noqa: F401  (registers asidl's own Keras layers)

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise ValueError(
            f'could not load a Keras model from {path}: {exc.__class__.__name__}: {exc}'
        ) from None
