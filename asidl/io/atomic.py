# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Atomic file writing: to a temporary name in the destination directory,
flushed to disk, then renamed over the destination, so that a crash or an
interrupted run never leaves a half-written file, and readers see either
the old file or the complete new one.
"""

import glob
import os
import secrets
from pathlib import Path

__all__ = ['TEMPORARY_SUFFIX', 'atomic_write', 'remove_stale_temporaries', 'write_bytes']

#: Suffix of the temporary files that `atomic_write` renames when complete.
TEMPORARY_SUFFIX = '.asidl-tmp'


def _temporary_path(path):
    return path.with_name(f'.{path.name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}')


def remove_stale_temporaries(path):
    """
    Delete the temporary files that an interrupted `atomic_write` of
    ``path`` left behind (a killed process cannot clean up after itself).

    Parameters
    ----------
    path : str or path-like
        The destination whose temporaries to remove; missing ones are fine.
    """
    path = Path(path)
    for stale in path.parent.glob(f'.{glob.escape(path.name)}.*{TEMPORARY_SUFFIX}'):
        try:
            stale.unlink()
        except OSError:
            pass


def atomic_write(path, write, *, overwrite):
    """
    Write a file atomically: call ``write(temporary_path)``, flush the file
    to disk and rename it to ``path``; remove the temporary file if
    anything fails.

    Parameters
    ----------
    path : str or path-like
        Destination; its directory must exist.
    write : callable
        ``write(temporary_path)`` writes the content to the
        `~pathlib.Path` it is given.
    overwrite : bool
        Whether an existing file may be replaced.

    Returns
    -------
    path : `~pathlib.Path`
        The file written.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is not set.
    FileNotFoundError
        The directory of ``path`` does not exist.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f'{path} exists; pass overwrite=True (--overwrite) to replace it')
    if not path.parent.is_dir():
        raise FileNotFoundError(f'cannot write {path}: directory {path.parent} does not exist')
    tmp = _temporary_path(path)
    try:
        write(tmp)
        with open(tmp, 'rb+') as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    _fsync_directory(path.parent)
    return path


def _fsync_directory(directory):
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path, content, *, overwrite):
    """
    Write ``content`` (`bytes`) to ``path`` atomically (see `atomic_write`).

    Returns
    -------
    path : `~pathlib.Path`
    """

    def write(tmp):
        with open(tmp, 'wb') as fh:
            fh.write(content)

    return atomic_write(path, write, overwrite=overwrite)
