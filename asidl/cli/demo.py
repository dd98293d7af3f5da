# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
``asidl demo``: find the stars of the bundled example frame, print the
catalog and how DAOStarFinder (as `asidl.evaluation.classical_finders`
sets it up) did on the same frame, and write an overlay PNG.
"""

import time

from ..constants import DEFAULT_MODEL

__all__ = ['add_parser', 'run']


def add_parser(sub):
    """Add the ``demo`` command to the subparsers ``sub``."""
    demo = sub.add_parser(
        'demo',
        help='run the finder on the bundled example frame',
        description='Find the stars of the bundled simulated raw frame, '
        'print the catalog, compare with DAOStarFinder against '
        'the truth, and write an overlay PNG.',
    )
    demo.add_argument(
        '--model',
        default=DEFAULT_MODEL,
        help='registered model name or model file (default: %(default)s)',
    )
    demo.add_argument(
        '-o',
        '--output',
        default='asidl_demo.png',
        help='overlay PNG to write; empty string for none (default: %(default)s)',
    )
    demo.set_defaults(func=run)


def run(args):
    """Run ``asidl demo``; returns the exit status."""
    import numpy as np
    from astropy.table import QTable

    from ..datasets import load_example_frame
    from ..evaluation import classical_finders, score_detections
    from ..finder import UNetLoGFinder

    data, header, truth = load_example_frame()
    print(
        f'Example frame: {data.shape[1]}x{data.shape[0]} raw {data.dtype} pixels, '
        f'{header["PIXSCALE"]}"/pixel, seeing {header["SEEING"]:.1f}", '
        f'{len(truth)} true stars with S/N >= 3.\n'
    )

    finder = UNetLoGFinder(model=args.model)
    t0 = time.perf_counter()
    finder(data)  # the first call builds the network's compute graph
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
    comparison = QTable(
        rows=rows, names=('finder', 'N', 'TP', 'FP', 'FN', 'Dice', 'RMS_px', 'seconds')
    )
    for col, fmt in (('Dice', '.3f'), ('RMS_px', '.3f'), ('seconds', '.2f')):
        comparison[col].info.format = fmt
    print('Against the truth catalog (match radius 2 px):')
    comparison.pprint()
    print(
        f"(UNetLoGFinder's first call, which also builds the network graph, took {t_first:.2f} s.)"
    )

    if args.output:
        _overlay(data, ours, dao, truth, args.output)
        print(
            f'\nWrote {args.output}: UNetLoGFinder (red circles), DAOStarFinder (blue '
            'squares) and true stars (green dots).'
        )
    return 0


def _overlay(data, ours, dao, truth, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..visualization import plot_overlay

    fig = Figure(figsize=(9, 9))
    FigureCanvasAgg(fig)
    plot_overlay(
        data,
        {'UNetLoGFinder': ours, 'DAOStarFinder': dao},
        truth=truth,
        ax=fig.add_subplot(),
        title='asidl demo: the bundled example frame',
    )
    fig.savefig(path, dpi=110, bbox_inches='tight')
