# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Peaks of the network's maps, band of rows by band of rows.

`~asidl.bands.detect_in_bands` hands each band of rows of the probability
map, with a halo of rows that fixes its LoG response exactly, to
`band_peaks`, and the candidates of all bands to `select_band_peaks`,
whose overlap test is global, as in `~asidl.localize.find_peaks`.
`detect_in_maps` does the same on maps kept whole
(`~asidl.UNetLoGFinder.network_maps`), on the same bands, so that its
peaks are those of the finder bit for bit, at any threshold.
"""

from contextlib import nullcontext
from typing import NamedTuple

import numpy as np

from .constants import LOG_OVERLAP, LOG_SIGMA, LOG_THRESHOLD
from .localize import (
    local_maxima,
    log_halo,
    log_response,
    neighbourhood,
    refine_positions,
    select_peaks,
    vote_positions,
)

__all__ = [
    'Peaks',
    'band_bounds',
    'band_edges',
    'band_limits',
    'band_peaks',
    'detect_in_maps',
    'select_band_peaks',
    'tile_rows_per_band',
]


class Peaks(NamedTuple):
    """The peaks of a probability map (one value per peak, strongest first)."""

    #: Peak pixels (int).
    iy: np.ndarray
    ix: np.ndarray
    #: LoG response at the peaks.
    log_response: np.ndarray
    #: Largest probability in the 3x3 pixels around each peak.
    confidence: np.ndarray
    #: Sub-pixel positions (float).
    y: np.ndarray
    x: np.ndarray


def _untimed(stage):
    return nullcontext()


def tile_rows_per_band(grid, band_rows):
    """Tile rows per band: enough for ``band_rows`` image rows, at least one."""
    if band_rows is None:
        return 1
    return max(1, band_rows // grid.core_y)


def band_edges(grid, band_rows):
    """
    The image rows at which the second and later bands of rows begin.

    Parameters
    ----------
    grid : `~asidl.predict.TileGrid`
        The network's tiles.
    band_rows : int or None
        As for `~asidl.bands.detect_in_bands`.

    Returns
    -------
    edges : `~numpy.ndarray` of int
        The first core row of every ``n``-th tile row, ``n`` the tile rows
        per band.
    """
    per_band = tile_rows_per_band(grid, band_rows)
    return grid.ys[per_band::per_band]


def band_limits(edges, halo, ny):
    """The last row (exclusive) whose peaks each band fixes; the last is ``ny``."""
    return [int(edge) - halo - 1 for edge in edges] + [ny]


def band_bounds(done, limit, halo, ny):
    """Rows of probability that fix the peaks of rows ``done:limit`` exactly."""
    return max(done - 1 - halo, 0), min(limit + 1 + halo, ny)


def detect_in_maps(
    output,
    valid,
    edges,
    *,
    network_input=None,
    sigma=LOG_SIGMA,
    threshold=LOG_THRESHOLD,
    overlap=LOG_OVERLAP,
    timings=None,
):
    """
    Peaks of the network's kept maps of an image, band by band.

    The bands and every step on them are those of
    `~asidl.bands.detect_in_bands`, so the peaks are those it finds with
    the same parameters, bit for bit.

    Parameters
    ----------
    output : ``(ny, nx, c)`` float32 `~numpy.ndarray`
        The network's output, zero where no data (as
        `~asidl.bands.detect_in_bands` keeps it).
    valid : 2D bool `~numpy.ndarray`
        Where peaks may lie.
    edges : `~numpy.ndarray` of int
        The rows at which bands begin (`band_edges`).
    network_input : 2D float32 `~numpy.ndarray` or None, optional
        The network's input, for models without offsets (``c == 1``).
    sigma, threshold, overlap : float, optional
        As for `~asidl.localize.find_peaks`.
    timings : `~asidl.bands.Timings` or None, optional
        Where to add the seconds spent in each stage.

    Returns
    -------
    peaks : `Peaks`
    """
    timings = _untimed if timings is None else timings
    ny = output.shape[0]
    halo = log_halo(sigma)
    planes = np.moveaxis(output, -1, 0)  # (c, ny, nx), as the bands hold the maps
    parts = [(0, ny, [planes] if network_input is None else [planes, network_input])]
    candidates, done = [], 0
    for limit in band_limits(edges, halo, ny):
        if limit <= done:
            continue
        lo, hi = band_bounds(done, limit, halo, ny)
        candidates.append(
            band_peaks(parts, valid[lo:hi], lo, hi, done, limit, ny, sigma, threshold, timings)
        )
        done = limit
    return select_band_peaks(candidates, sigma, overlap, timings)


def select_band_peaks(candidates, sigma, overlap, timings):
    """The peaks of all bands' candidates that survive the overlap test, strongest first."""
    with timings('peaks'):
        iy, ix, response, confidence, y, x = (np.concatenate(c) for c in zip(*candidates))
        order, keep = select_peaks(iy, ix, response, sigma=sigma, overlap=overlap)
        idx = order[keep]
    return Peaks(iy[idx], ix[idx], response[idx], confidence[idx], y[idx], x[idx])


def _gather(parts, lo, hi, index):
    """
    ``maps[index]`` (a 2D map, or a channel ``(k, c)`` of a ``(channels,
    rows, nx)`` one) of image rows lo:hi, from those of consecutive tile
    rows ``(a, b, maps)``.
    """
    k, channel = index if isinstance(index, tuple) else (index, None)
    pieces = [
        (maps[k] if channel is None else maps[k][channel])[max(lo - a, 0) : min(hi, b) - a]
        for a, b, maps in parts
    ]
    return np.concatenate(pieces)


def _windows(parts, iy, ix, channel, shape):
    """
    The 3x3 neighbourhoods of pixels ``(iy, ix)`` in a channel of the
    ``(channels, rows, nx)`` network output of tile rows ``(a, b, maps)``, 0 beyond the
    image (as `~asidl.localize.neighbourhood` gives them).
    """
    ny, nx = shape
    offsets = np.arange(-1, 2)
    yy = iy[:, None, None] + offsets[None, :, None]
    xx = ix[:, None, None] + offsets[None, None, :]
    yy, xx = np.broadcast_arrays(yy, xx)
    values = np.zeros(yy.shape, np.float32)
    inside = (yy >= 0) & (yy < ny) & (xx >= 0) & (xx < nx)
    for a, b, maps in parts:
        here = inside & (yy >= a) & (yy < b)
        values[here] = maps[0][channel, yy[here] - a, xx[here]]
    return values


def band_peaks(parts, valid, lo, hi, done, limit, ny, sigma, threshold, timings):
    """
    Candidate peaks of image rows ``done:limit`` from the maps of rows
    ``lo:hi`` (which reach a halo beyond them, or the image edge).

    Parameters
    ----------
    parts : list of tuple
        ``(a, b, maps)`` for consecutive runs of image rows ``a:b`` that
        cover ``lo:hi``: ``maps[0]`` the network's output ``(c, b - a,
        nx)``, ``maps[1]`` its input where ``c == 1``.
    valid : 2D bool `~numpy.ndarray`
        Where peaks may lie, in rows ``lo:hi``.
    lo, hi, done, limit : int
        The rows of the maps (`band_bounds`) and those whose peaks they fix.
    ny : int
        Rows of the image.
    sigma, threshold : float
        As for `~asidl.localize.find_peaks`.
    timings : `~asidl.bands.Timings`
        Where to add the seconds spent in each stage.

    Returns
    -------
    candidates : tuple of `~numpy.ndarray`
        The fields of `Peaks`, before the overlap test (`select_band_peaks`).
    """
    with timings('stitch'):
        probability = _gather(parts, lo, hi, (0, 0))
        with_offsets = parts[0][2][0].shape[0] == 3
        source = None if with_offsets else _gather(parts, lo, hi, 1)
    with timings('LoG'):
        response = log_response(probability, sigma)
    with timings('peaks'):
        r_lo, r_hi = max(done - 1, 0), min(limit + 1, ny)
        iy, ix = local_maxima(response[r_lo - lo : r_hi - lo], threshold, first_row=r_lo, n_rows=ny)
        keep = (iy >= done) & (iy < limit)
        iy, ix = iy[keep], ix[keep]
        keep = valid[iy - lo, ix]
        iy, ix = iy[keep], ix[keep]
        strength = response[iy - lo, ix]
    with timings('refine'):
        by = iy - lo
        confidence = (
            neighbourhood(probability, by, ix)[0].max(axis=(1, 2))
            if iy.size
            else np.zeros(0, np.float32)
        )
        if with_offsets:
            y, x = vote_positions(
                iy,
                ix,
                neighbourhood(probability, by, ix)[0],
                _windows(parts, iy, ix, 1, (ny, valid.shape[1])),
                _windows(parts, iy, ix, 2, (ny, valid.shape[1])),
            )
        else:
            y, x = refine_positions(by, ix, probability, image=source)
            y = y + lo
    return iy, ix, strength, confidence, y, x
