# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``python -m asidl.datasets``: write the bundled example frame and its truth catalog again."""

from .example import write_example_frame

__all__ = []

if __name__ == '__main__':
    for path in write_example_frame():
        print(f'wrote {path}')
