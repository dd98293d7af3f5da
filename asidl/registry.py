# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Registry of pretrained models.

The registry (``asidl/data/models/registry.json``) maps a model name to
its file, the file's sha256, the normalization the model was trained with,
and either ``"bundled": true`` (the file ships inside the package and
loads with no network) or a URL.  Models that are not bundled are fetched
with `pooch` on first use into a cache directory, `pooch.os_cache` by
default or the directory named by the ``ASIDL_DATA_DIR`` environment
variable, and checked against their hash.

Users register their own models (for example one trained with ``asidl
train`` for their telescope) with `register_model`: the file is copied into
the cache directory and recorded, with its hash and normalization, in a
user registry there (``user_registry.json``), after which its name works
everywhere a registered name does.
"""

import functools
import hashlib
import json
import os
from pathlib import Path

__all__ = [
    'DEFAULT_MODEL',
    'ModelDownloadError',
    'available_models',
    'cache_dir',
    'load_model',
    'model_info',
    'model_path',
    'register_model',
    'registry_entries',
    'unregister_model',
]

#: Name of the model `~asidl.UNetLoGFinder` uses by default.
DEFAULT_MODEL = 'asidl-default'

_MODEL_DIR = Path(__file__).parent / 'data' / 'models'
_REGISTRY_FILE = _MODEL_DIR / 'registry.json'


class ModelDownloadError(OSError):
    """A registered model is not in the cache and could not be downloaded."""


_USER_REGISTRY = 'user_registry.json'


@functools.cache
def _package_entries():
    return json.loads(_REGISTRY_FILE.read_text())


def _user_registry_file():
    return cache_dir() / _USER_REGISTRY


def _read_user_entries():
    """The user registry as stored in ``user_registry.json``."""
    path = _user_registry_file()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f'the user model registry {path} cannot be read ({exc}); fix or '
                         'delete it') from None


def _user_entries():
    """The user registry, each entry flagged ``'user': True``."""
    return {name: {**entry, 'user': True} for name, entry in _read_user_entries().items()}


def registry_entries():
    """
    The registry as a dict of name -> entry (dict): the package's models
    and those added with `register_model`.
    """
    entries = dict(_user_entries())
    entries.update(_package_entries())     # package names cannot be shadowed
    return entries


def register_model(name, path, *, normalization='asinh', threshold=None, description='',
                   overwrite=False):
    """
    Register a model file under a name, for use as
    ``UNetLoGFinder(model=name)``.

    The file is checked to load as a Keras model taking single-channel
    images, copied into `cache_dir` (so that later changes to ``path`` do
    not affect it), and recorded with its sha256, which is verified
    whenever it is loaded.

    Parameters
    ----------
    name : str
        The new name: letters, digits, ``-``, ``_`` and ``.``, not a name
        of the package's own models.
    path : str or path-like
        A ``.keras`` (or Keras 2 ``.h5``) model file, e.g. from ``asidl
        train --export``.
    normalization : {'asinh', 'standardize'}, optional
        The input normalization the model was trained with; models trained
        by asidl use ``'asinh'``.
    threshold : float or None, optional
        The LoG threshold tuned for this model, used by
        `~asidl.UNetLoGFinder` when none is given (the paper's 0.2 if
        `None`).
    description : str, optional
        Free text shown by `model_info`.
    overwrite : bool, optional
        Replace an existing user model of that name.

    Returns
    -------
    path : `~pathlib.Path`
        Where the registered copy lives.
    """
    import re
    import shutil

    from .io import _atomic_write
    from .normalize import NORMALIZATIONS

    if not isinstance(name, str) or not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9._-]*', name) \
            or name.endswith(('.keras', '.h5', '.hdf5')):
        raise ValueError('model name must be a non-empty string of letters, digits, '
                         f"'-', '_' and '.' not ending in a file suffix; got {name!r}")
    if name in _package_entries():
        raise ValueError(f'{name!r} is one of the package\'s own models; choose another name')
    if normalization not in NORMALIZATIONS:
        raise ValueError(f'normalization must be one of {NORMALIZATIONS}, got {normalization!r}')
    if threshold is not None and not (isinstance(threshold, (int, float))
                                      and not isinstance(threshold, bool) and threshold > 0):
        raise ValueError(f'threshold must be a positive number or None, got {threshold!r}')
    user = _read_user_entries()
    if name in user and not overwrite:
        raise ValueError(f'a user model named {name!r} is already registered; pass '
                         'overwrite=True to replace it')
    source = Path(path).expanduser()
    if source.suffix not in ('.keras', '.h5', '.hdf5') or not source.is_file():
        raise ValueError(f'{source} is not an existing .keras or .h5 model file')
    model = _load_file(str(source.resolve()), source.stat().st_mtime)
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[-1] != 1:
        raise ValueError(f'the model in {source} takes inputs of shape {shape}; UNetLoGFinder '
                         'needs (batch, ny, nx, 1) images')

    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f'{name}{source.suffix}'
    _atomic_write(target, lambda tmp: shutil.copyfile(source, tmp), overwrite=True)
    user[name] = {'file': target.name, 'sha256': file_sha256(target),
                  'normalization': normalization, 'description': description}
    if threshold is not None:
        user[name]['threshold'] = float(threshold)
    _write_user_entries(user)
    return target


def unregister_model(name):
    """Remove a model added with `register_model` (and its copied file)."""
    user = _read_user_entries()
    if name not in user:
        raise ValueError(f'{name!r} is not a user-registered model; user models are: '
                         f'{", ".join(sorted(user)) or "none"}')
    entry = user.pop(name)
    _write_user_entries(user)
    (cache_dir() / entry['file']).unlink(missing_ok=True)


def _write_user_entries(entries):
    from .io import _atomic_write

    _atomic_write(_user_registry_file(), lambda tmp: tmp.write_text(json.dumps(entries, indent=2)),
                  overwrite=True)


def available_models():
    """Names of the registered models, sorted."""
    return sorted(registry_entries())


def model_info(name):
    """
    The registry entry of a model.

    Raises
    ------
    ValueError
        If ``name`` is not registered; the message lists the known names.
    """
    entries = registry_entries()
    if name not in entries:
        raise ValueError(f'unknown model {name!r}; registered models are: '
                         f'{", ".join(available_models())} (or give a path to a '
                         '.keras or .h5 file, or a keras.Model)')
    return entries[name]


def cache_dir():
    """Directory where downloaded models are kept (``ASIDL_DATA_DIR`` overrides it)."""
    import pooch

    env = os.environ.get('ASIDL_DATA_DIR')
    return Path(env) if env else Path(pooch.os_cache('asidl'))


def file_sha256(path):
    """The sha256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as fh:
        for block in iter(lambda: fh.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _check_hash(path, expected, name):
    if expected and file_sha256(path) != expected:
        raise ValueError(f'the file of model {name!r} at {path} does not match its registered '
                         f'sha256 {expected}; it is corrupt or a different file. Delete it '
                         'so that it is downloaded again, or replace it with the right file.')


def model_path(name, *, entries=None):
    """
    Local path of a registered model, downloading it if needed.

    Parameters
    ----------
    name : str
        Registered model name.
    entries : dict, optional
        A registry to use instead of the package's (for testing and for
        users who keep their own).

    Returns
    -------
    path : `~pathlib.Path`

    Raises
    ------
    ValueError
        Unknown name, or a file whose hash does not match the registry.
    ModelDownloadError
        The file is not cached and cannot be downloaded (e.g. offline).
    """
    if entries is None:
        entry = model_info(name)
    elif name in entries:
        entry = entries[name]
    else:
        raise ValueError(f'unknown model {name!r}; registered models are: '
                         f'{", ".join(sorted(entries))}')
    sha = entry.get('sha256')
    if entry.get('bundled'):
        path = _MODEL_DIR / entry['file']
        _check_hash(path, sha, name)
        return path
    if entry.get('user'):
        path = cache_dir() / entry['file']
        if not path.exists():
            raise ValueError(f'the file of user model {name!r} is missing from {path}; '
                             'register it again with asidl.registry.register_model')
        _check_hash(path, sha, name)
        return path

    import pooch

    directory = cache_dir()
    path = directory / entry['file']
    if path.exists():
        _check_hash(path, sha, name)
        return path
    try:
        fetched = pooch.retrieve(entry['url'], known_hash=f'sha256:{sha}' if sha else None,
                                 fname=entry['file'], path=directory, progressbar=False)
    except ValueError as exc:   # pooch's hash mismatch
        raise ValueError(f'the download of model {name!r} from {entry["url"]} does not match '
                         f'its registered sha256 {sha}: {exc}') from None
    except Exception as exc:    # connection refused, DNS failure, HTTP error ...
        hash_note = f' (sha256 {sha})' if sha else ''
        raise ModelDownloadError(
            f'model {name!r} is not in the cache and could not be downloaded from '
            f'{entry["url"]}: {exc.__class__.__name__}: {exc}. On a machine without network '
            f'access, download that file elsewhere and place it by hand at {path}{hash_note}, '
            'or point the ASIDL_DATA_DIR environment variable at a directory holding it.'
        ) from None
    return Path(fetched)


@functools.lru_cache(maxsize=8)
def _load_file(path, mtime):
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise ValueError(f'could not load a Keras model from {path}: '
                         f'{exc.__class__.__name__}: {exc}') from None


def load_model(model=DEFAULT_MODEL):
    """
    Resolve a model given by name, path or object.

    Parameters
    ----------
    model : str, path-like or `keras.Model`
        A registered name (see `available_models`), the path of a
        ``.keras`` or Keras 2 ``.h5`` file, or a Keras model.

    Returns
    -------
    model : `keras.Model`
    name : str
        The registry name, the file name, or the model's own name.
    normalization : str or None
        The normalization from the registry, `None` if unknown.
    """
    if isinstance(model, (str, os.PathLike)):
        text = os.fspath(model)
        if text in registry_entries():
            entry = registry_entries()[text]
            path = model_path(text)
            return _load_file(str(path), path.stat().st_mtime), text, entry.get('normalization')
        path = Path(text).expanduser()
        if path.suffix in ('.keras', '.h5', '.hdf5'):
            if not path.exists():
                raise ValueError(f'model file {path} does not exist')
            return _load_file(str(path.resolve()), path.stat().st_mtime), path.name, None
        model_info(text)   # raises the unknown-name error
    try:
        import keras
    except ImportError:  # pragma: no cover
        keras = None
    if keras is not None and isinstance(model, keras.Model):
        return model, model.name, None
    raise TypeError('model must be a registered model name, the path of a .keras or .h5 file, '
                    f'or a keras.Model; got {type(model).__name__}')
