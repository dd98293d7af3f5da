# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`UNetLoGFinder`: a U-Net + Laplacian-of-Gaussian star finder with the
interface of `photutils.detection.DAOStarFinder`.

The class is a thin conductor of the package's steps:

    prepare_image -> background_map -> detect_in_bands (normalize,
      predict, LoG, peaks and refine_positions, band by band)
      -> photometry -> QTable
"""

import datetime
import numbers
import warnings

import astropy.units as u
import numpy as np
from photutils.detection import StarFinderBase
from photutils.utils.exceptions import NoDetectionsWarning

from .bands import Timings, detect_in_bands
from .calibration import ConfidenceCalibration
from .catalog import SHAPE_COLUMNS, catalog_table, dao_shape_columns
from .constants import (
    DEFAULT_PRECISION,
    LOG_OVERLAP,
    LOG_SIGMA,
    LOG_THRESHOLD,
    MASK_RADIUS,
    TILE_MARGIN,
    TILE_SIZE,
)
from .engine import check_precision, load_network
from .fwhm import FWHMWarning, measure_fwhm
from .localize import log_parabola_offsets, neighbourhood
from .normalize import NORMALIZATIONS, background_map, normalize
from .predict import _check_tiling, predict_maps
from .prepare import prepare_image
from .registry import DEFAULT_MODEL, ModelRegistry, check_model
from .resample import DEFAULT_FWHM_RANGE, block_factor, block_sum, to_original

__all__ = ['UNetLoGFinder']

#: Half size of the box in which ``peak`` and ``flux`` are measured.
PHOT_RADIUS = 2

#: Sources whose brightest pixel exceeds this many times the noise are
#: positioned from the image's own core (see `_refine_bright`): there the
#: data pin the centre down better than the network's offset votes.
BRIGHT_PEAK_SNR = 20.0


def _positive_number(value, name, *, finite=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f'{name} must be a positive number, got {value!r}')
    if finite and not np.isfinite(value):
        raise ValueError(f'{name} must be a finite positive number, got {value!r}')
    return float(value)


def _check_sigma(sigma, tile_size, tile_margin):
    """The LoG kernel (4 sigma in radius) must fit within half the core of a tile."""
    largest = (tile_size - 2 * tile_margin) / 8
    if sigma > largest:
        raise ValueError(f'sigma must be at most {largest:g} pixels, so that the LoG kernel (4 '
                         f'sigma in radius) fits within half the core of a tile of tile_size='
                         f'{tile_size} and tile_margin={tile_margin}; got {sigma!r}')


def _positive_int(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f'{name} must be a positive integer{" or None" if allow_none else ""}, '
                         f'got {value!r}')
    return int(value)


class UNetLoGFinder(StarFinderBase):
    """
    Find stars with a U-Net and a Laplacian of Gaussian (ASID-L).

    A U-Net trained on simulated raw frames turns the image into a map
    of the probability that each pixel belongs to a star; a single-scale
    Laplacian of Gaussian finds the blobs in that map (Stoppa et al.
    2022, A&A 662, A109), and the network's offset head places each star
    to a fraction of a pixel.  Raw frames need no background subtraction,
    flat fielding or bias correction; cosmic rays, satellite trails,
    diffraction spikes and galaxies are not reported as stars.

    The call signature and output follow
    `photutils.detection.DAOStarFinder`, so the finder can replace it in
    existing code, including as the ``finder`` of
    `photutils.psf.PSFPhotometry`.

    Parameters
    ----------
    model : str, path-like or `keras.Model`, optional
        A registered model name (see `asidl.registry.available_models`),
        the path of a ``.keras`` or Keras 2 ``.h5`` file, or a Keras
        model.  The default model ships with the package and needs no
        network.
    fwhm : float or None, optional
        The FWHM of the image's stars in pixels, as DAOStarFinder's
        ``fwhm``.  `None` measures it from the bright, isolated,
        unsaturated stars of a first pass (`asidl.fwhm.measure_fwhm`).
        Images whose stars are broader than the model's FWHM range (in
        the registry; 1.5 to 6 pixels for the shipped models) are
        block-summed so that the network sees stars at its native scale
        (`asidl.resample`); positions are mapped back to the original
        pixels and photometry uses the original data.  If the FWHM cannot
        be measured (too few bright stars), the image is searched at its
        own scale, with an `~asidl.fwhm.FWHMWarning`.
    sigma : float, optional
        Standard deviation, in pixels, of the LoG kernel; 1.43 matches the
        13-pixel training footprint (paper Sect. 4.2).
    threshold : float or None, optional
        Lowest scale-normalized LoG response of a detection, tau in the
        paper.  Lower values find fainter stars and more false positives.
        `None` uses the value the registry records for the model (tuned
        for it), else the paper's 0.2.
    overlap : float, optional
        Of two blobs overlapping by more than this fraction only the
        stronger is kept (omega in the paper), between 0 and 1.
    n_brightest : int or None, optional
        Keep only this many sources, those with the largest ``flux``.
    peak_max : float, `~astropy.units.Quantity` or None, optional
        Reject sources whose ``peak`` exceeds this value (for example to
        drop saturated stars); in the units of the data.
    exclude_border : bool, optional
        Drop sources within 2 pixels (the footprint radius) of the image
        edge.
    normalization : {'asinh', 'standardize'} or None, optional
        How raw data are scaled for the network (see
        `asidl.normalize`).  `None` uses what the registry records for
        the model, ``'asinh'`` for models given by path or object.
    tile_size : int, optional
        Largest side of the tiles given to the network, a multiple of 32;
        tiles shrink to cover the image with little padding.
    tile_margin : int, optional
        Context on each side of a tile that is predicted and discarded.
    batch_size : int or None, optional
        Tiles per network call (bounds memory on large frames); by default
        about two million pixels' worth.
    shape_columns : bool, optional
        Add DAOStarFinder's ``sharpness``, ``roundness1``,
        ``roundness2`` and ``n_pixels`` columns, measured by photutils'
        DAOStarFinder catalog at the sources' positions with a kernel of
        the given or measured FWHM (`asidl.catalog.dao_shape_columns`).
        They cost a few per cent of the run time; `False` leaves them
        out.
    band_rows : int or None, optional
        Rows of the image that are normalized, run through the network and
        searched for peaks at a time (rounded down to whole rows of tiles,
        at least one); memory grows with ``band_rows`` times the image
        width, not with the image.  `None` (default) uses one row of tiles
        (``tile_size - 2 tile_margin`` image rows).  The catalog does not
        depend on it.
    precision : {'f32', 'bf16'}, optional
        Arithmetic of the network.  The bundled models run with OpenVINO
        on the CPU, without TensorFlow; ``'f32'`` gives TensorFlow's
        probabilities to about 1e-5, ``'bf16'`` is faster on CPUs with
        bfloat16 instructions but its probabilities differ by up to a few
        hundredths (see the Speed section of the comparison in the docs).
        Models given as Keras objects or files, and downloaded or
        user-registered models, run with TensorFlow in float32 whatever
        this says.
    calibration : `~asidl.calibration.ConfidenceCalibration`, False or None, optional
        How the network's probability becomes the ``confidence`` column.
        `None` uses the calibration the registry records for the model
        (fitted on simulated frames, so that of the sources with
        confidence near p a fraction near p are stars), or none if it
        records none; `False` reports the network's probability as it is.

    See Also
    --------
    photutils.detection.DAOStarFinder, photutils.detection.IRAFStarFinder

    Examples
    --------
    >>> from asidl import UNetLoGFinder
    >>> from asidl.datasets import FrameParameters, simulate_frame
    >>> frame = simulate_frame(FrameParameters(shape=(128, 128), density=20, fwhm=4.5),
    ...                        seed=3)
    >>> finder = UNetLoGFinder(fwhm=4.5)     # too few stars here to measure it
    >>> tbl = finder(frame.data)
    >>> tbl.colnames[:3]
    ['id', 'x_centroid', 'y_centroid']
    """

    def __init__(self, *, model=DEFAULT_MODEL, sigma=LOG_SIGMA, threshold=None,
                 overlap=LOG_OVERLAP, n_brightest=None, peak_max=None, exclude_border=False,
                 normalization=None, tile_size=TILE_SIZE, tile_margin=TILE_MARGIN,
                 batch_size=None, fwhm=None, shape_columns=True, precision=DEFAULT_PRECISION,
                 calibration=None, band_rows=None):
        self.sigma = _positive_number(sigma, 'sigma')
        if threshold is not None:
            threshold = _positive_number(threshold, 'threshold')
        if isinstance(overlap, bool) or not isinstance(overlap, numbers.Real) \
                or not 0 <= overlap <= 1:
            raise ValueError(f'overlap must be a number between 0 and 1, got {overlap!r}')
        self.overlap = float(overlap)
        self.n_brightest = _positive_int(n_brightest, 'n_brightest', allow_none=True)
        if peak_max is not None and not isinstance(peak_max, u.Quantity):
            peak_max = _positive_number(peak_max, 'peak_max', finite=False)
        self.peak_max = peak_max
        if not isinstance(exclude_border, (bool, np.bool_)):
            raise TypeError(f'exclude_border must be True or False, got {exclude_border!r}')
        self.exclude_border = bool(exclude_border)
        if normalization is not None and normalization not in NORMALIZATIONS:
            raise ValueError(f'normalization must be one of {NORMALIZATIONS} or None, '
                             f'got {normalization!r}')
        _check_tiling(tile_size, tile_margin)
        self.tile_size = int(tile_size)
        self.tile_margin = int(tile_margin)
        _check_sigma(self.sigma, self.tile_size, self.tile_margin)
        self.batch_size = _positive_int(batch_size, 'batch_size', allow_none=True)
        self.band_rows = _positive_int(band_rows, 'band_rows', allow_none=True)
        #: Seconds spent in each stage of the last call (`asidl.bands.Timings`).
        self.timings = Timings()
        self.fwhm = None if fwhm is None else _positive_number(fwhm, 'fwhm')
        if not isinstance(shape_columns, (bool, np.bool_)):
            raise TypeError(f'shape_columns must be True or False, got {shape_columns!r}')
        self.shape_columns = bool(shape_columns)
        models = ModelRegistry()    # each registry file is read at most once per finder
        self.model, self.model_name, registered_norm = load_network(
            model, precision=check_precision(precision), registry=models)
        #: The engine that runs the network and its precision, as used.
        self.engine = getattr(self.model, 'engine', 'tensorflow')
        self.precision = getattr(self.model, 'precision', 'f32')
        check_model(self.model, tile_margin=self.tile_margin)
        self.normalization = normalization or registered_norm or 'asinh'
        entry = models.entries.get(model) if isinstance(model, str) else None
        if threshold is None:
            threshold = (entry or {}).get('threshold') or LOG_THRESHOLD
        self.threshold = float(threshold)
        self.fwhm_range = tuple((entry or {}).get('fwhm_range') or DEFAULT_FWHM_RANGE)
        self.calibration = _calibration(calibration, entry)

    def __repr__(self):
        params = ('model_name', 'fwhm', 'sigma', 'threshold', 'overlap', 'n_brightest',
                  'peak_max', 'exclude_border', 'normalization', 'shape_columns', 'precision')
        inner = ', '.join(f'{p}={getattr(self, p)!r}' for p in params)
        return f'{self.__class__.__name__}({inner})'

    def _peak_max_value(self, unit):
        """``peak_max`` in the data's unit, checking units agree."""
        if self.peak_max is None:
            return None
        if isinstance(self.peak_max, u.Quantity):
            if unit is None:
                raise ValueError('peak_max has a unit but data has none; give both or neither')
            try:
                return float(self.peak_max.to_value(unit))
            except u.UnitConversionError:
                raise ValueError(f'peak_max unit {self.peak_max.unit} cannot be converted to '
                                 f'the data unit {unit}') from None
        if unit is not None and unit != u.dimensionless_unscaled:
            raise ValueError(f'data has unit {unit}, so peak_max must be a Quantity in '
                             'compatible units')
        return self.peak_max

    def probability_map(self, data, *, mask=None):
        """
        The network's source probability map of an image.

        Parameters
        ----------
        data, mask
            As for `find_stars`.

        Returns
        -------
        probability : 2D `~numpy.ndarray`
            Values in [0, 1], zero at masked pixels.
        """
        image = prepare_image(data, mask)
        prob, _, _ = self._predict(image, background_map(image.data, image.valid))
        return prob

    def _predict(self, image, bkg):
        normalized = normalize(image.data, image.valid, method=self.normalization, bkg=bkg)
        prob, offsets = predict_maps(normalized, self.model, tile_size=self.tile_size,
                                     margin=self.tile_margin, batch_size=self.batch_size)
        prob[~image.valid] = 0.0
        # The normalized image is kept only for models without an offset head,
        # whose positions are refined on it.
        return prob, offsets, (normalized if offsets is None else None)

    def find_stars(self, data, *, mask=None):
        """
        Find stars in an image.

        Parameters
        ----------
        data : 2D array_like, `~astropy.units.Quantity` or `~astropy.nddata.NDData`
            The image: raw (not background subtracted) or calibrated, any
            numeric dtype.  A masked array's mask and an NDData's ``mask``,
            ``unit`` and ``wcs`` are used.  NaN and infinite pixels are
            treated as masked.  The input is not modified.
        mask : 2D bool or int array_like, optional
            Pixels to ignore (True or non-zero).

        Returns
        -------
        table : `~astropy.table.QTable` or `None`
            One row per star, or `None` (with a `NoDetectionsWarning`) if
            none is found.  As DAOStarFinder's, the table answers to
            photutils' pre-3.0 column names (``xcentroid``, ``ycentroid``,
            ``npix``) with a deprecation warning until
            ``photutils.future_column_names`` is set; then it is a plain
            `~astropy.table.QTable`.  Columns:

            * ``id``: unique source number, starting at 1.
            * ``x_centroid``, ``y_centroid``: sub-pixel position (0-based,
              pixel centres at integers).
            * ``sky_centroid``: `~astropy.coordinates.SkyCoord` of the
              position, only when the input is NDData with a WCS.
            * ``confidence``: the network's largest probability in the
              3x3 pixels around the detection, in [0, 1], calibrated
              (see ``calibration``) so that it estimates the probability
              that the source is a star.
            * ``log_response``: the scale-normalized LoG response of the
              probability map at the detection (compared with
              ``threshold``).
            * ``sharpness``, ``roundness1``, ``roundness2``, ``n_pixels``:
              DAOStarFinder's shape statistics, computed by photutils'
              DAOStarFinder catalog around the pixel nearest the position,
              with the Gaussian kernel of the FWHM in ``meta['fwhm']``
              (given or measured): ``sharpness`` (DAOFIND's SHARP),
              ``roundness1`` (SROUND, from the symmetry of the convolved
              image), ``roundness2`` (GROUND, from Gaussian fits to the
              marginal distributions) and ``n_pixels`` (the size of the
              kernel array).  A statistic is NaN where DAOStarFinder's fits
              fail (DAOStarFinder would drop the source), and all are NaN,
              with ``n_pixels`` 0, when the FWHM could not be measured.
              Only with ``shape_columns=True`` (the default).
            * ``background``: the local background level (bias + sky)
              that was subtracted, in data units.
            * ``peak``: the largest background-subtracted pixel value in
              the 5x5 box around the detection, in data units.
            * ``flux``: the sum of background-subtracted pixel values in
              that box (masked pixels excluded), in data units; an
              instrumental flux, like DAOStarFinder's.
            * ``mag``: ``-2.5 * log10(flux)``; NaN where ``flux <= 0``.

            ``meta`` records the package version, date, model and
            parameters.
        """
        self.timings = timings = Timings()
        with timings('prepare'):
            image = prepare_image(data, mask)
            peak_max = self._peak_max_value(image.unit)
            if not image.valid.any():
                warnings.warn('No sources were found: every pixel is masked or not finite.',
                              NoDetectionsWarning)
                return None
        with timings('background'):
            bkg = background_map(image.data, image.valid)
        (iy, ix, response, confidence, y, x), scale = self._detect_at_scale(image, bkg)
        with timings('photometry'):
            table = self._catalog(image, bkg, iy, ix, response, confidence, y, x, peak_max)
        if table is not None:
            with timings('catalog'):
                table = self._to_table(image, bkg, table, scale)
        return table

    def _catalog(self, image, bkg, iy, ix, response, confidence, y, x, peak_max):
        """The columns of the sources kept, in row-major order (None if none)."""
        y, x = self._refine_bright(image, bkg, y, x)

        ny, nx = image.data.shape
        keep = np.ones(iy.size, dtype=bool)
        if self.exclude_border:
            r = MASK_RADIUS
            keep &= (x >= r) & (x <= nx - 1 - r) & (y >= r) & (y <= ny - 1 - r)
        # Levels in the input's terms (prepare_image may shift and scale the data).
        background = bkg.background_at(iy, ix) * image.scale + image.offset
        peak, flux = self._photometry(image, bkg, iy, ix)
        peak, flux = peak * image.scale, flux * image.scale
        if peak_max is not None:
            keep &= peak <= peak_max
        idx = np.flatnonzero(keep)
        if self.n_brightest is not None and idx.size > self.n_brightest:
            idx = idx[np.argsort(-flux[idx], kind='stable')[:self.n_brightest]]
        if idx.size == 0:
            warnings.warn('No sources were found.', NoDetectionsWarning)
            return None
        idx = idx[np.lexsort((ix[idx], iy[idx]))]    # row-major order, as photutils
        return {'x_centroid': x[idx], 'y_centroid': y[idx], 'confidence': confidence[idx],
                'log_response': response[idx], 'background': background[idx],
                'peak': peak[idx], 'flux': flux[idx]}

    def _to_table(self, image, bkg, columns, scale):
        unit = image.unit
        x, y, flux = columns['x_centroid'], columns['y_centroid'], columns['flux']
        table = catalog_table()
        table['id'] = np.arange(1, x.size + 1)
        table['x_centroid'] = x
        table['y_centroid'] = y
        if image.wcs is not None:
            table['sky_centroid'] = image.wcs.pixel_to_world(x, y)
        table['confidence'] = (columns['confidence'] if self.calibration is None
                               else self.calibration(columns['confidence']))
        table['log_response'] = columns['log_response']
        if self.shape_columns:
            shape = self._shape_columns(image, bkg, x, y, scale['fwhm'])
            for name in SHAPE_COLUMNS:
                table[name] = shape[name]
        for name in ('background', 'peak', 'flux'):
            table[name] = columns[name] if unit is None else columns[name] * unit
        with np.errstate(divide='ignore', invalid='ignore'):
            table['mag'] = np.where(flux > 0, -2.5 * np.log10(flux), np.nan)
        table.meta.update(self._meta())
        table.meta.update(scale)
        return table

    def _detect(self, image, bkg):
        """Peak pixels, LoG responses, confidences and positions at the image's own scale."""
        return detect_in_bands(image, bkg, self.model, sigma=self.sigma,
                               threshold=self.threshold, overlap=self.overlap,
                               normalization=self.normalization, tile_size=self.tile_size,
                               margin=self.tile_margin, batch_size=self.batch_size,
                               band_rows=self.band_rows, timings=self.timings)

    def _detect_binned(self, image, factor):
        """`_detect` on the image block-summed by ``factor``, in original pixels."""
        with self.timings('resample'):
            binned = block_sum(image, factor)
            bkg = background_map(binned.data, binned.valid)
        _, _, response, confidence, y, x = self._detect(binned, bkg)
        y, x = to_original(y, factor), to_original(x, factor)
        ny, nx = image.data.shape
        iy = np.clip(np.round(y).astype(int), 0, ny - 1)
        ix = np.clip(np.round(x).astype(int), 0, nx - 1)
        keep = image.valid[iy, ix]       # a star may not sit on a masked pixel, as unbinned
        return iy[keep], ix[keep], response[keep], confidence[keep], y[keep], x[keep]

    def _detect_at_scale(self, image, bkg):
        """
        Detections at the model's native scale, and the ``meta`` that says
        how the FWHM was obtained (``fwhm_source``: given, measured or
        default) and by which factor the image was block-summed.
        """
        if self.fwhm is not None:
            factor = block_factor(self.fwhm, self.fwhm_range)
            found = self._detect(image, bkg) if factor == 1 else self._detect_binned(image, factor)
            return found, {'fwhm': self.fwhm, 'fwhm_source': 'given', 'block_size': factor}
        passes = {1: self._detect(image, bkg)}
        estimate = self._measure_fwhm(image, bkg, passes[1])
        # Stars too broad for the network leave too few bright detections to
        # measure at the image's own scale: look again on binned images.
        for factor in (2, 4):
            if estimate is not None:
                break
            passes[factor] = self._detect_binned(image, factor)
            estimate = self._measure_fwhm(image, bkg, passes[factor], guess=4.0 * factor)
        if estimate is None:
            warnings.warn('The FWHM of the stars could not be measured (too few bright, '
                          'isolated, unsaturated stars); the image is searched at its own '
                          'scale. Pass fwhm= to UNetLoGFinder to set it.', FWHMWarning)
            return passes[1], {'fwhm': None, 'fwhm_source': 'default', 'block_size': 1}
        factor = block_factor(estimate, self.fwhm_range)
        if factor not in passes:
            passes[factor] = self._detect_binned(image, factor)
        return passes[factor], {'fwhm': round(float(estimate), 3), 'fwhm_source': 'measured',
                                'fwhm_stars': estimate.n_stars, 'block_size': factor}

    def _measure_fwhm(self, image, bkg, found, guess=None):
        _, _, _, _, y, x = found
        with self.timings('fwhm'):
            return measure_fwhm(image.data, image.valid, bkg, bkg.noise_at(y, x), x, y,
                                guess=guess)

    @staticmethod
    def _refine_bright(image, bkg, y, x):
        """Log-parabola peaks of the data for bright sources (within 1 pixel of the network's)."""
        if y.size == 0:
            return y, x
        ny, nx = image.data.shape
        iy = np.clip(np.round(y).astype(int), 0, ny - 1)
        ix = np.clip(np.round(x).astype(int), 0, nx - 1)
        sub = _subtracted_windows(image, bkg, iy, ix, 1)
        bright = np.max(np.where(np.isfinite(sub), sub, -np.inf), axis=(1, 2)) \
            > BRIGHT_PEAK_SNR * bkg.noise_at(iy, ix)
        if not bright.any():
            return y, x
        sel = np.flatnonzero(bright)
        dy, dx = log_parabola_offsets(sub[sel])
        by, bx = iy[sel] + dy, ix[sel] + dx
        good = np.isfinite(by) & (np.hypot(by - y[sel], bx - x[sel]) < 1.0)
        y, x = y.copy(), x.copy()
        y[sel[good]] = by[good]
        x[sel[good]] = bx[good]
        return y, x

    @staticmethod
    def _shape_columns(image, bkg, x, y, fwhm, rows=512):
        """
        DAOStarFinder's shape columns, on the background-subtracted image,
        made a band of ``rows`` rows (plus the kernel's reach) at a time.
        """
        if fwhm is None:
            return dao_shape_columns(None, x, y, None)
        columns = {name: np.empty(x.size, dtype=int if name == 'n_pixels' else float)
                   for name in SHAPE_COLUMNS}
        ny = image.data.shape[0]
        halo = int(np.ceil(2 * fwhm)) + 3
        row = np.clip(np.round(y).astype(int), 0, ny - 1)
        for start in range(0, ny, rows):
            inside = np.flatnonzero((row >= start) & (row < start + rows))
            if inside.size == 0:
                continue
            lo, hi = max(start - halo, 0), min(start + rows + halo, ny)
            background = bkg.rows(lo, hi)[0]
            subtracted = np.where(image.valid[lo:hi], image.data[lo:hi] - background, 0.0)
            band = dao_shape_columns(subtracted, x[inside], y[inside] - lo, fwhm)
            for name in SHAPE_COLUMNS:
                columns[name][inside] = band[name]
        return columns

    @staticmethod
    def _photometry(image, bkg, iy, ix):
        """Peak and sum of background-subtracted data in boxes around the detections."""
        if iy.size == 0:
            return np.zeros(0), np.zeros(0)
        values = _subtracted_windows(image, bkg, iy, ix, PHOT_RADIUS)
        use = np.isfinite(values)
        peak = np.where(use, values, -np.inf).max(axis=(1, 2))
        peak = np.where(np.isfinite(peak), peak, np.nan)
        flux = np.where(use, values, 0.0).sum(axis=(1, 2))
        return peak, flux

    def _meta(self):
        from . import __version__

        return {
            'asidl_version': __version__,
            'date': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
            'finder': self.__class__.__name__,
            'model': self.model_name,
            'fwhm': self.fwhm,
            'sigma': self.sigma,
            'threshold': self.threshold,
            'overlap': self.overlap,
            'n_brightest': self.n_brightest,
            'peak_max': str(self.peak_max) if self.peak_max is not None else None,
            'exclude_border': self.exclude_border,
            'normalization': self.normalization,
            'shape_columns': self.shape_columns,
            'engine': self.engine,
            'precision': self.precision,
            'confidence': 'network' if self.calibration is None else 'calibrated',
        }


def _calibration(calibration, entry):
    """The confidence calibration to apply, or None."""
    if calibration is None:
        stored = (entry or {}).get('calibration')
        return None if stored is None else ConfidenceCalibration.from_dict(stored)
    if calibration is False:
        return None
    if not isinstance(calibration, ConfidenceCalibration):
        raise TypeError('calibration must be a ConfidenceCalibration, False or None, got '
                        f'{type(calibration).__name__}')
    return calibration


def _subtracted_windows(image, bkg, iy, ix, radius):
    """
    Background-subtracted data in the ``(2 radius + 1)`` squares around
    ``(iy, ix)``, NaN where a pixel is masked or outside the image.
    """
    values, inside, yy, xx = neighbourhood(image.data, iy, ix, radius)
    subtracted = values.astype(np.float64) - bkg.background_at(yy, xx)
    return np.where(inside & image.valid[yy, xx], subtracted, np.nan)
