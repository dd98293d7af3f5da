# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Registry of pretrained models.

The registry (``asidl/data/models/registry.json``) maps a model name to
its file, the file's sha256, the normalization the model was trained with,
and either ``"bundled": true`` (the file ships inside the package and
loads with no network) or a URL.  Models that are not bundled live in the
cache directory of a `pooch` (`pooch.create` with ``env='ASIDL_DATA_DIR'``:
`pooch.os_cache` by default, or the directory named by the
``ASIDL_DATA_DIR`` environment variable), which downloads them on first use
and checks them against their sha256 on every use.  Every model that is not
bundled must have a pinned sha256: an entry without one is neither
downloaded nor loaded.

Users register their own models (for example one trained with ``asidl
train`` for their telescope) with `register_model`: the file is copied into
the cache directory and recorded, with its hash and normalization, in a
user registry there (``user_registry.json``), after which its name works
everywhere a registered name does.

Nothing read from a registry is trusted: a model's ``file`` must be a plain
file name, looked up only inside the cache directory (or, for bundled
models, inside the package), and the user registry is checked entry by
entry; one that cannot be used is ignored with a warning, and never hides
the package's own models.  Each function below reads the registry anew; a
`ModelRegistry` (one per `~asidl.UNetLoGFinder`) reads each file once.
"""

import functools
import os
from pathlib import Path

from . import constants
from ._model_files import (
    MODEL_SUFFIXES,
    PACKAGE_DIR,
    cache_dir,
    cache_note,
    check_model,
    check_sha256,
    confined,
    file_sha256,
    in_package,
    is_sha256,
    load_model_file,
    model_pooch,
    package_entries,
)
from ._user_registry import register_model, unregister_model, user_entries

__all__ = [
    'DEFAULT_MODEL',
    'ModelDownloadError',
    'MODEL_SUFFIXES',
    'ModelRegistry',
    'PACKAGE_DIR',
    'available_models',
    'cache_dir',
    'check_model',
    'file_sha256',
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


class ModelDownloadError(OSError):
    """A registered model is not in the cache and could not be downloaded."""


class ModelRegistry:
    """
    The model registry, read once.

    Its `entries` are read when first needed (the package's
    ``registry.json`` once per process, the user registry once), and every
    method answers from that reading.  `model_info`, `model_path`,
    `openvino_files` and `load_model` are these methods on a new one.

    Parameters
    ----------
    entries : dict or None, optional
        A registry to use instead of the package's and the user's, as for
        `model_path`.
    """

    def __init__(self, entries=None):
        self._given = entries

    @functools.cached_property
    def entries(self):
        """dict: name -> entry, as `registry_entries` gives it (or the entries given)."""
        if self._given is not None:
            return dict(self._given)
        entries = user_entries(cache_dir())
        entries.update(package_entries())  # package names cannot be shadowed
        return entries

    def _from_package(self, name):
        return self._given is None and name in package_entries()

    def info(self, name):
        """The entry of a model; see `model_info`."""
        if name not in self.entries:
            raise ValueError(
                f'unknown model {name!r}; registered models are: '
                f'{", ".join(sorted(self.entries))} (or give a path to a '
                '.keras or .h5 file, or a keras.Model)'
            )
        entry = self.entries[name]
        if not isinstance(entry, dict):
            raise ValueError(f'the registry entry of model {name!r} is not an object: {entry!r}')
        return entry

    def path(self, name):
        """The local path of a model, downloading it if needed; see `model_path`."""
        entry = self.info(name)
        sha = entry.get('sha256')
        if entry.get('bundled'):  # read only from the package
            if not self._from_package(name):
                raise ValueError(
                    f'model {name!r} claims to be bundled, but bundled models '
                    'exist only in the package registry'
                )
            path = in_package(entry.get('file'), name)
            if sha is not None:
                check_sha256(
                    path, sha, f'the file of model {name!r}', '. Reinstall asidl to restore it.'
                )
            return path
        confined(cache_dir(), entry.get('file'), name)
        if not is_sha256(sha):
            url = entry.get('url')
            source = f' from {url}' if url else ''
            raise ValueError(
                f'model {name!r} has no pinned sha256 in its registry entry (got {sha!r}), so '
                f'asidl neither downloads nor loads it: its file could not be verified. '
                f'Download it{source} yourself, check it, and register it with '
                f"asidl.registry.register_model('{name}-local', PATH, "
                f"normalization={entry.get('normalization', 'asinh')!r}); or pass the file's "
                'path as model=.'
            )
        return self._fetch(name, entry)

    def _fetch(self, name, entry):
        """A cached file, checked by pooch against its sha256, or downloaded by pooch."""
        file, sha, url = entry['file'], entry['sha256'], entry.get('url')
        downloadable = (
            not entry.get('user')
            and isinstance(url, str)
            and url.startswith(('https://', 'http://'))
        )
        fetcher = model_pooch(
            {file: f'sha256:{sha.lower()}'}, {file: url} if downloadable else None
        )
        path = confined(fetcher.abspath, file, name)
        cached = path.exists()
        if not cached and entry.get('user'):
            raise ValueError(
                f'the file of user model {name!r} is missing from {path}'
                f'{cache_note()}; register it again with '
                'asidl.registry.register_model'
            )
        if not cached and not downloadable:
            raise ValueError(
                f'model {name!r} is not in the cache{cache_note()} and its '
                f'registry entry has no download URL (url: {url!r})'
            )
        try:
            return Path(fetcher.fetch(file))
        except ValueError as exc:  # pooch: a hash mismatch
            if cached:
                raise ValueError(
                    f'the file of model {name!r} at {path} does not match its '
                    f'registered sha256 {sha}; it is corrupt or a different file. '
                    'Delete it so that it is downloaded again, or replace it '
                    'with the right file.'
                ) from None
            raise ValueError(
                f'the download of model {name!r} from {url} does not match '
                f'its registered sha256 {sha}: {exc}'
            ) from None
        except Exception as exc:  # connection refused, DNS failure, HTTP error ...
            raise ModelDownloadError(
                f'model {name!r} is not in the cache and could not be downloaded from '
                f'{url}: {exc.__class__.__name__}: {exc}. On a machine without network '
                f'access, download that file elsewhere and place it by hand at {path} (sha256 '
                f'{sha}), or point the ASIDL_DATA_DIR environment variable at a directory '
                f'holding it{cache_note()}.'
            ) from None

    def openvino_files(self, name):
        """The OpenVINO IR of a bundled model, or None; see `openvino_files`."""
        entry = self.info(name)
        ir = entry.get('openvino')
        if not entry.get('bundled') or not self._from_package(name) or ir is None:
            return None
        if not isinstance(ir, dict):
            raise ValueError(f'the "openvino" entry of model {name!r} is not an object: {ir!r}')
        if ir.get('source_sha256') != entry.get('sha256'):
            # The .keras file changed and the IR was not regenerated: it would
            # silently run the old network.
            raise ValueError(
                f'the OpenVINO IR of model {name!r} was converted from another '
                f".keras file (sha256 {ir.get('source_sha256')!r}, the model's "
                f'is {entry.get("sha256")!r}); regenerate it with '
                'python -m asidl.training.export --openvino'
            )
        files = []
        for key, suffix in (('xml', '.xml'), ('bin', '.bin')):
            path = in_package(ir.get(key), name, suffixes=(suffix,))
            sha = ir.get(f'{key}_sha256')
            if not is_sha256(sha):
                raise ValueError(
                    f'the OpenVINO {key} file of model {name!r} has no valid '
                    f'sha256 in the registry (got {sha!r})'
                )
            if not path.is_file():
                raise ValueError(
                    f'the OpenVINO {key} file of model {name!r} is missing from {path}'
                )
            check_sha256(path, sha, f'the OpenVINO {key} file of model {name!r}')
            files.append(path)
        return tuple(files)

    def load_model(self, model=DEFAULT_MODEL):
        """A model given by name, path or object; see `load_model`."""
        if isinstance(model, (str, os.PathLike)):
            text = os.fspath(model)
            if text in self.entries:
                return (
                    load_model_file(self.path(text)),
                    text,
                    self.entries[text].get('normalization'),
                )
            path = Path(text).expanduser()
            if path.suffix.lower() in MODEL_SUFFIXES or path.exists():
                return load_model_file(path), path.name, None
            self.info(text)  # raises the unknown-name error
        try:
            import keras
        except ImportError:  # pragma: no cover
            keras = None
        if keras is not None and isinstance(model, keras.Model):
            return model, model.name, None
        raise TypeError(
            'model must be a registered model name, the path of a .keras or .h5 '
            f'file, or a keras.Model; got {type(model).__name__}'
        )


def registry_entries():
    """
    The registry as a dict of name -> entry (dict): the package's models
    and those added with `register_model`.

    User registry entries that cannot be used (a file outside the cache
    directory, no sha256, a claim to be bundled, ...) are left out with an
    `~astropy.utils.exceptions.AstropyUserWarning`, as is a user registry
    that cannot be read at all; the package's models are always there.
    """
    return ModelRegistry().entries


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
    return ModelRegistry().info(name)


def model_path(name, *, entries=None):
    """
    Local path of a registered model, downloading it if needed.

    Only files inside the cache directory (for bundled models, inside the
    package) are used, and each is checked against its registered sha256:
    by `pooch` for the cache, whose `pooch.Pooch.fetch` also downloads.

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
    return ModelRegistry(entries).path(name)


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
    return ModelRegistry().openvino_files(name)


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
    return ModelRegistry().load_model(model)
