# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Catalog tables in the form of photutils' star finders.

photutils 3 renamed the columns of its star finders (``xcentroid``
became ``x_centroid``, ``npix`` became ``n_pixels``, ...).  Until
photutils 4.0 their tables still answer to the old names, with an
`~astropy.utils.exceptions.AstropyDeprecationWarning`, unless
``photutils.future_column_names`` is set (or inside
`photutils.use_future_column_names`), when they are plain
`~astropy.table.QTable` objects.  `catalog_table` makes asidl's tables with
photutils' own table factory and name map, so that they behave exactly
as DAOStarFinder's.

`dao_shape_columns` measures DAOStarFinder's ``sharpness``,
``roundness1``, ``roundness2`` and ``n_pixels`` at given positions with
DAOStarFinder's own catalog (its ``xycoords`` path).
"""

import numpy as np
from photutils.detection import DAOStarFinder

# photutils' star-finder tables are made by these two (private) names;
# using them, rather than copies, keeps the old-name map, the warning
# and the future_column_names switch those of photutils.
from photutils.detection.core import _DEPRECATED_ATTRIBUTES
from photutils.utils._deprecation import create_empty_deprecated_qtable

__all__ = ['SHAPE_COLUMNS', 'catalog_table', 'dao_shape_columns']

#: DAOStarFinder's shape columns, in its order.
SHAPE_COLUMNS = ('sharpness', 'roundness1', 'roundness2', 'n_pixels')


def catalog_table():
    """
    An empty catalog table, to be filled column by column, made as
    photutils' star finders make theirs.

    Returns
    -------
    table : `~astropy.table.QTable`
        A ``photutils.utils._deprecation.DeprecatedColumnQTable`` that
        maps photutils' old column names (``xcentroid``, ``ycentroid``,
        ``npix``, ...) to the new ones with a deprecation warning, or a
        plain `~astropy.table.QTable` when
        ``photutils.future_column_names`` is in effect.

    Examples
    --------
    >>> import photutils
    >>> from asidl.catalog import catalog_table
    >>> type(catalog_table()).__name__
    'DeprecatedColumnQTable'
    >>> with photutils.use_future_column_names():
    ...     type(catalog_table()).__name__
    'QTable'
    """
    # The arguments of photutils.detection.core.StarFinderCatalogBase.to_table.
    return create_empty_deprecated_qtable(_DEPRECATED_ATTRIBUTES, since='3.0', until='4.0')


def dao_shape_columns(data, x, y, fwhm):
    """
    DAOStarFinder's shape statistics of the sources at ``(x, y)``.

    The statistics are those of `~photutils.detection.DAOStarFinder`,
    computed by its own catalog with its circular Gaussian kernel of the
    given FWHM (``ratio=1``, ``sigma_radius=1.5``), around the pixel
    nearest each position (as DAOStarFinder does around its peak pixels).

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        The background-subtracted image, finite everywhere (masked pixels
        set to zero).  The statistics do not depend on the units or scale
        of the data.
    x, y : 1D array_like
        Positions of the sources, in pixels.
    fwhm : float or None
        FWHM of the kernel in pixels.  `None` (the FWHM is not known)
        gives NaN statistics and ``n_pixels`` of zero.

    Returns
    -------
    columns : dict
        ``sharpness``, ``roundness1``, ``roundness2`` (floats, NaN where
        DAOStarFinder's marginal fits fail; DAOStarFinder drops such
        sources) and ``n_pixels`` (the size of the kernel array), one
        value per source, keyed by name in `SHAPE_COLUMNS` order.

    Examples
    --------
    A round star and one extended along x (negative roundness):

    >>> import numpy as np
    >>> from astropy.modeling.models import Gaussian2D
    >>> from asidl.catalog import dao_shape_columns
    >>> yy, xx = np.mgrid[:25, :25]
    >>> image = (Gaussian2D(100, 12, 12, 1.2, 1.2)(xx, yy)
    ...          + Gaussian2D(100, 5, 5, 2.0, 1.0)(xx, yy))
    >>> columns = dao_shape_columns(image, [12, 5], [12, 5], fwhm=2.8)
    >>> columns['roundness2'].round(2) + 0
    array([ 0., -1.])
    >>> columns['sharpness'].round(2), columns['n_pixels']
    (array([0.52, 0.54]), array([25, 25]))
    """
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if fwhm is None or x.size == 0:
        nan = np.full(x.size, np.nan)
        return {'sharpness': nan, 'roundness1': nan.copy(), 'roundness2': nan.copy(),
                'n_pixels': np.zeros(x.size, dtype=int)}
    # With xycoords, DAOStarFinder skips its own search; the threshold
    # enters only daofind_mag and the filters, neither of which is used.
    dao = DAOStarFinder(threshold=1.0, fwhm=float(fwhm), xycoords=np.column_stack((x, y)))
    catalog = dao._get_raw_catalog(np.asarray(data, dtype=float))
    return {name: np.asarray(getattr(catalog, name)) for name in SHAPE_COLUMNS}
