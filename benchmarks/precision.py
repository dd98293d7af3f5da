# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Quality of each bundled model by engine and precision, versus density.

The frames of ``quality_vs_density.py`` (512x512 MeerLICHT-like raw
frames with artifacts, fewer per density by default) go through
UNetLoGFinder with the network run by TensorFlow (the Keras model given
as an object), by OpenVINO in float32 and by OpenVINO in bfloat16; Dice
and position RMS are printed per density with the differences from
OpenVINO float32, and written to ``benchmarks/results/precision.ecsv``.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

from astropy.table import QTable  # noqa: E402
from common import meerlicht_frame, save_result, score  # noqa: E402
from quality_vs_density import DENSITIES  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.evaluation import combine_scores  # noqa: E402
from asidl.registry import load_model, model_info  # noqa: E402


def finders(name):
    """The finders to compare for one registered model, by label."""
    entry = model_info(name)
    keras_model = load_model(name)[0]
    return {
        'tensorflow f32': UNetLoGFinder(
            model=keras_model,
            threshold=entry.get('threshold'),
            normalization=entry['normalization'],
        ),
        'openvino f32': UNetLoGFinder(model=name, precision='f32'),
        'openvino bf16': UNetLoGFinder(model=name, precision='bf16'),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--frames', type=int, default=2, help='frames per density')
    parser.add_argument('--models', nargs='+', default=['asidl-default', 'asidl-fast'])
    parser.add_argument('--output', default='benchmarks/results/precision.ecsv')
    args = parser.parse_args(argv)

    rows = []
    for name in args.models:
        by_label = finders(name)
        for density in DENSITIES:
            scores = {label: [] for label in by_label}
            for i in range(args.frames):
                frame = meerlicht_frame(density, seed=1000 * density + i)
                for label, finder in by_label.items():
                    scores[label].append(score(finder(frame.data), frame.targets))
            ref = combine_scores(scores['openvino f32'])
            for label, s in scores.items():
                c = combine_scores(s)
                d_dice, d_rms = c['dice'] - ref['dice'], c['rms'] - ref['rms']
                rows.append(
                    (
                        name,
                        density,
                        label,
                        c['tp'],
                        c['fp'],
                        c['fn'],
                        c['dice'],
                        c['rms'],
                        d_dice,
                        d_rms,
                    )
                )
                print(
                    f'{name:14s} {density:4d}/arcmin2 {label:15s} Dice {c["dice"]:.4f} '
                    f'({d_dice:+.4f})  RMS {c["rms"]:.4f} px ({d_rms:+.4f})',
                    flush=True,
                )
    table = QTable(
        rows=rows,
        names=(
            'model',
            'density',
            'engine',
            'TP',
            'FP',
            'FN',
            'Dice',
            'RMS_px',
            'dDice_vs_f32',
            'dRMS_vs_f32',
        ),
    )
    table.meta['frames_per_density'] = args.frames
    table.meta['frame'] = '512x512 MeerLICHT-like raw frames with artifacts (benchmarks/common.py)'
    save_result(table, args.output)


if __name__ == '__main__':
    main()
