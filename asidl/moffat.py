# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
FWHMs of undersampled stars from pixel-integrated Moffat fits.

A circular Gaussian fitted to an undersampled star whose profile has
wings (a Moffat profile, as seeing gives) is too broad: from a few per cent
at a FWHM of 2.5 pixels to 10-24 per cent at 1.2 pixels for Moffat indices
beta of 4.5 to 2, because the wings fill the pixels next to the core.
`fit_moffat_fwhm` fits each star with a circular Moffat profile integrated
over the pixels, its index free, so that Gaussian stars (large beta) and
Moffat stars alike give their own FWHM.  `asidl.fwhm.measure_fwhm` uses
it below `UNDERSAMPLED_FWHM`.
"""

import numpy as np
from scipy.optimize import least_squares

__all__ = ['UNDERSAMPLED_FWHM', 'fit_moffat_fwhm', 'integrated_moffat']

#: Below this Gaussian-fit FWHM (pixels) stars are refitted with
#: `fit_moffat_fwhm`.
UNDERSAMPLED_FWHM = 2.5

#: Sub-pixels per pixel side over which the profile is integrated.
_OVERSAMPLE = 5

#: Bounds of the Moffat index: 1.2 (broad wings) to 30 (a Gaussian).
_BETA_RANGE = (1.2, 30.0)


def integrated_moffat(flux, y0, x0, fwhm, beta, rows, cols):
    """
    A circular Moffat profile of total ``flux`` centred at ``(y0, x0)``,
    averaged over each pixel of the grid ``rows x cols`` (1D arrays of
    pixel-centre coordinates).

    Returns
    -------
    values : ``(rows.size, cols.size)`` `~numpy.ndarray`
    """
    alpha = fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    sub = (np.arange(_OVERSAMPLE) + 0.5) / _OVERSAMPLE - 0.5
    dy = (np.asarray(rows, float)[:, None] + sub[None, :] - y0) ** 2  # (ny, s)
    dx = (np.asarray(cols, float)[:, None] + sub[None, :] - x0) ** 2  # (nx, s)
    r2 = dy[:, None, :, None] + dx[None, :, None, :]  # (ny, nx, s, s)
    profile = (1.0 + r2 / alpha**2) ** (-beta)
    return flux * (beta - 1.0) / (np.pi * alpha**2) * profile.mean(axis=(2, 3))


def fit_moffat_fwhm(windows, good, guess):
    """
    FWHM of the star at the centre of each window, from a least-squares
    fit of a pixel-integrated circular Moffat profile (flux, centre, FWHM
    and index free).

    Parameters
    ----------
    windows : ``(n, size, size)`` `~numpy.ndarray`
        Background-subtracted pixel values around each star, centred on
        its brightest pixel.
    good : ``(n, size, size)`` bool `~numpy.ndarray`
        Pixels to fit (masked pixels left out).
    guess : float
        Starting FWHM in pixels.

    Returns
    -------
    fwhm : ``(n,)`` `~numpy.ndarray`
        NaN where a fit fails.
    """
    n, size, _ = windows.shape
    half = size // 2
    pixels = np.arange(size, dtype=float) - half
    lower = [0.0, -1.0, -1.0, 0.3, _BETA_RANGE[0]]
    upper = [np.inf, 1.0, 1.0, 3.0 * size, _BETA_RANGE[1]]
    fwhm = np.full(n, np.nan)
    for k in range(n):
        use = good[k]
        values = windows[k][use]
        total = float(values.sum())
        if use.sum() < 6 or not np.isfinite(total) or total <= 0:
            continue

        def residuals(p, k=k, use=use, values=values):
            return integrated_moffat(*p, pixels, pixels)[use] - values

        start = [total, 0.0, 0.0, float(np.clip(guess, 0.5, 2.0 * size)), 3.0]
        try:
            fit = least_squares(residuals, start, bounds=(lower, upper))
        except (ValueError, np.linalg.LinAlgError):
            continue
        if fit.success:
            fwhm[k] = fit.x[3]
    return fwhm
