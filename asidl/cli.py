# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The ``asidl`` command line.

``asidl demo``
    Find the stars of the bundled example frame, print the catalog and
    how DAOStarFinder did on the same frame, and write an overlay PNG.
``asidl train``
    Train a model on simulated frames, with checkpoints and resume.
"""

import argparse
import os
import sys
import time

__all__ = ['main']


def _quiet_tensorflow():
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


def _run_demo(args):
    import numpy as np
    from astropy.stats import sigma_clipped_stats
    from astropy.table import QTable
    from photutils.detection import DAOStarFinder

    from .datasets import load_example_frame
    from .evaluate import score_detections
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

    # DAOStarFinder as the photutils documentation uses it: subtract the
    # sigma-clipped median, detect at 5 sigma with the known FWHM.
    t0 = time.perf_counter()
    _, median, std = sigma_clipped_stats(data.astype(float), sigma=3.0)
    dao = DAOStarFinder(fwhm=header['FWHMPIX'], threshold=5.0 * std)(data - median)
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
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from astropy.visualization import ImageNormalize, ZScaleInterval

    fig, ax = plt.subplots(figsize=(9, 9))
    norm = ImageNormalize(data, interval=ZScaleInterval())
    ax.imshow(data, origin='lower', cmap='Greys_r', norm=norm)
    ax.plot(truth['x'], truth['y'], '.', color='limegreen', ms=2, label='truth (S/N >= 3)')
    if ours is not None:
        ax.scatter(ours['x_centroid'], ours['y_centroid'], s=60, facecolors='none',
                   edgecolors='red', linewidths=0.8, label='UNetLoGFinder')
    if dao is not None:
        ax.scatter(dao['x_centroid'], dao['y_centroid'], s=90, marker='s', facecolors='none',
                   edgecolors='deepskyblue', linewidths=0.8, label='DAOStarFinder')
    ax.legend(loc='upper right', fontsize=9)
    ax.set_title('asidl demo: the bundled example frame')
    fig.savefig(path, dpi=110, bbox_inches='tight')
    plt.close(fig)


def _run_train(args):
    from .training.export import export_model
    from .training.train import train

    history = train(args.checkpoint_dir, epochs=args.epochs,
                    steps_per_epoch=args.steps_per_epoch, batch_size=args.batch_size,
                    frame_shape=(args.frame_size, args.frame_size),
                    base_filters=args.base_filters, depth=args.depth,
                    input_stride=args.input_stride, learning_rate=args.learning_rate, seed=args.seed,
                    n_validation=args.n_validation, verbose=1 if sys.stdout.isatty() else 2)
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
