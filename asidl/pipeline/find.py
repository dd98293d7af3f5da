# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`find_stars_in_files`: the stars of many images, in this process or on a
Dask cluster; what ``asidl find`` and ``asidl batch`` run.
"""

import os
from pathlib import Path

from astropy.nddata import NDData

from ..constants import CATALOG_FORMAT, REGION_RADIUS
from .run import run_tasks
from .tasks import check_finder_options, expand_paths, plan_tasks

__all__ = ['find_stars_in_files']


def find_stars_in_files(
    images,
    *,
    client=None,
    out_dir=None,
    output_format=CATALOG_FORMAT,
    overwrite=False,
    names=None,
    hdu=None,
    mask=None,
    mask_hdu='auto',
    regions=None,
    region_radius=REGION_RADIUS,
    overlay=False,
    progress=False,
    **finder_kwargs,
):
    """
    Find the stars of many images, on a Dask cluster or in this process.

    Parameters
    ----------
    images : str, path-like, `~astropy.nddata.NDData` or a list of them
        FITS file names or glob patterns (see `expand_paths`; read with
        `asidl.io.read_image`), or images already in memory.  Files are
        read by the workers, so with a remote cluster they must be at the
        same path there.
    client : `distributed.Client`, optional
        Where to run.  Each worker builds its finder, loading the model,
        once.  Without a client the images are processed one after the
        other in this process.
    out_dir : str or path-like, optional
        Directory (created if needed) for the catalogs, one per image,
        named after the file (``frame.fits`` -> ``frame.ecsv``) or, for
        NDData without a ``filename`` in ``meta``, ``image_0000.ecsv``
        etc.  Without ``out_dir``, the catalogs are returned in memory.
    output_format : {'ecsv', 'fits', 'csv'}, optional
        Catalog format (see `asidl.io.write_catalog`).
    overwrite : bool, optional
        Redo every image, and replace output files that asidl did not
        write for it.  By default an image is skipped when its catalog
        records the same input (path, size and modification time, or a
        hash of data in memory) and the same options, which makes an
        interrupted run resumable; an asidl catalog of the same image made
        otherwise is redone, and any other existing file at an output path
        (a FITS image, the catalog of another image) raises
        `FileExistsError`.  CSV catalogs carry no metadata and are always
        redone.
    names : list of str, optional
        Catalog file names (without suffix), one per image.
    hdu, mask, mask_hdu
        How files are read; see `asidl.io.read_image`.
    regions : {'image', 'sky'} or None, optional
        Also write a DS9 region file (``frame.reg``) beside each catalog
        with a circle per source, in pixel or sky coordinates.
    region_radius : float, optional
        Circle radius in pixels.
    overlay : bool, optional
        Also write a PNG of each image with its sources (``frame.png``).
    progress : bool, optional
        Show a progress bar on stderr (tqdm if installed).
    **finder_kwargs
        Options of `~asidl.UNetLoGFinder` (``model``, ``threshold`` ...).
        ``model`` must be a registered name or a file path.  A
        ``peak_max`` given as a plain number is in each image's unit.

    Returns
    -------
    result : `BatchResult`
        ``result.summary`` has a row per image with its status and, for
        failures, the reason; ``result.ok`` is True if none failed;
        ``result.catalogs`` holds the catalogs when ``out_dir`` is None.

    Raises
    ------
    TypeError, ValueError
        Invalid options (raised before any image is processed), or two
        images that would write the same catalog.
    FileExistsError
        Outputs that would replace files asidl did not write for the same
        input, without ``overwrite`` (raised before any image is processed).
    FileNotFoundError
        A glob pattern that matches nothing.

    Notes
    -----
    Each catalog is written to a temporary file in ``out_dir`` and renamed
    when complete, after its region file and overlay, so a catalog that
    exists is whole; a run that is interrupted and started again skips
    the images already done.  An image that fails (not FITS, corrupt, no
    2D image, ...) gets no catalog and does not stop the others; if the
    worker processing it dies, Dask retries the image on another worker
    before reporting it as failed.

    Examples
    --------
    >>> from astropy.nddata import NDData
    >>> from asidl.pipeline import find_stars_in_files
    >>> from asidl.datasets import FrameParameters, simulate_frame
    >>> frames = [NDData(simulate_frame(FrameParameters(shape=(96, 96), density=30),
    ...                                 seed=s).data) for s in (1, 2)]
    >>> result = find_stars_in_files(frames, fwhm=4.5)   # the simulator's default
    >>> result.ok, [len(t) > 0 for t in result.catalogs]
    (True, [True, True])
    >>> result.summary['status'].tolist()
    ['done', 'done']
    """
    finder_options = check_finder_options(finder_kwargs)
    if regions not in (None, 'image', 'sky'):
        raise ValueError(f"regions must be None, 'image' or 'sky', got {regions!r}")
    if not isinstance(overwrite, bool):
        raise TypeError(f'overwrite must be True or False, got {overwrite!r}')
    if out_dir is None and (regions or overlay):
        raise ValueError('regions and overlay files need an out_dir')
    if isinstance(images, (str, os.PathLike)):
        images = [images]
    if not isinstance(images, NDData):
        images = [
            image
            for item in images
            for image in ([item] if isinstance(item, NDData) else expand_paths(item))
        ]
    tasks = plan_tasks(images, out_dir, output_format, names)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    read_options = {'hdu': hdu, 'mask': _absolute(mask), 'mask_hdu': mask_hdu}
    sidecars = {'regions': regions, 'region_radius': float(region_radius), 'overlay': overlay}
    return run_tasks(
        tasks,
        client=client,
        read_options=read_options,
        finder_options=finder_options,
        sidecars=sidecars,
        overwrite=overwrite,
        progress=progress,
    )


def _absolute(mask):
    if isinstance(mask, (str, os.PathLike)):
        return os.path.abspath(os.path.expanduser(os.fspath(mask)))
    return mask
