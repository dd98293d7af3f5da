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

`UNetLoGCatalog` is the catalog of a `~asidl.UNetLoGFinder`'s
detections, in the manner of photutils' star-finder catalogs (like
DAOStarFinder's): the detections, the image and its background go in,
every column is a cached property, and one `~UNetLoGCatalog.to_table`
makes the finder's table, with rows or without.  It is the one definition
of the finder's columns.
"""

import warnings

import numpy as np
from astropy.utils import lazyproperty

# photutils' star-finder tables are made by these two (private) names;
# using them, rather than copies, keeps the old-name map, the warning
# and the future_column_names switch those of photutils.
from photutils.detection.core import _DEPRECATED_ATTRIBUTES
from photutils.utils._deprecation import create_empty_deprecated_qtable
from photutils.utils.exceptions import NoDetectionsWarning

from .constants import MASK_RADIUS
from .peaks import Peaks
from .photometry import (
    SHAPE_COLUMNS,
    box_photometry,
    dao_shape_columns,  # noqa: F401 (its home until now)
    refine_bright,
    shape_columns,
)
from .prepare import PreparedImage

__all__ = ['UNetLoGCatalog', 'catalog_table']


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


class UNetLoGCatalog:
    """
    The catalog of the sources a `~asidl.UNetLoGFinder` detected, in the
    manner of photutils' star-finder catalogs.

    The finder hands over the peaks of the network's maps, the image and
    its background; every column is a cached property, measured on first
    use for the catalog's sources only.  Indexing (with an integer, a
    slice, an index array or a boolean mask) gives the catalog of those
    sources, with the columns already measured carried over.
    `apply_all_filters` makes the catalog of the sources the finder
    reports, and `to_table` its table.  The columns and their meaning are
    those listed in `~asidl.UNetLoGFinder.find_stars`.

    Parameters
    ----------
    image : `~asidl.prepare.PreparedImage`
        The image the peaks were found in (at its own scale).
    background : `~asidl.background.BackgroundMap` or None
        Its background; `None` only for a catalog without sources.
    peaks : `~asidl.peaks.Peaks`
        The detections, in the pixels of ``image``.
    fwhm : float or None, optional
        The FWHM of the stars in pixels, for the shape columns; `None`
        gives NaN shape statistics.
    calibration : `~asidl.calibration.ConfidenceCalibration` or None, optional
        Turns the network's probability into ``confidence``.
    shape_columns : bool, optional
        Whether the table has DAOStarFinder's shape columns.
    exclude_border : bool, optional
        Whether `apply_filters` drops sources within
        `~asidl.constants.MASK_RADIUS` pixels of the image edge.
    peak_max : float or None, optional
        Sources whose ``peak`` exceeds this, in the units of the data,
        are dropped by `apply_filters`.
    min_confidence : float or None, optional
        Sources whose ``confidence`` is below this are dropped by
        `apply_filters`.
    n_brightest : int or None, optional
        The number of sources with the largest ``flux`` that
        `select_brightest` keeps.
    meta : dict or None, optional
        The table's ``meta``.

    Examples
    --------
    A catalog without sources makes the table of an image without stars:

    >>> from asidl.catalog import UNetLoGCatalog
    >>> UNetLoGCatalog.empty(shape_columns=False).to_table().colnames
    ['id', 'x_centroid', 'y_centroid', 'confidence', 'log_response', 'background', 'peak', \
'flux', 'mag']
    """

    def __init__(
        self,
        image,
        background,
        peaks,
        *,
        fwhm=None,
        calibration=None,
        shape_columns=True,
        exclude_border=False,
        peak_max=None,
        min_confidence=None,
        n_brightest=None,
        meta=None,
    ):
        self.image = image
        self.background_map = background
        self.peaks = Peaks(*peaks)
        self.unit = image.unit
        self.fwhm = fwhm
        self.calibration = calibration
        self.exclude_border = exclude_border
        self.peak_max = peak_max
        self.min_confidence = min_confidence
        self.n_brightest = n_brightest
        self.meta = dict(meta or {})
        self.default_columns = (
            'id',
            'x_centroid',
            'y_centroid',
            *(('sky_centroid',) if image.wcs is not None else ()),
            'confidence',
            'log_response',
            *(SHAPE_COLUMNS if shape_columns else ()),
            'background',
            'peak',
            'flux',
            'mag',
        )
        self.reset_ids()

    @classmethod
    def empty(cls, *, unit=None, wcs=None, shape_columns=True, meta=None):
        """
        A catalog without sources, whose table has the columns and units
        of a finder's (``sky_centroid`` when ``wcs`` is given).
        """
        image = PreparedImage(
            data=np.zeros((0, 0), np.float32), valid=np.zeros((0, 0), bool), unit=unit, wcs=wcs
        )
        int_, float_ = np.zeros(0, dtype=int), np.zeros(0)
        peaks = Peaks(int_, int_, float_, float_, float_, float_)
        return cls(image, None, peaks, shape_columns=shape_columns, meta=meta)

    def __len__(self):
        return len(self.peaks.iy)

    def __repr__(self):
        return f'<{self.__class__.__name__}(n_sources={len(self)})>'

    def __getitem__(self, index):
        index = np.atleast_1d(np.arange(len(self))[index])
        new = object.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        new.peaks = Peaks(*(values[index] for values in self.peaks))
        new.id = self.id[index]
        for name in self._lazyproperties():
            value = self.__dict__.get(name)
            if isinstance(value, np.ndarray):  # measured: carried over
                new.__dict__[name] = value[index]
            else:
                new.__dict__.pop(name, None)
        return new

    @classmethod
    def _lazyproperties(cls):
        return [name for name in dir(cls) if isinstance(getattr(cls, name), lazyproperty)]

    def reset_ids(self):
        """Number the sources 1, 2, ... in their order."""
        self.id = np.arange(len(self)) + 1

    @lazyproperty
    def xypos(self):
        """``(n, 2)`` positions ``x, y``: the network's, bright sources refined."""
        y, x = refine_bright(self.image, self.background_map, self.peaks.y, self.peaks.x)
        return np.column_stack((x, y))

    @property
    def x_centroid(self):
        """Sub-pixel x position (0-based, pixel centres at integers)."""
        return self.xypos[:, 0]

    @property
    def y_centroid(self):
        """Sub-pixel y position (0-based, pixel centres at integers)."""
        return self.xypos[:, 1]

    @lazyproperty
    def sky_centroid(self):
        """`~astropy.coordinates.SkyCoord` of the positions (with a WCS)."""
        if len(self) == 0:
            return self.image.wcs.pixel_to_world(np.zeros(1), np.zeros(1))[:0]
        return self.image.wcs.pixel_to_world(self.x_centroid, self.y_centroid)

    @lazyproperty
    def confidence(self):
        """The network's probability at the detection, calibrated."""
        if self.calibration is None:
            return self.peaks.confidence
        return self.calibration(self.peaks.confidence)

    @property
    def log_response(self):
        """The LoG response of the probability map at the detection."""
        return self.peaks.log_response

    @lazyproperty
    def _shape(self):
        return shape_columns(
            self.image, self.background_map, self.x_centroid, self.y_centroid, self.fwhm
        )

    sharpness = property(lambda self: self._shape['sharpness'], doc="DAOFIND's SHARP.")
    roundness1 = property(lambda self: self._shape['roundness1'], doc="DAOFIND's SROUND.")
    roundness2 = property(lambda self: self._shape['roundness2'], doc="DAOFIND's GROUND.")
    n_pixels = property(lambda self: self._shape['n_pixels'], doc='Pixels of the kernel.')

    def _in_units(self, values):
        return values if self.unit is None else values * self.unit

    @lazyproperty
    def _background(self):
        if len(self) == 0:
            return np.zeros(0)
        # Levels in the input's terms (prepare_image may shift and scale the data).
        return (
            self.background_map.background_at(self.peaks.iy, self.peaks.ix) * self.image.scale
            + self.image.offset
        )

    @lazyproperty
    def _photometry(self):
        """``(n, 2)`` ``peak`` and ``flux`` in the input's terms, without unit."""
        peak, flux = box_photometry(self.image, self.background_map, self.peaks.iy, self.peaks.ix)
        return np.column_stack((peak * self.image.scale, flux * self.image.scale))

    @property
    def background(self):
        """The local background (bias + sky) that was subtracted, in data units."""
        return self._in_units(self._background)

    @property
    def peak(self):
        """Largest background-subtracted pixel in the 5x5 box, in data units."""
        return self._in_units(self._photometry[:, 0])

    @property
    def flux(self):
        """Sum of the background-subtracted 5x5 box, in data units."""
        return self._in_units(self._photometry[:, 1])

    @lazyproperty
    def mag(self):
        """``-2.5 log10(flux)``, NaN where ``flux <= 0``."""
        flux = self._photometry[:, 1]
        with np.errstate(divide='ignore', invalid='ignore'):
            return np.where(flux > 0, -2.5 * np.log10(flux), np.nan)

    def apply_filters(self):
        """
        The catalog of the sources within the border, ``peak_max`` and
        ``min_confidence`` limits.
        """
        keep = np.ones(len(self), dtype=bool)
        if self.exclude_border:
            r = MASK_RADIUS
            ny, nx = self.image.data.shape
            x, y = self.x_centroid, self.y_centroid
            keep &= (x >= r) & (x <= nx - 1 - r) & (y >= r) & (y <= ny - 1 - r)
        if self.peak_max is not None:
            keep &= self._photometry[:, 0] <= self.peak_max
        if self.min_confidence is not None:
            keep &= self.confidence >= self.min_confidence
        return self[keep]

    def select_brightest(self):
        """The catalog of the ``n_brightest`` sources of largest ``flux``."""
        if self.n_brightest is None or len(self) <= self.n_brightest:
            return self
        flux = self._photometry[:, 1]
        return self[np.argsort(-flux, kind='stable')[: self.n_brightest]]

    def apply_all_filters(self):
        """
        The catalog of the sources the finder reports: filtered, the
        brightest selected, in row-major order (as photutils' finders
        order theirs) and numbered from 1.

        Returns
        -------
        catalog : `UNetLoGCatalog` or None
            `None`, with a `~photutils.utils.exceptions.NoDetectionsWarning`,
            when no source is left.
        """
        catalog = self.apply_filters().select_brightest()
        if len(catalog) == 0:
            warnings.warn('No sources were found.', NoDetectionsWarning)
            return None
        catalog = catalog[np.lexsort((catalog.peaks.ix, catalog.peaks.iy))]
        catalog.reset_ids()
        return catalog

    def to_table(self, *, columns=None):
        """
        The catalog as a table, as photutils' finders make theirs.

        Parameters
        ----------
        columns : list of str or None, optional
            The columns; `None` for ``default_columns``, those of the
            finder's tables.

        Returns
        -------
        table : `~astropy.table.QTable`
            Made by `catalog_table`, with ``meta``.
        """
        table = catalog_table()
        for name in self.default_columns if columns is None else columns:
            table[name] = getattr(self, name)
        table.meta.update(self.meta)
        return table
