# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Detection over bands of rows, in memory set by the band, not the frame.

`detect_in_bands` runs the finder's detection steps (normalization,
network, LoG, local maxima, sub-pixel refinement) tile row by tile row of
the network's `~asidl.predict.TileGrid`: each tile row's input strip is
normalized from the frame's rows, its tiles go through the network in the
same batches as `~asidl.predict.predict_maps` would make over the whole
frame, and once enough rows of probability are known the LoG and the
peaks of the rows they fix are found, with a halo of rows so that the
results are those of the whole-frame steps, seams included.  Only the
candidate peaks (a few numbers per source) are kept for the whole frame;
the final selection of overlapping blobs is global, as in
`~asidl.localize.find_peaks`.  The network runs on threads of its own
(for OpenVINO one per stream, each running its share of the batches one
request at a time, so that no core waits for another), ahead of the
stitching and normalizing done between batches, and the LoG and peaks
of one band run on another thread while the network works on the next.

With ``keep_maps=True`` the network's maps are kept whole as well, so that
`~asidl.peaks.detect_in_maps` can find the peaks again, at other thresholds, on the
same bands of rows, without the network: its results are those of
`detect_in_bands` bit for bit.
"""

import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from .constants import LOG_OVERLAP, LOG_SIGMA, LOG_THRESHOLD, TILE_MARGIN, TILE_SIZE
from .localize import log_halo
from .normalize import normalize, standardize_statistics
from .peaks import (
    band_bounds,
    band_edges,
    band_peaks,
    select_band_peaks,
    tile_rows_per_band,
)
from .predict import TileGrid, output_channels, run_batch

__all__ = ['Timings', 'detect_in_bands']


class Timings(dict):
    """
    Seconds spent in each stage, accumulated over calls (a `dict`).

    Stages that run on different threads overlap in time, so their sum
    can exceed the wall time.
    """

    _lock = threading.Lock()

    @contextmanager
    def __call__(self, stage):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - t0
            self.add(stage, elapsed)

    def add(self, stage, seconds):
        """Add ``seconds`` to ``stage`` (from any thread)."""
        with self._lock:  # stages are timed on several threads
            self[stage] = self.get(stage, 0.0) + seconds


def _shares(chunk, n):
    """``chunk`` cut into at most ``n`` consecutive, non-empty, nearly equal parts."""
    edges = np.linspace(0, len(chunk), min(n, len(chunk)) + 1).astype(int)
    return [chunk[a:b] for a, b in zip(edges[:-1], edges[1:])]


def detect_in_bands(
    image,
    bkg,
    model,
    *,
    sigma=LOG_SIGMA,
    threshold=LOG_THRESHOLD,
    overlap=LOG_OVERLAP,
    normalization='asinh',
    tile_size=TILE_SIZE,
    margin=TILE_MARGIN,
    batch_size=None,
    band_rows=None,
    timings=None,
    keep_maps=False,
):
    """
    Peaks of the network's probability map of an image, band by band.

    Parameters
    ----------
    image : `~asidl.prepare.PreparedImage`
        The image.
    bkg : `~asidl.background.BackgroundMap` or None
        Its background map (for ``'asinh'``).
    model
        The network, as for `~asidl.predict.predict_maps`.
    sigma, threshold, overlap : float, optional
        As for `~asidl.localize.find_peaks`.
    normalization : {'asinh', 'standardize'}, optional
        As for `~asidl.normalize.normalize`.
    tile_size, margin, batch_size : optional
        As for `~asidl.predict.predict_maps`.
    band_rows : int or None, optional
        Image rows per band (rounded down to whole tile rows, at least
        one); `None` for one tile row.
    timings : `Timings` or None, optional
        Where to add the seconds spent in each stage.
    keep_maps : bool, optional
        Also return the network's maps of the whole image (memory of
        three float32 images, four for models without offsets).

    Returns
    -------
    peaks : `~asidl.peaks.Peaks`
        Peak pixels, strongest first, as `~asidl.localize.find_peaks`,
        their LoG responses and confidences, and their sub-pixel
        positions (`~asidl.localize.refine_positions`).
    maps : tuple
        Only with ``keep_maps``: the network's output ``(ny, nx, c)``
        (probability, then the offsets ``dy, dx`` if ``c == 3``), its
        input (for models without offsets, else `None`) and the
        `~asidl.peaks.band_edges`: the arguments of
        `~asidl.peaks.detect_in_maps`.
    """
    timings = Timings() if timings is None else timings
    ny, nx = image.data.shape
    grid = TileGrid((ny, nx), model, tile_size=tile_size, margin=margin, batch_size=batch_size)
    n_tile_rows = grid.ys.size
    per_band = tile_rows_per_band(grid, band_rows)
    halo = log_halo(sigma)
    kept = {'output': None, 'inputs': {}} if keep_maps else None
    statistics = None
    if normalization == 'standardize':
        with timings('normalize'):
            statistics = standardize_statistics(image.data, image.valid)

    maps = {}  # tile row -> [its core rows' network output (1 or 3, rows, nx)[, input]]
    pasted = {}  # tile row -> tiles pasted so far
    inputs = {}  # tile row -> normalized core rows (for models without offsets)
    pending = []  # (tile row, column, tile) waiting for the network
    found = []  # futures of each band's candidates
    state = {'done': 0, 'complete': 0, 'channels': None}

    def finish(limit):
        """Hand the peaks of rows done:limit to the second thread."""
        done = state['done']
        if limit <= done:
            return
        lo, hi = band_bounds(done, limit, halo, ny)
        # The maps of the tile rows that hold rows lo:hi; they are complete,
        # so the second thread can read them while this one fills the next.
        parts = [(*grid.core_rows(r), maps[r]) for r in sorted(maps)]
        parts = [(a, b, m) for a, b, m in parts if b > lo and a < hi]
        valid = image.valid[lo:hi]
        found.append(
            worker.submit(
                band_peaks, parts, valid, lo, hi, done, limit, ny, sigma, threshold, timings
            )
        )
        state['done'] = limit
        # Rows below the next band's halo are no longer needed.
        for r in [r for r in maps if grid.core_rows(r)[1] <= limit - 1 - halo]:
            del maps[r]

    # An OpenVINO network runs one request per stream (core) on threads of
    # its own, each taking the next tiles as soon as its last are done; the
    # stage's time is the streams' time shared out among them.
    streams = getattr(model, 'streams', 1) if hasattr(model, 'predict_planes') else 1

    def infer(tiles):
        t0 = time.perf_counter()
        out = run_batch(model, tiles, one_stream=streams > 1)
        timings.add('network', (time.perf_counter() - t0) / streams)
        return out

    in_flight = deque()  # (future of the network's output, its tiles), oldest first

    def drain(keep):
        """Stitch the outputs of the oldest batches until ``keep`` remain in flight."""
        while len(in_flight) > keep:
            future, chunk = in_flight.popleft()
            paste(chunk, future.result())

    def paste(chunk, out):
        with timings('stitch'):
            if state['channels'] is None:
                state['channels'] = 3 if output_channels(out) >= 3 else 1
            channels = state['channels']
            for k, (r, c, _) in enumerate(chunk):
                a, b = grid.core_rows(r)
                if r not in maps and kept is not None:
                    if kept['output'] is None:
                        kept['output'] = np.zeros((channels, ny, nx), np.float32)
                    maps[r] = [kept['output'][:, a:b]]  # a view: the rows stay kept
                elif r not in maps:
                    maps[r] = [np.zeros((channels, b - a, nx), np.float32)]
                # Each map is a plane of its own, as the network gives them.
                grid.paste(out, k, maps[r][0], r, c)
                pasted[r] = pasted.get(r, 0) + 1
            # Tile rows whose every tile is in: mask them, add the network's
            # input where positions are refined on it, and find their peaks.
            while (
                state['complete'] < n_tile_rows and pasted.get(state['complete'], 0) == grid.xs.size
            ):
                r = state['complete']
                a, b = grid.core_rows(r)
                maps[r][0][0][~image.valid[a:b]] = 0.0  # no probability where no data
                if state['channels'] == 1:
                    maps[r].append(inputs.pop(r))
                    if kept is not None:
                        kept['inputs'][r] = maps[r][1]
                state['complete'] += 1
                last = state['complete'] == n_tile_rows
                if last or (state['complete'] % per_band == 0):
                    finish(ny if last else b - halo - 1)

    # This thread normalizes and stitches, the network's threads (one per
    # stream, or one that uses every core) run the batches, and one more
    # finds the peaks of the bands that are complete.
    with ThreadPoolExecutor(1) as worker, ThreadPoolExecutor(streams) as network:
        for r in range(n_tile_rows):
            start, stop = grid.input_rows(r)
            with timings('normalize'):
                rows = normalize(
                    image.data[start:stop],
                    image.valid[start:stop],
                    method=normalization,
                    bkg=bkg,
                    first_row=start,
                    statistics=statistics,
                )
                a, b = grid.core_rows(r)
                if state['channels'] != 3:  # kept only for models without offsets
                    inputs[r] = rows[a - start : b - start].copy()
                strip = grid.strip(r, rows)
                del rows
            pending += [(r, c, tile) for c, tile in enumerate(grid.tiles(strip))]
            del strip
            last = r == n_tile_rows - 1
            while len(pending) >= grid.batch_size or (last and pending):
                chunk, pending = pending[: grid.batch_size], pending[grid.batch_size :]
                for part in _shares(chunk, streams):
                    in_flight.append((network.submit(infer, [tile for _, _, tile in part]), part))
                # One batch waits behind the one running, so that no stream
                # waits for the stitching and normalizing done here.
                drain(1 if streams == 1 else 2 * streams)
            if state['channels'] == 3:
                inputs.clear()
        drain(0)
        candidates = [future.result() for future in found]

    peaks = select_band_peaks(candidates, sigma, overlap, timings)
    if not keep_maps:
        return peaks
    inputs = kept['inputs']
    network_input = np.concatenate([inputs[r] for r in sorted(inputs)]) if inputs else None
    output = np.moveaxis(kept['output'], 0, -1)  # (ny, nx, c), a view of the planes
    return peaks, (output, network_input, band_edges(grid, band_rows))
