# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The sky and the stars of a simulated frame, in electrons: star positions
and fluxes drawn from a luminosity function (`draw_stars`), and their PSFs,
Moffat or Gaussian and varying across the field (`psf_stamps`,
`render_stars`).
"""

import numpy as np

from ..constants import GAUSSIAN_FWHM_PER_SIGMA, MASK_RADIUS, TARGET_SNR
from .parameters import ARCSEC_PER_ARCMIN

__all__ = ['draw_stars', 'effective_area', 'psf_stamps', 'render_stars', 'sky_electrons']

#: Brightest star flux as a multiple of the full well, so that saturated
#: stars appear in a good fraction of the frames.
_MAX_FLUX_WELLS = 60.0


def sky_electrons(params):
    """
    The sky of a frame in electrons per pixel, with its linear gradient
    (``sky_gradient`` is the fractional change per 1000 pixels from the
    frame centre), as `simulate_frame` draws it.
    """
    ny, nx = params.shape
    yy = (np.arange(ny) - ny / 2)[:, None] / 1000.0
    xx = (np.arange(nx) - nx / 2)[None, :] / 1000.0
    return params.sky * np.clip(
        1.0 + params.sky_gradient[0] * yy + params.sky_gradient[1] * xx, 0.05, None
    )


def psf_stamps(params, dy, dx, fwhm, size):
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
    yy = (pix[:, None] + grid[None, :]).ravel()  # (size*sub,)
    xx = yy
    ry = yy[None, :, None] - dy[:, None, None]  # (n, S, 1)
    rx = xx[None, None, :] - dx[:, None, None]  # (n, 1, S)
    cos, sin = np.cos(params.angle), np.sin(params.angle)
    q = 1.0 - params.ellipticity
    u = rx * cos + ry * sin
    v = (-rx * sin + ry * cos) / q
    r2 = u * u + v * v
    fwhm = fwhm[:, None, None]
    if params.psf == 'gaussian':
        sigma = fwhm / GAUSSIAN_FWHM_PER_SIGMA
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
    image += (
        np.bincount(flat, weights=stamps[good], minlength=ny * nx)
        .reshape(ny, nx)
        .astype(image.dtype)
    )


def effective_area(params, fwhm):
    """Noise-equivalent area 1 / sum(psf ** 2) of the PSF, in pixels."""
    size = 2 * int(np.ceil(3 * fwhm)) + 1
    stamp = psf_stamps(params, np.zeros(1), np.zeros(1), np.array([fwhm]), size)[0]
    return 1.0 / float(np.sum(stamp.astype(np.float64) ** 2))


def _fwhm_at(params, y, x):
    ny, nx = params.shape
    r = np.hypot(y - ny / 2, x - nx / 2) / 1000.0
    return np.clip(params.fwhm * (1.0 + params.fwhm_gradient * r), 1.0, None)


def draw_stars(rng, params):
    """Positions and fluxes of all stars, targets and fainter ones."""
    ny, nx = params.shape
    noise_var = params.sky + params.read_noise**2
    area_eff = effective_area(params, params.fwhm)

    # Flux at a given S/N:  F = s^2/2 (1 + sqrt(1 + 4 A var / s^2))
    def flux_at(snr):
        return 0.5 * snr**2 * (1 + np.sqrt(1 + 4 * area_eff * noise_var / snr**2))

    f_min = flux_at(params.min_snr)
    f_cut = flux_at(TARGET_SNR)
    f_max = max(_MAX_FLUX_WELLS * params.full_well, 10 * f_cut)
    a = 1.0 - params.lf_slope
    frac_targets = (f_cut**a - f_max**a) / (f_min**a - f_max**a)
    pad = int(np.ceil(2 * params.fwhm)) + MASK_RADIUS
    area_arcmin2 = (ny + 2 * pad) * (nx + 2 * pad) * params.pixel_scale**2 / ARCSEC_PER_ARCMIN**2
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
        keep = (y > -pad) & (y < ny + pad) & (x > -pad) & (x < nx + pad)
        keep[n_cluster:] = True
        y, x, flux = y[keep], x[keep], flux[keep]
    fwhm = _fwhm_at(params, y, x)
    area = area_eff * (fwhm / params.fwhm) ** 2
    snr = flux / np.sqrt(flux + area * noise_var)
    return y, x, flux, fwhm, snr


def render_stars(image, params, y, x, flux, fwhm, snr):
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
            j = idx[start : start + chunk]
            stamps = psf_stamps(params, dy[j], dx[j], fwhm[j], size)
            stamps *= flux[j, None, None].astype(np.float32)
            _add_stamps(image, stamps, iy[j], ix[j])
