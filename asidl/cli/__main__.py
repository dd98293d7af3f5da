# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``python -m asidl.cli``: the ``asidl`` command."""

import sys

from . import main

__all__ = []

if __name__ == '__main__':
    sys.exit(main())
