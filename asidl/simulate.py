# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Simulated raw optical frames with truth catalogs and training masks.

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
"""

from dataclasses import dataclass

import numpy as np
from astropy.table import QTable

from .constants import MASK_OFFSETS, MASK_RADIUS, TARGET_SNR

__all__ = [
    'FrameParameters',
    'SimulatedFrame',
    'draw_parameters',
    'meerlicht_like',
    'simulate_frame',
    'sky_electrons',
    'target_mask',
    'resample_shift',
    'ARCSEC_PER_ARCMIN',
    'RESAMPLING_KERNELS',
]

ARCSEC_PER_ARCMIN = 60.0

#: Interpolation kernels with which frames can be resampled (registration,
#: mosaicking, stacking): ``'drizzle'`` is a bilinear shift followed by a
#: small box of the pixel's footprint.
RESAMPLING_KERNELS = ('bilinear', 'cubic', 'lanczos3', 'drizzle')

#: Full-well capacities are drawn between these (electrons).
_FULL_WELL = (40_000.0, 150_000.0)

#: Brightest star flux as a multiple of the full well, so that saturated
#: stars appear in a good fraction of the frames.
_MAX_FLUX_WELLS = 60.0


@dataclass
class FrameParameters:
    """
    The instrument and field of one simulated frame.

    All fluxes are in electrons; see `draw_parameters` for the ranges
    the training set spans.
    """

    shape: tuple = (128, 128)
    pixel_scale: float = 0.56          # arcsec / pixel
    density: float = 10.0              # stars with S/N >= TARGET_SNR per arcmin^2
    lf_slope: float = 1.75             # dN/dF ~ F ** -lf_slope
    min_snr: float = 0.5               # faintest stars drawn (confusion)
    cluster_fraction: float = 0.0      # fraction of stars in a King-like cluster
    cluster_core: float = 30.0         # core radius, pixels
    cluster_center: tuple = (64.0, 64.0)
    psf: str = 'moffat'                # 'moffat' or 'gaussian'
    fwhm: float = 4.5                  # pixels, at the frame centre
    fwhm_gradient: float = 0.0         # relative change of FWHM per 1000 px
    beta: float = 3.0                  # Moffat index
    ellipticity: float = 0.0
    angle: float = 0.0                 # radians
    sky: float = 400.0                 # electrons / pixel
    sky_gradient: tuple = (0.0, 0.0)   # relative change per 1000 px (y, x)
    nebulosity: float = 0.0            # amplitude of smooth structure, in sky-noise units
    read_noise: float = 10.0           # electrons
    gain: float = 1.0                  # electrons / ADU
    bias: float = 500.0                # ADU
    amp_offsets: tuple = ()            # ((axis, position, offset ADU), ...)
    full_well: float = 100_000.0       # electrons
    saturation_adu: float = 65535.0
    n_galaxies: int = 0
    n_cosmic_rays: int = 0
    n_trails: int = 0
    spikes: bool = False               # diffraction spikes on bright stars
    n_hot_pixels: int = 0
    bad_columns: int = 0
    blank_edge: int = 0                # width of a blank (off-detector) band
    resample: str = 'none'             # 'none' or one of RESAMPLING_KERNELS
    n_coadd: int = 1                   # dithered exposures averaged (each resampled)
    grain: float = 0.0                 # plate grain, in sky-noise units
    grain_scale: float = 1.0           # correlation length of the grain, pixels
    block: int = 1                     # block-compression factor (2: 2x2 blocks)
    pattern_noise: float = 0.0         # low-frequency pattern, in sky-noise units


@dataclass
class SimulatedFrame:
    """
    A simulated frame and what it contains.

    Attributes
    ----------
    data : `~numpy.ndarray`
        The raw frame in ADU (float32).
    truth : `~astropy.table.QTable`
        Every star drawn: ``x``, ``y`` (pixels, 0-based, pixel centres at
        integers), ``flux`` (electrons), ``snr``, ``target`` (S/N above
        the cut and inside the frame).
    mask : `~numpy.ndarray`
        The training mask of the targets (uint8, 0 or 1).
    offsets : `~numpy.ndarray`
        ``(2, ny, nx)`` float32: the target position relative to each mask
        pixel's centre, ``dy`` then ``dx``; zero outside the mask.
    bad_pixels : `~numpy.ndarray`
        Pixels that carry no information about the sky (blank edges);
        the finder is given these as its ``mask``.
    parameters : `FrameParameters`
        How the frame was made.
    """

    data: np.ndarray
    truth: QTable
    mask: np.ndarray
    offsets: np.ndarray
    bad_pixels: np.ndarray
    parameters: FrameParameters

    @property
    def targets(self):
        """The truth rows that are targets (S/N above the cut, in the frame)."""
        return self.truth[self.truth['target']]


def _log_uniform(rng, low, high):
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def draw_parameters(rng, shape=(128, 128), *, density=None, artifacts=True,
                    correlated_noise=True):
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
        exposures), plate grain (20%), block compression, low-frequency
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
    p.pixel_scale = _log_uniform(rng, 0.3, 2.0)
    per_kpix = _log_uniform(rng, 0.02, 25.0)
    p.density = density if density is not None else (
        per_kpix / 1000.0 * (ARCSEC_PER_ARCMIN / p.pixel_scale) ** 2)
    p.lf_slope = rng.uniform(1.5, 2.1)
    if rng.random() < 0.3:
        p.cluster_fraction = rng.uniform(0.3, 1.0)
        p.cluster_core = _log_uniform(rng, 5.0, 3 * max(shape))
        p.cluster_center = (rng.uniform(-0.5, 1.5) * ny, rng.uniform(-0.5, 1.5) * nx)
    p.psf = 'moffat' if rng.random() < 0.7 else 'gaussian'
    # A third of the draws are undersampled (FWHM 1.0-2.5 px), where the
    # scale front end cannot help by block-summing (issue: any sampling).
    p.fwhm = _log_uniform(rng, 1.0, 2.5) if rng.random() < 1 / 3 else _log_uniform(rng, 1.5, 8.0)
    p.fwhm_gradient = rng.uniform(-0.3, 0.3)
    p.beta = rng.uniform(2.0, 5.0)
    p.ellipticity = rng.uniform(0.0, 0.25) if rng.random() < 0.6 else 0.0
    p.angle = rng.uniform(0, np.pi)
    p.sky = _log_uniform(rng, 10.0, 5000.0)
    p.sky_gradient = tuple(rng.normal(0.0, 0.2, 2))
    p.nebulosity = _log_uniform(rng, 0.3, 30.0) if rng.random() < 0.15 else 0.0
    p.read_noise = rng.uniform(2.0, 15.0)
    p.gain = _log_uniform(rng, 0.5, 4.0)
    p.bias = rng.uniform(0.0, 2000.0) if rng.random() < 0.8 else 0.0
    if rng.random() < 0.3:
        axis = int(rng.integers(2))
        p.amp_offsets = ((axis, int(rng.integers(shape[axis])),
                          float(rng.normal(0.0, 30.0))),)
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
        p.grain = _log_uniform(rng, 0.3, 5.0)
        p.grain_scale = _log_uniform(rng, 0.5, 2.5)
        p.block = 2 if rng.random() < 0.5 else 1
    elif rng.random() < 0.04:
        p.block = 2
    if rng.random() < 0.15:
        p.pattern_noise = _log_uniform(rng, 0.1, 1.0)
    if rng.random() < 0.2:
        p.min_snr = _log_uniform(rng, 0.05, 0.5)


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
    p = FrameParameters(shape=tuple(shape), pixel_scale=0.56, density=density, psf='moffat',
                        fwhm=2.5 / 0.56, beta=3.0, sky=400.0, read_noise=10.0, gain=1.0,
                        bias=500.0, full_well=100_000.0, saturation_adu=65535.0)
    if artifacts:
        area_mpix = shape[0] * shape[1] / 1e6
        p.n_cosmic_rays = int(rng.poisson(150 * area_mpix))
        p.n_trails = int(rng.random() < 0.3)
        p.spikes = True
        p.n_hot_pixels = int(rng.poisson(50 * area_mpix))
        p.n_galaxies = int(rng.poisson(40 * area_mpix))
    return p


# --------------------------------------------------------------------------
# PSF rendering


def sky_electrons(params):
    """
    The sky of a frame in electrons per pixel, with its linear gradient
    (``sky_gradient`` is the fractional change per 1000 pixels from the
    frame centre), as `simulate_frame` draws it.
    """
    ny, nx = params.shape
    yy = (np.arange(ny) - ny / 2)[:, None] / 1000.0
    xx = (np.arange(nx) - nx / 2)[None, :] / 1000.0
    return params.sky * np.clip(1.0 + params.sky_gradient[0] * yy
                                + params.sky_gradient[1] * xx, 0.05, None)


def _psf_stamps(params, dy, dx, fwhm, size):
    """
    Unit-sum PSF stamps of shape ``(n, size, size)`` for stars whose
    positions relative to the stamp centre pixel are ``dy, dx``.

    Undersampled PSFs are integrated over the pixel by 3x3 sub-sampling.
    """
    n = len(dy)
    half = size // 2
    fwhm = np.asarray(fwhm, dtype=float)
    sub = 3 if np.min(fwhm, initial=np.inf) < 2.5 else 1
    grid = (np.arange(sub) + 0.5) / sub - 0.5
    pix = np.arange(-half, half + 1, dtype=np.float32)
    yy = (pix[:, None] + grid[None, :]).ravel()   # (size*sub,)
    xx = yy
    ry = yy[None, :, None] - dy[:, None, None]     # (n, S, 1)
    rx = xx[None, None, :] - dx[:, None, None]     # (n, 1, S)
    cos, sin = np.cos(params.angle), np.sin(params.angle)
    q = 1.0 - params.ellipticity
    u = rx * cos + ry * sin
    v = (-rx * sin + ry * cos) / q
    r2 = u * u + v * v
    fwhm = fwhm[:, None, None]
    if params.psf == 'gaussian':
        sigma = fwhm / 2.3548
        img = np.exp(-0.5 * r2 / sigma**2)
    else:
        beta = params.beta
        alpha = fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
        img = (1.0 + r2 / alpha**2) ** (-beta)
    if sub > 1:
        img = img.reshape(n, size, sub, size, sub).mean(axis=(2, 4))
    img /= img.sum(axis=(1, 2), keepdims=True)
    return img.astype(np.float32)


def _add_stamps(image, stamps, iy, ix):
    """Add ``(n, s, s)`` stamps centred on integer pixels ``iy, ix``."""
    n, size, _ = stamps.shape
    half = size // 2
    ny, nx = image.shape
    oy = np.arange(size) - half
    yy = iy[:, None, None] + oy[None, :, None]
    xx = ix[:, None, None] + oy[None, None, :]
    yy, xx = np.broadcast_arrays(yy, xx)
    good = (yy >= 0) & (yy < ny) & (xx >= 0) & (xx < nx)
    flat = yy[good] * nx + xx[good]
    image += np.bincount(flat, weights=stamps[good], minlength=ny * nx).reshape(ny, nx).astype(
        image.dtype)


def _effective_area(params, fwhm):
    """Noise-equivalent area 1 / sum(psf ** 2) of the PSF, in pixels."""
    size = 2 * int(np.ceil(3 * fwhm)) + 1
    stamp = _psf_stamps(params, np.zeros(1), np.zeros(1), np.array([fwhm]), size)[0]
    return 1.0 / float(np.sum(stamp.astype(np.float64) ** 2))


def _fwhm_at(params, y, x):
    ny, nx = params.shape
    r = np.hypot(y - ny / 2, x - nx / 2) / 1000.0
    return np.clip(params.fwhm * (1.0 + params.fwhm_gradient * r), 1.0, None)


def _draw_stars(rng, params):
    """Positions and fluxes of all stars, targets and fainter ones."""
    ny, nx = params.shape
    noise_var = params.sky + params.read_noise**2
    area_eff = _effective_area(params, params.fwhm)
    # Flux at a given S/N:  F = s^2/2 (1 + sqrt(1 + 4 A var / s^2))
    def flux_at(snr):
        return 0.5 * snr**2 * (1 + np.sqrt(1 + 4 * area_eff * noise_var / snr**2))
    f_min = flux_at(params.min_snr)
    f_cut = flux_at(TARGET_SNR)
    f_max = max(_MAX_FLUX_WELLS * params.full_well, 10 * f_cut)
    a = 1.0 - params.lf_slope
    frac_targets = (f_cut**a - f_max**a) / (f_min**a - f_max**a)
    pad = int(np.ceil(2 * params.fwhm)) + MASK_RADIUS
    area_arcmin2 = ((ny + 2 * pad) * (nx + 2 * pad) * params.pixel_scale**2
                    / ARCSEC_PER_ARCMIN**2)
    n_total = rng.poisson(params.density * area_arcmin2 / frac_targets)
    n_total = min(n_total, 6 * (ny + 2 * pad) * (nx + 2 * pad) // 10)
    u = rng.random(n_total)
    flux = (f_min**a + u * (f_max**a - f_min**a)) ** (1.0 / a)

    n_cluster = int(round(params.cluster_fraction * n_total))
    y = rng.uniform(-pad, ny + pad, n_total)
    x = rng.uniform(-pad, nx + pad, n_total)
    if n_cluster:
        # Plummer-like radial profile around the cluster centre.
        uu = rng.uniform(1e-3, 1.0, n_cluster)
        r = params.cluster_core / np.sqrt(uu ** (-2.0 / 3.0) - 1.0 + 1e-9)
        r = np.minimum(r, 10 * max(ny, nx))
        phi = rng.uniform(0, 2 * np.pi, n_cluster)
        y[:n_cluster] = params.cluster_center[0] + r * np.sin(phi)
        x[:n_cluster] = params.cluster_center[1] + r * np.cos(phi)
        keep = ((y > -pad) & (y < ny + pad) & (x > -pad) & (x < nx + pad))
        keep[n_cluster:] = True
        y, x, flux = y[keep], x[keep], flux[keep]
    fwhm = _fwhm_at(params, y, x)
    area = area_eff * (fwhm / params.fwhm) ** 2
    snr = flux / np.sqrt(flux + area * noise_var)
    return y, x, flux, fwhm, snr


def _render_stars(image, params, y, x, flux, fwhm, snr):
    """Add the stars to ``image`` (electrons); brighter stars get bigger stamps."""
    iy = np.round(y).astype(int)
    ix = np.round(x).astype(int)
    dy = (y - iy).astype(np.float32)
    dx = (x - ix).astype(np.float32)
    bright = flux > 0.05 * params.full_well
    groups = (
        (snr < 10, 2 * int(np.ceil(1.2 * params.fwhm)) + 3),
        ((snr >= 10) & ~bright, 2 * int(np.ceil(2.5 * params.fwhm)) + 3),
        (bright, 2 * int(min(np.ceil(8.0 * params.fwhm), 48)) + 1),
    )
    for sel, size in groups:
        idx = np.flatnonzero(sel)
        # Render in chunks to bound memory for crowded frames.
        chunk = max(1, 4_000_000 // (size * size * 9))
        for start in range(0, len(idx), chunk):
            j = idx[start:start + chunk]
            stamps = _psf_stamps(params, dy[j], dx[j], fwhm[j], size)
            stamps *= flux[j, None, None].astype(np.float32)
            _add_stamps(image, stamps, iy[j], ix[j])


def _line(image, y0, x0, angle, length, amplitude, width):
    """Add a straight line of Gaussian cross-section (trails, CR tracks, spikes)."""
    ny, nx = image.shape
    n = max(2, int(length * 2))
    t = np.linspace(-length / 2, length / 2, n)
    yc = y0 + t * np.sin(angle)
    xc = x0 + t * np.cos(angle)
    r = int(np.ceil(2.5 * width)) + 1
    oy, ox = np.mgrid[-r:r + 1, -r:r + 1]
    py = np.round(yc)[:, None, None].astype(int) + oy
    px = np.round(xc)[:, None, None].astype(int) + ox
    # distance of each pixel from the line
    d = np.abs(-(py - y0) * np.cos(angle) + (px - x0) * np.sin(angle))
    good = (py >= 0) & (py < ny) & (px >= 0) & (px < nx)
    vals = amplitude * np.exp(-0.5 * (d / width) ** 2)
    lin = np.unique(np.ravel_multi_index((py[good], px[good]), (ny, nx)),
                    return_index=True)
    flat = image.ravel()
    flat[lin[0]] += vals[good][lin[1]]


def _add_artifacts(image, rng, params, stars_y, stars_x, stars_flux):
    """Add non-stellar signal in electrons (galaxies, trails, spikes, cosmic rays)."""
    ny, nx = image.shape
    sky_sigma = np.sqrt(params.sky + params.read_noise**2)
    # Galaxies: elliptical exponential discs, larger than the PSF.
    if params.n_galaxies:
        for _ in range(params.n_galaxies):
            gy, gx = rng.uniform(0, ny), rng.uniform(0, nx)
            scale = _log_uniform(rng, 0.6, 4.0) * params.fwhm
            q = rng.uniform(0.3, 1.0)
            ang = rng.uniform(0, np.pi)
            peak_snr = _log_uniform(rng, 0.5, 50.0)
            r = int(min(6 * scale, 60))
            y0, x0 = int(gy), int(gx)
            ys = slice(max(0, y0 - r), min(ny, y0 + r + 1))
            xs = slice(max(0, x0 - r), min(nx, x0 + r + 1))
            yy, xx = np.mgrid[ys, xs]
            u = (xx - gx) * np.cos(ang) + (yy - gy) * np.sin(ang)
            v = (-(xx - gx) * np.sin(ang) + (yy - gy) * np.cos(ang)) / q
            rr = np.sqrt(u * u + v * v + (params.fwhm / 2.0) ** 2)
            image[ys, xs] += peak_snr * sky_sigma * np.exp(-(rr - params.fwhm / 2.0) / scale)
    # Satellite and aircraft trails: long lines as wide as the PSF.
    for _ in range(params.n_trails):
        _line(image, rng.uniform(0, ny), rng.uniform(0, nx), rng.uniform(0, np.pi),
              3 * max(ny, nx), _log_uniform(rng, 0.5, 100.0) * sky_sigma,
              max(0.6, params.fwhm / 2.3548 * rng.uniform(0.5, 1.5)))
    # Diffraction spikes on bright stars: thin crosses whose length grows with flux.
    if params.spikes:
        bright = stars_flux > 0.2 * params.full_well
        ang0 = rng.uniform(0, np.pi / 2)
        for sy, sx, sf in zip(stars_y[bright], stars_x[bright], stars_flux[bright]):
            length = min(4 * max(ny, nx), 6 * params.fwhm * np.sqrt(sf / params.full_well))
            amp = 2e-3 * sf / params.fwhm
            for k in range(2):
                _line(image, sy, sx, ang0 + k * np.pi / 2, length, amp,
                      max(0.5, params.fwhm / 6.0))
    # Cosmic rays: single pixels, short tracks and worms, sharper than any PSF.
    for _ in range(params.n_cosmic_rays):
        amp = _log_uniform(rng, 5.0, 500.0) * sky_sigma
        cy, cx = rng.uniform(0, ny), rng.uniform(0, nx)
        kind = rng.random()
        if kind < 0.45:
            iy0, ix0 = int(cy), int(cx)
            image[iy0, ix0] += amp
            if rng.random() < 0.5:
                ny2 = min(ny - 1, iy0 + int(rng.integers(0, 2)))
                nx2 = min(nx - 1, ix0 + int(rng.integers(0, 2)))
                image[ny2, nx2] += amp * rng.uniform(0.2, 1.0)
        elif kind < 0.8:
            _line(image, cy, cx, rng.uniform(0, np.pi), _log_uniform(rng, 3, 40),
                  amp, rng.uniform(0.3, 0.6))
        else:
            steps = int(rng.integers(5, 40))
            wy = np.clip(np.round(cy + np.cumsum(rng.normal(0, 0.8, steps))), 0, ny - 1)
            wx = np.clip(np.round(cx + np.cumsum(rng.normal(0, 0.8, steps))), 0, nx - 1)
            np.add.at(image, (wy.astype(int), wx.astype(int)), amp * rng.uniform(0.3, 1.0, steps))


def _add_nebulosity(image, rng, params):
    from scipy.ndimage import gaussian_filter

    ny, nx = image.shape
    scale = _log_uniform(rng, 4.0, 40.0)
    field_ = gaussian_filter(rng.normal(size=(ny, nx)), scale, mode='wrap')
    field_ /= field_.std() + 1e-12
    sky_sigma = np.sqrt(params.sky + params.read_noise**2)
    image += params.nebulosity * sky_sigma * np.clip(field_ + 0.5, 0, None)


def _kernel_weights(kernel, t):
    """Taps (offsets) and weights of an interpolation kernel at fraction ``t``."""
    if kernel in ('bilinear', 'drizzle'):
        return np.array([0, 1]), np.array([1.0 - t, t])
    if kernel == 'cubic':
        # Keys' cubic convolution (a = -0.5), as most resampling software.
        taps = np.arange(-1, 3)
        z = np.abs(t - taps)
        a = -0.5
        w = np.where(z <= 1, (a + 2) * z**3 - (a + 3) * z**2 + 1,
                     a * z**3 - 5 * a * z**2 + 8 * a * z - 4 * a)
    else:   # lanczos3
        taps = np.arange(-2, 4)
        z = t - taps
        w = np.sinc(z) * np.sinc(z / 3.0)
    return taps, w / w.sum()


def resample_shift(image, dy, dx, kernel='bilinear'):
    """
    Shift an image by ``(dy, dx)`` pixels with an interpolation kernel, as
    registration and mosaicking software does: ``out(y, x) = image(y - dy,
    x - dx)``, edges extended.

    Parameters
    ----------
    image : 2D `~numpy.ndarray`
        The image (not modified).
    dy, dx : float
        The shift in pixels.
    kernel : str, optional
        One of `RESAMPLING_KERNELS`.

    Returns
    -------
    shifted : 2D float32 `~numpy.ndarray`
    """
    if kernel not in RESAMPLING_KERNELS:
        raise ValueError(f'kernel must be one of {RESAMPLING_KERNELS}, got {kernel!r}')
    out = np.asarray(image, dtype=np.float32)
    for axis, d in ((0, dy), (1, dx)):
        n = out.shape[axis]
        i0 = int(np.floor(-d))
        taps, weights = _kernel_weights(kernel, -d - i0)
        acc = np.zeros_like(out)
        for j, w in zip(taps, weights):
            idx = np.clip(np.arange(n) + i0 + j, 0, n - 1)
            acc += np.float32(w) * np.take(out, idx, axis=axis)
        out = acc
    if kernel == 'drizzle':
        # The drop's footprint: a small box blur on top of the shift.
        from scipy.ndimage import correlate1d

        q = 0.15
        for axis in (0, 1):
            out = correlate1d(out, np.array([q, 1 - 2 * q, q], np.float32), axis=axis,
                              mode='nearest')
    return out


def _expose(rng, scene, params):
    """
    Photon and read noise on the noiseless ``scene`` (electrons): one raw
    exposure, or ``n_coadd`` dithered exposures each resampled back onto the
    frame's grid and averaged.
    """
    if params.resample == 'none' and params.n_coadd == 1:
        electrons = rng.poisson(np.clip(scene, 0, None)).astype(np.float32)
        electrons += rng.normal(0.0, params.read_noise, params.shape).astype(np.float32)
        return electrons
    from scipy.ndimage import shift

    kernel = 'bilinear' if params.resample == 'none' else params.resample
    total = np.zeros(params.shape, dtype=np.float32)
    for _ in range(params.n_coadd):
        dy, dx = rng.uniform(-0.5, 0.5, 2)
        dithered = np.clip(shift(scene, (dy, dx), order=3, mode='nearest'), 0, None)
        raw = rng.poisson(dithered).astype(np.float32)
        raw += rng.normal(0.0, params.read_noise, params.shape).astype(np.float32)
        total += resample_shift(raw, -dy, -dx, kernel)
    return total / params.n_coadd


def _correlated_noise(rng, scene, params):
    """
    Plate grain and low-frequency pattern noise (electrons): additive fields
    correlated between pixels.  Grain is skewed (log-normal) and weaker
    where the emulsion saturates.
    """
    from scipy.ndimage import gaussian_filter

    ny, nx = params.shape
    sky_sigma = np.sqrt(params.sky + params.read_noise**2)
    noise = np.zeros(params.shape, dtype=np.float32)
    if params.grain:
        g = gaussian_filter(rng.normal(size=params.shape), params.grain_scale, mode='wrap')
        g = np.exp(0.6 * g / (g.std() + 1e-12))
        g = (g - g.mean()) / (g.std() + 1e-12)
        saturation = 1.0 / (1.0 + np.clip(scene - params.sky, 0, None) / (30 * sky_sigma))
        noise += (params.grain * sky_sigma * g * saturation).astype(np.float32)
    if params.pattern_noise:
        yy, xx = np.mgrid[0:ny, 0:nx]
        pattern = np.zeros(params.shape)
        for _ in range(int(rng.integers(2, 5))):
            wavelength = _log_uniform(rng, 6.0, 60.0)
            ang = rng.uniform(0, np.pi)
            pattern += np.sin(2 * np.pi * (xx * np.cos(ang) + yy * np.sin(ang)) / wavelength
                              + rng.uniform(0, 2 * np.pi))
        rows = gaussian_filter(rng.normal(size=ny), rng.uniform(0.5, 3.0))
        pattern += (rows / (rows.std() + 1e-12))[:, None]
        noise += (params.pattern_noise * sky_sigma * pattern / pattern.std()).astype(np.float32)
    return noise


def _block_compress(image, block):
    """Average ``block x block`` pixel blocks and replicate them (lossy compression)."""
    ny, nx = image.shape
    py, px = -ny % block, -nx % block
    padded = np.pad(image, ((0, py), (0, px)), mode='edge')
    gy, gx = padded.shape[0] // block, padded.shape[1] // block
    means = padded.reshape(gy, block, gx, block).mean(axis=(1, 3))
    return np.repeat(np.repeat(means, block, axis=0), block, axis=1)[:ny, :nx]


def _psf_scale_variance(noise, params):
    """
    Variance per pixel of the white noise that would scatter a PSF-weighted
    flux as much as ``noise`` does (``var(noise * k) / sum(k ** 2)``), where
    the kernel ``k`` is the PSF minus its mean over a box of about four FWHM:
    a flux measured against its local background, as every detection is, so
    that structure broader than a star does not count.
    """
    from scipy.ndimage import correlate

    size = 2 * int(np.ceil(2 * params.fwhm)) + 1
    psf = _psf_stamps(params, np.zeros(1), np.zeros(1), np.array([params.fwhm]), size)[0]
    kernel = psf.astype(np.float64) - psf.mean()
    filtered = correlate(noise.astype(np.float64), kernel, mode='nearest')
    return float(np.var(filtered) / np.sum(kernel**2))


def _saturate(adu, params):
    """Clip at saturation and bleed the excess charge along the columns."""
    sat = params.saturation_adu
    over = adu > sat
    if not np.any(over):
        return adu
    ny = adu.shape[0]
    cols = np.flatnonzero(over.any(axis=0))
    for c in cols:
        col = adu[:, c]
        rows = np.flatnonzero(col > sat)
        excess = float(np.sum(col[rows] - sat))
        extra = int(excess / max(sat - params.bias, 1.0) / 2)
        lo = max(0, rows.min() - extra)
        hi = min(ny, rows.max() + extra + 1)
        col[lo:hi] = sat
    return adu


def target_mask(y, x, shape):
    """
    The paper's training mask and the sub-pixel offset maps for stars at
    ``(y, x)``.

    A pixel claimed by the footprints of several stars belongs to the
    nearest one.

    Parameters
    ----------
    y, x : array_like
        Star positions in pixels (0-based, pixel centres at integers).
    shape : tuple of int
        Shape of the frame.

    Returns
    -------
    mask : `~numpy.ndarray`
        uint8 array, 1 inside the footprint of any star.
    offsets : `~numpy.ndarray`
        float32 array of shape ``(2, ny, nx)``: the owning star's position
        minus the pixel centre, ``dy`` then ``dx``.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    ny, nx = shape
    mask = np.zeros(shape, dtype=np.uint8)
    offsets = np.zeros((2, ny, nx), dtype=np.float32)
    if y.size == 0:
        return mask, offsets
    py = np.round(y)[:, None].astype(int) + MASK_OFFSETS[None, :, 0]
    px = np.round(x)[:, None].astype(int) + MASK_OFFSETS[None, :, 1]
    oy = y[:, None] - py
    ox = x[:, None] - px
    good = (py >= 0) & (py < ny) & (px >= 0) & (px < nx)
    py, px, oy, ox = py[good], px[good], oy[good], ox[good]
    flat = py * nx + px
    # Nearest star wins: sort by pixel, then distance, keep the first.
    order = np.lexsort((oy**2 + ox**2, flat))
    flat, oy, ox = flat[order], oy[order], ox[order]
    first = np.ones(flat.size, dtype=bool)
    first[1:] = flat[1:] != flat[:-1]
    flat, oy, ox = flat[first], oy[first], ox[first]
    mask.ravel()[flat] = 1
    offsets[0].ravel()[flat] = oy
    offsets[1].ravel()[flat] = ox
    return mask, offsets


def simulate_frame(params=None, *, seed=None, rng=None):
    """
    Simulate one raw frame.

    Parameters
    ----------
    params : `FrameParameters` or None, optional
        What to simulate; drawn with `draw_parameters` if `None`.
    seed : int or None, optional
        Seed of a new random generator (ignored if ``rng`` is given).
    rng : `numpy.random.Generator` or None, optional
        Random generator to draw from.

    Returns
    -------
    frame : `SimulatedFrame`

    Examples
    --------
    >>> from asidl.simulate import FrameParameters, simulate_frame
    >>> frame = simulate_frame(FrameParameters(shape=(64, 64), density=30),
    ...                        seed=1)
    >>> frame.data.shape, frame.data.dtype
    ((64, 64), dtype('float32'))
    >>> int(frame.mask.sum()) > 0
    True
    """
    if rng is None:
        rng = np.random.default_rng(seed)
    if params is None:
        params = draw_parameters(rng)
    ny, nx = params.shape

    y, x, flux, fwhm, snr = _draw_stars(rng, params)
    stars = np.zeros(params.shape, dtype=np.float32)
    _render_stars(stars, params, y, x, flux, fwhm, snr)

    electrons = stars + sky_electrons(params).astype(np.float32)
    if params.nebulosity:
        _add_nebulosity(electrons, rng, params)
    _add_artifacts(electrons, rng, params, y, x, flux)

    scene = electrons
    electrons = _expose(rng, scene, params)
    extra_variance = 0.0
    if params.grain or params.pattern_noise:
        correlated = _correlated_noise(rng, scene, params)
        extra_variance = _psf_scale_variance(correlated, params)
        electrons += correlated
    if params.block > 1:
        electrons = _block_compress(electrons, params.block)
    if params.n_coadd > 1 or extra_variance:
        # Targets are decided by the S/N in the final image: averaging
        # exposures lowers the photon and read noise, the correlated fields
        # add theirs.  Resampling kernels keep the S/N of a PSF.
        area = _effective_area(params, params.fwhm) * (fwhm / params.fwhm) ** 2
        single = (flux / snr) ** 2
        snr = flux / np.sqrt(single / params.n_coadd + area * extra_variance)
    adu = electrons / params.gain + params.bias
    for axis, pos, offset in params.amp_offsets:
        if axis == 0:
            adu[pos:] += offset
        else:
            adu[:, pos:] += offset
    for _ in range(params.n_hot_pixels):
        hy, hx = int(rng.integers(ny)), int(rng.integers(nx))
        adu[hy, hx] = (params.bias + rng.uniform(0.1, 1.0) * (params.saturation_adu - params.bias)
                       if rng.random() < 0.8 else 0.0)
    for _ in range(params.bad_columns):
        c = int(rng.integers(nx))
        start = int(rng.integers(ny))
        full_range = params.saturation_adu - params.bias
        adu[start:, c] = (params.bias + rng.uniform(0.05, 1.0) * full_range
                          if rng.random() < 0.5 else params.bias * rng.uniform(0, 0.5))
    adu = _saturate(adu, params)

    bad_pixels = np.zeros(params.shape, dtype=bool)
    if params.blank_edge:
        side = int(rng.integers(4))
        w = params.blank_edge
        region = [np.s_[:w, :], np.s_[-w:, :], np.s_[:, :w], np.s_[:, -w:]][side]
        adu[region] = params.bias if rng.random() < 0.5 else 0.0
        bad_pixels[region] = True

    inside = (y > -0.5) & (y < ny - 0.5) & (x > -0.5) & (x < nx - 0.5)
    iy = np.clip(np.round(y).astype(int), 0, ny - 1)
    ix = np.clip(np.round(x).astype(int), 0, nx - 1)
    target = inside & (snr >= TARGET_SNR) & ~bad_pixels[iy, ix]
    mask, offsets = target_mask(y[target], x[target], params.shape)

    truth = QTable()
    truth['x'] = x
    truth['y'] = y
    truth['flux'] = flux
    truth['snr'] = snr
    truth['target'] = target
    truth.meta['pixel_scale'] = params.pixel_scale
    truth.meta['fwhm'] = params.fwhm
    return SimulatedFrame(data=adu.astype(np.float32), truth=truth, mask=mask,
                          offsets=offsets, bad_pixels=bad_pixels, parameters=params)
