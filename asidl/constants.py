# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Constants shared by inference and training.

Every number that both the simulator (which draws the training masks) and
the finder (which interprets the network output) rely on is defined here
once, so the two can never drift apart.  So are the finder's default model
and the names of its normalizations and precisions, which the command line
needs to describe its options without importing the finder.
"""

import numpy as np

__all__ = [
    'MASK_FOOTPRINT',
    'MASK_OFFSETS',
    'MASK_RADIUS',
    'LOG_SIGMA',
    'LOG_THRESHOLD',
    'LOG_OVERLAP',
    'TARGET_SNR',
    'TILE_SIZE',
    'TILE_MARGIN',
    'BACKGROUND_BOX',
    'ROW_PIXELS',
    'ASINH_SOFTENING',
    'DEPTH_MULTIPLE',
    'DEFAULT_MODEL',
    'NORMALIZATIONS',
    'PRECISIONS',
    'DEFAULT_PRECISION',
    'REGION_RADIUS',
    'CATALOG_FORMAT',
    'GAUSSIAN_FWHM_PER_SIGMA',
]

#: The paper's training mask around each star: a 3x3 square plus one pixel
#: in each cardinal direction (13 pixels), centred on the star's pixel.
MASK_FOOTPRINT = np.array(
    [[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]],
    dtype=bool,
)

#: (dy, dx) offsets of the footprint pixels from its centre.
MASK_OFFSETS = np.argwhere(MASK_FOOTPRINT) - MASK_FOOTPRINT.shape[0] // 2

#: Half size of the footprint in pixels.
MASK_RADIUS = MASK_FOOTPRINT.shape[0] // 2

#: Laplacian-of-Gaussian scale matched to the footprint (paper Sect. 4.2).
LOG_SIGMA = 1.43

#: Lower bound of the scale-normalized LoG response (paper Table 3).
LOG_THRESHOLD = 0.2

#: Largest allowed overlap fraction of two detected blobs (paper Sect. 4.2).
LOG_OVERLAP = 0.8

#: Stars at or above this signal-to-noise ratio are targets (paper Sect. 4.1).
TARGET_SNR = 3.0

#: Largest side of the tiles the network sees at inference, in pixels.
TILE_SIZE = 1024

#: Border of each tile that is predicted but discarded when stitching, so
#: that every kept pixel saw enough context on all sides.
TILE_MARGIN = 32

#: Box size, in pixels, of the coarse background and noise maps used to
#: normalize raw frames.
BACKGROUND_BOX = 64

#: Pixels that the whole-frame steps (preparation, background map,
#: normalization, block sums, the FWHM measurement's scan) process at a time,
#: in bands of rows, so that no full-frame float64 temporary is ever made.
ROW_PIXELS = 1_000_000

#: Softening, in units of the background noise, of the asinh stretch that
#: keeps saturated stars from dominating the network input.
ASINH_SOFTENING = 3.0

#: Tile sides are multiples of this, so that every network the finder
#: runs sees inputs it can pool and unfold exactly: ``input_stride * 2 **
#: depth`` must divide it (8 for asidl-default, 32 for asidl-fast).
DEPTH_MULTIPLE = 32

#: Name of the model `~asidl.UNetLoGFinder` uses by default.
DEFAULT_MODEL = 'asidl-default'

#: Scalings of raw data for the network (`asidl.normalize.normalize`).
NORMALIZATIONS = ('asinh', 'standardize')

#: Precisions of the network's arithmetic (`asidl.engine.PRECISIONS`).
PRECISIONS = ('auto', 'f32', 'bf16')

#: Precision of the network unless one is asked for: bfloat16 on CPUs that
#: have bfloat16 instructions (where it is faster, and the quality
#: benchmark's Dice stays within 0.003 of float32), else float32.
#: ``'f32'`` reproduces TensorFlow's catalogs on any CPU.
DEFAULT_PRECISION = 'auto'

#: How ``min_confidence='auto'`` (`~asidl.UNetLoGFinder`) sets the lowest
#: calibrated confidence it reports from the short-range correlation of the
#: image's noise (`asidl.background.noise_correlation`): pairs of
#: (correlation from which, lowest confidence).  White noise (below 0.2,
#: even in crowded fields) gets no cut; resampled mosaics and coadds 0.5;
#: plate grain 0.8.  Chosen on simulated frames with correlated noise and
#: checked on others (see "Real images: purity" in the docs' comparison).
CONFIDENCE_FLOORS = ((0.2, 0.5), (0.45, 0.8))

#: Format of catalogs unless one is asked for (`asidl.io.CATALOG_FORMATS`).
CATALOG_FORMAT = 'ecsv'

#: Radius, in pixels, of the circles around sources in region files and
#: overlays.
REGION_RADIUS = 4.0

#: FWHM of a Gaussian in units of its standard deviation, 2 sqrt(2 ln 2),
#: to the four decimals the simulator has always used (every simulated
#: frame, the bundled example among them, depends on it).
GAUSSIAN_FWHM_PER_SIGMA = 2.3548
