# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Running the network over an image of any size.

The normalized image is cut into overlapping square tiles; each tile is
predicted with a margin of context on every side and only its core is
kept, so the stitched maps equal, to within the network's sensitivity to
far context, what a single pass over the whole frame would give, wherever
the seams fall.  Tiles go through the network in batches, so memory is
bounded by the batch, not by the frame: only the single-channel input
and output maps are ever full size.
"""

import numpy as np

from .constants import DEPTH_MULTIPLE, TILE_MARGIN, TILE_SIZE

__all__ = ['TileGrid', 'check_tiling', 'predict_maps', 'run_batch', 'tile_origins', 'tile_shape']

#: Pixels per network call when the batch size is automatic: bounds the
#: memory of the full-resolution activations (about 0.5 GB for the default
#: model) whatever the tile size.
BATCH_PIXELS = 2**21


def tile_origins(length, core):
    """Start of each tile's core along an axis of ``length`` pixels."""
    return np.arange(0, max(length, 1), core)


def _round_up(value, multiple):
    return -(-value // multiple) * multiple


def tile_shape(shape, tile_size=TILE_SIZE, margin=TILE_MARGIN):
    """
    Tile size along each axis of an image of ``shape``.

    Along each axis the image needs ``n = ceil(length / (tile_size - 2
    margin))`` tiles; the tiles are then shrunk to the smallest multiple of
    `~asidl.constants.DEPTH_MULTIPLE` whose core still covers the axis
    in ``n`` tiles, so little work is spent on padding beyond the image.
    """
    out = []
    for length in shape:
        n = -(-max(length, 1) // (tile_size - 2 * margin))
        out.append(min(tile_size, _round_up(-(-length // n) + 2 * margin, DEPTH_MULTIPLE)))
    return tuple(out)


def check_tiling(tile_size, margin):
    """
    Check the tiling parameters of `predict_maps` (and the finder).

    Raises
    ------
    ValueError
        A ``tile_size`` that is not a positive multiple of
        `~asidl.constants.DEPTH_MULTIPLE`, or a ``margin`` that is
        negative or leaves less than half of each tile as its core; the
        message names the parameter as the finder calls it.
    """
    if (
        isinstance(tile_size, bool)
        or not isinstance(tile_size, (int, np.integer))
        or tile_size < DEPTH_MULTIPLE
        or tile_size % DEPTH_MULTIPLE
    ):
        raise ValueError(
            f'tile_size must be a positive integer multiple of {DEPTH_MULTIPLE}, got {tile_size!r}'
        )
    if isinstance(margin, bool) or not isinstance(margin, (int, np.integer)) or margin < 0:
        raise ValueError(f'tile_margin must be a non-negative integer, got {margin!r}')
    if 4 * margin > tile_size:
        raise ValueError(
            f'tile_margin must leave at least half of each tile as its core '
            f'(4 * tile_margin <= tile_size = {tile_size}), got {margin!r}'
        )


class TileGrid:
    """
    The tiles that cover an image, and the batches they go through the
    network in.

    `predict_maps` runs every tile of the grid at once; the finder's band
    pipeline (`asidl.bands`) runs them tile row by tile row, in the same
    batches, so both give the same maps.

    Parameters
    ----------
    shape : tuple of int
        Shape of the image.
    model
        As for `predict_maps`.
    tile_size, margin, batch_size
        As for `predict_maps`.

    Attributes
    ----------
    tile_y, tile_x : int
        Tile shape.
    core_y, core_x : int
        Shape of the part of each tile that is kept.
    ys, xs : `~numpy.ndarray` of int
        Image row and column of the first core pixel of each tile row and
        column.
    batch_size : int
        Tiles per network call.
    """

    def __init__(self, shape, model, *, tile_size=TILE_SIZE, margin=TILE_MARGIN, batch_size=None):
        check_tiling(tile_size, margin)
        ny, nx = shape
        self.shape = (ny, nx)
        self.margin = margin
        fixed_y, fixed_x = tuple(model.input_shape)[1:3]
        if fixed_y is not None or fixed_x is not None:
            # A model built for one input size (like the ASID-L authors' 256x256)
            # gets tiles of exactly that size.
            tile_y, tile_x = fixed_y or tile_size, fixed_x or tile_size
            if min(tile_y, tile_x) - 2 * margin < 1:
                raise ValueError(
                    f'tile_margin {margin} leaves no core in the {tile_y}x{tile_x} '
                    'inputs this model requires'
                )
        else:
            tile_y, tile_x = tile_shape((ny, nx), tile_size, margin)
        if batch_size is None:
            batch_size = max(1, BATCH_PIXELS // (tile_y * tile_x))
            # An engine that runs several tiles in parallel (one per core) gets
            # batches it can share out evenly.
            streams = getattr(model, 'streams', 1)
            batch_size = max(streams, batch_size // streams * streams)
        self.batch_size = batch_size
        self.tile_y, self.tile_x = tile_y, tile_x
        self.core_y, self.core_x = tile_y - 2 * margin, tile_x - 2 * margin
        self.ys = tile_origins(ny, self.core_y)
        self.xs = tile_origins(nx, self.core_x)

    def input_rows(self, row):
        """Image rows ``(start, stop)`` that tile row ``row`` sees (clipped to the image)."""
        y0 = self.ys[row] - self.margin
        return max(y0, 0), min(y0 + self.tile_y, self.shape[0])

    def core_rows(self, row):
        """Image rows ``(start, stop)`` whose maps tile row ``row`` gives."""
        y0 = self.ys[row]
        return y0, min(y0 + self.core_y, self.shape[0])

    def strip(self, row, normalized):
        """
        The zero-padded input strip of tile row ``row``, of shape ``(tile_y,
        xs[-1] + tile_x)``, from the normalized image rows `input_rows`.
        """
        start, stop = self.input_rows(row)
        top = start - (self.ys[row] - self.margin)
        strip = np.zeros((self.tile_y, self.xs[-1] + self.tile_x), dtype=np.float32)
        strip[top : top + stop - start, self.margin : self.margin + self.shape[1]] = normalized
        return strip

    def tiles(self, strip):
        """The tiles (views) of a strip, left to right."""
        return [strip[:, x0 : x0 + self.tile_x] for x0 in self.xs]

    def paste(self, out, k, maps, row, column):
        """
        Copy the core of tile ``k`` of a batch's network output ``out``
        (`run_batch`'s channel-first parts) into ``maps``, the ``c`` (or
        fewer) maps of tile row ``row``'s core rows: a sequence of 2D
        arrays, or one ``(c, rows, nx)`` array.
        """
        ny, nx = self.shape
        x0 = self.xs[column]
        h = min(self.core_y, ny - self.ys[row])
        w = min(self.core_x, nx - x0)
        m = self.margin
        channel = 0
        for part in out:
            for plane in part[k]:
                if channel == len(maps):
                    return
                maps[channel][:, x0 : x0 + w] = plane[m : m + h, m : m + w]
                channel += 1


def output_channels(out):
    """The number of channels of `run_batch`'s output ``out``."""
    return sum(part.shape[1] for part in out)


def run_batch(model, tiles, *, one_stream=False):
    """
    The network's output for a list of ``(ny, nx)`` tiles, channel first:
    a list of ``(n, c_i, ny, nx)`` arrays whose channels, in order, are the
    model's (from `~asidl.engine.CompiledNetwork.predict_planes`, or a view
    of a Keras model's channels-last output).  ``one_stream`` is passed to
    ``predict_planes``.
    """
    batch = np.stack(tiles)[..., None]
    planes = getattr(model, 'predict_planes', None)
    if planes is not None:
        return planes(batch, one_stream=one_stream)
    return [np.moveaxis(np.asarray(model.predict_on_batch(batch)), -1, 1)]


def predict_maps(normalized, model, *, tile_size=TILE_SIZE, margin=TILE_MARGIN, batch_size=None):
    """
    Probability (and offset) maps of a normalized image.

    Parameters
    ----------
    normalized : 2D float32 `~numpy.ndarray`
        Network input, e.g. from `asidl.normalize.normalize`.
    model : `keras.Model` or `asidl.engine.CompiledNetwork`
        Takes ``(n, ny, nx, 1)`` and returns ``(n, ny, nx, c)`` with the
        probability in channel 0 and, if ``c == 3``, sub-pixel offsets
        ``dy, dx`` in channels 1 and 2.
    tile_size : int, optional
        Largest side of the tiles; a multiple of
        `~asidl.constants.DEPTH_MULTIPLE`.  Tiles shrink to cover the
        image with as little padding as possible (see `tile_shape`).  A
        model with a fixed input size gets tiles of that size instead.
    margin : int, optional
        Context discarded on each side of a tile.
    batch_size : int or None, optional
        Tiles per network call; by default as many as make about
        ``BATCH_PIXELS`` pixels, rounded down to a multiple of the model's
        ``streams`` (tiles it runs in parallel), if it has them.

    Returns
    -------
    probability : 2D float32 `~numpy.ndarray`
    offsets : tuple of two 2D float32 `~numpy.ndarray`, or None
    """
    ny, nx = normalized.shape
    grid = TileGrid((ny, nx), model, tile_size=tile_size, margin=margin, batch_size=batch_size)
    probability = np.zeros((ny, nx), dtype=np.float32)
    offsets = None
    pending = []  # (row, column, tile)
    for row in range(grid.ys.size):
        start, stop = grid.input_rows(row)
        strip = grid.strip(row, normalized[start:stop])
        pending += [(row, column, tile) for column, tile in enumerate(grid.tiles(strip))]
        last = row == grid.ys.size - 1
        while len(pending) >= grid.batch_size or (last and pending):
            chunk, pending = pending[: grid.batch_size], pending[grid.batch_size :]
            out = run_batch(model, [tile for _, _, tile in chunk])
            if offsets is None and output_channels(out) >= 3:
                offsets = (np.zeros((ny, nx), np.float32), np.zeros((ny, nx), np.float32))
            for k, (r, c, _) in enumerate(chunk):
                y0, y1 = grid.core_rows(r)
                maps = [probability[y0:y1]] + ([o[y0:y1] for o in offsets] if offsets else [])
                grid.paste(out, k, maps, r, c)
    return probability, offsets
