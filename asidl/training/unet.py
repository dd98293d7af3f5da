# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The U-Net that turns a normalized image into a source probability map.

The network has two heads on a shared U-Net body:

* ``probability`` (1 channel, sigmoid): the paper's segmentation mask,
  the probability that a pixel belongs to the footprint of a star;
* ``offset`` (2 channels, linear): for footprint pixels, the position of
  the star relative to the pixel centre, ``(dy, dx)`` in pixels.  This is
  what gives asidl sub-pixel positions, which the paper's integer LoG
  peaks lack.

The outputs are concatenated so that ``model.predict`` returns one
``(n, ny, nx, 3)`` array.  Models with a single output channel (such as
the ASID-L authors' published model) are also understood by the finder.
"""

from ..constants import DEPTH_MULTIPLE

__all__ = ['build_unet']


def build_unet(*, base_filters=8, depth=3, input_stride=1, stem_filters=None, name='asidl_unet'):
    """
    Build a U-Net with a probability head and a sub-pixel offset head.

    Parameters
    ----------
    base_filters : int, optional
        Number of channels of the first level; each deeper level doubles it
        (``base_filters=8, depth=3`` gives 8 -> 64 channels).
    depth : int, optional
        Number of 2x2 poolings.  Input sizes must be multiples of
        ``input_stride * 2 ** depth``.
    input_stride : int, optional
        If above 1, a learned space-to-depth layer (a ``input_stride`` x
        ``input_stride`` convolution with that stride) folds each block of
        pixels into ``base_filters`` channels before the U-Net, and a
        transposed convolution unfolds the result to full resolution before
        the heads.  The U-Net then runs on ``input_stride ** 2`` times fewer
        positions, which on a CPU is most of the cost; the heads still give
        one probability and offset per pixel.
    stem_filters : int or None, optional
        Channels of the space-to-depth layer and of the transposed
        convolution before the heads (``input_stride > 1`` only);
        ``base_filters`` by default.  ``input_stride=2, base_filters=16,
        depth=2, stem_filters=8`` is the half-resolution part of the
        ``base_filters=8, depth=3`` network with its full-resolution blocks
        replaced by the stem.
    name : str, optional
        Name of the Keras model.

    Returns
    -------
    model : `keras.Model`
        A model taking ``(n, ny, nx, 1)`` float32 images and returning
        ``(n, ny, nx, 3)``: probability, dy, dx.
    """
    import keras
    from keras import layers

    if not isinstance(base_filters, int) or base_filters < 1:
        raise ValueError(f'base_filters must be a positive integer, got {base_filters!r}')
    if not isinstance(depth, int) or not 1 <= depth <= 4:
        raise ValueError(f'depth must be an integer between 1 and 4, got {depth!r}')
    if input_stride not in (1, 2, 4):
        raise ValueError(f'input_stride must be 1, 2 or 4, got {input_stride!r}')
    if stem_filters is None:
        stem_filters = base_filters
    if not isinstance(stem_filters, int) or stem_filters < 1:
        raise ValueError(f'stem_filters must be a positive integer, got {stem_filters!r}')
    if input_stride * 2**depth > DEPTH_MULTIPLE:
        raise ValueError(
            f'input_stride * 2 ** depth must be at most {DEPTH_MULTIPLE} (the '
            f'multiple the finder makes its tiles of); got input_stride '
            f'{input_stride} and depth {depth}'
        )

    def conv_block(x, filters, prefix):
        for i in (1, 2):
            x = layers.Conv2D(
                filters,
                3,
                padding='same',
                activation='relu',
                kernel_initializer='he_normal',
                name=f'{prefix}_conv{i}',
            )(x)
        return x

    inputs = keras.Input(shape=(None, None, 1), name='image')
    x = inputs
    if input_stride > 1:
        x = layers.Conv2D(
            stem_filters,
            input_stride,
            strides=input_stride,
            activation='relu',
            kernel_initializer='he_normal',
            name='space_to_depth',
        )(x)
    skips = []
    for level in range(depth):
        x = conv_block(x, base_filters * 2**level, f'down{level}')
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f'pool{level}')(x)
    x = conv_block(x, base_filters * 2**depth, 'bottom')
    for level in reversed(range(depth)):
        filters = base_filters * 2**level
        x = layers.Conv2DTranspose(
            filters, 2, strides=2, padding='same', name=f'up{level}_transpose'
        )(x)
        x = layers.Concatenate(name=f'up{level}_concat')([x, skips[level]])
        x = conv_block(x, filters, f'up{level}')
    if input_stride > 1:
        x = layers.Conv2DTranspose(
            stem_filters,
            input_stride,
            strides=input_stride,
            activation='relu',
            kernel_initializer='he_normal',
            name='depth_to_space',
        )(x)
    probability = layers.Conv2D(1, 1, activation='sigmoid', name='probability')(x)
    offset = layers.Conv2D(2, 1, name='offset')(x)
    outputs = layers.Concatenate(name='outputs')([probability, offset])
    return keras.Model(inputs, outputs, name=name)
