# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Registry of pretrained models.

The registry (``asidl/data/models/registry.json``) maps a model name to
its file, the file's sha256, the normalization the model was trained with,
and either ``"bundled": true`` (the file ships inside the package and
loads with no network) or a URL.  Models that are not bundled are fetched
with `pooch` on first use into a cache directory, `pooch.os_cache` by
default or the directory named by the ``ASIDL_DATA_DIR`` environment
variable, and checked against their hash.  Every model that is not bundled
must have a pinned sha256: an entry without one is neither downloaded nor
loaded.

Users register their own models (for example one trained with ``asidl
train`` for their telescope) with `register_model`: the file is copied into
the cache directory and recorded, with its hash and normalization, in a
user registry there (``user_registry.json``), after which its name works
everywhere a registered name does.

Nothing read from a registry is trusted: a model's ``file`` must be a plain
file name, which is looked up only inside the cache directory (or, for
bundled models, inside the package), and the user registry is checked
entry by entry; a user registry that cannot be used is ignored with a
warning, and never hides the package's own models.
"""

import functools
import hashlib
import json
import numbers
import os
import re
import warnings
import zipfile
from pathlib import Path

from astropy.utils.exceptions import AstropyUserWarning

from . import constants
from .calibration import ConfidenceCalibration

__all__ = [
    'DEFAULT_MODEL',
    'ModelDownloadError',
    'available_models',
    'cache_dir',
    'check_model',
    'load_model',
    'model_info',
    'model_path',
    'openvino_files',
    'register_model',
    'registry_entries',
    'unregister_model',
]

#: Name of the model `~asidl.UNetLoGFinder` uses by default.
DEFAULT_MODEL = constants.DEFAULT_MODEL

_MODEL_DIR = Path(__file__).parent / 'data' / 'models'
_REGISTRY_FILE = _MODEL_DIR / 'registry.json'



class ModelDownloadError(OSError):
    """A registered model is not in the cache and could not be downloaded."""


_USER_REGISTRY = 'user_registry.json'

#: Suffixes of the model files asidl loads.
_MODEL_SUFFIXES = ('.keras', '.h5', '.hdf5')

_NAME_PATTERN = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]*')
_SHA256_PATTERN = re.compile(r'[0-9a-fA-F]{64}')


@functools.cache
def _package_entries():
    return json.loads(_REGISTRY_FILE.read_text())


def _cache_note():
    """Points at ASIDL_DATA_DIR in messages about the cache, when it is what chose it."""
    if os.environ.get('ASIDL_DATA_DIR'):
        return (f' (the cache directory {cache_dir()} is set by the ASIDL_DATA_DIR environment '
                'variable)')
    return ''


def _user_registry_file():
    return cache_dir() / _USER_REGISTRY


def _entry_problem(name, entry):
    """Why a user registry entry cannot be used, or None if it can."""
    from .normalize import NORMALIZATIONS

    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        return 'the name must be letters, digits, "-", "_" and "."'
    if not isinstance(entry, dict):
        return f'the entry must be an object, not {type(entry).__name__}'
    if 'bundled' in entry:
        return 'it claims to be bundled, but bundled models exist only in the package registry'
    problem = _file_problem(entry.get('file'))
    if problem:
        return problem
    if not _is_sha256(entry.get('sha256')):
        return f'its sha256 must be 64 hexadecimal digits, got {entry.get("sha256")!r}'
    if entry.get('normalization') not in NORMALIZATIONS:
        return (f'its normalization must be one of {NORMALIZATIONS}, got '
                f'{entry.get("normalization")!r}')
    threshold = entry.get('threshold')
    if threshold is not None and not _positive_finite(threshold):
        return f'its threshold must be a positive number, got {threshold!r}'
    fwhm_range = entry.get('fwhm_range')
    if fwhm_range is not None and not _fwhm_range_ok(fwhm_range):
        return f'its fwhm_range must be two increasing positive numbers, got {fwhm_range!r}'
    if not isinstance(entry.get('description', ''), str):
        return 'its description must be a string'
    if entry.get('calibration') is not None:
        try:
            ConfidenceCalibration.from_dict(entry['calibration'])
        except ValueError as exc:
            return f'its calibration is unusable: {exc}'
    return None


def _fwhm_range_ok(value):
    """Whether ``value`` is a pair of positive finite numbers, the smaller first."""
    return (isinstance(value, (list, tuple)) and len(value) == 2
            and all(_positive_finite(v) for v in value) and value[0] < value[1])


def _file_problem(file, suffixes=_MODEL_SUFFIXES):
    """Why a registry ``file`` is not a plain file name with one of ``suffixes``, or None."""
    if not isinstance(file, str) or not file:
        return f'its file must be a file name, got {file!r}'
    if file in ('.', '..') or Path(file).name != file or '/' in file or '\\' in file:
        return f'its file {file!r} is not a plain file name inside the cache directory'
    if Path(file).suffix.lower() not in suffixes:
        return f'its file {file!r} is not a {" or ".join(suffixes)} file'
    return None


def _is_sha256(value):
    return isinstance(value, str) and _SHA256_PATTERN.fullmatch(value) is not None


def _positive_finite(value):
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and bool(0 < value < float('inf')))


@functools.lru_cache(maxsize=4)
def _parse_user_registry(path, mtime_ns, size, inode):
    """
    ``(stored, usable, problems)`` of the user registry file as it is now:
    the object stored (None if the file is not a JSON object), the entries
    that can be used, and why the file or each other entry cannot.
    Cached by file state, so that each problem is reported once.
    """
    try:
        stored = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, {}, [f'it cannot be read ({exc.__class__.__name__}: {exc})']
    if not isinstance(stored, dict):
        return None, {}, [f'it must hold a JSON object of name: entry, not '
                          f'{type(stored).__name__}']
    usable, problems = {}, []
    for name, entry in stored.items():
        problem = _entry_problem(name, entry)
        if problem:
            problems.append(f'entry {name!r} is ignored: {problem}')
        else:
            usable[name] = entry
    return stored, usable, problems


def _user_registry():
    """The parsed user registry (see `_parse_user_registry`); empty if there is none."""
    path = _user_registry_file()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}, {}, []
    except OSError as exc:
        return None, {}, [f'it cannot be read ({exc})']
    return _parse_user_registry(str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _warn_problems(problems):
    if problems:
        warnings.warn(f'the user model registry {_user_registry_file()} is not fully usable'
                      f'{_cache_note()}: ' + '; '.join(problems) + '. Fix or delete it.',
                      AstropyUserWarning, stacklevel=3)


def _user_entries():
    """The usable user registry entries, each flagged ``'user': True``; warns about the rest."""
    stored, usable, problems = _user_registry()
    if problems:
        key = (str(_user_registry_file()), tuple(problems))
        if key not in _WARNED:
            _WARNED.add(key)
            _warn_problems(problems)
    return {name: {**entry, 'user': True} for name, entry in usable.items()}


#: Problems of user registries already reported in this process.
_WARNED = set()


def _stored_user_entries():
    """The user registry as stored, for changing it; raises if it cannot be read."""
    stored, _, problems = _user_registry()
    if stored is None:
        raise ValueError(f'the user model registry {_user_registry_file()}{_cache_note()} '
                         f'cannot be changed: {"; ".join(problems)}. Fix or delete it.')
    return dict(stored)


def registry_entries():
    """
    The registry as a dict of name -> entry (dict): the package's models
    and those added with `register_model`.

    User registry entries that cannot be used (a file outside the cache
    directory, no sha256, a claim to be bundled, ...) are left out with an
    `~astropy.utils.exceptions.AstropyUserWarning`, as is a user registry
    that cannot be read at all; the package's models are always there.
    """
    entries = _user_entries()
    entries.update(_package_entries())     # package names cannot be shadowed
    return entries


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
        raise ValueError(f'model must be a Keras model with one input and one output: '
                         f'{exc}') from None
    if len(shape_in) != 4 or shape_in[-1] != 1 or len(shape_out) != 4 \
            or shape_out[-1] not in (1, 3):
        raise ValueError('model must map (n, ny, nx, 1) images to (n, ny, nx, 1) '
                         'probabilities or (n, ny, nx, 3) probabilities and offsets; '
                         f'got input {shape_in} and output {shape_out}')
    fixed = [n for n in shape_in[1:3] if n is not None]
    if fixed and min(fixed) <= 2 * margin:
        raise ValueError(f'the model takes fixed {shape_in[1]}x{shape_in[2]} inputs, which leave '
                         f'no core inside a tile margin of {margin} pixels on each side; '
                         'UNetLoGFinder needs inputs larger than twice tile_margin (build the '
                         'model with keras.Input((None, None, 1)) to take any tile size)')


def _check_model_file(path):
    """Raise a ValueError saying why ``path`` is not a model file asidl can load."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f'model path {path} is a directory, not a model file; give a .keras or '
                         'Keras 2 .h5 file')
    suffix = path.suffix.lower()
    if suffix not in _MODEL_SUFFIXES:
        raise ValueError(f'model file {path} has the suffix {suffix or "(none)"!r}; asidl loads '
                         '.keras and Keras 2 .h5 (or .hdf5) model files')
    if not path.is_file():
        raise ValueError(f'model file {path} does not exist')
    if suffix == '.keras':
        try:
            with zipfile.ZipFile(path) as archive:
                valid = 'config.json' in archive.namelist()
        except (zipfile.BadZipFile, OSError):
            valid = False
        if not valid:
            raise ValueError(f'{path} is not a valid .keras file: a .keras model is a zip '
                             'archive holding a config.json, and this file is empty, truncated '
                             'or of another kind')
    else:
        with open(path, 'rb') as fh:
            head = fh.read(8)
        if head != b'\x89HDF\r\n\x1a\n':
            raise ValueError(f'{path} is not a valid {suffix} file: it is not an HDF5 file '
                             '(empty, truncated or of another kind)')


def register_model(name, path, *, normalization='asinh', threshold=None, fwhm_range=None,
                   calibration=None, description='', overwrite=False):
    """
    Register a model file under a name, for use as
    ``UNetLoGFinder(model=name)``.

    The file is checked to load as a Keras model that the finder can run
    (see `check_model`), copied into `cache_dir` (so that later changes to
    ``path`` do not affect it), and recorded with its sha256, which is
    verified whenever it is loaded.

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
    fwhm_range : tuple of two float or None, optional
        The FWHMs, in pixels, over which the model finds stars best (those
        it was trained for); images with broader stars are block-summed into
        it (see `asidl.resample`).  `None` uses that of the bundled models.
    calibration : `~asidl.calibration.ConfidenceCalibration` or None, optional
        The map from the network's probability to the ``confidence``
        column, e.g. fitted with
        `~asidl.calibration.ConfidenceCalibration.fit` on simulated frames
        (``benchmarks/calibration.py`` shows how); `None` reports the
        network's probability.
    description : str, optional
        Free text shown by `model_info`.
    overwrite : bool, optional
        Replace an existing user model of that name.

    Returns
    -------
    path : `~pathlib.Path`
        Where the registered copy lives.

    Raises
    ------
    ValueError
        An invalid argument, a file that is not a model the finder can
        run, a name already registered, or a user registry that cannot be
        read (it is never overwritten then).
    """
    import shutil

    from .io import _atomic_write
    from .normalize import NORMALIZATIONS

    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name) \
            or name.lower().endswith(_MODEL_SUFFIXES):
        raise ValueError('model name must be a non-empty string of letters, digits, '
                         f"'-', '_' and '.' not ending in a file suffix; got {name!r}")
    if name in _package_entries():
        raise ValueError(f'{name!r} is one of the package\'s own models; choose another name')
    if normalization not in NORMALIZATIONS:
        raise ValueError(f'normalization must be one of {NORMALIZATIONS}, got {normalization!r}')
    if threshold is not None and not _positive_finite(threshold):
        raise ValueError(f'threshold must be a positive number or None, got {threshold!r}')
    if fwhm_range is not None and not _fwhm_range_ok(fwhm_range):
        raise ValueError('fwhm_range must be two positive numbers (pixels), the smaller first, '
                         f'or None; got {fwhm_range!r}')
    if calibration is not None and not isinstance(calibration, ConfidenceCalibration):
        raise TypeError('calibration must be a ConfidenceCalibration or None, got '
                        f'{type(calibration).__name__}')
    if not isinstance(description, str):
        raise TypeError(f'description must be a string, got {type(description).__name__}')
    user = _stored_user_entries()
    if name in user and not overwrite:
        raise ValueError(f'a user model named {name!r} is already registered; pass '
                         'overwrite=True to replace it')
    source = Path(path).expanduser()
    _check_model_file(source)
    model = _load_file(str(source.resolve()), source.stat().st_mtime)
    try:
        check_model(model)
    except ValueError as exc:
        raise ValueError(f'{source}: {exc}') from None

    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f'cannot create the model cache directory {directory}{_cache_note()}: '
                      f'{exc}') from None
    target = directory / f'{name}{source.suffix.lower()}'
    _atomic_write(target, lambda tmp: shutil.copyfile(source, tmp), overwrite=True)
    old = user.get(name)
    user[name] = {'file': target.name, 'sha256': file_sha256(target),
                  'normalization': normalization, 'description': description}
    if threshold is not None:
        user[name]['threshold'] = float(threshold)
    if fwhm_range is not None:
        user[name]['fwhm_range'] = [float(v) for v in fwhm_range]
    if calibration is not None:
        user[name]['calibration'] = calibration.to_dict()
    _write_user_entries(user)
    if isinstance(old, dict) and old.get('file') != target.name \
            and _file_problem(old.get('file')) is None:
        _confined(directory, old['file'], name).unlink(missing_ok=True)
    return target


def unregister_model(name):
    """
    Remove a model added with `register_model`, and its copied file.

    Only a file inside the cache directory is ever deleted: an entry that
    names anything else is removed from the registry with a warning, and
    the file is left alone.
    """
    user = _stored_user_entries()
    if name not in user:
        raise ValueError(f'{name!r} is not a user-registered model; user models are: '
                         f'{", ".join(sorted(map(str, user))) or "none"}')
    entry = user.pop(name)
    _write_user_entries(user)
    file = entry.get('file') if isinstance(entry, dict) else None
    problem = _file_problem(file)
    if problem is None:
        try:
            path = _confined(cache_dir(), file, name)
        except ValueError as exc:
            problem = str(exc)
    if problem is not None:
        warnings.warn(f'removed the user model {name!r} from the registry but deleted no file: '
                      f'{problem}', AstropyUserWarning)
        return
    path.unlink(missing_ok=True)


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
    if file_sha256(path) != expected.lower():
        raise ValueError(f'the file of model {name!r} at {path} does not match its registered '
                         f'sha256 {expected}; it is corrupt or a different file. Delete it '
                         'so that it is downloaded again, or replace it with the right file.')


def _confined(directory, file, name, suffixes=_MODEL_SUFFIXES):
    """``directory / file``, refusing anything that resolves outside ``directory``."""
    problem = _file_problem(file, suffixes)
    if problem is None:
        root = Path(directory).resolve()
        path = Path(directory) / file
        if path.resolve().parent != root:
            problem = f'its file {file!r} resolves to {path.resolve()}, outside {root}'
    if problem is not None:
        where = ('the package' if Path(directory) == _MODEL_DIR
                 else f'the cache directory{_cache_note()}')
        raise ValueError(f'refusing to use the file of model {name!r}: {problem}; model files '
                         f'are read only from {where}')
    return path


def model_path(name, *, entries=None):
    """
    Local path of a registered model, downloading it if needed.

    Only files inside the cache directory (for bundled models, inside the
    package) are used, and each is checked against its registered sha256.

    Parameters
    ----------
    name : str
        Registered model name.
    entries : dict, optional
        A registry to use instead of the package's (for testing and for
        users who keep their own).  Its entries are downloads (``file``,
        ``sha256``, ``url``) or, with ``"user": true``, files already in
        the cache; they cannot be bundled.

    Returns
    -------
    path : `~pathlib.Path`

    Raises
    ------
    ValueError
        Unknown name, an entry without a valid sha256 or whose file is
        outside the cache directory, or a file whose hash does not match.
    ModelDownloadError
        The file is not cached and cannot be downloaded (e.g. offline).
    """
    if entries is None:
        entry = model_info(name)
        from_package = name in _package_entries()
    elif name in entries:
        entry = entries[name]
        from_package = False
    else:
        raise ValueError(f'unknown model {name!r}; registered models are: '
                         f'{", ".join(sorted(entries))}')
    if not isinstance(entry, dict):
        raise ValueError(f'the registry entry of model {name!r} is not an object: {entry!r}')
    sha = entry.get('sha256')
    if entry.get('bundled'):
        if not from_package:
            raise ValueError(f'model {name!r} claims to be bundled, but bundled models exist '
                             'only in the package registry')
        path = _confined(_MODEL_DIR, entry.get('file'), name)
        if sha is not None:
            _check_hash(path, sha, name)
        return path
    directory = cache_dir()
    path = _confined(directory, entry.get('file'), name)
    if not _is_sha256(sha):
        url = entry.get('url')
        source = f' from {url}' if url else ''
        raise ValueError(
            f'model {name!r} has no pinned sha256 in its registry entry (got {sha!r}), so asidl '
            f'neither downloads nor loads it: its file could not be verified. Download it'
            f'{source} yourself, check it, and register it with '
            f"asidl.registry.register_model('{name}-local', PATH, "
            f"normalization={entry.get('normalization', 'asinh')!r}); or pass the file's "
            'path as model=.')
    if entry.get('user'):
        if not path.exists():
            raise ValueError(f'the file of user model {name!r} is missing from {path}'
                             f'{_cache_note()}; register it again with '
                             'asidl.registry.register_model')
        _check_hash(path, sha, name)
        return path

    import pooch

    if path.exists():
        _check_hash(path, sha, name)
        return path
    url = entry.get('url')
    if not isinstance(url, str) or not url.startswith(('https://', 'http://')):
        raise ValueError(f'model {name!r} is not in the cache{_cache_note()} and its registry '
                         f'entry has no download URL (url: {url!r})')
    try:
        fetched = pooch.retrieve(url, known_hash=f'sha256:{sha}', fname=path.name,
                                 path=directory, progressbar=False)
    except ValueError as exc:   # pooch's hash mismatch
        raise ValueError(f'the download of model {name!r} from {url} does not match '
                         f'its registered sha256 {sha}: {exc}') from None
    except Exception as exc:    # connection refused, DNS failure, HTTP error ...
        raise ModelDownloadError(
            f'model {name!r} is not in the cache and could not be downloaded from '
            f'{url}: {exc.__class__.__name__}: {exc}. On a machine without network '
            f'access, download that file elsewhere and place it by hand at {path} (sha256 '
            f'{sha}), or point the ASIDL_DATA_DIR environment variable at a directory holding '
            f'it{_cache_note()}.'
        ) from None
    return Path(fetched)


#: Suffixes of the two files of an OpenVINO IR.
_IR_SUFFIXES = ('.xml', '.bin')


def openvino_files(name):
    """
    The OpenVINO IR (``.xml``, ``.bin``) shipped beside a bundled model.

    The files are read only from the package and each is checked against
    the sha256 its registry entry records under ``"openvino"``, which also
    records the sha256 of the ``.keras`` file the IR was converted from
    (``source_sha256``): it must be the model's.

    Parameters
    ----------
    name : str
        Registered model name.

    Returns
    -------
    files : tuple of two `~pathlib.Path`, or None
        None if the model is not bundled or has no IR in the registry.

    Raises
    ------
    ValueError
        Unknown name, a malformed ``"openvino"`` entry, an IR converted from
        another ``.keras`` file, or a file that is missing or does not match
        its sha256.
    """
    entry = model_info(name)
    ir = entry.get('openvino')
    if not entry.get('bundled') or name not in _package_entries() or ir is None:
        return None
    if not isinstance(ir, dict):
        raise ValueError(f'the "openvino" entry of model {name!r} is not an object: {ir!r}')
    if ir.get('source_sha256') != entry.get('sha256'):
        # The .keras file changed and the IR was not regenerated: it would
        # silently run the old network.
        raise ValueError(f'the OpenVINO IR of model {name!r} was converted from another '
                         f'.keras file (sha256 {ir.get("source_sha256")!r}, the model\'s is '
                         f'{entry.get("sha256")!r}); regenerate it with '
                         'python -m asidl.training.export --openvino')
    files = []
    for key, suffix in zip(('xml', 'bin'), _IR_SUFFIXES):
        path = _confined(_MODEL_DIR, ir.get(key), name, suffixes=(suffix,))
        sha = ir.get(f'{key}_sha256')
        if not _is_sha256(sha):
            raise ValueError(f'the OpenVINO {key} file of model {name!r} has no valid sha256 '
                             f'in the registry (got {sha!r})')
        if not path.is_file():
            raise ValueError(f'the OpenVINO {key} file of model {name!r} is missing from {path}')
        if file_sha256(path) != sha.lower():
            raise ValueError(f'the OpenVINO {key} file of model {name!r} at {path} does not '
                             f'match its registered sha256 {sha}; it is corrupt or a different '
                             'file')
        files.append(path)
    return tuple(files)


@functools.lru_cache(maxsize=8)
def _load_file(path, mtime):
    import keras

    _check_model_file(path)
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

    Raises
    ------
    ValueError
        An unknown name; a path that is a directory, has another suffix,
        does not exist or is not a valid model file.
    TypeError
        Anything else.
    """
    if isinstance(model, (str, os.PathLike)):
        text = os.fspath(model)
        entries = registry_entries()
        if text in entries:
            path = model_path(text)
            return (_load_file(str(path), path.stat().st_mtime), text,
                    entries[text].get('normalization'))
        path = Path(text).expanduser()
        if path.suffix.lower() in _MODEL_SUFFIXES or path.exists():
            _check_model_file(path)
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
