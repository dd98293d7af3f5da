# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
``asidl batch 'night/*.fits' --out-dir cats/``: find the stars of many
images on a Dask cluster (local, or an existing one with ``--scheduler``),
with a progress bar, catalogs written atomically, resume, and a summary of
the images that failed.
"""

import argparse
import os
import sys
import textwrap

from . import options
from .exits import Interrupted, SignalsInterrupt, fail, interrupted

__all__ = ['add_parser', 'run']

EPILOG = """\
examples:
  asidl batch 'night/*.fits' --out-dir cats/
  asidl batch 'night/*.fits' --out-dir cats/ --workers 4 --threads 1
  asidl batch 'night/*.fits' --out-dir cats/ --scheduler tcp://10.0.0.5:8786

Quote glob patterns so that asidl expands them, not the shell. Each worker
loads the model once. A catalog is written under a temporary name and
renamed when complete, so an interrupted run leaves only whole catalogs;
run the same command again and images whose catalog records the same
image (path, size and time) and options are skipped (--overwrite redoes
them); other asidl catalogs of the same image are redone, and files asidl
did not write, or catalogs of another image, are never replaced without
--overwrite. An image that cannot be processed is reported
with its reason at the end and does not stop the others; the exit status
is 1 if any failed. With --scheduler, the workers need asidl installed and
the images (and --mask, --model files) at the same paths.
"""


def add_parser(sub):
    """Add the ``batch`` command to the subparsers ``sub``."""
    batch = sub.add_parser(
        'batch',
        help='find the stars of many FITS images on a Dask cluster',
        description=textwrap.fill(
            'Find the stars of many FITS images on Dask distributed: a local cluster by default, '
            'or an existing one. Writes one catalog per image to DIR, resumes interrupted runs '
            'and reports the images that failed.'
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument(
        'images', nargs='+', metavar='IMAGE', help='FITS image files or quoted glob patterns'
    )
    out = batch.add_argument_group('output')
    out.add_argument(
        '-d',
        '--out-dir',
        required=True,
        metavar='DIR',
        help='directory for the catalogs, frame.fits -> DIR/frame.ecsv (created if needed)',
    )
    out.add_argument(
        '--overwrite',
        action='store_true',
        help='redo images whose catalog is up to date, and replace output files '
        'that asidl did not write (default: skip the first, refuse the '
        'second)',
    )
    out.add_argument(
        '--summary',
        metavar='FILE',
        help='also write the per-image summary (status, sources, seconds, error) '
        'as a table; suffix .ecsv, .fits or .csv',
    )
    options.add_output_options(out)
    out.add_argument(
        '--progress',
        action=argparse.BooleanOptionalAction,
        default=None,
        help='show a progress bar on stderr (default: when stderr is a terminal)',
    )
    dask = batch.add_argument_group('Dask cluster')
    dask.add_argument(
        '--scheduler',
        metavar='ADDRESS',
        help='use the running cluster at ADDRESS (e.g. tcp://host:8786) instead '
        'of starting a local one',
    )
    dask.add_argument(
        '--workers',
        type=int,
        metavar='N',
        help='worker processes of the local cluster (default: chosen by Dask '
        'from the number of cores)',
    )
    dask.add_argument(
        '--threads',
        type=int,
        metavar='N',
        help='threads per local worker (default: chosen by Dask)',
    )
    dask.add_argument(
        '--connect-timeout',
        type=float,
        default=30.0,
        metavar='SECONDS',
        help='how long to try to reach --scheduler (default: %(default)s)',
    )
    options.add_input_options(batch)
    options.add_finder_options(batch)
    batch.set_defaults(func=run)


def _local_cluster(args):
    import logging

    from distributed import LocalCluster

    return LocalCluster(
        n_workers=args.workers,
        threads_per_worker=args.threads,
        processes=True,
        host='127.0.0.1',
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )


def run(args):
    """Run ``asidl batch``; returns the exit status."""
    from ..io import catalog_format, write_catalog, written_by_asidl
    from ..pipeline import (
        check_finder_options,
        existing_outputs,
        expand_paths,
        plan_tasks,
        run_tasks,
    )

    try:
        paths = expand_paths(args.images)
        finder_options = check_finder_options(options.finder_kwargs(args))
        options.check_mask_file(args.mask)
        tasks = plan_tasks(paths, args.out_dir, args.format, None)
        if args.summary:
            catalog_format(args.summary)
            if (
                os.path.exists(args.summary)
                and not args.overwrite
                and not written_by_asidl(args.summary)
            ):
                raise FileExistsError(
                    f'refusing to replace {args.summary} with the summary: it '
                    'is not a file asidl wrote; choose another name or pass '
                    '--overwrite'
                )
        existing_outputs(
            tasks,
            overwrite=args.overwrite,
            finder_options=finder_options,
            **options.job_options(args),
        )
        os.makedirs(args.out_dir, exist_ok=True)
    except (TypeError, ValueError, OSError) as exc:
        return fail('batch', exc)
    progress = sys.stderr.isatty() if args.progress is None else args.progress

    from distributed import Client

    with SignalsInterrupt():
        try:
            if args.scheduler:
                cluster = None
                client = Client(args.scheduler, timeout=args.connect_timeout)
            else:
                cluster = _local_cluster(args)
                client = Client(cluster)
            try:
                result = run_tasks(
                    tasks,
                    client=client,
                    finder_options=finder_options,
                    overwrite=args.overwrite,
                    progress=progress,
                    **options.job_options(args),
                )
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        except Interrupted as exc:
            done = sum(t.catalog.exists() for t in tasks)
            return interrupted('batch', exc, f' ({done} of {len(tasks)} catalogs exist)')
        except (TypeError, ValueError, OSError) as exc:  # bad model, unreachable scheduler ...
            return fail('batch', exc)

    for task, row in zip(tasks, result.summary):
        if row['status'] == 'failed':
            print(
                f'asidl batch: failed: {task.label}: {options.short_reason(task, row["error"])}',
                file=sys.stderr,
            )
    if args.summary:
        write_catalog(result.summary, args.summary, overwrite=True)
    counts = result.counts()
    n_stars = int(result.summary['n_sources'].filled(0).sum())
    minutes = result.wall_seconds / 60
    rate = f', {counts["done"] / minutes:.1f} images/min' if counts['done'] else ''
    if not args.quiet or not result.ok:
        print(
            f'asidl batch: {len(tasks)} images: {counts["done"]} done ({n_stars} stars), '
            f'{counts["skipped"]} skipped, {counts["failed"]} failed, in '
            f'{result.wall_seconds:.1f} s{rate}',
            flush=True,
        )
    return 0 if result.ok else 1
