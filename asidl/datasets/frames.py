# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Simulated raw frames: `simulate_frame` puts the stars, the artifacts and
the noise together, in ADU, with the truth catalog and training targets
(`SimulatedFrame`).
"""

from dataclasses import dataclass

import numpy as np
from astropy.table import QTable

from ..constants import TARGET_SNR
from .artifacts import add_artifacts, add_nebulosity, saturate
from .noise import (
    block_compress,
    correlated_noise,
    expose,
    photographic_response,
    psf_scale_variance,
)
from .parameters import FrameParameters, draw_parameters
from .stars import draw_stars, effective_area, render_stars, sky_electrons
from .targets import target_mask

__all__ = ['SimulatedFrame', 'simulate_frame']


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
    >>> from asidl.datasets import FrameParameters, simulate_frame
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

    y, x, flux, fwhm, snr = draw_stars(rng, params)
    stars = np.zeros(params.shape, dtype=np.float32)
    render_stars(stars, params, y, x, flux, fwhm, snr)

    sky = sky_electrons(params).astype(np.float32)
    electrons = stars + sky
    if params.nebulosity:
        add_nebulosity(electrons, rng, params)
    add_artifacts(electrons, rng, params, y, x, flux)

    scene = electrons
    electrons = expose(rng, scene, params)
    extra_variance = 0.0
    if params.grain or params.pattern_noise:
        correlated = correlated_noise(rng, scene, params)
        extra_variance = psf_scale_variance(correlated, params)
        electrons += correlated
    if params.response_knee:
        photographic_response(electrons, sky, params)
    if params.block > 1:
        electrons = block_compress(electrons, params.block)
    if params.n_coadd > 1 or extra_variance:
        # Targets are decided by the S/N in the final image: averaging
        # exposures lowers the photon and read noise, the correlated fields
        # add theirs.  Resampling kernels keep the S/N of a PSF.
        area = effective_area(params, params.fwhm) * (fwhm / params.fwhm) ** 2
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
        adu[hy, hx] = (
            params.bias + rng.uniform(0.1, 1.0) * (params.saturation_adu - params.bias)
            if rng.random() < 0.8
            else 0.0
        )
    for _ in range(params.bad_columns):
        c = int(rng.integers(nx))
        start = int(rng.integers(ny))
        full_range = params.saturation_adu - params.bias
        adu[start:, c] = (
            params.bias + rng.uniform(0.05, 1.0) * full_range
            if rng.random() < 0.5
            else params.bias * rng.uniform(0, 0.5)
        )
    adu = saturate(adu, params)

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
    return SimulatedFrame(
        data=adu.astype(np.float32),
        truth=truth,
        mask=mask,
        offsets=offsets,
        bad_pixels=bad_pixels,
        parameters=params,
    )
