# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
asidl: AutoSourceID-Light, a U-Net + Laplacian-of-Gaussian star finder
with the interface of photutils' star finders.
"""

try:
    from ._version import version as __version__
except ImportError:  # pragma: no cover - running from a source tree without a build
    __version__ = '0.0.0.dev'

from .batch import find_stars_in_files  # noqa: E402
from .finder import UNetLoGFinder  # noqa: E402

__all__ = ['UNetLoGFinder', 'find_stars_in_files', '__version__']
