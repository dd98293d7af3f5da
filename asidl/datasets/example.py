# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The example frame bundled with the package.

``example_frame.fits.gz`` is a simulated raw 512x512 frame in the style
of MeerLICHT (0.56"/pixel, seeing 2.5", sky 400 e-, read noise 10 e-,
bias 500 ADU, 16-bit unsigned integers) with cosmic rays, a satellite
trail, hot pixels and diffraction spikes on the brightest stars.  Its truth catalog of
target stars (S/N >= 3) is ``example_truth.ecsv``.  Both are made by
`make_example_frame` with a fixed seed; ``python -m asidl.datasets``
rewrites them.
"""

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import QTable

__all__ = ['EXAMPLE_DIR', 'load_example_frame', 'make_example_frame', 'write_example_frame']

EXAMPLE_DIR = Path(__file__).parent.parent / 'data' / 'example'
_FRAME = 'example_frame.fits.gz'
_TRUTH = 'example_truth.ecsv'
_SEED = 20221


def make_example_frame(seed=_SEED):
    """
    Simulate the example frame.

    Returns
    -------
    data : `~numpy.ndarray`
        uint16 raw frame (ADU).
    header : `~astropy.io.fits.Header`
    truth : `~astropy.table.QTable`
        Target stars: ``x``, ``y`` (0-based pixels), ``flux`` (e-), ``snr``.
    """
    from dataclasses import replace

    from .frames import simulate_frame
    from .parameters import meerlicht_like

    # The benchmark instrument, with a shallower well, so that the brightest
    # stars saturate, and a fixed set of artifacts.
    params = replace(
        meerlicht_like((512, 512), 30.0, artifacts=False),
        full_well=60_000.0,
        saturation_adu=60_500.0,
        n_galaxies=6,
        n_cosmic_rays=40,
        n_trails=1,
        spikes=True,
        n_hot_pixels=10,
    )
    frame = simulate_frame(params, seed=seed)
    data = np.clip(np.round(frame.data), 0, 65535).astype(np.uint16)
    header = fits.Header()
    header['BUNIT'] = ('adu', 'raw counts, not background subtracted')
    header['GAIN'] = (params.gain, 'e-/ADU')
    header['RDNOISE'] = (params.read_noise, 'e-')
    header['SATURATE'] = (params.saturation_adu, 'ADU')
    header['PIXSCALE'] = (params.pixel_scale, 'arcsec/pixel')
    header['SEEING'] = (params.fwhm * params.pixel_scale, 'PSF FWHM, arcsec')
    header['FWHMPIX'] = (params.fwhm, 'PSF FWHM, pixels')
    header['ORIGIN'] = 'asidl.datasets'
    truth = frame.targets
    truth.remove_column('target')
    truth.meta = {
        'comment': 'Target stars (S/N >= 3) of the asidl example frame; '
        'x, y are 0-based pixel coordinates.'
    }
    return data, header, truth


def load_example_frame():
    """
    The bundled example frame and its truth catalog.

    Returns
    -------
    data : `~numpy.ndarray`
        uint16 raw frame (ADU), not background subtracted.
    header : `~astropy.io.fits.Header`
        Instrument description (``GAIN``, ``RDNOISE``, ``SATURATE``,
        ``PIXSCALE``, ``FWHMPIX``).
    truth : `~astropy.table.QTable`
        The target stars.

    Examples
    --------
    >>> from asidl.datasets import load_example_frame
    >>> data, header, truth = load_example_frame()
    >>> data.shape
    (512, 512)
    """
    with fits.open(EXAMPLE_DIR / _FRAME) as hdul:
        data = np.array(hdul[0].data)
        header = hdul[0].header.copy()
    truth = QTable.read(EXAMPLE_DIR / _TRUTH, format='ascii.ecsv')
    return data, header, truth


def write_example_frame():
    """
    Simulate the example frame again and write it and its truth catalog
    into the package (`EXAMPLE_DIR`), as ``python -m asidl.datasets`` does.

    Returns
    -------
    paths : tuple of `~pathlib.Path`
        The frame and the truth catalog.
    """
    data, header, truth = make_example_frame()
    EXAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(data, header=header).writeto(EXAMPLE_DIR / _FRAME, overwrite=True)
    truth.write(EXAMPLE_DIR / _TRUTH, format='ascii.ecsv', overwrite=True)
    return EXAMPLE_DIR / _FRAME, EXAMPLE_DIR / _TRUTH
