# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Normalization of raw frames into network input.

Raw frames carry a bias level, amplifier offsets, sky gradients and
saturated stars.  The default normalization, ``'asinh'``, removes a coarse
background map and divides by a coarse noise map (block medians and
median absolute deviations, so they follow bias steps and gradients on the
scale of `~asidl.constants.BACKGROUND_BOX` pixels and ignore stars), then
compresses with an asinh stretch so that saturated stars stay within a
few units.  The network therefore sees signal-to-noise, whatever the
telescope, exposure time or gain.

``'standardize'`` is the global standardization the ASID-L authors
trained their MeerLICHT model with: ``(data - mean) / std`` over the
whole frame.

The background and noise maps are `asidl.background`'s.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import constants
from .background import background_map
from .constants import ASINH_SOFTENING, BACKGROUND_BOX, ROW_PIXELS

__all__ = [
    'NORMALIZATIONS',
    'normalize',
    'standardize_statistics',
]

#: Scalings of raw data for the network; see `normalize`.
NORMALIZATIONS = constants.NORMALIZATIONS


def standardize_statistics(data, valid):
    """
    Mean and standard deviation of the valid pixels of a frame, for the
    ``'standardize'`` normalization, accumulated in float64 over blocks of
    rows (no full-frame copy).
    """
    n, total, squares = 0, 0.0, 0.0
    ny, nx = data.shape
    step = max(1, ROW_PIXELS // max(nx, 1))
    for start in range(0, ny, step):
        good = data[start : start + step][valid[start : start + step]].astype(np.float64)
        n += good.size
        total += good.sum()
    if n == 0:
        return 0.0, 1.0
    mean = total / n
    for start in range(0, ny, step):
        good = data[start : start + step][valid[start : start + step]].astype(np.float64)
        squares += np.sum((good - mean) ** 2)
    return float(mean), float(np.sqrt(squares / n))


def normalize(
    data, valid, *, method='asinh', bkg=None, box=BACKGROUND_BOX, first_row=0, statistics=None
):
    """
    Normalize a raw frame into network input.

    Parameters
    ----------
    data : 2D float `~numpy.ndarray`
        The frame (not modified).
    valid : 2D bool `~numpy.ndarray`
        Pixels carrying data; invalid ones are set to 0 (the background
        level) in the output.
    method : {'asinh', 'standardize'}, optional
        See the module docstring.
    bkg : `~asidl.background.BackgroundMap` or None, optional
        The frame's background map, if already computed (``'asinh'``
        only).
    box : int, optional
        Block size of the background map, if it is computed here.
    first_row : int, optional
        The row of the frame that ``bkg`` describes at which ``data``, a
        band of its rows, starts.
    statistics : tuple of two float or None, optional
        The frame's mean and standard deviation for ``'standardize'``
        (`standardize_statistics`), when ``data`` is a band of it.

    Returns
    -------
    normalized : 2D float32 `~numpy.ndarray`
        A new array.
    """
    if method not in NORMALIZATIONS:
        raise ValueError(f'normalization must be one of {NORMALIZATIONS}, got {method!r}')
    if method == 'standardize':
        mean, std = standardize_statistics(data, valid) if statistics is None else statistics
        out = ((data - np.float32(mean)) / np.float32(std if std > 0 else 1.0)).astype(np.float32)
        out[~valid] = 0.0
        return out
    if bkg is None:
        bkg = background_map(data, valid, box=box)
    out = np.empty(data.shape, dtype=np.float32)
    ny, nx = data.shape
    step = max(1, ROW_PIXELS // max(nx, 1))

    def rows(start):
        stop = min(start + step, ny)
        background, noise = bkg.rows(first_row + start, first_row + stop)
        chunk = data[start:stop] - background
        # In place: the same values with fewer temporary arrays.
        noise *= ASINH_SOFTENING
        chunk /= noise
        np.arcsinh(chunk, out=out[start:stop])

    starts = range(0, ny, step)
    threads = min(os.cpu_count() or 1, 8, len(starts))
    if threads > 1:
        # numpy releases the GIL in these array operations.
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(rows, starts))
    else:
        for start in starts:
            rows(start)
    out[~valid] = 0.0
    return out
