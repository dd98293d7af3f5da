# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The options ``asidl find`` and ``asidl batch`` share: how images are read,
the finder's options, the outputs; and turning them into the arguments of
`asidl.pipeline.run_tasks`.

Describing the options imports neither the finder nor the pipeline, so
that ``asidl --help`` is quick: the defaults come from `asidl.constants`.
"""

import argparse
import os

from .. import constants

__all__ = [
    'add_finder_options',
    'add_input_options',
    'add_output_options',
    'check_mask_file',
    'finder_defaults',
    'finder_kwargs',
    'hdu_argument',
    'job_options',
    'mask_hdu_argument',
    'positive_float',
    'short_reason',
]


def hdu_argument(text):
    """An HDU given on the command line: index, EXTNAME or EXTNAME,EXTVER."""
    text = text.strip()
    if text.lstrip('-').isdigit():
        return int(text)
    name, comma, version = text.partition(',')
    if comma:
        if not version.strip().isdigit():
            raise argparse.ArgumentTypeError(f'expected EXTNAME,EXTVER, got {text!r}')
        return (name.strip(), int(version))
    return text


def mask_hdu_argument(text):
    """A mask HDU given on the command line: ``auto``, ``none`` or as `hdu_argument`."""
    lowered = text.strip().lower()
    if lowered == 'auto':
        return 'auto'
    if lowered == 'none':
        return None
    return hdu_argument(text)


def undersampled_model_argument(text):
    """``--undersampled-model``: ``auto``, ``none`` or a registered model name."""
    lowered = text.strip().lower()
    if lowered in ('auto', 'none'):
        return None if lowered == 'none' else 'auto'
    return text


def min_confidence_argument(text):
    """``--min-confidence``: ``auto``, ``none`` or a number between 0 and 1."""
    lowered = text.strip().lower()
    if lowered in ('auto', 'none'):
        return None if lowered == 'none' else 'auto'
    # The finder's own check (imported here: --help stays light).
    from ..parameters import check_min_confidence

    try:
        return check_min_confidence(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected auto, none or a number from 0 to 1, got {text!r}'
        ) from None


def positive_float(text):
    """A number that must be positive."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f'must be a positive number, got {text}')
    return value


def finder_defaults():
    """
    The defaults of the finder options, from `asidl.constants`: describing
    them must not import the finder (and photutils, astropy.wcs, OpenVINO),
    so that ``asidl --help`` is quick.  A test checks that they are
    `~asidl.UNetLoGFinder`'s.
    """
    return {
        'model': constants.DEFAULT_MODEL,
        'fwhm': None,
        'threshold': None,
        'sigma': constants.LOG_SIGMA,
        'overlap': constants.LOG_OVERLAP,
        'n_brightest': None,
        'peak_max': None,
        'exclude_border': False,
        'normalization': None,
        'tile_size': constants.TILE_SIZE,
        'tile_margin': constants.TILE_MARGIN,
        'batch_size': None,
        'precision': constants.DEFAULT_PRECISION,
        'min_confidence': 'auto',
        'undersampled_model': 'auto',
    }


def add_input_options(parser):
    """Add the options that say how images are read (see `asidl.io.read_image`)."""
    group = parser.add_argument_group('reading the images')
    group.add_argument(
        '--hdu',
        type=hdu_argument,
        metavar='HDU',
        help='image HDU: index, EXTNAME or EXTNAME,EXTVER (default: the first '
        'HDU holding a 2D image)',
    )
    group.add_argument(
        '--mask',
        metavar='FILE',
        help='FITS file whose first image is a bad-pixel mask (non-zero = bad) for every image',
    )
    group.add_argument(
        '--mask-hdu',
        type=mask_hdu_argument,
        default='auto',
        metavar='HDU',
        help="extension of each image file holding its bad-pixel mask; 'auto' "
        "uses a MASK, DQ or BPM extension when there is one, 'none' ignores "
        'them (default: %(default)s)',
    )


def add_finder_options(parser):
    """Add the options of `~asidl.UNetLoGFinder`, with its defaults (`finder_defaults`)."""
    defaults = finder_defaults()
    group = parser.add_argument_group('finder options (those of asidl.UNetLoGFinder)')
    group.add_argument(
        '--model',
        default=defaults['model'],
        metavar='MODEL',
        help='registered model name or .keras/.h5 model file (default: %(default)s)',
    )
    group.add_argument(
        '--fwhm',
        type=float,
        default=defaults['fwhm'],
        metavar='PIX',
        help="FWHM of the stars in pixels, as DAOStarFinder's; images whose "
        "stars are broader than the model's range are block-summed "
        '(default: measured on each image)',
    )
    group.add_argument(
        '--threshold',
        type=float,
        default=defaults['threshold'],
        metavar='TAU',
        help='lowest LoG response of a detection; lower finds fainter stars and '
        'more false positives (default: the value tuned for the model in '
        f'the registry, else {constants.LOG_THRESHOLD})',
    )
    group.add_argument(
        '--sigma',
        type=float,
        default=defaults['sigma'],
        metavar='PIX',
        help='standard deviation of the LoG kernel in pixels (default: %(default)s)',
    )
    group.add_argument(
        '--overlap',
        type=float,
        default=defaults['overlap'],
        metavar='FRACTION',
        help='of two blobs overlapping more than this, keep the stronger (default: %(default)s)',
    )
    group.add_argument(
        '--n-brightest', type=int, metavar='N', help='keep only the N sources with the largest flux'
    )
    group.add_argument(
        '--peak-max',
        type=float,
        metavar='VALUE',
        help='reject sources whose peak exceeds VALUE, in the unit of the image '
        '(e.g. saturated stars)',
    )
    group.add_argument(
        '--exclude-border',
        action='store_true',
        help='drop sources within 2 pixels of the image edge',
    )
    group.add_argument(
        '--normalization',
        choices=constants.NORMALIZATIONS,
        help="scaling of raw data for the network (default: the model's own)",
    )
    group.add_argument(
        '--tile-size',
        type=int,
        default=defaults['tile_size'],
        metavar='PIX',
        help='side of the tiles given to the network (default: %(default)s)',
    )
    group.add_argument(
        '--tile-margin',
        type=int,
        default=defaults['tile_margin'],
        metavar='PIX',
        help='context around each tile, predicted and discarded (default: %(default)s)',
    )
    group.add_argument(
        '--batch-size',
        type=int,
        default=defaults['batch_size'],
        metavar='N',
        help='tiles per network call; lower it to save memory (default: '
        + ("the finder's own choice" if defaults['batch_size'] is None else '%(default)s')
        + ')',
    )
    group.add_argument(
        '--precision',
        choices=constants.PRECISIONS,
        default=defaults['precision'],
        help='arithmetic of the network for the bundled models, which run with '
        'OpenVINO: auto is bf16 on CPUs with bfloat16 instructions (faster) '
        'and f32 elsewhere; f32 reproduces TensorFlow on any CPU '
        '(default: %(default)s)',
    )
    group.add_argument(
        '--min-confidence',
        type=min_confidence_argument,
        default=defaults['min_confidence'],
        metavar='P',
        help='report only sources with calibrated confidence of at least P; '
        'auto sets P from the correlation of the noise between neighbouring '
        'pixels: none for white noise, 0.5 for resampled images, 0.8 for '
        'photographic plates; none reports every detection (default: %(default)s)',
    )
    group.add_argument(
        '--undersampled-model',
        type=undersampled_model_argument,
        default=defaults['undersampled_model'],
        metavar='NAME',
        help='registered model whose detections are reported on images whose '
        "stars are narrower than the model's FWHM range; auto takes the one the "
        'registry names for the model, none keeps the model at every FWHM '
        '(default: %(default)s)',
    )


def add_output_options(group):
    """Add the options that choose the outputs: catalog format, region file, overlay."""
    group.add_argument(
        '-f',
        '--format',
        choices=('ecsv', 'fits', 'csv'),
        default=constants.CATALOG_FORMAT,
        help='catalog format: ECSV keeps units, metadata and sky_centroid; FITS '
        'too; CSV has ra, dec columns in degrees and no units '
        '(default: %(default)s)',
    )
    group.add_argument(
        '--regions',
        action='store_true',
        help='also write a DS9 region file, the catalog name with .reg',
    )
    group.add_argument(
        '--region-coords',
        choices=('image', 'sky'),
        default='image',
        help='coordinates of the region circles; sky needs a WCS (default: %(default)s)',
    )
    group.add_argument(
        '--region-radius',
        type=positive_float,
        default=constants.REGION_RADIUS,
        metavar='PIX',
        help='radius of the region circles in pixels (default: %(default)s)',
    )
    group.add_argument(
        '--overlay',
        action='store_true',
        help='also write a PNG of the image with its sources, the catalog name with .png',
    )
    group.add_argument('-q', '--quiet', action='store_true', help='print only errors')


def finder_kwargs(args):
    """The finder options of parsed arguments, as keyword arguments of `~asidl.UNetLoGFinder`."""
    return {name: getattr(args, name) for name in finder_defaults()}


def check_mask_file(path):
    """
    Check that the ``--mask`` file exists, can be read and leaves some
    pixel unmasked.

    Raises
    ------
    ValueError, OSError
    """
    if path is None:
        return
    import numpy as np

    from ..io import read_image

    mask = read_image(path, mask_hdu=None)
    if np.all(np.asarray(mask.data) != 0):
        raise ValueError(
            f'--mask {path} masks every pixel (its values are all non-zero); a '
            'bad-pixel mask is zero for good pixels: is it a science frame?'
        )


def job_options(args):
    """Options of `asidl.pipeline.run_tasks` shared by find and batch."""
    return {
        'read_options': {
            'hdu': args.hdu,
            'mask': os.path.abspath(args.mask) if args.mask else None,
            'mask_hdu': args.mask_hdu,
        },
        'sidecars': {
            'regions': args.region_coords if args.regions else None,
            'region_radius': args.region_radius,
            'overlay': args.overlay,
        },
    }


def short_reason(task, error):
    """A failure reason without the file name that the report line already shows."""
    if isinstance(task.source, str):
        error = error.replace(f'{task.source}: ', '', 1)
    return error
