# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Dice versus the LoG threshold tau (paper Table 3) and sigma, for a model,
on simulated MeerLICHT-like validation frames (seeds distinct from those
of ``quality_vs_density.py``).

The network runs once per frame; only the LoG step is repeated for each
(sigma, tau).  Writes ``benchmarks/results/tune_threshold.ecsv``.
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
from common import meerlicht_frame, save_result  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.evaluation import score_detections  # noqa: E402
from asidl.localize import find_peaks, refine_positions  # noqa: E402
from asidl.normalize import background_map  # noqa: E402
from asidl.prepare import prepare_image  # noqa: E402

DENSITIES = (1, 10, 30, 75, 150, 250)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--frames', type=int, default=2, help='frames per density')
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument('--thresholds', type=float, nargs='+',
                        default=[0.1, 0.15, 0.2, 0.25, 0.3, 0.4])
    parser.add_argument('--sigmas', type=float, nargs='+', default=[1.2, 1.43, 1.7])
    parser.add_argument('--output', default='benchmarks/results/tune_threshold.ecsv')
    args = parser.parse_args(argv)

    finder = UNetLoGFinder(model=args.model)
    maps = []
    for density in DENSITIES:
        for i in range(args.frames):
            frame = meerlicht_frame(density, seed=50_000 + 100 * density + i)
            image = prepare_image(frame.data)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                prob, offsets, _ = finder._predict(image, background_map(image.data,
                                                                         image.valid))
            maps.append((density, prob, offsets, frame.targets))
    rows = []
    for sigma in args.sigmas:
        for tau in args.thresholds:
            per_density = {}
            for density, prob, offsets, truth in maps:
                iy, ix, _ = find_peaks(prob, sigma=sigma, threshold=tau)
                y, x = refine_positions(iy, ix, prob, offsets)
                s = score_detections(x, y, truth['x'], truth['y'])
                acc = per_density.setdefault(density, np.zeros(3))
                acc += (s['tp'], s['fp'], s['fn'])
            dice = {d: 2 * a[0] / max(2 * a[0] + a[1] + a[2], 1) for d, a in per_density.items()}
            rows.append((sigma, tau, *[dice[d] for d in DENSITIES], np.mean(list(dice.values()))))
            print(f'sigma {sigma:.2f} tau {tau:.2f}: ' + ' '.join(
                f'{dice[d]:.3f}' for d in DENSITIES) + f'  mean {rows[-1][-1]:.3f}', flush=True)
    table = QTable(rows=rows, names=('sigma', 'tau', *[f'Dice_{d}' for d in DENSITIES],
                                     'Dice_mean'))
    table.meta['model'] = args.model
    table.meta['frames_per_density'] = args.frames
    save_result(table, args.output)


if __name__ == '__main__':
    main()
