# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
What a simulated frame contains: `FrameParameters`, drawn from the
domain-randomized training distribution (`draw_parameters`) or set for
the MeerLICHT-like benchmark instrument (`meerlicht_like`).
"""

from dataclasses import dataclass

import numpy as np

__all__ = [
    'ARCSEC_PER_ARCMIN',
    'RESAMPLING_KERNELS',
    'FrameParameters',
    'draw_parameters',
    'log_uniform',
    'meerlicht_like',
]

#: Arcseconds in an arcminute.
ARCSEC_PER_ARCMIN = 60.0

#: Interpolation kernels with which frames can be resampled (registration,
#: mosaicking, stacking): ``'drizzle'`` is a bilinear shift followed by a
#: small box of the pixel's footprint.
RESAMPLING_KERNELS = ('bilinear', 'cubic', 'lanczos3', 'drizzle')

#: Full-well capacities are drawn between these (electrons).
_FULL_WELL = (40_000.0, 150_000.0)

#: Brightest star flux as a multiple of the full well, so that saturated


@dataclass
class FrameParameters:
    """
    The instrument and field of one simulated frame.

    All fluxes are in electrons; see `draw_parameters` for the ranges
    the training set spans.
    """

    shape: tuple = (128, 128)
    pixel_scale: float = 0.56  # arcsec / pixel
    density: float = 10.0  # stars with S/N >= TARGET_SNR per arcmin^2
    lf_slope: float = 1.75  # dN/dF ~ F ** -lf_slope
    min_snr: float = 0.5  # faintest stars drawn (confusion)
    cluster_fraction: float = 0.0  # fraction of stars in a King-like cluster
    cluster_core: float = 30.0  # core radius, pixels
    cluster_center: tuple = (64.0, 64.0)
    psf: str = 'moffat'  # 'moffat' or 'gaussian'
    fwhm: float = 4.5  # pixels, at the frame centre
    fwhm_gradient: float = 0.0  # relative change of FWHM per 1000 px
    beta: float = 3.0  # Moffat index
    ellipticity: float = 0.0
    angle: float = 0.0  # radians
    sky: float = 400.0  # electrons / pixel
    sky_gradient: tuple = (0.0, 0.0)  # relative change per 1000 px (y, x)
    nebulosity: float = 0.0  # amplitude of smooth structure, in sky-noise units
    read_noise: float = 10.0  # electrons
    gain: float = 1.0  # electrons / ADU
    bias: float = 500.0  # ADU
    amp_offsets: tuple = ()  # ((axis, position, offset ADU), ...)
    full_well: float = 100_000.0  # electrons
    saturation_adu: float = 65535.0
    n_galaxies: int = 0
    n_cosmic_rays: int = 0
    n_trails: int = 0
    spikes: bool = False  # diffraction spikes on bright stars
    n_hot_pixels: int = 0
    bad_columns: int = 0
    blank_edge: int = 0  # width of a blank (off-detector) band
    resample: str = 'none'  # 'none' or one of RESAMPLING_KERNELS
    n_coadd: int = 1  # dithered exposures averaged (each resampled)
    grain: float = 0.0  # plate grain, in sky-noise units
    grain_scale: float = 1.0  # correlation length of the grain, pixels
    response_knee: float = 0.0  # photographic response knee, sky-noise units (0: linear)
    block: int = 1  # block-compression factor (2: 2x2 blocks)
    pattern_noise: float = 0.0  # low-frequency pattern, in sky-noise units


def log_uniform(rng, low, high):
    """A number drawn log-uniformly between ``low`` and ``high`` from ``rng``."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def draw_parameters(rng, shape=(128, 128), *, density=None, artifacts=True, correlated_noise=True):
    """
    Draw the parameters of a frame from the domain-randomized training
    distribution.

    Parameters
    ----------
    rng : `numpy.random.Generator`
        Source of randomness.
    shape : tuple of int, optional
        Frame shape.
    density : float or None, optional
        Target stars per square arcminute.  If `None`, the number of target
        stars per 1000 square pixels is drawn log-uniformly between 0.02
        and 25 (at 0.56"/pixel: 0.2 to 290 per square arcminute), so that
        crowding in pixels, which is what the network sees, spans the same
        range whatever the pixel scale drawn.
    artifacts : bool, optional
        Whether cosmic rays, trails, hot pixels and the like may appear.
    correlated_noise : bool, optional
        Whether the noise of processed and photographic images may appear:
        resampling (35% of frames, 40% of those coadds of 2 to 8
        exposures), plate grain (20%; 70% of those with the soft
        saturation of an emulsion), block compression, low-frequency
        pattern noise (15%) and confusion noise from stars down to S/N 0.05
        (20%).

    Notes
    -----
    The FWHM is drawn log-uniformly between 1.5 and 8 pixels, or, in a
    third of the frames, between 1.0 and 2.5 pixels: undersampled stars
    are the range where resampling the image cannot bring the stars to the
    network's native scale.

    Returns
    -------
    params : `FrameParameters`
    """
    ny, nx = shape
    area_mpix = ny * nx / 1e6
    p = FrameParameters(shape=tuple(shape))
    p.pixel_scale = log_uniform(rng, 0.3, 2.0)
    per_kpix = log_uniform(rng, 0.02, 25.0)
    p.density = (
        density
        if density is not None
        else (per_kpix / 1000.0 * (ARCSEC_PER_ARCMIN / p.pixel_scale) ** 2)
    )
    p.lf_slope = rng.uniform(1.5, 2.1)
    if rng.random() < 0.3:
        p.cluster_fraction = rng.uniform(0.3, 1.0)
        p.cluster_core = log_uniform(rng, 5.0, 3 * max(shape))
        p.cluster_center = (rng.uniform(-0.5, 1.5) * ny, rng.uniform(-0.5, 1.5) * nx)
    p.psf = 'moffat' if rng.random() < 0.7 else 'gaussian'
    # A third of the draws are undersampled (FWHM 1.0-2.5 px), where the
    # scale front end cannot help by block-summing (issue: any sampling).
    p.fwhm = log_uniform(rng, 1.0, 2.5) if rng.random() < 1 / 3 else log_uniform(rng, 1.5, 8.0)
    p.fwhm_gradient = rng.uniform(-0.3, 0.3)
    p.beta = rng.uniform(2.0, 5.0)
    p.ellipticity = rng.uniform(0.0, 0.25) if rng.random() < 0.6 else 0.0
    p.angle = rng.uniform(0, np.pi)
    p.sky = log_uniform(rng, 10.0, 5000.0)
    p.sky_gradient = tuple(rng.normal(0.0, 0.2, 2))
    p.nebulosity = log_uniform(rng, 0.3, 30.0) if rng.random() < 0.15 else 0.0
    p.read_noise = rng.uniform(2.0, 15.0)
    p.gain = log_uniform(rng, 0.5, 4.0)
    p.bias = rng.uniform(0.0, 2000.0) if rng.random() < 0.8 else 0.0
    if rng.random() < 0.3:
        axis = int(rng.integers(2))
        p.amp_offsets = ((axis, int(rng.integers(shape[axis])), float(rng.normal(0.0, 30.0))),)
    p.full_well = rng.uniform(*_FULL_WELL)
    p.saturation_adu = min(65535.0, p.bias + p.full_well / p.gain)
    p.n_galaxies = int(rng.poisson(rng.uniform(0, 300) * area_mpix))
    if artifacts:
        p.n_cosmic_rays = int(rng.poisson(rng.uniform(0, 600) * area_mpix))
        p.n_trails = int(rng.random() < 0.08) + int(rng.random() < 0.02)
        p.spikes = bool(rng.random() < 0.3)
        p.n_hot_pixels = int(rng.poisson(rng.uniform(0, 1e3) * area_mpix))
        p.bad_columns = int(rng.random() < 0.05)
        p.blank_edge = int(rng.integers(4, ny // 3)) if rng.random() < 0.04 else 0
    if correlated_noise:
        _draw_processing(rng, p)
    return p


def _draw_processing(rng, p):
    """Noise of processed and photographic images (drawn last, so the rest is unchanged)."""
    if rng.random() < 0.35:
        p.resample = RESAMPLING_KERNELS[int(rng.integers(len(RESAMPLING_KERNELS)))]
        if rng.random() < 0.4:
            p.n_coadd = int(rng.integers(2, 9))
            # Stacking rejects most cosmic rays.
            p.n_cosmic_rays //= p.n_coadd
    if rng.random() < 0.2:
        p.grain = log_uniform(rng, 0.3, 5.0)
        p.grain_scale = log_uniform(rng, 0.5, 2.5)
        p.block = 2 if rng.random() < 0.5 else 1
        if rng.random() < 0.7:
            p.response_knee = log_uniform(rng, 10.0, 300.0)
    elif rng.random() < 0.04:
        p.block = 2
    if rng.random() < 0.15:
        p.pattern_noise = log_uniform(rng, 0.1, 1.0)
    if rng.random() < 0.2:
        p.min_snr = log_uniform(rng, 0.05, 0.5)


def meerlicht_like(shape=(512, 512), density=30.0, *, rng=None, artifacts=True):
    """
    Parameters of a MeerLICHT-like raw frame, the benchmark instrument.

    0.56"/pixel, seeing 2.5" (Moffat, beta 3), sky 400 e-/pixel, read
    noise 10 e-, gain 1, bias 500 ADU; with ``artifacts``, cosmic rays,
    hot pixels, galaxies, diffraction spikes and sometimes a satellite
    trail, their numbers drawn from ``rng``.

    Parameters
    ----------
    shape : tuple of int, optional
        Frame shape.
    density : float, optional
        Target stars (S/N >= 3) per square arcminute.
    rng : `numpy.random.Generator` or None, optional
        Draws the number of artifacts.
    artifacts : bool, optional
        Whether to add artifacts.

    Returns
    -------
    params : `FrameParameters`
    """
    rng = np.random.default_rng(rng)
    p = FrameParameters(
        shape=tuple(shape),
        pixel_scale=0.56,
        density=density,
        psf='moffat',
        fwhm=2.5 / 0.56,
        beta=3.0,
        sky=400.0,
        read_noise=10.0,
        gain=1.0,
        bias=500.0,
        full_well=100_000.0,
        saturation_adu=65535.0,
    )
    if artifacts:
        area_mpix = shape[0] * shape[1] / 1e6
        p.n_cosmic_rays = int(rng.poisson(150 * area_mpix))
        p.n_trails = int(rng.random() < 0.3)
        p.spikes = True
        p.n_hot_pixels = int(rng.poisson(50 * area_mpix))
        p.n_galaxies = int(rng.poisson(40 * area_mpix))
    return p
