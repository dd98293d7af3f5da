# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Catalog files: their names and formats, the empty catalog of an image
without detections, and writing them atomically (`asidl.io.atomic`).
"""

import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.nddata import NDData

from .atomic import atomic_write

__all__ = ['CATALOG_FORMATS', 'catalog_format', 'catalog_stem', 'empty_catalog', 'write_catalog']

#: Catalog file suffixes and the astropy table format each is written in.
CATALOG_FORMATS = {
    '.ecsv': 'ascii.ecsv',
    '.fits': 'fits',
    '.fit': 'fits',
    '.fts': 'fits',
    '.csv': 'ascii.csv',
}

#: Suffixes removed from an image file name to name its catalog.
_IMAGE_SUFFIXES = ('.fits', '.fit', '.fts')
_COMPRESSION_SUFFIXES = ('.gz', '.bz2', '.fz', '.xz')


def catalog_stem(path):
    """
    The name of an image file without its FITS suffix, to name its catalog.

    A compressed image keeps its compression suffix, so that the catalogs
    of ``frame.fits.fz`` and ``frame.fits`` never share a name, and a FITS
    catalog of ``frame.fits.gz`` is never named ``frame.fits``.

    >>> from asidl.io import catalog_stem
    >>> catalog_stem('night/frame_0042.fits')
    'frame_0042'
    >>> catalog_stem('night/frame_0042.fits.fz')
    'frame_0042.fz'
    """
    name = Path(path).name
    compression = ''
    for suffix in _COMPRESSION_SUFFIXES:
        if name.lower().endswith(suffix):
            name, compression = name[: -len(suffix)], name[-len(suffix) :]
            break
    for suffix in _IMAGE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] + compression
    return name + compression


def catalog_format(path):
    """
    The astropy table format of a catalog file, from its suffix.

    Raises
    ------
    ValueError
        A suffix that is not in `CATALOG_FORMATS`.

    Examples
    --------
    >>> from asidl.io import catalog_format
    >>> catalog_format('cats/frame.fits')
    'fits'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in CATALOG_FORMATS:
        raise ValueError(
            f'cannot tell the catalog format of {path}: the suffix must be one of '
            f'{", ".join(CATALOG_FORMATS)}'
        )
    return CATALOG_FORMATS[suffix]


def empty_catalog(finder, image):
    """
    A catalog with no rows and the columns, units and meta that ``finder``
    gives for ``image``, for images without detections.

    Parameters
    ----------
    finder : `~asidl.UNetLoGFinder`
    image : `~astropy.nddata.NDData`, `~astropy.units.Quantity` or array

    Returns
    -------
    table : `~astropy.table.QTable`
        Of the class the finder's tables have (`asidl.catalog.catalog_table`),
        made by `asidl.catalog.UNetLoGCatalog.empty`.
    """
    from ..catalog import UNetLoGCatalog

    wcs = getattr(image, 'wcs', None) if isinstance(image, NDData) else None
    if wcs is not None:
        try:
            wcs.pixel_to_world(np.zeros(1), np.zeros(1))
        except Exception:  # an unusable WCS: prepare_image has warned
            wcs = None
    return UNetLoGCatalog.empty(
        unit=getattr(image, 'unit', None),
        wcs=wcs,
        shape_columns=finder.shape_columns,
        meta=finder.meta,
    ).to_table()


def _for_csv(table):
    """A copy of ``table`` with ``sky_centroid`` replaced by ``ra``, ``dec`` in degrees (ICRS)."""
    from astropy.coordinates import SkyCoord

    out = table.copy(copy_data=False)
    for name in [n for n in out.colnames if isinstance(out[n], SkyCoord)]:
        sky = out[name]
        try:
            lon, lat = sky.icrs.ra.deg, sky.icrs.dec.deg
            names = ('ra', 'dec')
        except Exception:  # a frame that cannot be transformed to ICRS
            lon, lat = sky.spherical.lon.deg, sky.spherical.lat.deg
            names = ('lon', 'lat')
        index = out.colnames.index(name)
        out.remove_column(name)
        out.add_column(lat, name=names[1], index=index)
        out.add_column(lon, name=names[0], index=index)
    return out


def write_catalog(table, path, *, overwrite=False):
    """
    Write a catalog atomically, in the format its suffix names.

    Parameters
    ----------
    table : `~astropy.table.Table` or `~astropy.table.QTable`
        A catalog, e.g. from `~asidl.UNetLoGFinder`.
    path : str or path-like
        Destination: ``.ecsv`` (ECSV, keeps units, ``meta`` and
        ``sky_centroid``), ``.fits``, ``.fit`` or ``.fts`` (FITS binary
        table, likewise) or ``.csv`` (plain CSV without units or meta;
        ``sky_centroid`` becomes ``ra`` and ``dec`` columns in ICRS
        degrees).
    overwrite : bool, optional
        Replace an existing file.

    Returns
    -------
    path : `~pathlib.Path`

    Raises
    ------
    ValueError
        Unknown suffix.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.

    Notes
    -----
    The table is written to a temporary file beside ``path`` that is then
    renamed, so readers see either the old file or the complete new one.
    """
    path = Path(path)
    fmt = catalog_format(path)
    if fmt == 'ascii.csv':
        table = _for_csv(table)

    def write(tmp):
        with warnings.catch_warnings():
            # Long meta keys become HIERARCH cards, which is fine.
            warnings.simplefilter('ignore', fits.verify.VerifyWarning)
            table.write(tmp, format=fmt)

    return atomic_write(path, write, overwrite=overwrite)
