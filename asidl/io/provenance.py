# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Which files asidl wrote: catalogs and batch summaries (recognized by their
meta), DS9 region files and overlay PNGs (by their first line and PNG
text chunk).  Outputs never replace a file that asidl did not write.
"""

from pathlib import Path

from astropy.io import fits

from ..visualization import PNG_SOFTWARE
from .catalogs import catalog_format
from .regions import REGION_HEADER

__all__ = ['SUMMARY_CONTENT', 'asidl_table_meta', 'written_by_asidl']

#: ``content`` meta of the per-image summary tables of ``asidl batch --summary``.
SUMMARY_CONTENT = 'asidl batch summary'


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
        if (
            len(hdul) < 2
            or hdul[0].header.get('NAXIS', 0) != 0
            or not isinstance(hdul[1], fits.BinTableHDU)
        ):
            return None  # an image, or not a table of ours
        return {key.lower(): value for key, value in hdul[1].header.items()}


def _csv_columns(path):
    with open(path, encoding='utf-8') as fh:
        return fh.readline().strip().split(',')


def asidl_table_meta(path):
    """
    The meta of a table that asidl wrote at ``path``: a catalog or a batch
    summary, in ECSV, FITS or CSV.

    Returns
    -------
    meta : dict or None
        Keys in lower case; empty for CSV, which has no meta; `None` if the
        file is anything else, or cannot be read.
    """
    try:
        fmt = catalog_format(path)
        if fmt == 'ascii.csv':
            columns = _csv_columns(path)
            ours = columns[:3] in (
                ['id', 'x_centroid', 'y_centroid'],
                ['input', 'catalog', 'status'],
            )
            return {} if ours else None
        meta = _ecsv_meta(path) if fmt == 'ascii.ecsv' else _fits_table_meta(path)
    except Exception:
        return None
    if not meta:
        return None
    meta = {str(key).lower(): value for key, value in meta.items()}
    if meta.get('finder') == 'UNetLoGFinder' or meta.get('content') == SUMMARY_CONTENT:
        return meta
    return None


def written_by_asidl(path):
    """
    Whether the existing file ``path`` is a catalog, batch summary, DS9
    region file or overlay PNG that asidl wrote, and so may be replaced.

    Returns
    -------
    ours : bool
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == '.reg':
            with open(path, encoding='utf-8', errors='replace') as fh:
                return fh.readline().startswith(REGION_HEADER)
        if suffix == '.png':
            with open(path, 'rb') as fh:
                head = fh.read(4096)
            return head.startswith(b'\x89PNG') and b'Software\x00' + PNG_SOFTWARE.encode() in head
    except OSError:
        return False
    return asidl_table_meta(path) is not None
