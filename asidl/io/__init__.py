# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Files in and out: FITS images to `~astropy.nddata.NDData`
(``asidl.io.images``), catalogs to ECSV, FITS or CSV (``asidl.io.catalogs``),
DS9 region files (``asidl.io.regions``) and overlay PNGs
(``asidl.io.overlays``).

Every file is written atomically (``asidl.io.atomic``): to a temporary name
in the destination directory, flushed to disk, then renamed over the
destination, so that a crash or an interrupted run never leaves a
half-written catalog.  Outputs never replace a file that asidl did not
write (``asidl.io.provenance``) unless asked to.
"""

from .atomic import TEMPORARY_SUFFIX, atomic_write, remove_stale_temporaries, write_bytes
from .catalogs import CATALOG_FORMATS, catalog_format, catalog_stem, empty_catalog, write_catalog
from .images import MASK_EXTNAMES, read_image
from .overlays import write_overlay
from .provenance import SUMMARY_CONTENT, asidl_table_meta, written_by_asidl
from .regions import REGION_HEADER, regions_text, write_regions

__all__ = [
    'CATALOG_FORMATS',
    'MASK_EXTNAMES',
    'REGION_HEADER',
    'SUMMARY_CONTENT',
    'TEMPORARY_SUFFIX',
    'asidl_table_meta',
    'atomic_write',
    'catalog_format',
    'catalog_stem',
    'empty_catalog',
    'read_image',
    'regions_text',
    'remove_stale_temporaries',
    'write_bytes',
    'write_catalog',
    'write_overlay',
    'write_regions',
    'written_by_asidl',
]
