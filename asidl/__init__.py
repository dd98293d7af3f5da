# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
asidl: AutoSourceID-Light, a U-Net + Laplacian-of-Gaussian star finder
with the interface of photutils' star finders.
"""

try:
    from ._version import version as __version__
except ImportError:  # pragma: no cover - running from a source tree without a build
    __version__ = '0.0.0.dev'

__all__ = ['UNetLoGFinder', 'find_stars_in_files', '__version__']

#: The public names and the modules that define them.  They are imported
#: on first use (PEP 562), so that ``import asidl`` and the command line's
#: ``--help`` do not pay for photutils, astropy.wcs and OpenVINO.
_LAZY = {'UNetLoGFinder': 'finder', 'find_stars_in_files': 'pipeline'}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f'.{_LAZY[name]}', __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(set(globals()) | set(__all__))
