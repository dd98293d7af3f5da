# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Scoring detections against a truth catalog.

Detections are matched one-to-one to truth positions within a radius
(closest pairs first).  Matched detections are true positives (TP),
unmatched detections false positives (FP) and unmatched truth false
negatives (FN); the Dice coefficient is ``2 TP / (2 TP + FP + FN)``
(paper eq. 5).
"""

import numpy as np
from astropy.table import QTable
from scipy.spatial import cKDTree

from ..utils import source_positions

__all__ = ['combine_scores', 'match_sources', 'score_detections', 'scores_by_bin']


def match_sources(x, y, truth_x, truth_y, *, radius=2.0):
    """
    Match detections to truth positions one-to-one within ``radius``.

    Parameters
    ----------
    x, y : array_like
        Detected positions (pixels).
    truth_x, truth_y : array_like
        True positions (pixels).
    radius : float, optional
        Largest allowed separation in pixels.

    Returns
    -------
    detection_index, truth_index : `~numpy.ndarray` of int
        Indices of the matched pairs.
    """
    det = np.column_stack([np.asarray(x, float).ravel(), np.asarray(y, float).ravel()])
    tru = np.column_stack([np.asarray(truth_x, float).ravel(), np.asarray(truth_y, float).ravel()])
    if len(det) == 0 or len(tru) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    pairs = cKDTree(det).sparse_distance_matrix(cKDTree(tru), radius, output_type='ndarray')
    if pairs.size == 0:
        return np.zeros(0, int), np.zeros(0, int)
    pairs = pairs[np.argsort(pairs['v'], kind='stable')]
    used_det = np.zeros(len(det), bool)
    used_tru = np.zeros(len(tru), bool)
    di, ti = [], []
    for i, j in zip(pairs['i'], pairs['j']):
        if not used_det[i] and not used_tru[j]:
            used_det[i] = used_tru[j] = True
            di.append(i)
            ti.append(j)
    return np.array(di, int), np.array(ti, int)


def score_detections(x, y, truth_x, truth_y, *, radius=2.0):
    """
    TP, FP, FN, Dice, precision, recall and position RMS of detections.

    Parameters
    ----------
    x, y : array_like
        Detected positions (pixels).
    truth_x, truth_y : array_like
        True positions (pixels).
    radius : float, optional
        Match radius in pixels.

    Returns
    -------
    scores : dict
        ``tp``, ``fp``, ``fn`` (int), ``dice``, ``precision``, ``recall``
        and ``rms`` (pixels, over matched pairs; NaN without matches).

    Examples
    --------
    >>> from asidl.evaluation import score_detections
    >>> s = score_detections([10.1, 30.0], [10.0, 5.0], [10.0, 50.0], [10.0, 50.0])
    >>> s['tp'], s['fp'], s['fn'], round(s['dice'], 3)
    (1, 1, 1, 0.5)
    """
    di, ti = match_sources(x, y, truth_x, truth_y, radius=radius)
    n_det = np.size(x)
    n_true = np.size(truth_x)
    tp = int(di.size)
    fp = int(n_det - tp)
    fn = int(n_true - tp)
    denom = 2 * tp + fp + fn
    if tp:
        dx = np.asarray(x, float).ravel()[di] - np.asarray(truth_x, float).ravel()[ti]
        dy = np.asarray(y, float).ravel()[di] - np.asarray(truth_y, float).ravel()[ti]
        rms = float(np.sqrt(np.mean(dx**2 + dy**2)))
    else:
        rms = float('nan')
    return {
        'tp': tp,
        'fp': fp,
        'fn': fn,
        'dice': 2 * tp / denom if denom else 1.0,
        'precision': tp / n_det if n_det else float('nan'),
        'recall': tp / n_true if n_true else float('nan'),
        'rms': rms,
    }


def combine_scores(scores):
    """
    Scores of several frames taken together.

    Parameters
    ----------
    scores : iterable of dict
        Outputs of `score_detections`.

    Returns
    -------
    scores : dict
        Summed ``tp``, ``fp``, ``fn``, the ``dice`` of the sums and the
        ``rms`` over all matches (NaN without matches).
    """
    scores = list(scores)
    tp = sum(s['tp'] for s in scores)
    fp = sum(s['fp'] for s in scores)
    fn = sum(s['fn'] for s in scores)
    squares = sum(s['rms'] ** 2 * s['tp'] for s in scores if s['tp'])
    return {
        'tp': tp,
        'fp': fp,
        'fn': fn,
        'dice': 2 * tp / max(2 * tp + fp + fn, 1),
        'rms': float(np.sqrt(squares / tp)) if tp else float('nan'),
    }


def scores_by_bin(x, y, truth, *, column='snr', bins=(3, 5, 10, 20, 50, 100, np.inf), radius=2.0):
    """
    Completeness and position error of detections in bins of a truth column.

    Parameters
    ----------
    x, y : array_like
        Detected positions.
    truth : `~astropy.table.Table`
        True sources with ``x``, ``y`` and ``column``.
    column : str, optional
        Truth column to bin on, e.g. ``'snr'`` or ``'mag'``.
    bins : sequence of float, optional
        Bin edges.
    radius : float, optional
        Match radius in pixels.

    Returns
    -------
    table : `~astropy.table.QTable`
        ``low``, ``high``, ``n_true``, ``n_found``, ``completeness`` and
        ``rms`` (pixels, of the matched positions in the bin).
    """
    tx, ty = source_positions(truth)
    values = np.asarray(truth[column], float)
    di, ti = match_sources(x, y, tx, ty, radius=radius)
    err = np.full(tx.size, np.nan)
    err[ti] = np.hypot(np.asarray(x, float)[di] - tx[ti], np.asarray(y, float)[di] - ty[ti])
    rows = []
    for low, high in zip(bins[:-1], bins[1:]):
        sel = (values >= low) & (values < high)
        found = sel & np.isfinite(err)
        rows.append(
            (
                low,
                high,
                int(sel.sum()),
                int(found.sum()),
                found.sum() / sel.sum() if sel.any() else np.nan,
                float(np.sqrt(np.mean(err[found] ** 2))) if found.any() else np.nan,
            )
        )
    return QTable(rows=rows, names=('low', 'high', 'n_true', 'n_found', 'completeness', 'rms'))
