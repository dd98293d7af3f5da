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

__all__ = ['predict_maps', 'tile_origins', 'tile_shape']

#: Pixels per network call when the batch size is automatic: bounds the
#: memory of the full-resolution activations (about 0.5 GB for the default
#: model) whatever the tile size.
BATCH_PIXELS = 2 ** 21


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


def _check_tiling(tile_size, margin):
    """Check the tiling parameters, each named in its own message."""
    if isinstance(tile_size, bool) or not isinstance(tile_size, (int, np.integer)) \
            or tile_size < DEPTH_MULTIPLE or tile_size % DEPTH_MULTIPLE:
        raise ValueError(f'tile_size must be a positive integer multiple of {DEPTH_MULTIPLE}, '
                         f'got {tile_size!r}')
    if isinstance(margin, bool) or not isinstance(margin, (int, np.integer)) or margin < 0:
        raise ValueError(f'tile_margin must be a non-negative integer, got {margin!r}')
    if 4 * margin > tile_size:
        raise ValueError(f'tile_margin must leave at least half of each tile as its core '
                         f'(4 * tile_margin <= tile_size = {tile_size}), got {margin!r}')


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
    _check_tiling(tile_size, margin)
    ny, nx = normalized.shape
    fixed_y, fixed_x = tuple(model.input_shape)[1:3]
    if fixed_y is not None or fixed_x is not None:
        # A model built for one input size (like the ASID-L authors' 256x256)
        # gets tiles of exactly that size.
        tile_y, tile_x = fixed_y or tile_size, fixed_x or tile_size
        if min(tile_y, tile_x) - 2 * margin < 1:
            raise ValueError(f'tile_margin {margin} leaves no core in the {tile_y}x{tile_x} '
                             'inputs this model requires')
    else:
        tile_y, tile_x = tile_shape((ny, nx), tile_size, margin)
    if batch_size is None:
        batch_size = max(1, BATCH_PIXELS // (tile_y * tile_x))
        # An engine that runs several tiles in parallel (one per core) gets
        # batches it can share out evenly.
        streams = getattr(model, 'streams', 1)
        batch_size = max(streams, batch_size // streams * streams)
    core_y, core_x = tile_y - 2 * margin, tile_x - 2 * margin
    ys = tile_origins(ny, core_y)
    xs = tile_origins(nx, core_x)
    padded = np.zeros((ys[-1] + tile_y, xs[-1] + tile_x), dtype=np.float32)
    padded[margin:margin + ny, margin:margin + nx] = normalized
    probability = np.zeros((ny, nx), dtype=np.float32)
    offsets = None
    origins = [(y0, x0) for y0 in ys for x0 in xs]
    for start in range(0, len(origins), batch_size):
        chunk = origins[start:start + batch_size]
        batch = np.stack([padded[y0:y0 + tile_y, x0:x0 + tile_x] for y0, x0 in chunk])
        out = np.asarray(model.predict_on_batch(batch[..., None]))
        if offsets is None and out.shape[-1] >= 3:
            offsets = (np.zeros((ny, nx), np.float32), np.zeros((ny, nx), np.float32))
        for k, (y0, x0) in enumerate(chunk):
            h = min(core_y, ny - y0)
            w = min(core_x, nx - x0)
            tile = out[k, margin:margin + h, margin:margin + w]
            probability[y0:y0 + h, x0:x0 + w] = tile[..., 0]
            if offsets is not None:
                offsets[0][y0:y0 + h, x0:x0 + w] = tile[..., 1]
                offsets[1][y0:y0 + h, x0:x0 + w] = tile[..., 2]
    return probability, offsets
