# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Reading FITS images into `~astropy.nddata.NDData`, with their WCS, unit
and bad-pixel mask.
"""

import os
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.nddata import NDData
from astropy.utils.exceptions import AstropyUserWarning

__all__ = ['MASK_EXTNAMES', 'read_image']

#: Extension names recognized as bad-pixel masks (non-zero = bad), in
#: order of preference.
MASK_EXTNAMES = ('MASK', 'DQ', 'BPM')

_IMAGE_HDU_TYPES = (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)

#: BUNIT strings found in real files that astropy's parser does not accept.
_UNIT_ALIASES = {
    'ELECTRONS/S': u.electron / u.s,
    'ELECTRONS': u.electron,
    'ELECTRON': u.electron,
    'COUNTS': u.ct,
    'COUNTS/S': u.ct / u.s,
    'COUNT': u.ct,
}


def _hdu_label(index, hdu):
    name = hdu.name
    return f'HDU {index}' + (f' ({name})' if name and name != 'PRIMARY' else '')


def _is_2d_image(hdu):
    return (
        isinstance(hdu, _IMAGE_HDU_TYPES)
        and hdu.header.get('NAXIS') == 2
        and hdu.header.get('NAXIS1', 0) > 0
        and hdu.header.get('NAXIS2', 0) > 0
    )


def _select_hdu(hdul, hdu, path):
    """Index of the image HDU chosen by ``hdu`` (None: the first 2D image that is not a mask)."""
    if hdu is None:
        for index, candidate in enumerate(hdul):
            if _is_2d_image(candidate) and candidate.name.upper() not in MASK_EXTNAMES:
                return index
        kinds = ', '.join(f'{_hdu_label(i, h)}: {h.__class__.__name__}' for i, h in enumerate(hdul))
        raise ValueError(f'{path}: no 2D image HDU in the file ({kinds})')
    try:
        index = hdul.index_of(hdu)
        hdul[index]
        index %= len(hdul)  # a negative index counts from the end
    except (KeyError, IndexError, TypeError):
        names = [h.name for h in hdul]
        raise ValueError(
            f'{path}: there is no HDU {hdu!r}; the file has {len(hdul)} HDU(s) named {names}'
        ) from None
    chosen = hdul[index]
    if not _is_2d_image(chosen):
        kind = chosen.__class__.__name__
        if isinstance(chosen, _IMAGE_HDU_TYPES):
            kind += f' with NAXIS={chosen.header.get("NAXIS")}'
        raise ValueError(f'{path}: {_hdu_label(index, chosen)} is not a 2D image (it is a {kind})')
    return index


def _read_data(hdul, index, path):
    try:
        data = hdul[index].data
    except Exception as exc:
        raise OSError(
            f'{path}: cannot read the data of {_hdu_label(index, hdul[index])} '
            f'(is the file truncated?): {exc}'
        ) from None
    if data is None:
        raise ValueError(f'{path}: {_hdu_label(index, hdul[index])} holds no data')
    return data


def _parse_unit(value, path):
    """The astropy unit of a BUNIT string, or None (with a warning) if unrecognized."""
    text = str(value).strip()
    if not text:
        return None
    if text.upper() in _UNIT_ALIASES:
        return _UNIT_ALIASES[text.upper()]
    for candidate in (text, text.lower()):
        try:
            return u.Unit(candidate)
        except ValueError:
            pass
    warnings.warn(
        f'{path}: BUNIT {text!r} is not a unit astropy understands; the catalog will have no units',
        AstropyUserWarning,
    )
    return None


def _celestial_wcs(header, hdul, path):
    """The image's celestial WCS, or None if the header has none (or a broken one)."""
    from astropy.wcs import WCS, FITSFixedWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FITSFixedWarning)
            wcs = WCS(header, hdul)
    except Exception as exc:
        warnings.warn(
            f'{path}: ignoring a WCS that astropy cannot interpret: {exc}', AstropyUserWarning
        )
        return None
    if not wcs.has_celestial or wcs.naxis != 2:
        return None
    return wcs


def _auto_mask_index(hdul, image_index, shape, path):
    """Index of the MASK/DQ/BPM extension that goes with the image, or None."""
    extver = hdul[image_index].header.get('EXTVER', 1)
    for name in MASK_EXTNAMES:
        for index, hdu in enumerate(hdul):
            if (
                hdu.name.upper() == name
                and hdu.header.get('EXTVER', 1) == extver
                and isinstance(hdu, _IMAGE_HDU_TYPES)
            ):
                if tuple(hdu.shape) != tuple(shape):
                    raise ValueError(
                        f'{path}: mask extension {_hdu_label(index, hdu)} has '
                        f'shape {hdu.shape}, the image {tuple(shape)}; give '
                        'mask_hdu=None (--mask-hdu none) to ignore it'
                    )
                return index
    return None


def _as_bool_mask(values, shape, what):
    values = np.asanyarray(values)
    if values.dtype.kind not in 'biuf':
        raise TypeError(f'{what} must be a boolean or numeric array, got dtype {values.dtype}')
    if values.shape != tuple(shape):
        raise ValueError(f'{what} has shape {values.shape}, but the image has {tuple(shape)}')
    return values != 0


def _read_mask_file(path, shape):
    path = Path(path)
    try:
        with fits.open(path, memmap=False) as hdul:
            index = _select_hdu(hdul, None, path)
            return _as_bool_mask(_read_data(hdul, index, path), shape, f'mask file {path}')
    except FileNotFoundError:
        raise FileNotFoundError(f'mask file {path} does not exist') from None


def read_image(path, *, hdu=None, mask=None, mask_hdu='auto'):
    """
    Read an image from a FITS file, with its WCS, unit and bad-pixel mask.

    Parameters
    ----------
    path : str or path-like
        FITS file (may be compressed: ``.gz``, tile-compressed ``.fz``).
    hdu : int, str or (str, int), optional
        The image HDU: an index, an ``EXTNAME`` or an ``(EXTNAME,
        EXTVER)`` pair.  By default the first HDU holding a 2D image that
        is not itself a mask.
    mask : array_like, str or path-like, optional
        Bad pixels (True or non-zero), as an array or as a FITS file
        whose first 2D image is the mask.  Combined with ``mask_hdu``.
    mask_hdu : 'auto', int, str, (str, int) or None, optional
        Extension of the same file holding a bad-pixel mask (non-zero =
        bad).  ``'auto'`` uses the first extension named ``MASK``, ``DQ``
        or ``BPM`` (with the image's ``EXTVER``) if there is one; `None`
        uses none.

    Returns
    -------
    image : `~astropy.nddata.NDData`
        ``data`` as stored (after ``BSCALE``/``BZERO``), ``mask`` (or
        `None`), ``unit`` from ``BUNIT`` (`None` if absent or not
        understood, with a warning), ``wcs`` if the header has a celestial
        WCS, and ``meta`` with ``filename``, ``hdu`` (the index read) and
        ``header``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    OSError
        The file is not FITS, or is corrupt or truncated.
    ValueError
        No 2D image HDU, an ``hdu`` that does not exist or is not a 2D
        image, or a mask of another shape.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> from asidl.io import read_image
    >>> hdul = fits.HDUList([fits.PrimaryHDU(np.ones((64, 64), np.float32)),
    ...                      fits.ImageHDU(np.zeros((64, 64), np.uint8), name='MASK')])
    >>> hdul[0].header['BUNIT'] = 'adu'
    >>> path = Path(tempfile.mkdtemp()) / 'frame.fits'
    >>> hdul.writeto(path)
    >>> image = read_image(path)
    >>> image.unit, image.mask.shape, image.meta['hdu']
    (Unit("adu"), (64, 64), 0)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f'{path} does not exist')
    try:
        hdul = fits.open(path, memmap=False)
    except Exception as exc:
        raise OSError(f'{path}: not a readable FITS file: {exc}') from None
    with hdul:
        try:
            hdul.readall()
        except Exception as exc:
            raise OSError(f'{path}: corrupt or truncated FITS file: {exc}') from None
        index = _select_hdu(hdul, hdu, path)
        data = _read_data(hdul, index, path)
        header = hdul[index].header.copy()
        bad = None
        mask_index = None
        if isinstance(mask_hdu, str) and mask_hdu == 'auto':
            mask_index = _auto_mask_index(hdul, index, data.shape, path)
        elif mask_hdu is not None:
            mask_index = _select_hdu(hdul, mask_hdu, path)
        if mask_index is not None:
            bad = _as_bool_mask(
                _read_data(hdul, mask_index, path),
                data.shape,
                f'{path} mask {_hdu_label(mask_index, hdul[mask_index])}',
            )
        wcs = _celestial_wcs(header, hdul, path)
    if mask is not None:
        if isinstance(mask, (str, os.PathLike)):
            extra = _read_mask_file(mask, data.shape)
        else:
            extra = _as_bool_mask(mask, data.shape, 'mask')
        bad = extra if bad is None else bad | extra
    if not data.dtype.isnative and data.flags.writeable and not isinstance(data, np.memmap):
        # FITS stores big-endian numbers: swap them in place (the array was
        # read for us alone), so that the finder can use float32 data as they
        # are instead of copying the whole frame.
        data = data.byteswap(inplace=True).view(data.dtype.newbyteorder())
    unit = _parse_unit(header['BUNIT'], path) if 'BUNIT' in header else None
    meta = {'filename': str(path), 'hdu': index, 'header': header}
    return NDData(data, mask=bad, unit=unit, wcs=wcs, meta=meta)
