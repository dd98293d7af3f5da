# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Overlay PNGs: an image with a circle around each source of its catalog.
"""

from pathlib import Path

from ..visualization import overlay_png
from .atomic import write_bytes

__all__ = ['write_overlay']


def write_overlay(data, catalog, path, *, title=None, overwrite=False):
    """
    Write a PNG of the image (zscale) with a red circle per source, atomically.

    The picture is `asidl.visualization.overlay_png`'s.

    Parameters
    ----------
    data : 2D array_like or `~astropy.nddata.NDData`
    catalog : `~astropy.table.Table` or None
    path : str or path-like
    title : str, optional
    overwrite : bool, optional

    Returns
    -------
    path : `~pathlib.Path`
    """
    return write_bytes(Path(path), overlay_png(data, catalog, title=title), overwrite=overwrite)
