# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
DS9 region files with a circle around each source of a catalog.
"""

from pathlib import Path

import astropy.units as u
import numpy as np

from ..constants import REGION_RADIUS
from ..utils import source_positions
from .atomic import write_bytes

__all__ = ['REGION_HEADER', 'regions_text', 'write_regions']

#: First line of the DS9 region files that `regions_text` makes.
REGION_HEADER = '# Region file format: DS9'


def regions_text(catalog, *, radius=REGION_RADIUS, coordinates='image', wcs=None):
    """
    DS9 region text with a circle per source; the content of the files
    `write_regions` writes (see there for the parameters).

    Returns
    -------
    text : str
        Starting with `REGION_HEADER`.
    """
    from astropy.coordinates import SkyCoord
    from regions import CirclePixelRegion, CircleSkyRegion, PixCoord, Regions

    radius = float(radius)
    if not radius > 0:
        raise ValueError(f'radius must be a positive number of pixels, got {radius!r}')
    x, y = source_positions(catalog)
    if coordinates == 'image':
        shapes = [CirclePixelRegion(PixCoord(xi, yi), radius=radius) for xi, yi in zip(x, y)]
    elif coordinates == 'sky':
        if 'sky_centroid' in catalog.colnames:
            sky = catalog['sky_centroid']
        elif wcs is not None:
            sky = wcs.pixel_to_world(x, y)
        else:
            raise ValueError('sky regions need a catalog with a sky_centroid column or a WCS')
        if wcs is not None:
            from astropy.wcs.utils import proj_plane_pixel_scales

            scale = float(np.mean(proj_plane_pixel_scales(wcs.celestial))) * u.deg
        else:
            scale = _pixel_scale_from_catalog(catalog)
        sky = sky.icrs
        ra, dec = sky.ra.deg, sky.dec.deg
        shapes = [
            CircleSkyRegion(
                SkyCoord(r, d, unit='deg', frame='icrs'), radius=(radius * scale).to(u.arcsec)
            )
            for r, d in zip(ra, dec)
        ]
    else:
        raise ValueError(f"coordinates must be 'image' or 'sky', got {coordinates!r}")
    return Regions(shapes).serialize(format='ds9')


def _pixel_scale_from_catalog(catalog):
    """Angular size of a pixel estimated from the catalog's own pixel and sky positions."""
    x, y = source_positions(catalog)
    sky = catalog['sky_centroid']
    if len(catalog) < 2:
        return 1.0 * u.arcsec
    i, j = 0, int(np.argmax(np.hypot(x - x[0], y - y[0])))
    pixels = np.hypot(x[j] - x[0], y[j] - y[0])
    if pixels == 0:
        return 1.0 * u.arcsec
    return (sky[i].separation(sky[j]) / pixels).to(u.arcsec)


def write_regions(
    catalog, path, *, radius=REGION_RADIUS, coordinates='image', wcs=None, overwrite=False
):
    """
    Write a DS9 region file with a circle around each source, atomically.

    Parameters
    ----------
    catalog : `~astropy.table.Table`
        With ``x_centroid``, ``y_centroid`` and, for sky coordinates,
        ``sky_centroid``.
    path : str or path-like
        Destination, conventionally ``.reg``.
    radius : float, optional
        Circle radius in pixels.
    coordinates : {'image', 'sky'}, optional
        ``'image'``: pixel circles (DS9's 1-based ``image`` system; the
        `regions` package converts from the catalog's 0-based positions).
        ``'sky'``: ICRS circles from ``sky_centroid`` (slower for large
        catalogs).
    wcs : `~astropy.wcs.WCS`, optional
        Gives the angular radius of sky circles (otherwise estimated from
        the catalog).
    overwrite : bool, optional
        Replace an existing file.

    Returns
    -------
    path : `~pathlib.Path`
    """
    text = regions_text(catalog, radius=radius, coordinates=coordinates, wcs=wcs)
    return write_bytes(Path(path), text.encode(), overwrite=overwrite)
