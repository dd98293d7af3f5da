# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The user model registry: ``user_registry.json`` in the cache directory.

`register_model` copies a model file into the cache directory and records
it there, with its hash and normalization; `unregister_model` removes both.
Nothing read from the file is trusted: each entry is checked
(`entry_problem`), and the entries that cannot be used, or the whole file
when it cannot be read, are ignored with one warning.  This module is
private; `asidl.registry` re-exports `register_model` and
`unregister_model`.
"""

import json
import numbers
import re
import warnings
from pathlib import Path

from astropy.utils.exceptions import AstropyUserWarning

from ._model_files import (
    MODEL_SUFFIXES,
    cache_dir,
    cache_note,
    check_model,
    confined,
    file_problem,
    file_sha256,
    is_sha256,
    load_model_file,
    package_entries,
)
from .calibration import ConfidenceCalibration

__all__ = [
    'USER_REGISTRY',
    'entry_problem',
    'read_user_registry',
    'register_model',
    'unregister_model',
    'user_entries',
]

#: File name of the user registry, inside the cache directory.
USER_REGISTRY = 'user_registry.json'

_NAME_PATTERN = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]*')

#: Problems of user registries already reported in this process.
_WARNED = set()


def entry_problem(name, entry):
    """Why a user registry entry cannot be used, or None if it can."""
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        return 'the name must be letters, digits, "-", "_" and "."'
    if not isinstance(entry, dict):
        return f'the entry must be an object, not {type(entry).__name__}'
    if 'bundled' in entry:
        return 'it claims to be bundled, but bundled models exist only in the package registry'
    problem = file_problem(entry.get('file'))
    if problem:
        return problem
    if not is_sha256(entry.get('sha256')):
        return f'its sha256 must be 64 hexadecimal digits, got {entry.get("sha256")!r}'
    return _settings_problem(entry)


def _settings_problem(entry):
    """Why the finder settings of an entry (normalization, threshold, ...) are unusable."""
    from .normalize import NORMALIZATIONS

    if entry.get('normalization') not in NORMALIZATIONS:
        return (
            f'its normalization must be one of {NORMALIZATIONS}, got {entry.get("normalization")!r}'
        )
    threshold = entry.get('threshold')
    if threshold is not None and not _positive_finite(threshold):
        return f'its threshold must be a positive number, got {threshold!r}'
    fwhm_range = entry.get('fwhm_range')
    if fwhm_range is not None and not (
        isinstance(fwhm_range, (list, tuple))
        and len(fwhm_range) == 2
        and all(_positive_finite(v) for v in fwhm_range)
        and fwhm_range[0] < fwhm_range[1]
    ):
        return (
            f'its fwhm_range must be two increasing positive numbers (pixels), got {fwhm_range!r}'
        )
    if not isinstance(entry.get('description', ''), str):
        return 'its description must be a string'
    if entry.get('calibration') is not None:
        try:
            ConfidenceCalibration.from_dict(entry['calibration'])
        except ValueError as exc:
            return f'its calibration is unusable: {exc}'
    return None


def _positive_finite(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and bool(0 < value < float('inf'))
    )


def read_user_registry(path):
    """
    ``(stored, usable, problems)`` of the user registry at ``path``, read
    once: the object stored (None if the file is not a JSON object), the
    entries that can be used, and why the file or each other entry cannot.
    A file that does not exist is an empty registry.
    """
    try:
        stored = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}, {}, []
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, {}, [f'it cannot be read ({exc.__class__.__name__}: {exc})']
    if not isinstance(stored, dict):
        return None, {}, [f'it must hold a JSON object of name: entry, not {type(stored).__name__}']
    usable, problems = {}, []
    for name, entry in stored.items():
        problem = entry_problem(name, entry)
        if problem:
            problems.append(f'entry {name!r} is ignored: {problem}')
        else:
            usable[name] = entry
    return stored, usable, problems


def user_entries(directory):
    """
    The usable entries of the user registry in ``directory``, each flagged
    ``'user': True``; warns, once per process, about the rest.
    """
    path = Path(directory) / USER_REGISTRY
    _, usable, problems = read_user_registry(path)
    key = (str(path), tuple(problems))
    if problems and key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(
            f'the user model registry {path} is not fully usable{cache_note()}: '
            + '; '.join(problems)
            + '. Fix or delete it.',
            AstropyUserWarning,
            stacklevel=4,
        )
    return {name: {**entry, 'user': True} for name, entry in usable.items()}


def _stored_entries():
    """The user registry as stored, for changing it; raises if it cannot be read."""
    path = cache_dir() / USER_REGISTRY
    stored, _, problems = read_user_registry(path)
    if stored is None:
        raise ValueError(
            f'the user model registry {path}{cache_note()} cannot be changed: '
            f'{"; ".join(problems)}. Fix or delete it.'
        )
    return dict(stored)


def _write_entries(entries):
    from .io import atomic_write

    atomic_write(
        cache_dir() / USER_REGISTRY,
        lambda tmp: tmp.write_text(json.dumps(entries, indent=2)),
        overwrite=True,
    )


def register_model(
    name,
    path,
    *,
    normalization='asinh',
    threshold=None,
    fwhm_range=None,
    calibration=None,
    description='',
    overwrite=False,
):
    """
    Register a model file under a name, for use as
    ``UNetLoGFinder(model=name)``.

    The file is checked to load as a Keras model that the finder can run
    (see `~asidl.registry.check_model`), copied into
    `~asidl.registry.cache_dir` (so that later changes to ``path`` do not
    affect it), and recorded with its sha256, which is verified whenever it
    is loaded.

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
        Free text shown by `~asidl.registry.model_info`.
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

    from .io import atomic_write

    if (
        not isinstance(name, str)
        or not _NAME_PATTERN.fullmatch(name)
        or name.lower().endswith(MODEL_SUFFIXES)
    ):
        raise ValueError(
            'model name must be a non-empty string of letters, digits, '
            f"'-', '_' and '.' not ending in a file suffix; got {name!r}"
        )
    if name in package_entries():
        raise ValueError(f"{name!r} is one of the package's own models; choose another name")
    if calibration is not None and not isinstance(calibration, ConfidenceCalibration):
        raise TypeError(
            f'calibration must be a ConfidenceCalibration or None, got {type(calibration).__name__}'
        )
    if not isinstance(description, str):
        raise TypeError(f'description must be a string, got {type(description).__name__}')
    settings = {
        'normalization': normalization,
        'description': description,
        'threshold': threshold,
        'fwhm_range': fwhm_range,
    }
    problem = _settings_problem(settings)
    if problem:
        raise ValueError(f'cannot register model {name!r}: {problem.removeprefix("its ")}')
    user = _stored_entries()
    if name in user and not overwrite:
        raise ValueError(
            f'a user model named {name!r} is already registered; pass overwrite=True to replace it'
        )
    source = Path(path).expanduser()
    model = load_model_file(source)  # its errors name the file
    try:
        check_model(model)
    except ValueError as exc:
        raise ValueError(f'{source}: {exc}') from None

    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(
            f'cannot create the model cache directory {directory}{cache_note()}: {exc}'
        ) from None
    target = directory / f'{name}{source.suffix.lower()}'
    atomic_write(target, lambda tmp: shutil.copyfile(source, tmp), overwrite=True)
    old = user.get(name)
    user[name] = {
        'file': target.name,
        'sha256': file_sha256(target),
        'normalization': normalization,
        'description': description,
    }
    if threshold is not None:
        user[name]['threshold'] = float(threshold)
    if fwhm_range is not None:
        user[name]['fwhm_range'] = [float(v) for v in fwhm_range]
    if calibration is not None:
        user[name]['calibration'] = calibration.to_dict()
    _write_entries(user)
    if (
        isinstance(old, dict)
        and old.get('file') != target.name
        and file_problem(old.get('file')) is None
    ):
        confined(directory, old['file'], name).unlink(missing_ok=True)
    return target


def unregister_model(name):
    """
    Remove a model added with `~asidl.registry.register_model`, and its
    copied file.

    Only a file inside the cache directory is ever deleted: an entry that
    names anything else is removed from the registry with a warning, and
    the file is left alone.
    """
    user = _stored_entries()
    if name not in user:
        raise ValueError(
            f'{name!r} is not a user-registered model; user models are: '
            f'{", ".join(sorted(map(str, user))) or "none"}'
        )
    entry = user.pop(name)
    _write_entries(user)
    file = entry.get('file') if isinstance(entry, dict) else None
    problem = file_problem(file)
    if problem is None:
        try:
            path = confined(cache_dir(), file, name)
        except ValueError as exc:
            problem = str(exc)
    if problem is not None:
        warnings.warn(
            f'removed the user model {name!r} from the registry but deleted no file: {problem}',
            AstropyUserWarning,
            stacklevel=2,
        )
        return
    path.unlink(missing_ok=True)
