# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Small helpers shared by asidl's subpackages.
"""

import numpy as np

__all__ = ['source_positions']


def source_positions(sources):
    """
    The pixel positions of a catalog's sources.

    Parameters
    ----------
    sources : table, (x, y) pair or None
        A table with ``x_centroid`` and ``y_centroid`` columns (a finder's
        catalog) or ``x`` and ``y`` columns (a truth catalog), a pair of
        position arrays, or `None` for no sources.

    Returns
    -------
    x, y : `~numpy.ndarray`
        Float arrays, empty for `None`.

    Raises
    ------
    ValueError
        A table without position columns.

    Examples
    --------
    >>> from astropy.table import QTable
    >>> from asidl.utils import source_positions
    >>> source_positions(QTable({'x': [1.0, 2.5], 'y': [3.0, 4.0]}))
    (array([1. , 2.5]), array([3., 4.]))
    """
    if sources is None:
        return np.zeros(0), np.zeros(0)
    if isinstance(sources, tuple):
        x, y = sources
        return np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    for x, y in (('x_centroid', 'y_centroid'), ('x', 'y')):
        if x in sources.colnames:
            return np.asarray(sources[x], float), np.asarray(sources[y], float)
    raise ValueError(f'the table has no x_centroid/y_centroid columns: {sources.colnames}')
