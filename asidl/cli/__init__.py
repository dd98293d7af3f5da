# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The ``asidl`` command line.

``asidl find IMAGE.fits [...]``
    Find the stars of FITS images in this process and write a catalog per
    image (ECSV, FITS or CSV, by suffix), optionally with a DS9 region file
    and an overlay PNG; one summary line per image.
``asidl batch 'night/*.fits' --out-dir cats/``
    The same for many images on a Dask cluster (local, or an existing one
    with ``--scheduler``), with a progress bar, catalogs written
    atomically, resume, and a summary of the images that failed.
``asidl demo``
    Find the stars of the bundled example frame, print the catalog and
    how DAOStarFinder did on the same frame, and write an overlay PNG.
``asidl train``
    Train a model on simulated frames, with checkpoints and resume.

Exit status of ``find`` and ``batch``: 0 when every image succeeded (or
was skipped), 1 when some failed, 2 for invalid arguments (including
outputs that would replace files asidl did not write, and a ``--mask``
that masks every pixel), 130 or 143 when interrupted by SIGINT or
SIGTERM.

Each command is a module: ``asidl.cli.find``, ``asidl.cli.batch``,
``asidl.cli.demo`` and ``asidl.cli.train``; the options ``find`` and
``batch`` share are in ``asidl.cli.options``.  Parsing the command line
imports nothing heavy, so that ``asidl --help`` is quick.
"""

import argparse
import os

from . import batch, demo, find, train

__all__ = ['build_parser', 'main']


def _quiet_tensorflow():
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


def build_parser():
    """The parser of the ``asidl`` command line."""
    parser = argparse.ArgumentParser(
        prog='asidl',
        description='Find stars in optical images with a U-Net and a Laplacian of Gaussian '
        '(AutoSourceID-Light).',
    )
    from .. import __version__

    parser.add_argument('--version', action='version', version=f'asidl {__version__}')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True

    find.add_parser(sub)
    batch.add_parser(sub)
    demo.add_parser(sub)
    train.add_parser(sub)
    return parser


def main(argv=None):
    """Entry point of the ``asidl`` command."""
    _quiet_tensorflow()
    args = build_parser().parse_args(argv)
    return args.func(args)
