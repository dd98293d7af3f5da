# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
What is not a star but looks like signal, in electrons (galaxies, satellite
trails, diffraction spikes, cosmic rays, nebulosity), and the saturation
of the detector in ADU, with bleed columns.
"""

import numpy as np

from ..constants import GAUSSIAN_FWHM_PER_SIGMA
from .parameters import log_uniform

__all__ = ['add_artifacts', 'add_nebulosity', 'saturate']


def _line(image, y0, x0, angle, length, amplitude, width):
    """Add a straight line of Gaussian cross-section (trails, CR tracks, spikes)."""
    ny, nx = image.shape
    n = max(2, int(length * 2))
    t = np.linspace(-length / 2, length / 2, n)
    yc = y0 + t * np.sin(angle)
    xc = x0 + t * np.cos(angle)
    r = int(np.ceil(2.5 * width)) + 1
    oy, ox = np.mgrid[-r : r + 1, -r : r + 1]
    py = np.round(yc)[:, None, None].astype(int) + oy
    px = np.round(xc)[:, None, None].astype(int) + ox
    # distance of each pixel from the line
    d = np.abs(-(py - y0) * np.cos(angle) + (px - x0) * np.sin(angle))
    good = (py >= 0) & (py < ny) & (px >= 0) & (px < nx)
    vals = amplitude * np.exp(-0.5 * (d / width) ** 2)
    lin = np.unique(np.ravel_multi_index((py[good], px[good]), (ny, nx)), return_index=True)
    flat = image.ravel()
    flat[lin[0]] += vals[good][lin[1]]


def add_artifacts(image, rng, params, stars_y, stars_x, stars_flux):
    """Add non-stellar signal in electrons (galaxies, trails, spikes, cosmic rays)."""
    ny, nx = image.shape
    sky_sigma = np.sqrt(params.sky + params.read_noise**2)
    # Galaxies: elliptical exponential discs, larger than the PSF.
    if params.n_galaxies:
        for _ in range(params.n_galaxies):
            gy, gx = rng.uniform(0, ny), rng.uniform(0, nx)
            scale = log_uniform(rng, 0.6, 4.0) * params.fwhm
            q = rng.uniform(0.3, 1.0)
            ang = rng.uniform(0, np.pi)
            peak_snr = log_uniform(rng, 0.5, 50.0)
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
        _line(
            image,
            rng.uniform(0, ny),
            rng.uniform(0, nx),
            rng.uniform(0, np.pi),
            3 * max(ny, nx),
            log_uniform(rng, 0.5, 100.0) * sky_sigma,
            max(0.6, params.fwhm / GAUSSIAN_FWHM_PER_SIGMA * rng.uniform(0.5, 1.5)),
        )
    # Diffraction spikes on bright stars: thin crosses whose length grows with flux.
    if params.spikes:
        bright = stars_flux > 0.2 * params.full_well
        ang0 = rng.uniform(0, np.pi / 2)
        for sy, sx, sf in zip(stars_y[bright], stars_x[bright], stars_flux[bright]):
            length = min(4 * max(ny, nx), 6 * params.fwhm * np.sqrt(sf / params.full_well))
            amp = 2e-3 * sf / params.fwhm
            for k in range(2):
                _line(image, sy, sx, ang0 + k * np.pi / 2, length, amp, max(0.5, params.fwhm / 6.0))
    # Cosmic rays: single pixels, short tracks and worms, sharper than any PSF.
    for _ in range(params.n_cosmic_rays):
        amp = log_uniform(rng, 5.0, 500.0) * sky_sigma
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
            _line(
                image,
                cy,
                cx,
                rng.uniform(0, np.pi),
                log_uniform(rng, 3, 40),
                amp,
                rng.uniform(0.3, 0.6),
            )
        else:
            steps = int(rng.integers(5, 40))
            wy = np.clip(np.round(cy + np.cumsum(rng.normal(0, 0.8, steps))), 0, ny - 1)
            wx = np.clip(np.round(cx + np.cumsum(rng.normal(0, 0.8, steps))), 0, nx - 1)
            np.add.at(image, (wy.astype(int), wx.astype(int)), amp * rng.uniform(0.3, 1.0, steps))


def add_nebulosity(image, rng, params):
    from scipy.ndimage import gaussian_filter

    ny, nx = image.shape
    scale = log_uniform(rng, 4.0, 40.0)
    field_ = gaussian_filter(rng.normal(size=(ny, nx)), scale, mode='wrap')
    field_ /= field_.std() + 1e-12
    sky_sigma = np.sqrt(params.sky + params.read_noise**2)
    image += params.nebulosity * sky_sigma * np.clip(field_ + 0.5, 0, None)


def saturate(adu, params):
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
