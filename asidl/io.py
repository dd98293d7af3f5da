# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Files in and out: FITS images to `~astropy.nddata.NDData`, catalogs to
ECSV, FITS or CSV, DS9 region files and overlay PNGs.

Every file is written atomically: to a temporary name in the destination
directory, flushed to disk, then renamed over the destination, so that a
crash or an interrupted run never leaves a half-written catalog.
"""

import glob
import io
import os
import secrets
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.nddata import NDData
from astropy.utils.exceptions import AstropyUserWarning

__all__ = [
    'CATALOG_FORMATS',
    'MASK_EXTNAMES',
    'catalog_format',
    'catalog_stem',
    'empty_catalog',
    'read_image',
    'write_catalog',
    'write_overlay',
    'write_regions',
]

#: Catalog file suffixes and the astropy table format each is written in.
CATALOG_FORMATS = {
    '.ecsv': 'ascii.ecsv',
    '.fits': 'fits',
    '.fit': 'fits',
    '.fts': 'fits',
    '.csv': 'ascii.csv',
}

#: Extension names recognized as bad-pixel masks (non-zero = bad), in
#: order of preference.
MASK_EXTNAMES = ('MASK', 'DQ', 'BPM')

#: Suffixes removed from an image file name to name its catalog.
_IMAGE_SUFFIXES = ('.fits', '.fit', '.fts')
_COMPRESSION_SUFFIXES = ('.gz', '.bz2', '.fz', '.xz')

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

_TEMP_SUFFIX = '.asidl-tmp'


# --------------------------------------------------------------------------
# Reading images


def _hdu_label(index, hdu):
    name = hdu.name
    return f'HDU {index}' + (f' ({name})' if name and name != 'PRIMARY' else '')


def _is_2d_image(hdu):
    return (isinstance(hdu, _IMAGE_HDU_TYPES) and hdu.header.get('NAXIS') == 2
            and hdu.header.get('NAXIS1', 0) > 0 and hdu.header.get('NAXIS2', 0) > 0)


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
        index %= len(hdul)     # a negative index counts from the end
    except (KeyError, IndexError, TypeError):
        names = [h.name for h in hdul]
        raise ValueError(f'{path}: there is no HDU {hdu!r}; the file has {len(hdul)} HDU(s) '
                         f'named {names}') from None
    chosen = hdul[index]
    if not _is_2d_image(chosen):
        kind = chosen.__class__.__name__
        if isinstance(chosen, _IMAGE_HDU_TYPES):
            kind += f' with NAXIS={chosen.header.get("NAXIS")}'
        raise ValueError(f'{path}: {_hdu_label(index, chosen)} is not a 2D image (it is a '
                         f'{kind})')
    return index


def _read_data(hdul, index, path):
    try:
        data = hdul[index].data
    except Exception as exc:
        raise OSError(f'{path}: cannot read the data of {_hdu_label(index, hdul[index])} '
                      f'(is the file truncated?): {exc}') from None
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
    warnings.warn(f'{path}: BUNIT {text!r} is not a unit astropy understands; the catalog '
                  'will have no units', AstropyUserWarning)
    return None


def _celestial_wcs(header, hdul, path):
    """The image's celestial WCS, or None if the header has none (or a broken one)."""
    from astropy.wcs import WCS, FITSFixedWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FITSFixedWarning)
            wcs = WCS(header, hdul)
    except Exception as exc:
        warnings.warn(f'{path}: ignoring a WCS that astropy cannot interpret: {exc}',
                      AstropyUserWarning)
        return None
    if not wcs.has_celestial or wcs.naxis != 2:
        return None
    return wcs


def _auto_mask_index(hdul, image_index, shape, path):
    """Index of the MASK/DQ/BPM extension that goes with the image, or None."""
    extver = hdul[image_index].header.get('EXTVER', 1)
    for name in MASK_EXTNAMES:
        for index, hdu in enumerate(hdul):
            if hdu.name.upper() == name and hdu.header.get('EXTVER', 1) == extver \
                    and isinstance(hdu, _IMAGE_HDU_TYPES):
                if tuple(hdu.shape) != tuple(shape):
                    raise ValueError(f'{path}: mask extension {_hdu_label(index, hdu)} has '
                                     f'shape {hdu.shape}, the image {tuple(shape)}; give '
                                     'mask_hdu=None (--mask-hdu none) to ignore it')
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
            bad = _as_bool_mask(_read_data(hdul, mask_index, path), data.shape,
                                f'{path} mask {_hdu_label(mask_index, hdul[mask_index])}')
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


# --------------------------------------------------------------------------
# Catalogs


def catalog_stem(path):
    """
    The name of an image file without its FITS suffix, to name its catalog.

    A compressed image keeps its compression suffix, so that the catalogs
    of ``frame.fits.fz`` and ``frame.fits`` never share a name, and a FITS
    catalog of ``frame.fits.gz`` is never named ``frame.fits``.

    >>> from asidl.io import catalog_stem
    >>> catalog_stem('night/frame_0042.fits')
    'frame_0042'
    >>> catalog_stem('night/frame_0042.fits.fz')
    'frame_0042.fz'
    """
    name = Path(path).name
    compression = ''
    for suffix in _COMPRESSION_SUFFIXES:
        if name.lower().endswith(suffix):
            name, compression = name[:-len(suffix)], name[-len(suffix):]
            break
    for suffix in _IMAGE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[:-len(suffix)] + compression
    return name + compression


def catalog_format(path):
    """
    The astropy table format of a catalog file, from its suffix.

    Raises
    ------
    ValueError
        A suffix that is not in `CATALOG_FORMATS`.

    Examples
    --------
    >>> from asidl.io import catalog_format
    >>> catalog_format('cats/frame.fits')
    'fits'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in CATALOG_FORMATS:
        raise ValueError(f'cannot tell the catalog format of {path}: the suffix must be one of '
                         f'{", ".join(CATALOG_FORMATS)}')
    return CATALOG_FORMATS[suffix]


def empty_catalog(finder, image):
    """
    A catalog with no rows and the columns, units and meta that ``finder``
    gives for ``image``, for images without detections.

    Parameters
    ----------
    finder : `~asidl.UNetLoGFinder`
    image : `~astropy.nddata.NDData`, `~astropy.units.Quantity` or array

    Returns
    -------
    table : `~astropy.table.QTable`
        Of the class the finder's tables have (`asidl.catalog.catalog_table`),
        made by `asidl.catalog.UNetLoGCatalog.empty`.
    """
    from .catalog import UNetLoGCatalog

    wcs = getattr(image, 'wcs', None) if isinstance(image, NDData) else None
    if wcs is not None:
        try:
            wcs.pixel_to_world(np.zeros(1), np.zeros(1))
        except Exception:     # an unusable WCS: prepare_image has warned
            wcs = None
    return UNetLoGCatalog.empty(unit=getattr(image, 'unit', None), wcs=wcs,
                                shape_columns=finder.shape_columns, meta=finder.meta).to_table()


def _for_csv(table):
    """A copy of ``table`` with ``sky_centroid`` replaced by ``ra``, ``dec`` in degrees (ICRS)."""
    from astropy.coordinates import SkyCoord

    out = table.copy(copy_data=False)
    for name in [n for n in out.colnames if isinstance(out[n], SkyCoord)]:
        sky = out[name]
        try:
            lon, lat = sky.icrs.ra.deg, sky.icrs.dec.deg
            names = ('ra', 'dec')
        except Exception:   # a frame that cannot be transformed to ICRS
            lon, lat = sky.spherical.lon.deg, sky.spherical.lat.deg
            names = ('lon', 'lat')
        index = out.colnames.index(name)
        out.remove_column(name)
        out.add_column(lat, name=names[1], index=index)
        out.add_column(lon, name=names[0], index=index)
    return out


#: First line of the DS9 region files that `regions` writes.
_REGION_HEADER = '# Region file format: DS9'

#: PNG text chunk that marks the overlays asidl writes.
_PNG_SOFTWARE = 'asidl'

#: Meta of the per-image summary tables of ``asidl batch --summary``.
_SUMMARY_META = 'asidl batch summary'


def _ecsv_meta(path):
    from astropy.table.meta import get_header_from_yaml

    lines = []
    with open(path, encoding='utf-8') as fh:
        for line in fh:
            if not line.startswith('#'):
                break
            lines.append(line[2:].rstrip('\n'))
    if not lines or not lines[0].startswith('%ECSV'):
        return None
    return dict(get_header_from_yaml(lines).get('meta') or {})


def _fits_table_meta(path):
    with fits.open(path, memmap=False) as hdul:
        if len(hdul) < 2 or hdul[0].header.get('NAXIS', 0) != 0 \
                or not isinstance(hdul[1], fits.BinTableHDU):
            return None       # an image, or not a table of ours
        return {key.lower(): value for key, value in hdul[1].header.items()}


def _csv_columns(path):
    with open(path, encoding='utf-8') as fh:
        return fh.readline().strip().split(',')


def _asidl_table_meta(path):
    """
    The meta (keys in lower case) of a table that asidl wrote at ``path``:
    a catalog or a batch summary, in ECSV, FITS or CSV (whose meta is
    empty); None if the file is anything else, or cannot be read.
    """
    try:
        fmt = catalog_format(path)
        if fmt == 'ascii.csv':
            columns = _csv_columns(path)
            ours = columns[:3] in (['id', 'x_centroid', 'y_centroid'],
                                   ['input', 'catalog', 'status'])
            return {} if ours else None
        meta = _ecsv_meta(path) if fmt == 'ascii.ecsv' else _fits_table_meta(path)
    except Exception:
        return None
    if not meta:
        return None
    meta = {str(key).lower(): value for key, value in meta.items()}
    if meta.get('finder') == 'UNetLoGFinder' or meta.get('content') == _SUMMARY_META:
        return meta
    return None


def _written_by_asidl(path):
    """Whether the existing file ``path`` is a table, region file or overlay asidl wrote."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == '.reg':
            with open(path, encoding='utf-8', errors='replace') as fh:
                return fh.readline().startswith(_REGION_HEADER)
        if suffix == '.png':
            with open(path, 'rb') as fh:
                head = fh.read(4096)
            return head.startswith(b'\x89PNG') and \
                b'Software\x00' + _PNG_SOFTWARE.encode() in head
    except OSError:
        return False
    return _asidl_table_meta(path) is not None


def _temporary_path(path):
    return path.with_name(f'.{path.name}.{secrets.token_hex(4)}{_TEMP_SUFFIX}')


def _remove_stale_temporaries(path):
    """Delete temporary files that an interrupted write of ``path`` left behind."""
    path = Path(path)
    for stale in path.parent.glob(f'.{glob.escape(path.name)}.*{_TEMP_SUFFIX}'):
        try:
            stale.unlink()
        except OSError:
            pass


def _atomic_write(path, write, *, overwrite):
    """
    Call ``write(temporary_path)``, flush the file to disk and rename it
    to ``path``; remove the temporary file if anything fails.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f'{path} exists; pass overwrite=True (--overwrite) to replace it')
    if not path.parent.is_dir():
        raise FileNotFoundError(f'cannot write {path}: directory {path.parent} does not exist')
    tmp = _temporary_path(path)
    try:
        write(tmp)
        with open(tmp, 'rb+') as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    _fsync_directory(path.parent)
    return path


def _fsync_directory(directory):
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_catalog(table, path, *, overwrite=False):
    """
    Write a catalog atomically, in the format its suffix names.

    Parameters
    ----------
    table : `~astropy.table.Table` or `~astropy.table.QTable`
        A catalog, e.g. from `~asidl.UNetLoGFinder`.
    path : str or path-like
        Destination: ``.ecsv`` (ECSV, keeps units, ``meta`` and
        ``sky_centroid``), ``.fits``, ``.fit`` or ``.fts`` (FITS binary
        table, likewise) or ``.csv`` (plain CSV without units or meta;
        ``sky_centroid`` becomes ``ra`` and ``dec`` columns in ICRS
        degrees).
    overwrite : bool, optional
        Replace an existing file.

    Returns
    -------
    path : `~pathlib.Path`

    Raises
    ------
    ValueError
        Unknown suffix.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.

    Notes
    -----
    The table is written to a temporary file beside ``path`` that is then
    renamed, so readers see either the old file or the complete new one.
    """
    path = Path(path)
    fmt = catalog_format(path)
    if fmt == 'ascii.csv':
        table = _for_csv(table)

    def write(tmp):
        with warnings.catch_warnings():
            # Long meta keys become HIERARCH cards, which is fine.
            warnings.simplefilter('ignore', fits.verify.VerifyWarning)
            table.write(tmp, format=fmt)

    return _atomic_write(path, write, overwrite=overwrite)


def _write_bytes(path, content, *, overwrite):
    def write(tmp):
        with open(tmp, 'wb') as fh:
            fh.write(content)

    return _atomic_write(path, write, overwrite=overwrite)


# --------------------------------------------------------------------------
# Region files and overlays


def _positions(catalog):
    return np.asarray(catalog['x_centroid'], float), np.asarray(catalog['y_centroid'], float)


def _regions_text(catalog, *, radius=4.0, coordinates='image', wcs=None):
    """
    DS9 region text with a circle per source (see `write_regions`).
    """
    from astropy.coordinates import SkyCoord
    from regions import CirclePixelRegion, CircleSkyRegion, PixCoord, Regions

    radius = float(radius)
    if not radius > 0:
        raise ValueError(f'radius must be a positive number of pixels, got {radius!r}')
    x, y = _positions(catalog)
    if coordinates == 'image':
        shapes = [CirclePixelRegion(PixCoord(xi, yi), radius=radius) for xi, yi in zip(x, y)]
    elif coordinates == 'sky':
        if 'sky_centroid' in catalog.colnames:
            sky = catalog['sky_centroid']
        elif wcs is not None:
            sky = wcs.pixel_to_world(x, y)
        else:
            raise ValueError('sky regions need a catalog with a sky_centroid column or a WCS')
        if wcs is not None:
            from astropy.wcs.utils import proj_plane_pixel_scales

            scale = float(np.mean(proj_plane_pixel_scales(wcs.celestial))) * u.deg
        else:
            scale = _pixel_scale_from_catalog(catalog)
        sky = sky.icrs
        ra, dec = sky.ra.deg, sky.dec.deg
        shapes = [CircleSkyRegion(SkyCoord(r, d, unit='deg', frame='icrs'),
                                  radius=(radius * scale).to(u.arcsec))
                  for r, d in zip(ra, dec)]
    else:
        raise ValueError(f"coordinates must be 'image' or 'sky', got {coordinates!r}")
    return Regions(shapes).serialize(format='ds9')


def _pixel_scale_from_catalog(catalog):
    """Angular size of a pixel estimated from the catalog's own pixel and sky positions."""
    x, y = _positions(catalog)
    sky = catalog['sky_centroid']
    if len(catalog) < 2:
        return 1.0 * u.arcsec
    i, j = 0, int(np.argmax(np.hypot(x - x[0], y - y[0])))
    pixels = np.hypot(x[j] - x[0], y[j] - y[0])
    if pixels == 0:
        return 1.0 * u.arcsec
    return (sky[i].separation(sky[j]) / pixels).to(u.arcsec)


def write_regions(catalog, path, *, radius=4.0, coordinates='image', wcs=None, overwrite=False):
    """
    Write a DS9 region file with a circle around each source, atomically.

    Parameters
    ----------
    catalog : `~astropy.table.Table`
        With ``x_centroid``, ``y_centroid`` and, for sky coordinates,
        ``sky_centroid``.
    path : str or path-like
        Destination, conventionally ``.reg``.
    radius : float, optional
        Circle radius in pixels.
    coordinates : {'image', 'sky'}, optional
        ``'image'``: pixel circles (DS9's 1-based ``image`` system; the
        `regions` package converts from the catalog's 0-based positions).
        ``'sky'``: ICRS circles from ``sky_centroid`` (slower for large
        catalogs).
    wcs : `~astropy.wcs.WCS`, optional
        Gives the angular radius of sky circles (otherwise estimated from
        the catalog).
    overwrite : bool, optional
        Replace an existing file.

    Returns
    -------
    path : `~pathlib.Path`
    """
    text = _regions_text(catalog, radius=radius, coordinates=coordinates, wcs=wcs)
    return _write_bytes(Path(path), text.encode(), overwrite=overwrite)


def _overlay_png(data, catalog, *, title=None, radius=4.0):
    """The image with a circle per source, as PNG bytes (see `write_overlay`)."""
    from astropy.visualization import ImageNormalize, ZScaleInterval
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    data = np.asanyarray(getattr(data, 'data', data), dtype=float)
    fig = Figure(figsize=(8, 8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    finite = data[np.isfinite(data)]
    norm = ImageNormalize(finite if finite.size else np.zeros(1), interval=ZScaleInterval())
    ax.imshow(data, origin='lower', cmap='Greys_r', norm=norm, interpolation='nearest')
    if catalog is not None and len(catalog):
        x, y = _positions(catalog)
        size = (2 * radius * 72 * 8 / max(data.shape)) ** 2   # circle diameter in points
        ax.scatter(x, y, s=max(size, 12.0), facecolors='none', edgecolors='red',
                   linewidths=0.6)
    n = 0 if catalog is None else len(catalog)
    ax.set_title(f'{title + ": " if title else ""}{n} sources')
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=110, bbox_inches='tight',
                metadata={'Software': _PNG_SOFTWARE})
    return buffer.getvalue()


def write_overlay(data, catalog, path, *, title=None, overwrite=False):
    """
    Write a PNG of the image (zscale) with a red circle per source, atomically.

    Parameters
    ----------
    data : 2D array_like or `~astropy.nddata.NDData`
    catalog : `~astropy.table.Table` or None
    path : str or path-like
    title : str, optional
    overwrite : bool, optional

    Returns
    -------
    path : `~pathlib.Path`
    """
    return _write_bytes(Path(path), _overlay_png(data, catalog, title=title),
                        overwrite=overwrite)
