# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Simulated raw optical frames with truth catalogs and training masks, and
the example frame bundled with the package.

The network learns only from this simulator, so it draws frames the way a
CCD records them: stars with a Moffat or Gaussian PSF that varies across
the field, sky with a gradient, galaxies and nebulosity that are not
targets, photon and read noise, gain, a bias level with per-amplifier
offsets, saturation with bleed columns, cosmic rays, satellite trails,
diffraction spikes and hot or dead pixels.  Frames are in ADU and are
*not* background subtracted, just like the frames users give the finder.

Real images are not all raw CCD frames with white noise, so the frames can
also carry the noise of processed and photographic images: resampling
(bilinear, cubic, Lanczos or drizzle-like kernels at random sub-pixel
shifts), coadds of several dithered exposures, photographic-plate grain
(non-Gaussian, spatially correlated, weaker where the emulsion saturates),
block-compression artifacts, low-frequency pattern noise and confusion
noise from many unresolved faint stars.  Correlated noise makes a smooth
bump of a given per-pixel amplitude more common, so the signal-to-noise
ratio that decides which stars are targets includes the correlated
noise's variance on the scale of the PSF.

Targets are the stars with an optimal-extraction signal-to-noise ratio of
at least `~asidl.constants.TARGET_SNR`, as in the paper.  Their training
mask is the paper's 13-pixel footprint (`~asidl.constants.MASK_FOOTPRINT`)
centred on the star's pixel; the sub-pixel offset maps hold, for every
footprint pixel, the star's position relative to that pixel's centre.

The simulator is split by what it draws: the frame's parameters
(``asidl.datasets.parameters``), its sky and stars (``asidl.datasets.stars``),
artifacts and saturation (``asidl.datasets.artifacts``), noise
(``asidl.datasets.noise``), the training targets (``asidl.datasets.targets``)
and the frame put together (``asidl.datasets.frames``).  The example frame
(``asidl.datasets.example``) is one of its frames.
"""

from .example import EXAMPLE_DIR, load_example_frame, make_example_frame
from .frames import SimulatedFrame, simulate_frame
from .noise import resample_shift
from .parameters import (
    ARCSEC_PER_ARCMIN,
    RESAMPLING_KERNELS,
    FrameParameters,
    draw_parameters,
    meerlicht_like,
)
from .stars import sky_electrons
from .targets import target_mask

__all__ = [
    'ARCSEC_PER_ARCMIN',
    'EXAMPLE_DIR',
    'RESAMPLING_KERNELS',
    'FrameParameters',
    'SimulatedFrame',
    'draw_parameters',
    'load_example_frame',
    'make_example_frame',
    'meerlicht_like',
    'resample_shift',
    'simulate_frame',
    'sky_electrons',
    'target_mask',
]
