# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The defaults of a training run, shared by `asidl.training.train.train`
and ``asidl train`` (whose help shows them).  This module imports nothing,
so that describing them does not load TensorFlow.
"""

__all__ = [
    'BASE_FILTERS',
    'BATCH_SIZE',
    'DEPTH',
    'EPOCHS',
    'FRAME_SIZE',
    'INPUT_STRIDE',
    'INPUT_STRIDES',
    'LEARNING_RATE',
    'N_VALIDATION',
    'SEED',
    'STEPS_PER_EPOCH',
]

#: Total epochs of a run.
EPOCHS = 24

#: Batches per epoch.
STEPS_PER_EPOCH = 250

#: Simulated frames per batch.
BATCH_SIZE = 16

#: Side of the simulated training frames, in pixels (a multiple of 32).
FRAME_SIZE = 128

#: Channels of the first U-Net level.
BASE_FILTERS = 16

#: Poolings of the U-Net.
DEPTH = 3

#: Pixels per side folded into channels before the U-Net; 4 is about 3x
#: faster than 1 on a CPU.
INPUT_STRIDE = 4

#: The input strides a U-Net can have.
INPUT_STRIDES = (1, 2, 4)

#: Initial Adam learning rate (cosine decay follows).
LEARNING_RATE = 2e-3

#: Seed of the training stream and of the initial weights.
SEED = 0

#: Validation frames scored each epoch.
N_VALIDATION = 24
