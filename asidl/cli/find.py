# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
``asidl find IMAGE.fits [...]``: find the stars of FITS images in this
process and write a catalog per image (ECSV, FITS or CSV, by suffix),
optionally with a DS9 region file and an overlay PNG; one summary line per
image.
"""

import argparse
import os
import sys
import textwrap
from pathlib import Path

from . import options
from .exits import Interrupted, SignalsInterrupt, fail, interrupted

__all__ = ['add_parser', 'run']

EPILOG = """\
examples:
  asidl find frame.fits                     write frame.ecsv here
  asidl find frame.fits -o frame_cat.fits --regions --overlay
  asidl find night/*.fits -d cats/ -f csv   one CSV catalog per image in cats/
  asidl find mef.fits --hdu SCI,2 --mask badpix.fits --threshold 0.3

The catalog has the columns of asidl.UNetLoGFinder (id, x_centroid,
y_centroid, sky_centroid when the header has a celestial WCS, confidence,
log_response, DAOStarFinder's sharpness, roundness1, roundness2 and
n_pixels, background, peak, flux, mag), with the unit of BUNIT. Pixel
positions are 0-based. Catalogs are written atomically. A catalog that
exists is left alone when it records the same image (path, size and time)
and the same options, and redone when it is an asidl catalog of the same
image made otherwise; asidl refuses to replace any other file (a FITS
image, the catalog of another image, ...) unless --overwrite is given.
A compressed frame.fits.gz gets frame.gz.ecsv, never frame.fits.
"""


def add_parser(sub):
    """Add the ``find`` command to the subparsers ``sub``."""
    find = sub.add_parser(
        'find',
        help='find the stars of FITS images and write catalogs',
        description=textwrap.fill(
            'Find the stars of FITS images with UNetLoGFinder, in this process, and write one '
            'catalog per image. The image is read with its WCS, BUNIT unit and bad-pixel mask; '
            'a summary line per image is printed.'
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    find.add_argument(
        'images', nargs='+', metavar='IMAGE', help='FITS image files (or quoted glob patterns)'
    )
    out = find.add_argument_group('output')
    out.add_argument(
        '-o',
        '--output',
        metavar='CATALOG',
        help='catalog file for a single IMAGE; its suffix (.ecsv, .fits, .fit, '
        '.csv) sets the format',
    )
    out.add_argument(
        '-d',
        '--out-dir',
        default='.',
        metavar='DIR',
        help='directory for catalogs named after the images, frame.fits -> '
        'frame.ecsv (default: the current directory)',
    )
    out.add_argument(
        '--overwrite',
        action='store_true',
        help='redo images whose catalog is up to date, and replace output files '
        'that asidl did not write (default: skip the first, refuse the '
        'second)',
    )
    options.add_output_options(out)
    options.add_input_options(find)
    options.add_finder_options(find)
    find.set_defaults(func=run)


def run(args):
    """Run ``asidl find``; returns the exit status."""
    from .. import pipeline
    from ..io import catalog_format

    try:
        paths = pipeline.expand_paths(args.images)
        finder_options = pipeline.check_finder_options(options.finder_kwargs(args))
        options.check_mask_file(args.mask)
        if args.output is not None:
            if len(paths) != 1:
                return fail(
                    'find',
                    f'--output names one catalog, but {len(paths)} images were '
                    'given; use --out-dir',
                )
            catalog_format(args.output)
            tasks = [
                pipeline.Task(
                    source=os.path.abspath(paths[0]), label=paths[0], catalog=Path(args.output)
                )
            ]
            pipeline.check_outputs(tasks)
        else:
            tasks = pipeline.plan_tasks(paths, args.out_dir, args.format, None)
        pipeline.existing_outputs(
            tasks,
            overwrite=args.overwrite,
            finder_options=finder_options,
            **options.job_options(args),
        )
        if args.output is None:
            os.makedirs(args.out_dir, exist_ok=True)
    except (TypeError, ValueError, OSError) as exc:
        return fail('find', exc)

    def report(task, status, n_sources, seconds, error):
        if status == 'failed':
            reason = options.short_reason(task, error)
            print(f'asidl find: {task.label}: {reason}', file=sys.stderr)
        elif status == 'skipped':
            if not args.quiet:
                print(
                    f'{task.label}: {task.catalog} is up to date, skipped (--overwrite redoes it)',
                    flush=True,
                )
        elif not args.quiet:
            extras = ''.join(
                f' + {task.catalog.with_suffix(s).name}'
                for s, on in (('.reg', args.regions), ('.png', args.overlay))
                if on
            )
            print(
                f'{task.label}: {n_sources} star{"s" if n_sources != 1 else ""} -> '
                f'{task.catalog}{extras} ({seconds:.1f} s)',
                flush=True,
            )

    with SignalsInterrupt():
        try:
            result = pipeline.run_tasks(
                tasks,
                client=None,
                finder_options=finder_options,
                overwrite=args.overwrite,
                progress=False,
                on_done=report,
                **options.job_options(args),
            )
        except Interrupted as exc:
            return interrupted('find', exc)
        except (TypeError, ValueError, OSError) as exc:  # e.g. a model that cannot be loaded
            return fail('find', exc)
    return 0 if result.ok else 1
