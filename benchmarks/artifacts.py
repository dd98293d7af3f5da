# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
False positives from artifacts on sparse frames: simulated MeerLICHT-like
raw frames at 1 star per square arcminute, with and without cosmic rays,
a satellite trail, hot pixels, galaxies and diffraction spikes.

A false positive here is a detection farther than 2 pixels from every star
drawn, including those below the S/N cut, so faint real stars do not count
against a finder.  DAOStarFinder (5 sigma) and SEP (3 sigma) are measured
the same way.  Writes ``benchmarks/results/artifacts.ecsv``.
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
from common import classical_catalogs, save_result  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.datasets import meerlicht_like, simulate_frame  # noqa: E402
from asidl.evaluation import score_detections  # noqa: E402


def _false_positives(tbl, truth):
    if tbl is None:
        return 0
    return score_detections(tbl['x_centroid'], tbl['y_centroid'], truth['x'], truth['y'])['fp']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--frames', type=int, default=4)
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument('--output', default='benchmarks/results/artifacts.ecsv')
    args = parser.parse_args(argv)

    finder = UNetLoGFinder(model=args.model, precision='f32')
    rows = []
    for artifacts in (False, True):
        counts = {'UNetLoGFinder': 0, 'DAOStarFinder (5 sigma)': 0, 'SEP (3 sigma)': 0}
        area = 0.0
        for i in range(args.frames):
            rng = np.random.default_rng(500 + i)
            params = meerlicht_like((512, 512), 1.0, rng=rng, artifacts=artifacts)
            if artifacts:
                params.n_cosmic_rays += 40
                params.n_trails = 1
            frame = simulate_frame(params, rng=rng)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                counts['UNetLoGFinder'] += _false_positives(finder(frame.data), frame.truth)
            classical = classical_catalogs(
                frame.data, params.fwhm, {'DAOStarFinder': (5,), 'SEP': (3,)}
            )
            counts['DAOStarFinder (5 sigma)'] += _false_positives(
                classical['DAOStarFinder'][5], frame.truth
            )
            if 'SEP' in classical:
                counts['SEP (3 sigma)'] += _false_positives(classical['SEP'][3], frame.truth)
            area += 512 * 512 * (params.pixel_scale / 60) ** 2
        for name, fp in counts.items():
            rows.append(('with' if artifacts else 'without', name, fp, fp / area))
    table = QTable(rows=rows, names=('artifacts', 'finder', 'FP', 'FP_per_arcmin2'))
    table['FP_per_arcmin2'].info.format = '.3f'
    table.meta['frames'] = f'{args.frames} x 512x512 at 0.56"/pixel; 1 star per arcmin^2'
    table.pprint()
    save_result(table, args.output)


if __name__ == '__main__':
    main()
