# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Keras layers of asidl's networks that Keras does not have.

Importing this module registers them, so that model files that use them
load with `keras.models.load_model`.
"""

import keras

__all__ = ['DepthToSpace']


@keras.saving.register_keras_serializable(package='asidl')
class DepthToSpace(keras.layers.Layer):
    """
    Unfold groups of channels into blocks of pixels.

    The inverse of a space-to-depth: channel ``(a * b + c) * k + m`` at
    position ``(i, j)`` becomes channel ``m`` of pixel ``(b * i + a, b * j +
    c)``, with ``b`` the ``block_size`` and ``k`` the output channels
    (`keras.ops.depth_to_space`).

    Parameters
    ----------
    block_size : int, optional
        Side of the blocks.
    """

    def __init__(self, block_size=2, **kwargs):
        super().__init__(**kwargs)
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
            raise ValueError(f'block_size must be a positive integer, got {block_size!r}')
        self.block_size = block_size

    def call(self, x):
        return keras.ops.depth_to_space(x, self.block_size)

    def compute_output_shape(self, input_shape):
        n, ny, nx, c = input_shape
        b = self.block_size
        return (n, None if ny is None else ny * b, None if nx is None else nx * b, c // b**2)

    def get_config(self):
        return {**super().get_config(), 'block_size': self.block_size}
