# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Completeness on real images: stars made with the image's own PSF
(`build_epsf`) are injected and looked for again (`artificial_star_test`).
"""

import warnings

import numpy as np
from astropy.table import QTable
from scipy.spatial import cKDTree

from ..utils import source_positions
from .matching import match_sources

__all__ = ['artificial_star_test', 'build_epsf']


def build_epsf(data, catalog, *, size=15, n_stars=40, oversampling=1, mask=None):
    """
    The image's own PSF, from its brightest isolated sources (photutils EPSF).

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        Background-subtracted image.
    catalog : `~astropy.table.Table`
        Detections with ``x_centroid``, ``y_centroid`` and ``flux``.
    size : int, optional
        Side of the star cutouts (odd).
    n_stars : int, optional
        Largest number of stars to build the PSF from.
    oversampling : int, optional
        EPSF oversampling factor.
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore.

    Returns
    -------
    epsf : `photutils.psf.ImagePSF`
    """
    from astropy.nddata import NDData
    from photutils.psf import EPSFBuilder, extract_stars

    x, y = source_positions(catalog)
    half = size // 2
    ny, nx = data.shape
    inside = (x > half) & (x < nx - 1 - half) & (y > half) & (y < ny - 1 - half)
    # isolated: no other detection within the cutout
    tree = cKDTree(np.column_stack([x, y]))
    counts = np.array(
        [len(n) for n in tree.query_ball_point(np.column_stack([x, y]), half * np.sqrt(2))]
    )
    candidates = np.flatnonzero(inside & (counts == 1))
    if candidates.size < 3:
        raise ValueError(
            f'only {candidates.size} isolated sources to build a PSF from; at least 3 are needed'
        )
    flux = np.asarray(catalog['flux'], float)[candidates]
    chosen = candidates[np.argsort(-flux)[:n_stars]]
    stars = extract_stars(
        NDData(np.asarray(data, float), mask=mask),
        QTable({'x': x[chosen], 'y': y[chosen]}),
        size=size,
    )
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        epsf, _ = EPSFBuilder(oversampling=oversampling, maxiters=10, progress_bar=False)(stars)
    if not np.all(np.isfinite(epsf.data)):
        raise ValueError('the PSF could not be built from the isolated sources of the image')
    return epsf


def artificial_star_test(
    data, finder=None, *, fluxes=None, n_per_flux=50, radius=2.0, epsf=None, seed=0, mask=None
):
    """
    Completeness versus flux on a real image, by injecting artificial stars.

    Stars made with the image's own PSF (`build_epsf`) are added at random
    positions away from existing detections, a few at a time so as not to
    change the crowding, and the fraction the finder recovers within
    ``radius`` is measured at each flux.

    Parameters
    ----------
    data : 2D `~numpy.ndarray`
        The image (raw frames are fine).
    finder : callable or None, optional
        Finder to test; the default `~asidl.UNetLoGFinder` if `None`.
    fluxes : array_like or None, optional
        Total fluxes to inject, in data units above the background; by
        default 8 values spaced logarithmically between the 2nd and 90th
        percentiles of the fluxes of the detected sources.
    n_per_flux : int, optional
        Stars injected at each flux.
    radius : float, optional
        Recovery radius in pixels.
    epsf : `photutils.psf.ImagePSF` or None, optional
        PSF to inject; built from the image if `None`.
    seed : int, optional
        Seed of the random positions.
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore.

    Returns
    -------
    table : `~astropy.table.QTable`
        ``flux``, ``n_injected``, ``n_recovered``, ``fraction``.
    """
    from photutils.datasets import make_model_image

    from ..background import background_map
    from ..prepare import prepare_image

    if finder is None:
        from ..finder import UNetLoGFinder

        finder = UNetLoGFinder()
    data = np.asarray(data, dtype=float)
    original = finder(data, mask=mask)
    if original is None:
        raise ValueError('the finder detects nothing in the image: no PSF to inject')
    image = prepare_image(data, mask)
    bkg = background_map(image.data, image.valid)
    background = bkg.rows(0, data.shape[0])[0]
    if epsf is None:
        epsf = build_epsf(data - background, original, mask=mask)
    if fluxes is None:
        detected = np.asarray(original['flux'], float)
        detected = detected[detected > 0]
        fluxes = np.geomspace(np.percentile(detected, 2), np.percentile(detected, 90), 8)
    fluxes = np.atleast_1d(np.asarray(fluxes, dtype=float))

    rng = np.random.default_rng(seed)
    ox, oy = source_positions(original)
    occupied = cKDTree(np.column_stack([ox, oy]))
    ny, nx = data.shape
    per_image = max(1, int(0.02 * len(ox)) + 5)  # a few per image: crowding unchanged
    rows = []
    for flux in fluxes:
        recovered = injected = 0
        while injected < n_per_flux:
            n = min(per_image, n_per_flux - injected)
            x = rng.uniform(5, nx - 6, 4 * n)
            y = rng.uniform(5, ny - 6, 4 * n)
            free = occupied.query(np.column_stack([x, y]))[0] > 3 * radius
            x, y = x[free][:n], y[free][:n]
            if x.size == 0:
                continue
            params = QTable({'x_0': x, 'y_0': y, 'flux': np.full(x.size, flux)})
            shape = tuple(np.array(epsf.data.shape) // np.array(epsf.oversampling))
            stars = make_model_image(data.shape, epsf, params, model_shape=shape)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                tbl = finder(data + stars, mask=mask)
            dx, dy = source_positions(tbl)
            recovered += match_sources(dx, dy, x, y, radius=radius)[0].size
            injected += x.size
        rows.append((flux, injected, recovered, recovered / injected))
    return QTable(rows=rows, names=('flux', 'n_injected', 'n_recovered', 'fraction'))
