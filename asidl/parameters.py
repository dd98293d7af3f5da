# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The finder's parameters: `FinderParameters` checks them (each error names
the parameter and what was expected), loads the model they name and takes
the registry's defaults for it.
"""

import datetime
import numbers

import astropy.units as u
import numpy as np

from .bands import Timings
from .calibration import ConfidenceCalibration
from .constants import (
    DEFAULT_PRECISION,
    LOG_OVERLAP,
    LOG_SIGMA,
    LOG_THRESHOLD,
    TILE_MARGIN,
    TILE_SIZE,
)
from .engine import check_precision, load_network
from .normalize import NORMALIZATIONS
from .predict import check_tiling
from .registry import DEFAULT_MODEL, ModelRegistry, check_model
from .resample import DEFAULT_FWHM_RANGE

__all__ = [
    'FinderParameters',
    'check_sigma',
    'check_min_confidence',
    'fraction',
    'positive_int',
    'positive_number',
    'resolve_calibration',
]


class FinderParameters:
    """
    The parameters of `~asidl.UNetLoGFinder`, checked, and the model they
    name, loaded: the finder's ``__init__``, ``repr`` and table ``meta``.

    The parameters are documented by `~asidl.UNetLoGFinder`.
    """

    def __init__(
        self,
        *,
        model=DEFAULT_MODEL,
        sigma=LOG_SIGMA,
        threshold=None,
        overlap=LOG_OVERLAP,
        n_brightest=None,
        peak_max=None,
        exclude_border=False,
        normalization=None,
        tile_size=TILE_SIZE,
        tile_margin=TILE_MARGIN,
        batch_size=None,
        fwhm=None,
        shape_columns=True,
        precision=DEFAULT_PRECISION,
        calibration=None,
        band_rows=None,
        min_confidence='auto',
        undersampled_model='auto',
    ):
        # The arguments as given, for the finder of the undersampled model.
        self._options = {k: v for k, v in locals().items() if k not in ('self', '__class__')}
        self.sigma = positive_number(sigma, 'sigma')
        if threshold is not None:
            threshold = positive_number(threshold, 'threshold')
        self.overlap = fraction(overlap, 'overlap')
        self.n_brightest = positive_int(n_brightest, 'n_brightest', allow_none=True)
        if peak_max is not None and not isinstance(peak_max, u.Quantity):
            peak_max = positive_number(peak_max, 'peak_max', finite=False)
        self.peak_max = peak_max
        if not isinstance(exclude_border, (bool, np.bool_)):
            raise TypeError(f'exclude_border must be True or False, got {exclude_border!r}')
        self.exclude_border = bool(exclude_border)
        if normalization is not None and normalization not in NORMALIZATIONS:
            raise ValueError(
                f'normalization must be one of {NORMALIZATIONS} or None, got {normalization!r}'
            )
        check_tiling(tile_size, tile_margin)
        self.tile_size = int(tile_size)
        self.tile_margin = int(tile_margin)
        check_sigma(self.sigma, self.tile_size, self.tile_margin)
        self.batch_size = positive_int(batch_size, 'batch_size', allow_none=True)
        self.band_rows = positive_int(band_rows, 'band_rows', allow_none=True)
        #: Seconds spent in each stage of the last call (`asidl.bands.Timings`).
        self.timings = Timings()
        self.fwhm = None if fwhm is None else positive_number(fwhm, 'fwhm')
        if not isinstance(shape_columns, (bool, np.bool_)):
            raise TypeError(f'shape_columns must be True or False, got {shape_columns!r}')
        self.shape_columns = bool(shape_columns)
        models = ModelRegistry()  # each registry file is read at most once per finder
        self.model, self.model_name, registered_norm = load_network(
            model, precision=check_precision(precision), registry=models
        )
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
        self.calibration = resolve_calibration(calibration, entry)
        self.min_confidence = check_min_confidence(min_confidence)
        #: The registered model whose detections the finder reports on images
        #: whose FWHM is below ``fwhm_range`` (`None`: the finder's own model
        #: at every FWHM).
        self.undersampled_model = _undersampled_model(undersampled_model, entry, models)
        self._undersampled = None  # its finder, made on first use

    def __repr__(self):
        params = (
            'model_name',
            'fwhm',
            'sigma',
            'threshold',
            'overlap',
            'n_brightest',
            'peak_max',
            'exclude_border',
            'normalization',
            'shape_columns',
            'precision',
            'min_confidence',
            'undersampled_model',
        )
        inner = ', '.join(f'{p}={getattr(self, p)!r}' for p in params)
        return f'{self.__class__.__name__}({inner})'

    def peak_max_in(self, unit):
        """
        ``peak_max`` as a number in ``unit``, the unit of the data (`None`
        for data without one).

        Raises
        ------
        ValueError
            ``peak_max`` and the data do not both have units, or their
            units cannot be converted.
        """
        if self.peak_max is None:
            return None
        if isinstance(self.peak_max, u.Quantity):
            if unit is None:
                raise ValueError('peak_max has a unit but data has none; give both or neither')
            try:
                return float(self.peak_max.to_value(unit))
            except u.UnitConversionError:
                raise ValueError(
                    f'peak_max unit {self.peak_max.unit} cannot be converted to '
                    f'the data unit {unit}'
                ) from None
        if unit is not None and unit != u.dimensionless_unscaled:
            raise ValueError(
                f'data has unit {unit}, so peak_max must be a Quantity in compatible units'
            )
        return self.peak_max

    def undersampled_finder(self, fwhm):
        """
        The finder of `undersampled_model` if stars of ``fwhm`` pixels are
        below the model's ``fwhm_range`` (the same parameters, the other
        model's threshold, normalization and calibration unless given),
        else `None`.
        """
        if self.undersampled_model is None or fwhm is None or not fwhm < self.fwhm_range[0]:
            return None
        if self._undersampled is None:
            options = dict(self._options, model=self.undersampled_model, undersampled_model=None)
            if options['calibration'] is not False:
                options['calibration'] = None  # a calibration belongs to its model
            self._undersampled = type(self)(**options)
        self._undersampled.timings = self.timings
        return self._undersampled

    @property
    def meta(self):
        """
        The ``meta`` of the finder's tables: the package version, the date,
        the model and the parameters (a new `dict` at each call).
        """
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
            'undersampled_model': self.undersampled_model,
        }


def _undersampled_model(value, entry, models):
    """
    The ``undersampled_model`` argument resolved: ``'auto'`` is the one the
    model's registry entry names (if any), `None` none, and any other value
    must be a registered model name.
    """
    if value == 'auto':
        value = (entry or {}).get('undersampled_model')
        if value is not None and value not in models.entries:
            raise ValueError(
                f'the registry names {value!r} as the undersampled model, but has no such model'
            )
        return value
    if value is None:
        return None
    if not isinstance(value, str) or value not in models.entries:
        raise ValueError(
            "undersampled_model must be 'auto', None or a registered model name "
            f'({", ".join(sorted(models.entries))}), got {value!r}'
        )
    return value


def positive_number(value, name, *, finite=True):
    """``value`` as a float, if it is a positive (and ``finite``) real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f'{name} must be a positive number, got {value!r}')
    if finite and not np.isfinite(value):
        raise ValueError(f'{name} must be a finite positive number, got {value!r}')
    return float(value)


def positive_int(value, name, *, allow_none=False):
    """``value`` as an int, if it is a positive integer (or `None`, if allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f'{name} must be a positive integer{" or None" if allow_none else ""}, got {value!r}'
        )
    return int(value)


def _is_fraction(value):
    """Whether ``value`` is a real number (not a bool) between 0 and 1."""
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and 0 <= value <= 1


def fraction(value, name):
    """``value`` as a float, if it is a real number between 0 and 1."""
    if not _is_fraction(value):
        raise ValueError(f'{name} must be a number between 0 and 1, got {value!r}')
    return float(value)


def check_min_confidence(value):
    """``min_confidence``: ``'auto'``, `None` or a number between 0 and 1 (a float)."""
    if value is None or (isinstance(value, str) and value == 'auto'):
        return value
    if not _is_fraction(value):
        raise ValueError(
            f"min_confidence must be 'auto', None or a number between 0 and 1, got {value!r}"
        )
    return float(value)


def check_sigma(sigma, tile_size, tile_margin):
    """The LoG kernel (4 sigma in radius) must fit within half the core of a tile."""
    largest = (tile_size - 2 * tile_margin) / 8
    if sigma > largest:
        raise ValueError(
            f'sigma must be at most {largest:g} pixels, so that the LoG kernel (4 '
            f'sigma in radius) fits within half the core of a tile of tile_size='
            f'{tile_size} and tile_margin={tile_margin}; got {sigma!r}'
        )


def resolve_calibration(calibration, entry):
    """
    The confidence calibration to apply, or `None`.

    Parameters
    ----------
    calibration : `~asidl.calibration.ConfidenceCalibration`, False or None
        As the finder's ``calibration``.
    entry : dict or None
        The model's registry entry; `None` takes its stored calibration.
    """
    if calibration is None:
        stored = (entry or {}).get('calibration')
        return None if stored is None else ConfidenceCalibration.from_dict(stored)
    if calibration is False:
        return None
    if not isinstance(calibration, ConfidenceCalibration):
        raise TypeError(
            'calibration must be a ConfidenceCalibration, False or None, got '
            f'{type(calibration).__name__}'
        )
    return calibration
