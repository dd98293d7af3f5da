# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Checks of the finder's parameters, each raising an error that names the
parameter and what was expected.
"""

import numbers

import numpy as np

from .calibration import ConfidenceCalibration

__all__ = ['check_sigma', 'fraction', 'positive_int', 'positive_number', 'resolve_calibration']


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
        raise ValueError(f'{name} must be a positive integer{" or None" if allow_none else ""}, '
                         f'got {value!r}')
    return int(value)


def fraction(value, name):
    """``value`` as a float, if it is a real number between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f'{name} must be a number between 0 and 1, got {value!r}')
    return float(value)


def check_sigma(sigma, tile_size, tile_margin):
    """The LoG kernel (4 sigma in radius) must fit within half the core of a tile."""
    largest = (tile_size - 2 * tile_margin) / 8
    if sigma > largest:
        raise ValueError(f'sigma must be at most {largest:g} pixels, so that the LoG kernel (4 '
                         f'sigma in radius) fits within half the core of a tile of tile_size='
                         f'{tile_size} and tile_margin={tile_margin}; got {sigma!r}')


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
        raise TypeError('calibration must be a ConfidenceCalibration, False or None, got '
                        f'{type(calibration).__name__}')
    return calibration
