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
from scipy.spatial import cKDTree

__all__ = ['match_sources', 'score_detections']


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
    >>> from asidl.evaluate import score_detections
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
        'tp': tp, 'fp': fp, 'fn': fn,
        'dice': 2 * tp / denom if denom else 1.0,
        'precision': tp / n_det if n_det else float('nan'),
        'recall': tp / n_true if n_true else float('nan'),
        'rms': rms,
    }
