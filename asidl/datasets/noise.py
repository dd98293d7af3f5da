# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The noise of a simulated frame: photon and read noise of one raw exposure
or of a coadd of resampled dithered exposures (`expose`), and the
correlated noise of processed and photographic images (plate grain,
pattern noise, block compression).
"""

import numpy as np

from .parameters import RESAMPLING_KERNELS, log_uniform
from .stars import psf_stamps

__all__ = ['block_compress', 'correlated_noise', 'expose', 'psf_scale_variance', 'resample_shift']


def _kernel_weights(kernel, t):
    """Taps (offsets) and weights of an interpolation kernel at fraction ``t``."""
    if kernel in ('bilinear', 'drizzle'):
        return np.array([0, 1]), np.array([1.0 - t, t])
    if kernel == 'cubic':
        # Keys' cubic convolution (a = -0.5), as most resampling software.
        taps = np.arange(-1, 3)
        z = np.abs(t - taps)
        a = -0.5
        w = np.where(
            z <= 1, (a + 2) * z**3 - (a + 3) * z**2 + 1, a * z**3 - 5 * a * z**2 + 8 * a * z - 4 * a
        )
    else:  # lanczos3
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
            out = correlate1d(
                out, np.array([q, 1 - 2 * q, q], np.float32), axis=axis, mode='nearest'
            )
    return out


def expose(rng, scene, params):
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


def correlated_noise(rng, scene, params):
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
            wavelength = log_uniform(rng, 6.0, 60.0)
            ang = rng.uniform(0, np.pi)
            pattern += np.sin(
                2 * np.pi * (xx * np.cos(ang) + yy * np.sin(ang)) / wavelength
                + rng.uniform(0, 2 * np.pi)
            )
        rows = gaussian_filter(rng.normal(size=ny), rng.uniform(0.5, 3.0))
        pattern += (rows / (rows.std() + 1e-12))[:, None]
        noise += (params.pattern_noise * sky_sigma * pattern / pattern.std()).astype(np.float32)
    return noise


def photographic_response(electrons, sky, params):
    """
    The soft saturation of a photographic emulsion: light above the sky
    is compressed as ``knee * (1 - exp(-excess / knee))``, so faint stars
    stay linear and bright ones grow broad flat cores, as on digitized
    plates.  ``params.response_knee`` is in sky-noise units; the input is
    changed in place and returned.
    """
    sky_sigma = np.sqrt(params.sky + params.read_noise**2)
    knee = np.float32(params.response_knee * sky_sigma)
    excess = electrons - sky
    bright = excess > 0
    electrons[bright] = sky[bright] + knee * -np.expm1(-excess[bright] / knee)
    return electrons


def block_compress(image, block):
    """Average ``block x block`` pixel blocks and replicate them (lossy compression)."""
    ny, nx = image.shape
    py, px = -ny % block, -nx % block
    padded = np.pad(image, ((0, py), (0, px)), mode='edge')
    gy, gx = padded.shape[0] // block, padded.shape[1] // block
    means = padded.reshape(gy, block, gx, block).mean(axis=(1, 3))
    return np.repeat(np.repeat(means, block, axis=0), block, axis=1)[:ny, :nx]


def psf_scale_variance(noise, params):
    """
    Variance per pixel of the white noise that would scatter a PSF-weighted
    flux as much as ``noise`` does (``var(noise * k) / sum(k ** 2)``), where
    the kernel ``k`` is the PSF minus its mean over a box of about four FWHM:
    a flux measured against its local background, as every detection is, so
    that structure broader than a star does not count.
    """
    from scipy.ndimage import correlate

    size = 2 * int(np.ceil(2 * params.fwhm)) + 1
    psf = psf_stamps(params, np.zeros(1), np.zeros(1), np.array([params.fwhm]), size)[0]
    kernel = psf.astype(np.float64) - psf.mean()
    filtered = correlate(noise.astype(np.float64), kernel, mode='nearest')
    return float(np.var(filtered) / np.sum(kernel**2))
