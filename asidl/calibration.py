# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Calibrated confidence: what fraction of detections are real stars.

The network's probability at a source is a score, not a probability: a
model trained on crowded frames is over-confident on sparse ones and the
other way round.  `ConfidenceCalibration` maps that score to the fraction
of real stars among detections with that score, fitted by isotonic
regression (`scipy.optimize.isotonic_regression`) on simulated frames
whose truth is known.  `~asidl.UNetLoGFinder` applies the calibration a
model's registry entry records, so that of the sources with
``confidence`` near 0.8, about 80% are stars.

`reliability_table` and `expected_calibration_error` measure how well a
confidence column says what it means, on held-out frames.

The calibration is fitted on frames with white noise.  On images whose
noise is correlated between neighbouring pixels (resampled mosaics,
coadds, photographic plates) noise bumps are scored as confidently as
faint stars, and `confidence_floor` gives the lowest confidence worth
reporting there.
"""

import numpy as np
from astropy.table import QTable

from .constants import CONFIDENCE_FLOORS

__all__ = [
    'ConfidenceCalibration',
    'confidence_floor',
    'reliability_table',
    'expected_calibration_error',
    'MAX_KNOTS',
]

#: Most knots a fitted calibration keeps (it is stored in the registry).
MAX_KNOTS = 64


def confidence_floor(correlation):
    """
    The lowest calibrated confidence to report in an image whose noise has
    the given short-range correlation (`asidl.background.noise_correlation`),
    by the steps of `asidl.constants.CONFIDENCE_FLOORS`: 0 for white noise.

    Parameters
    ----------
    correlation : float
        NaN (not measurable) gives 0.

    Returns
    -------
    floor : float

    Examples
    --------
    >>> from asidl.calibration import confidence_floor
    >>> confidence_floor(0.02), confidence_floor(0.3), confidence_floor(0.66)
    (0.0, 0.5, 0.8)
    """
    floor = 0.0
    for start, level in CONFIDENCE_FLOORS:
        if correlation >= start:
            floor = level
    return floor


def _scores_and_labels(confidence, real):
    confidence = np.asarray(confidence, dtype=float).ravel()
    real = np.asarray(real).ravel()
    if confidence.shape != real.shape:
        raise ValueError(
            f'confidence and real must have the same length, got {confidence.size} and {real.size}'
        )
    if confidence.size == 0:
        raise ValueError('confidence and real are empty: there are no detections to use')
    if not np.all(np.isfinite(confidence)):
        raise ValueError('confidence must be finite')
    if real.dtype != bool and not np.isin(real, (0, 1)).all():
        raise ValueError(
            'real must be booleans (or 0 and 1): whether each detection is a real star'
        )
    return confidence, real.astype(float)


def reliability_table(confidence, real, *, bins=10):
    """
    A reliability diagram as a table: detections binned by confidence.

    Parameters
    ----------
    confidence : array_like
        The confidence of each detection, between 0 and 1.
    real : array_like of bool
        Whether each detection is a real star (matched to the truth).
    bins : int or array_like, optional
        Number of equal-width bins on [0, 1], or their edges.

    Returns
    -------
    table : `~astropy.table.QTable`
        One row per non-empty bin: ``bin_low``, ``bin_high``, ``n``,
        ``mean_confidence`` and ``fraction_real``.
    """
    confidence, real = _scores_and_labels(confidence, real)
    edges = np.linspace(0.0, 1.0, bins + 1) if np.ndim(bins) == 0 else np.asarray(bins, float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f'bins must be a positive integer or increasing edges, got {bins!r}')
    index = np.clip(np.searchsorted(edges, confidence, side='right') - 1, 0, edges.size - 2)
    n = np.bincount(index, minlength=edges.size - 1)
    used = n > 0
    with np.errstate(invalid='ignore', divide='ignore'):
        mean = np.bincount(index, confidence, minlength=edges.size - 1) / n
        frac = np.bincount(index, real, minlength=edges.size - 1) / n
    table = QTable()
    table['bin_low'] = edges[:-1][used]
    table['bin_high'] = edges[1:][used]
    table['n'] = n[used]
    table['mean_confidence'] = mean[used]
    table['fraction_real'] = frac[used]
    return table


def expected_calibration_error(confidence, real, *, bins=10):
    """
    The expected calibration error: the mean over detections of
    ``|fraction real - mean confidence|`` of their confidence bin.

    0 for a perfectly calibrated confidence; see `reliability_table` for
    the parameters.
    """
    table = reliability_table(confidence, real, bins=bins)
    weights = table['n'] / np.sum(table['n'])
    return float(np.sum(weights * np.abs(table['fraction_real'] - table['mean_confidence'])))


class ConfidenceCalibration:
    """
    A monotonic map from the network's probability to the fraction of
    real stars, linear between knots.

    Parameters
    ----------
    score : array_like
        Increasing network probabilities (the knots).
    probability : array_like
        Non-decreasing fractions of real stars at those knots, between 0
        and 1.

    Examples
    --------
    >>> from asidl.calibration import ConfidenceCalibration
    >>> calibration = ConfidenceCalibration([0.2, 1.0], [0.1, 0.9])
    >>> float(calibration(0.6))
    0.5
    """

    def __init__(self, score, probability):
        score = np.asarray(score, dtype=float)
        probability = np.asarray(probability, dtype=float)
        if score.ndim != 1 or score.shape != probability.shape or score.size < 2:
            raise ValueError('a calibration needs two 1-d arrays of the same length, at least 2')
        if not (np.all(np.isfinite(score)) and np.all(np.isfinite(probability))):
            raise ValueError('calibration knots must be finite')
        if np.any(np.diff(score) <= 0):
            raise ValueError('calibration scores must increase')
        if np.any(np.diff(probability) < 0) or probability[0] < 0 or probability[-1] > 1:
            raise ValueError('calibrated probabilities must not decrease and lie in [0, 1]')
        self.score = score
        self.probability = probability

    def __call__(self, confidence):
        """The calibrated probability of each network ``confidence``."""
        return np.interp(np.asarray(confidence, dtype=float), self.score, self.probability)

    def __repr__(self):
        return f'<ConfidenceCalibration: {self.score.size} knots>'

    def __eq__(self, other):
        return (
            isinstance(other, ConfidenceCalibration)
            and np.array_equal(self.score, other.score)
            and np.array_equal(self.probability, other.probability)
        )

    @classmethod
    def fit(cls, confidence, real, *, max_knots=MAX_KNOTS):
        """
        Fit by isotonic regression of ``real`` on ``confidence``.

        Detections are first pooled into at most ``max_knots`` groups of
        about equal size (in order of confidence); the isotonic fit of the
        groups' real fractions, placed at their mean confidences, gives the
        knots.

        Parameters
        ----------
        confidence : array_like
            The network's probability at each detection.
        real : array_like of bool
            Whether each detection is a real star.
        max_knots : int, optional
            Most knots to keep.
        """
        from scipy.optimize import isotonic_regression

        confidence, real = _scores_and_labels(confidence, real)
        if not isinstance(max_knots, (int, np.integer)) or max_knots < 2:
            raise ValueError(f'max_knots must be an integer of at least 2, got {max_knots!r}')
        order = np.argsort(confidence, kind='stable')
        groups = np.array_split(order, min(max_knots, confidence.size))
        score = np.array([confidence[g].mean() for g in groups])
        fraction = np.array([real[g].mean() for g in groups])
        weight = np.array([g.size for g in groups], dtype=float)
        # Groups of equal mean confidence (ties) are merged.
        score, inverse = np.unique(score, return_inverse=True)
        fraction = np.bincount(inverse, fraction * weight) / np.bincount(inverse, weight)
        weight = np.bincount(inverse, weight)
        if score.size < 2:
            raise ValueError('all detections have the same confidence: nothing to calibrate')
        fitted = isotonic_regression(fraction, weights=weight, increasing=True).x
        return cls(score, np.clip(fitted, 0.0, 1.0))

    def to_dict(self):
        """The knots as lists, as stored in a registry entry."""
        return {
            'score': [round(float(v), 6) for v in self.score],
            'probability': [round(float(v), 6) for v in self.probability],
        }

    @classmethod
    def from_dict(cls, value):
        """Read `to_dict`'s form; `ValueError` names what is wrong with it."""
        if not isinstance(value, dict) or set(value) != {'score', 'probability'}:
            raise ValueError(
                'a calibration must be an object with exactly "score" and '
                f'"probability" lists, got {value!r:.80}'
            )
        try:
            return cls(value['score'], value['probability'])
        except (TypeError, ValueError) as exc:
            raise ValueError(f'invalid calibration: {exc}') from None
