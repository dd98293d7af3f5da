# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Streams of simulated training batches.

Simulating a frame costs more than a training step on it, so the stream
keeps a modest pool of simulated frames, replaces a fraction of it with
fresh ones at every batch, and draws each batch from the pool with a
random flip/rotation (the 8 symmetries of the square, applied to image,
mask and offsets consistently).  No frame set is ever held in full.
"""

import numpy as np

from ..datasets import draw_parameters, simulate_frame
from ..normalize import normalize

__all__ = ['TrainingStream', 'make_example', 'augment']


def make_example(frame):
    """
    Network input and target of a `~asidl.datasets.SimulatedFrame`.

    Returns
    -------
    x : ``(ny, nx, 1)`` float32
    y : ``(ny, nx, 3)`` float32: mask, dy, dx
    """
    x = normalize(frame.data, ~frame.bad_pixels)
    y = np.stack([frame.mask.astype(np.float32), frame.offsets[0], frame.offsets[1]], axis=-1)
    return x[..., None], y


def augment(x, y, k, flip):
    """Rotate by ``k`` quarter turns and optionally flip left-right, offsets included."""
    y = y.copy()
    for _ in range(k % 4):
        # np.rot90 (counter-clockwise): new[i, j] = old[j, n-1-i]
        # so a vector (dy, dx) becomes (-dx, dy).
        x = np.rot90(x)
        y = np.rot90(y)
        y = np.stack([y[..., 0], -y[..., 2], y[..., 1]], axis=-1)
    if flip:
        x = x[:, ::-1]
        y = y[:, ::-1]
        y = np.stack([y[..., 0], y[..., 1], -y[..., 2]], axis=-1)
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


class TrainingStream:
    """
    An endless iterator of ``(x, y)`` training batches.

    Parameters
    ----------
    seed : int
        Seed of the stream; the same seed gives the same batches.
    frame_shape : tuple of int, optional
        Shape of the simulated frames.
    batch_size : int, optional
        Frames per batch.
    pool_size : int, optional
        Frames kept in the pool.
    fresh_per_batch : int, optional
        Frames replaced in the pool before each batch.
    draw : callable or None, optional
        ``draw(rng, shape)`` returns the `~asidl.datasets.FrameParameters`
        of a new frame; `~asidl.datasets.draw_parameters` (the
        domain-randomized distribution) by default.  Give your own to
        train for one telescope.
    """

    def __init__(
        self,
        seed,
        *,
        frame_shape=(128, 128),
        batch_size=16,
        pool_size=256,
        fresh_per_batch=4,
        draw=None,
    ):
        self.draw = draw_parameters if draw is None else draw
        self.rng = np.random.default_rng(seed)
        self.frame_shape = tuple(frame_shape)
        self.batch_size = batch_size
        self.fresh_per_batch = fresh_per_batch
        self.pool = [self._new() for _ in range(pool_size)]

    def _new(self):
        params = self.draw(self.rng, self.frame_shape)
        return make_example(simulate_frame(params, rng=self.rng))

    def __iter__(self):
        return self

    def batches(self):
        """A generator over the stream (what `keras.Model.fit` accepts)."""
        while True:
            yield next(self)

    def __next__(self):
        for i in self.rng.choice(len(self.pool), self.fresh_per_batch, replace=False):
            self.pool[i] = self._new()
        idx = self.rng.choice(len(self.pool), self.batch_size, replace=False)
        xs, ys = zip(
            *(
                augment(*self.pool[i], int(self.rng.integers(4)), bool(self.rng.integers(2)))
                for i in idx
            )
        )
        return np.stack(xs), np.stack(ys)
