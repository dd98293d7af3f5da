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
"""

import argparse
import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

__all__ = ['main']


def _quiet_tensorflow():
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


def _run_demo(args):
    import numpy as np
    from astropy.table import QTable

    from .datasets import load_example_frame
    from .evaluation import classical_finders, score_detections
    from .finder import UNetLoGFinder

    data, header, truth = load_example_frame()
    print(f'Example frame: {data.shape[1]}x{data.shape[0]} raw {data.dtype} pixels, '
          f'{header["PIXSCALE"]}"/pixel, seeing {header["SEEING"]:.1f}", '
          f'{len(truth)} true stars with S/N >= 3.\n')

    finder = UNetLoGFinder(model=args.model)
    t0 = time.perf_counter()
    finder(data)     # the first call builds the network's compute graph
    t1 = time.perf_counter()
    ours = finder(data)
    t_ours = time.perf_counter() - t1
    t_first = t1 - t0

    # DAOStarFinder as asidl's baselines set it up: on the frame minus its
    # Background2D background, at 5 sigma, with the known FWHM.
    t0 = time.perf_counter()
    dao = classical_finders(data, fwhm=header['FWHMPIX'])['DAOStarFinder'](data)
    t_dao = time.perf_counter() - t0

    print(f'UNetLoGFinder found {0 if ours is None else len(ours)} stars:')
    if ours is not None:
        shown = ours['id', 'x_centroid', 'y_centroid', 'confidence', 'peak', 'flux', 'mag']
        for col in ('x_centroid', 'y_centroid', 'confidence', 'peak', 'flux', 'mag'):
            shown[col].info.format = '.3f' if col != 'flux' else '.1f'
        shown.pprint(max_lines=15)
    print()

    rows = []
    for name, tbl, seconds in (('UNetLoGFinder', ours, t_ours), ('DAOStarFinder', dao, t_dao)):
        x = np.zeros(0) if tbl is None else np.asarray(tbl['x_centroid'])
        y = np.zeros(0) if tbl is None else np.asarray(tbl['y_centroid'])
        s = score_detections(x, y, truth['x'], truth['y'], radius=2.0)
        rows.append((name, len(x), s['tp'], s['fp'], s['fn'], s['dice'], s['rms'], seconds))
    comparison = QTable(rows=rows, names=('finder', 'N', 'TP', 'FP', 'FN', 'Dice', 'RMS_px',
                                          'seconds'))
    for col, fmt in (('Dice', '.3f'), ('RMS_px', '.3f'), ('seconds', '.2f')):
        comparison[col].info.format = fmt
    print('Against the truth catalog (match radius 2 px):')
    comparison.pprint()
    print(f'(UNetLoGFinder\'s first call, which also builds the network graph, took '
          f'{t_first:.2f} s.)')

    if args.output:
        _overlay(data, ours, dao, truth, args.output)
        print(f'\nWrote {args.output}: UNetLoGFinder (red circles), DAOStarFinder (blue '
              'squares) and true stars (green dots).')
    return 0


def _overlay(data, ours, dao, truth, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .visualization import plot_overlay

    fig = Figure(figsize=(9, 9))
    FigureCanvasAgg(fig)
    plot_overlay(data, {'UNetLoGFinder': ours, 'DAOStarFinder': dao}, truth=truth,
                 ax=fig.add_subplot(), title='asidl demo: the bundled example frame')
    fig.savefig(path, dpi=110, bbox_inches='tight')


# --------------------------------------------------------------------------
# asidl find / asidl batch


class _Interrupted(BaseException):
    """SIGTERM or SIGINT arrived; unwinds like KeyboardInterrupt so clusters close."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum, frame):
    raise _Interrupted(signum)


class _SignalsInterrupt:
    """Turn SIGINT and SIGTERM into `_Interrupted` while the block runs (main thread only)."""

    def __enter__(self):
        self._saved = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._saved[signum] = signal.signal(signum, _raise_interrupted)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        return False


def _hdu(text):
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


def _mask_hdu(text):
    lowered = text.strip().lower()
    if lowered == 'auto':
        return 'auto'
    if lowered == 'none':
        return None
    return _hdu(text)


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f'must be a positive number, got {text}')
    return value


def _finder_defaults():
    """
    The defaults of the finder options, from `asidl.constants`: describing
    them must not import the finder (and photutils, astropy.wcs, OpenVINO),
    so that ``asidl --help`` is quick.  A test checks that they are
    `~asidl.UNetLoGFinder`'s.
    """
    from . import constants

    return {'model': constants.DEFAULT_MODEL, 'fwhm': None, 'threshold': None,
            'sigma': constants.LOG_SIGMA, 'overlap': constants.LOG_OVERLAP,
            'n_brightest': None, 'peak_max': None, 'exclude_border': False,
            'normalization': None, 'tile_size': constants.TILE_SIZE,
            'tile_margin': constants.TILE_MARGIN, 'batch_size': None,
            'precision': constants.DEFAULT_PRECISION}


def _add_input_options(parser):
    group = parser.add_argument_group('reading the images')
    group.add_argument('--hdu', type=_hdu, metavar='HDU',
                       help='image HDU: index, EXTNAME or EXTNAME,EXTVER (default: the first '
                            'HDU holding a 2D image)')
    group.add_argument('--mask', metavar='FILE',
                       help='FITS file whose first image is a bad-pixel mask (non-zero = bad) '
                            'for every image')
    group.add_argument('--mask-hdu', type=_mask_hdu, default='auto', metavar='HDU',
                       help="extension of each image file holding its bad-pixel mask; 'auto' "
                            "uses a MASK, DQ or BPM extension when there is one, 'none' ignores "
                            'them (default: auto)')


def _add_finder_options(parser):
    from .constants import NORMALIZATIONS, PRECISIONS

    defaults = _finder_defaults()
    group = parser.add_argument_group('finder options (those of asidl.UNetLoGFinder)')
    group.add_argument('--model', default=defaults['model'], metavar='MODEL',
                       help='registered model name or .keras/.h5 model file '
                            '(default: %(default)s)')
    group.add_argument('--fwhm', type=float, default=defaults['fwhm'], metavar='PIX',
                       help="FWHM of the stars in pixels, as DAOStarFinder's; images whose "
                            "stars are broader than the model's range are block-summed "
                            '(default: measured on each image)')
    group.add_argument('--threshold', type=float, default=defaults['threshold'], metavar='TAU',
                       help='lowest LoG response of a detection; lower finds fainter stars and '
                            'more false positives (default: the value tuned for the model in '
                            'the registry, else 0.2)')
    group.add_argument('--sigma', type=float, default=defaults['sigma'], metavar='PIX',
                       help='standard deviation of the LoG kernel in pixels '
                            '(default: %(default)s)')
    group.add_argument('--overlap', type=float, default=defaults['overlap'], metavar='FRACTION',
                       help='of two blobs overlapping more than this, keep the stronger '
                            '(default: %(default)s)')
    group.add_argument('--n-brightest', type=int, metavar='N',
                       help='keep only the N sources with the largest flux')
    group.add_argument('--peak-max', type=float, metavar='VALUE',
                       help='reject sources whose peak exceeds VALUE, in the unit of the image '
                            '(e.g. saturated stars)')
    group.add_argument('--exclude-border', action='store_true',
                       help='drop sources within 2 pixels of the image edge')
    group.add_argument('--normalization', choices=NORMALIZATIONS,
                       help="scaling of raw data for the network (default: the model's own)")
    group.add_argument('--tile-size', type=int, default=defaults['tile_size'], metavar='PIX',
                       help='side of the tiles given to the network (default: %(default)s)')
    group.add_argument('--tile-margin', type=int, default=defaults['tile_margin'], metavar='PIX',
                       help='context around each tile, predicted and discarded '
                            '(default: %(default)s)')
    group.add_argument('--batch-size', type=int, default=defaults['batch_size'], metavar='N',
                       help='tiles per network call; lower it to save memory (default: '
                            + ("the finder's own choice" if defaults['batch_size'] is None
                               else '%(default)s') + ')')
    group.add_argument('--precision', choices=PRECISIONS, default=defaults['precision'],
                       help='arithmetic of the network for the bundled models, which run with '
                            'OpenVINO; bf16 is faster on CPUs with bfloat16 instructions '
                            '(default: %(default)s)')


def _add_output_options(group):
    group.add_argument('-f', '--format', choices=('ecsv', 'fits', 'csv'), default='ecsv',
                       help='catalog format: ECSV keeps units, metadata and sky_centroid; FITS '
                            'too; CSV has ra, dec columns in degrees and no units '
                            '(default: %(default)s)')
    group.add_argument('--regions', action='store_true',
                       help='also write a DS9 region file, the catalog name with .reg')
    group.add_argument('--region-coords', choices=('image', 'sky'), default='image',
                       help='coordinates of the region circles; sky needs a WCS '
                            '(default: %(default)s)')
    group.add_argument('--region-radius', type=_positive_float, default=4.0, metavar='PIX',
                       help='radius of the region circles in pixels (default: %(default)s)')
    group.add_argument('--overlay', action='store_true',
                       help='also write a PNG of the image with its sources, the catalog name '
                            'with .png')
    group.add_argument('-q', '--quiet', action='store_true',
                       help='print only errors')


def _finder_kwargs(args):
    names = ('model', 'fwhm', 'sigma', 'threshold', 'overlap', 'n_brightest', 'peak_max',
             'exclude_border', 'normalization', 'tile_size', 'tile_margin', 'batch_size',
             'precision')
    return {name: getattr(args, name) for name in names}


def _check_mask_file(path):
    """The --mask file must exist, be readable and leave some pixel unmasked."""
    if path is None:
        return
    import numpy as np

    from .io import read_image

    mask = read_image(path, mask_hdu=None)
    if np.all(np.asarray(mask.data) != 0):
        raise ValueError(f'--mask {path} masks every pixel (its values are all non-zero); a '
                         'bad-pixel mask is zero for good pixels: is it a science frame?')


def _job_options(args):
    """Options of `asidl.pipeline.run_tasks` shared by find and batch."""
    return {
        'read_options': {'hdu': args.hdu,
                         'mask': os.path.abspath(args.mask) if args.mask else None,
                         'mask_hdu': args.mask_hdu},
        'sidecars': {'regions': args.region_coords if args.regions else None,
                     'region_radius': args.region_radius, 'overlay': args.overlay},
    }


def _short_reason(task, error):
    """A failure reason without the file name that the report line already shows."""
    if isinstance(task.source, str):
        error = error.replace(f'{task.source}: ', '', 1)
    return error


def _fail(command, message):
    print(f'asidl {command}: error: {message}', file=sys.stderr)
    return 2


def _interrupted(command, exc, result_note=''):
    name = signal.Signals(exc.signum).name
    print(f'\nasidl {command}: interrupted by {name}; catalogs already written are complete, '
          f'run the same command again to resume{result_note}', file=sys.stderr)
    return 128 + exc.signum


def _run_find(args):
    from .io import catalog_format
    from .pipeline import (
        Task,
        check_finder_options,
        check_outputs,
        existing_outputs,
        expand_paths,
        plan_tasks,
        run_tasks,
    )

    try:
        paths = expand_paths(args.images)
        finder_options = check_finder_options(_finder_kwargs(args))
        _check_mask_file(args.mask)
        if args.output is not None:
            if len(paths) != 1:
                return _fail('find', f'--output names one catalog, but {len(paths)} images were '
                                     'given; use --out-dir')
            catalog_format(args.output)
            tasks = [Task(source=os.path.abspath(paths[0]), label=paths[0],
                           catalog=Path(args.output))]
            check_outputs(tasks)
        else:
            tasks = plan_tasks(paths, args.out_dir, args.format, None)
        existing_outputs(tasks, overwrite=args.overwrite, finder_options=finder_options,
                          **_job_options(args))
        if args.output is None:
            os.makedirs(args.out_dir, exist_ok=True)
    except (TypeError, ValueError, OSError) as exc:
        return _fail('find', exc)

    def report(task, status, n_sources, seconds, error):
        if status == 'failed':
            print(f'asidl find: {task.label}: {_short_reason(task, error)}', file=sys.stderr)
        elif status == 'skipped':
            if not args.quiet:
                print(f'{task.label}: {task.catalog} is up to date, skipped (--overwrite redoes '
                      'it)', flush=True)
        elif not args.quiet:
            extras = ''.join(f' + {task.catalog.with_suffix(s).name}'
                             for s, on in (('.reg', args.regions), ('.png', args.overlay)) if on)
            print(f'{task.label}: {n_sources} star{"s" if n_sources != 1 else ""} -> '
                  f'{task.catalog}{extras} ({seconds:.1f} s)', flush=True)

    with _SignalsInterrupt():
        try:
            result = run_tasks(tasks, client=None, finder_options=finder_options,
                          overwrite=args.overwrite, progress=False, on_done=report,
                          **_job_options(args))
        except _Interrupted as exc:
            return _interrupted('find', exc)
        except (TypeError, ValueError, OSError) as exc:   # e.g. a model that cannot be loaded
            return _fail('find', exc)
    return 0 if result.ok else 1


def _local_cluster(args):
    import logging

    from distributed import LocalCluster

    return LocalCluster(n_workers=args.workers, threads_per_worker=args.threads, processes=True,
                        host='127.0.0.1', dashboard_address=None, silence_logs=logging.ERROR)


def _run_batch(args):
    from .io import catalog_format, write_catalog, written_by_asidl
    from .pipeline import (
        check_finder_options,
        existing_outputs,
        expand_paths,
        plan_tasks,
        run_tasks,
    )

    try:
        paths = expand_paths(args.images)
        finder_options = check_finder_options(_finder_kwargs(args))
        _check_mask_file(args.mask)
        tasks = plan_tasks(paths, args.out_dir, args.format, None)
        if args.summary:
            catalog_format(args.summary)
            if os.path.exists(args.summary) and not args.overwrite \
                    and not written_by_asidl(args.summary):
                raise FileExistsError(f'refusing to replace {args.summary} with the summary: it '
                                      'is not a file asidl wrote; choose another name or pass '
                                      '--overwrite')
        existing_outputs(tasks, overwrite=args.overwrite, finder_options=finder_options,
                          **_job_options(args))
        os.makedirs(args.out_dir, exist_ok=True)
    except (TypeError, ValueError, OSError) as exc:
        return _fail('batch', exc)
    progress = sys.stderr.isatty() if args.progress is None else args.progress

    from distributed import Client

    with _SignalsInterrupt():
        try:
            if args.scheduler:
                cluster = None
                client = Client(args.scheduler, timeout=args.connect_timeout)
            else:
                cluster = _local_cluster(args)
                client = Client(cluster)
            try:
                result = run_tasks(tasks, client=client, finder_options=finder_options,
                              overwrite=args.overwrite, progress=progress, **_job_options(args))
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        except _Interrupted as exc:
            done = sum(t.catalog.exists() for t in tasks)
            return _interrupted('batch', exc, f' ({done} of {len(tasks)} catalogs exist)')
        except (TypeError, ValueError, OSError) as exc:   # bad model, unreachable scheduler ...
            return _fail('batch', exc)

    for task, row in zip(tasks, result.summary):
        if row['status'] == 'failed':
            print(f'asidl batch: failed: {task.label}: {_short_reason(task, row["error"])}',
                  file=sys.stderr)
    if args.summary:
        write_catalog(result.summary, args.summary, overwrite=True)
    counts = result.counts()
    n_stars = int(result.summary['n_sources'].filled(0).sum())
    minutes = result.wall_seconds / 60
    rate = f', {counts["done"] / minutes:.1f} images/min' if counts['done'] else ''
    if not args.quiet or not result.ok:
        print(f'asidl batch: {len(tasks)} images: {counts["done"]} done ({n_stars} stars), '
              f'{counts["skipped"]} skipped, {counts["failed"]} failed, in '
              f'{result.wall_seconds:.1f} s{rate}', flush=True)
    return 0 if result.ok else 1


_FIND_EPILOG = '''\
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
'''

_BATCH_EPILOG = '''\
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
'''


def _add_find_parser(sub):
    find = sub.add_parser(
        'find', help='find the stars of FITS images and write catalogs',
        description=textwrap.fill(
            'Find the stars of FITS images with UNetLoGFinder, in this process, and write one '
            'catalog per image. The image is read with its WCS, BUNIT unit and bad-pixel mask; '
            'a summary line per image is printed.'),
        epilog=_FIND_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    find.add_argument('images', nargs='+', metavar='IMAGE',
                      help='FITS image files (or quoted glob patterns)')
    out = find.add_argument_group('output')
    out.add_argument('-o', '--output', metavar='CATALOG',
                     help='catalog file for a single IMAGE; its suffix (.ecsv, .fits, .fit, '
                          '.csv) sets the format')
    out.add_argument('-d', '--out-dir', default='.', metavar='DIR',
                     help='directory for catalogs named after the images, frame.fits -> '
                          'frame.ecsv (default: the current directory)')
    out.add_argument('--overwrite', action='store_true',
                     help='redo images whose catalog is up to date, and replace output files '
                          'that asidl did not write (default: skip the first, refuse the '
                          'second)')
    _add_output_options(out)
    _add_input_options(find)
    _add_finder_options(find)
    find.set_defaults(func=_run_find)


def _add_batch_parser(sub):
    batch = sub.add_parser(
        'batch', help='find the stars of many FITS images on a Dask cluster',
        description=textwrap.fill(
            'Find the stars of many FITS images on Dask distributed: a local cluster by default, '
            'or an existing one. Writes one catalog per image to DIR, resumes interrupted runs '
            'and reports the images that failed.'),
        epilog=_BATCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument('images', nargs='+', metavar='IMAGE',
                       help='FITS image files or quoted glob patterns')
    out = batch.add_argument_group('output')
    out.add_argument('-d', '--out-dir', required=True, metavar='DIR',
                     help='directory for the catalogs, frame.fits -> DIR/frame.ecsv '
                          '(created if needed)')
    out.add_argument('--overwrite', action='store_true',
                     help='redo images whose catalog is up to date, and replace output files '
                          'that asidl did not write (default: skip the first, refuse the '
                          'second)')
    out.add_argument('--summary', metavar='FILE',
                     help='also write the per-image summary (status, sources, seconds, error) '
                          'as a table; suffix .ecsv, .fits or .csv')
    _add_output_options(out)
    out.add_argument('--progress', action=argparse.BooleanOptionalAction, default=None,
                     help='show a progress bar on stderr (default: when stderr is a terminal)')
    dask = batch.add_argument_group('Dask cluster')
    dask.add_argument('--scheduler', metavar='ADDRESS',
                      help='use the running cluster at ADDRESS (e.g. tcp://host:8786) instead '
                           'of starting a local one')
    dask.add_argument('--workers', type=int, metavar='N',
                      help='worker processes of the local cluster (default: chosen by Dask '
                           'from the number of cores)')
    dask.add_argument('--threads', type=int, metavar='N',
                      help='threads per local worker (default: chosen by Dask)')
    dask.add_argument('--connect-timeout', type=float, default=30.0, metavar='SECONDS',
                      help='how long to try to reach --scheduler (default: %(default)s)')
    _add_input_options(batch)
    _add_finder_options(batch)
    batch.set_defaults(func=_run_batch)


def _run_train(args):
    from .training.export import export_model
    from .training.train import train

    history = train(args.checkpoint_dir, epochs=args.epochs,
                    steps_per_epoch=args.steps_per_epoch, batch_size=args.batch_size,
                    frame_shape=(args.frame_size, args.frame_size),
                    base_filters=args.base_filters, depth=args.depth,
                    input_stride=args.input_stride, learning_rate=args.learning_rate,
                    seed=args.seed, n_validation=args.n_validation,
                    initial_model=args.initial_model, verbose=1 if sys.stdout.isatty() else 2)
    if args.export:
        path = export_model(os.path.join(args.checkpoint_dir, 'best.keras'), args.export)
        print(f'exported the best checkpoint to {path}')
    return 0 if history else 1


def _parser():
    parser = argparse.ArgumentParser(
        prog='asidl',
        description='Find stars in optical images with a U-Net and a Laplacian of Gaussian '
                    '(AutoSourceID-Light).')
    from . import __version__

    parser.add_argument('--version', action='version', version=f'asidl {__version__}')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True

    _add_find_parser(sub)
    _add_batch_parser(sub)
    demo = sub.add_parser('demo', help='run the finder on the bundled example frame',
                          description='Find the stars of the bundled simulated raw frame, '
                                      'print the catalog, compare with DAOStarFinder against '
                                      'the truth, and write an overlay PNG.')
    demo.add_argument('--model', default='asidl-default',
                      help='registered model name or model file (default: %(default)s)')
    demo.add_argument('-o', '--output', default='asidl_demo.png',
                      help='overlay PNG to write; empty string for none (default: %(default)s)')
    demo.set_defaults(func=_run_demo)

    tr = sub.add_parser('train', help='train a model on simulated frames',
                        description='Train a U-Net on streamed simulated frames. Training '
                                    'resumes from CHECKPOINT_DIR if it holds a checkpoint.')
    tr.add_argument('checkpoint_dir', help='directory for checkpoints and state.json')
    tr.add_argument('--epochs', type=int, default=24, help='total epochs (default: %(default)s)')
    tr.add_argument('--steps-per-epoch', type=int, default=250,
                    help='batches per epoch (default: %(default)s)')
    tr.add_argument('--batch-size', type=int, default=16,
                    help='frames per batch (default: %(default)s)')
    tr.add_argument('--frame-size', type=int, default=128,
                    help='side of the simulated frames, a multiple of 32 (default: %(default)s)')
    tr.add_argument('--base-filters', type=int, default=16,
                    help='channels of the first U-Net level (default: %(default)s)')
    tr.add_argument('--depth', type=int, default=3, help='U-Net poolings (default: %(default)s)')
    tr.add_argument('--input-stride', type=int, default=4, choices=(1, 2, 4),
                    help='pixels per side folded into channels before the U-Net; 4 is about '
                         '3x faster than 1 on a CPU (default: %(default)s)')
    tr.add_argument('--learning-rate', type=float, default=2e-3,
                    help='initial Adam learning rate (default: %(default)s)')
    tr.add_argument('--seed', type=int, default=0, help='random seed (default: %(default)s)')
    tr.add_argument('--n-validation', type=int, default=24,
                    help='validation frames scored each epoch (default: %(default)s)')
    tr.add_argument('--initial-model', metavar='MODEL',
                    help='start from the weights of this registered model or model file '
                         '(fine-tuning) instead of a random initialization; its architecture '
                         'overrides --base-filters, --depth and --input-stride')
    tr.add_argument('--export', metavar='MODEL.keras',
                    help='after training, write the best checkpoint as a model file for '
                         'UNetLoGFinder(model=...)')
    tr.set_defaults(func=_run_train)
    return parser


def main(argv=None):
    """Entry point of the ``asidl`` command."""
    _quiet_tensorflow()
    args = _parser().parse_args(argv)
    return args.func(args)


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
