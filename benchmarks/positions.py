# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Position accuracy: UNetLoGFinder against DAOStarFinder on the stars both
find, and by signal-to-noise ratio, on simulated MeerLICHT-like raw frames.

Writes ``benchmarks/results/positions.ecsv``.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from astropy.table import QTable, vstack  # noqa: E402
from common import classical_catalogs, meerlicht_frame, save_result  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.evaluation import match_sources  # noqa: E402


def _errors(tbl, truth):
    """Position error of each truth star (NaN where not found)."""
    err = np.full(len(truth), np.nan)
    if tbl is None:
        return err
    di, ti = match_sources(tbl['x_centroid'], tbl['y_centroid'], truth['x'], truth['y'])
    err[ti] = np.hypot(
        np.asarray(tbl['x_centroid'])[di] - truth['x'][ti],
        np.asarray(tbl['y_centroid'])[di] - truth['y'][ti],
    )
    return err


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--frames', type=int, default=4)
    parser.add_argument('--densities', type=float, nargs='+', default=[10, 30])
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument('--output', default='benchmarks/results/positions.ecsv')
    args = parser.parse_args(argv)

    finder = UNetLoGFinder(model=args.model, precision='f32')
    ours, dao, truths = [], [], []
    for density in args.densities:
        for i in range(args.frames):
            frame = meerlicht_frame(density, seed=7000 + 100 * int(density) + i)
            truth = frame.targets
            ours.append(_errors(finder(frame.data), truth))
            dao.append(
                _errors(
                    classical_catalogs(frame.data, frame.parameters.fwhm, {'DAOStarFinder': (5,)})[
                        'DAOStarFinder'
                    ][5],
                    truth,
                )
            )
            truths.append(truth)
    ours, dao = np.concatenate(ours), np.concatenate(dao)
    snr = np.asarray(vstack(truths)['snr'])

    def rms(e):
        return float(np.sqrt(np.nanmean(e**2))) if np.isfinite(e).any() else np.nan

    both = np.isfinite(ours) & np.isfinite(dao)
    rows = [('found by both', int(both.sum()), rms(ours[both]), rms(dao[both]))]
    for low, high in ((3, 10), (10, 50), (50, 200), (200, np.inf)):
        sel = (snr >= low) & (snr < high)
        rows.append((f'S/N {low}-{high}', int(sel.sum()), rms(ours[sel]), rms(dao[sel])))
    table = QTable(
        rows=rows, names=('stars', 'n_true', 'rms_UNetLoGFinder_px', 'rms_DAOStarFinder_px')
    )
    for col in table.colnames[2:]:
        table[col].info.format = '.3f'
    table.meta['model'] = args.model
    table.meta['note'] = (
        'DAOStarFinder at 5 sigma with the true FWHM, on background-subtracted frames'
    )
    table.pprint()
    save_result(table, args.output)


if __name__ == '__main__':
    main()
