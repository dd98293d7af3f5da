# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Simulated frames as FITS files, for the file, batch and command-line tests."""

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from asidl.datasets import FrameParameters, meerlicht_like, simulate_frame

__all__ = ['simple_wcs', 'write_corrupt', 'write_frame', 'write_table_only']


def meerlicht_frame(shape, density, seed, **changes):
    """
    A MeerLICHT-like raw frame (`~asidl.datasets.meerlicht_like`, artifacts
    included) of ``shape`` and ``density`` stars per square arcminute, with
    the parameters in ``changes`` (e.g. ``fwhm``) set, drawn from ``seed``.
    """
    rng = np.random.default_rng(seed)
    params = meerlicht_like(shape, density, rng=rng)
    for name, value in changes.items():
        setattr(params, name, value)
    return simulate_frame(params, rng=rng)


def simple_wcs(shape, pixel_scale=0.56):
    """A TAN WCS centred on the image, north up, east left."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    wcs.wcs.crval = [150.1, 2.2]
    wcs.wcs.crpix = [shape[1] / 2 + 0.5, shape[0] / 2 + 0.5]
    wcs.wcs.cdelt = [-pixel_scale / 3600, pixel_scale / 3600]
    return wcs


def write_frame(
    path,
    *,
    seed=0,
    shape=(160, 160),
    density=40.0,
    wcs=True,
    bunit='adu',
    mask_extname='MASK',
    masked_box=(slice(10, 30), slice(10, 30)),
):
    """
    Write a simulated raw frame (uint16, like a camera's) as a FITS file
    with, optionally, a celestial WCS, BUNIT and a bad-pixel extension
    masking ``masked_box``.  Returns the path.
    """
    params = FrameParameters(
        shape=shape, density=density, fwhm=3.5, sky=300.0, read_noise=8.0, bias=800.0, gain=1.5
    )
    data = simulate_frame(params, seed=seed).data
    data = np.clip(np.round(data), 0, 65535).astype(np.uint16)
    header = simple_wcs(shape).to_header() if wcs else fits.Header()
    if bunit:
        header['BUNIT'] = bunit
    hdus = [fits.PrimaryHDU(data, header=header)]
    if mask_extname:
        mask = np.zeros(shape, dtype=np.uint8)
        mask[masked_box] = 1
        hdus.append(fits.ImageHDU(mask, name=mask_extname))
    fits.HDUList(hdus).writeto(path, overwrite=True)
    return path


def write_corrupt(path):
    """A file with a FITS name that is not FITS."""
    path.write_bytes(b'SIMPLE  = this is not a FITS header' + b'\0' * 100)
    return path


def write_table_only(path):
    """A valid FITS file without any image HDU."""
    table = fits.BinTableHDU.from_columns([fits.Column(name='a', format='E', array=np.arange(3.0))])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path, overwrite=True)
    return path
