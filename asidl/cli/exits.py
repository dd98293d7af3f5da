# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
How ``asidl find`` and ``asidl batch`` end: the messages and exit statuses
of invalid arguments (2) and of SIGINT or SIGTERM (128 + the signal),
which unwind like `KeyboardInterrupt` so that Dask clusters close.
"""

import signal
import sys
import threading

__all__ = ['Interrupted', 'SignalsInterrupt', 'fail', 'interrupted']


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived; unwinds like KeyboardInterrupt so clusters close."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


class SignalsInterrupt:
    """Turn SIGINT and SIGTERM into `Interrupted` while the block runs (main thread only)."""

    def __enter__(self):
        self._saved = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._saved[signum] = signal.signal(signum, _raise_interrupted)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        return False


def fail(command, message):
    """Report invalid arguments of ``asidl command`` on stderr; returns the exit status, 2."""
    print(f'asidl {command}: error: {message}', file=sys.stderr)
    return 2


def interrupted(command, exc, result_note=''):
    """
    Report that ``asidl command`` was interrupted by the signal of ``exc``
    (an `Interrupted`); returns the exit status, 128 + the signal number.
    """
    name = signal.Signals(exc.signum).name
    print(
        f'\nasidl {command}: interrupted by {name}; catalogs already written are complete, '
        f'run the same command again to resume{result_note}',
        file=sys.stderr,
    )
    return 128 + exc.signum
