# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Quality versus source density: UNetLoGFinder against DAOStarFinder and
SEP on simulated MeerLICHT-like raw frames with artifacts.

For every density, several 512x512 frames are simulated (so that sparse
densities have enough stars); DAOStarFinder (with the true FWHM) and SEP
run on background-subtracted frames and are scored at their best
threshold, chosen on the same frames (an optimistic baseline).  For
reference, an ideal matched filter that knows each frame's true PSF,
background and noise is scored the same way (``--no-matched-filter`` to
skip it), once on the frames as they are and once on the same frames
simulated without artifacts.  Writes
``benchmarks/results/quality_vs_density.ecsv``.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

from astropy.table import QTable  # noqa: E402
from common import (  # noqa: E402
    classical_catalogs,
    matched_filter_catalogs,
    meerlicht_frame,
    save_result,
    score,
)

from asidl import UNetLoGFinder  # noqa: E402
from asidl.evaluation import combine_scores  # noqa: E402

DENSITIES = (1, 10, 30, 75, 150, 250)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--frames', type=int, default=4, help='frames per density')
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument(
        '--no-matched-filter', action='store_true', help='skip the ideal matched-filter reference'
    )
    parser.add_argument('--output', default='benchmarks/results/quality_vs_density.ecsv')
    args = parser.parse_args(argv)

    finder = UNetLoGFinder(model=args.model, precision='f32')
    rows = []
    for density in DENSITIES:
        ours, classical = [], {}
        for i in range(args.frames):
            frame = meerlicht_frame(density, seed=1000 * density + i)
            truth = frame.targets
            ours.append(score(finder(frame.data), truth))
            for name, by_k in classical_catalogs(frame.data, frame.parameters.fwhm).items():
                for k, tbl in by_k.items():
                    classical.setdefault(name, {}).setdefault(k, []).append(score(tbl, truth))
            if not args.no_matched_filter:
                clean = meerlicht_frame(density, seed=1000 * density + i, artifacts=False)
                for label, f in (
                    ('matched filter, ideal', frame),
                    ('matched filter, ideal, no artifacts', clean),
                ):
                    for k, tbl in matched_filter_catalogs(f).items():
                        classical.setdefault(label, {}).setdefault(k, []).append(
                            score(tbl, f.targets)
                        )
        area = args.frames * 512 * 512 * (frame.parameters.pixel_scale / 60) ** 2
        results = [('UNetLoGFinder', ours)]
        for name, by_k in classical.items():
            best_k = max(by_k, key=lambda k: combine_scores(by_k[k])['dice'])
            results.append((f'{name} ({best_k} sigma)', by_k[best_k]))
        for name, scores in results:
            c = combine_scores(scores)
            tp, fp, fn, dice, rms = c['tp'], c['fp'], c['fn'], c['dice'], c['rms']
            rows.append((density, name, tp, fp, fn, dice, rms, (tp + fn) / area))
            print(
                f'{density:4d}/arcmin2  {name:26s} TP {tp:5d} FP {fp:5d} FN {fn:5d} '
                f'Dice {dice:.3f}  RMS {rms:.3f} px',
                flush=True,
            )
    table = QTable(
        rows=rows,
        names=('density', 'finder', 'TP', 'FP', 'FN', 'Dice', 'RMS_px', 'true_per_arcmin2'),
    )
    table.meta['model'] = args.model
    table.meta['frames_per_density'] = args.frames
    table.meta['frame'] = '512x512 MeerLICHT-like raw frames with artifacts (benchmarks/common.py)'
    save_result(table, args.output)


if __name__ == '__main__':
    main()
