# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Dice versus the LoG threshold tau (paper Table 3) and sigma, for a model,
on simulated MeerLICHT-like validation frames (seeds distinct from those
of ``quality_vs_density.py``).

The network runs once per frame (``UNetLoGFinder.network_maps``); the
finder's catalog is then built from its maps for each (sigma, tau)
(``UNetLoGFinder.catalog_from_maps``), exactly as the finder with those
parameters would give it.  Writes ``benchmarks/results/tune_threshold.ecsv``.
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from astropy.table import QTable  # noqa: E402
from common import meerlicht_frame, save_result, score  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402

DENSITIES = (1, 10, 30, 75, 150, 250)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--frames', type=int, default=2, help='frames per density')
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument(
        '--thresholds', type=float, nargs='+', default=[0.1, 0.15, 0.2, 0.25, 0.3, 0.4]
    )
    parser.add_argument('--sigmas', type=float, nargs='+', default=[1.2, 1.43, 1.7])
    parser.add_argument('--densities', type=float, nargs='+', default=DENSITIES)
    parser.add_argument('--output', default='benchmarks/results/tune_threshold.ecsv')
    args = parser.parse_args(argv)

    densities = tuple(args.densities)
    finders = {
        sigma: UNetLoGFinder(model=args.model, precision='f32', sigma=sigma)
        for sigma in args.sigmas
    }
    # Its sigma and threshold measure the FWHM.
    maker = UNetLoGFinder(model=args.model, precision='f32')
    maps = []
    for density in densities:
        for i in range(args.frames):
            frame = meerlicht_frame(density, seed=50_000 + 100 * int(density) + i)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                maps.append((density, maker.network_maps(frame.data), frame.targets))
    rows = []
    for sigma, finder in finders.items():
        for tau in args.thresholds:
            per_density = {}
            for density, frame_maps, truth in maps:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    tbl = finder.catalog_from_maps(frame_maps, threshold=tau)
                s = score(tbl, truth)
                acc = per_density.setdefault(density, np.zeros(3))
                acc += (s['tp'], s['fp'], s['fn'])
            dice = {d: 2 * a[0] / max(2 * a[0] + a[1] + a[2], 1) for d, a in per_density.items()}
            rows.append((sigma, tau, *[dice[d] for d in densities], np.mean(list(dice.values()))))
            print(
                f'sigma {sigma:.2f} tau {tau:.2f}: '
                + ' '.join(f'{dice[d]:.3f}' for d in densities)
                + f'  mean {rows[-1][-1]:.3f}',
                flush=True,
            )
    table = QTable(
        rows=rows, names=('sigma', 'tau', *[f'Dice_{d:g}' for d in densities], 'Dice_mean')
    )
    table.meta['model'] = args.model
    table.meta['frames_per_density'] = args.frames
    save_result(table, args.output)


if __name__ == '__main__':
    main()
