# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Calibrate a model's confidence and measure its reliability on held-out frames.

Runs the finder with the network's raw probability (``calibration=False``)
on two disjoint sets of simulated frames, each half MeerLICHT-like frames at
1 to 250 stars per square arcminute and half drawn from the training
distribution (resampled, coadded, grainy and white-noise frames alike).
Every detection is labelled real if it matches a true star within 2 pixels.
An isotonic calibration (`asidl.calibration.ConfidenceCalibration.fit`) is
fitted on the first set; the second set gives the reliability diagram and
the expected calibration error (ECE) before and after.

Writes ``benchmarks/results/calibration_<model>.ecsv`` (the held-out
reliability table), a figure in ``docs/_static/``, and with
``--write-registry`` stores the calibration in the package registry entry
of the model.
"""

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from common import save_result  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.calibration import ConfidenceCalibration, expected_calibration_error, reliability_table  # noqa: E402
from asidl.datasets import draw_parameters, meerlicht_like, simulate_frame  # noqa: E402
from asidl.evaluation import match_sources  # noqa: E402

DENSITIES = (1, 10, 30, 75, 150, 250)
REGISTRY = Path(__file__).parents[1] / 'asidl' / 'data' / 'models' / 'registry.json'


def labelled_detections(finder, n_frames, seed, shape=(256, 256)):
    """Raw confidences and real/false labels of the finder's detections."""
    rng = np.random.default_rng(seed)
    confidence, real, kind = [], [], []
    for i in range(n_frames):
        if i % 2 == 0:
            params = meerlicht_like(shape, DENSITIES[(i // 2) % len(DENSITIES)], rng=rng)
        else:
            params = draw_parameters(rng, shape)
        frame = simulate_frame(params, rng=rng)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            tbl = finder(frame.data, mask=frame.bad_pixels)
        if tbl is None:
            continue
        t = frame.targets
        det, _ = match_sources(tbl['x_centroid'], tbl['y_centroid'], t['x'], t['y'])
        labels = np.zeros(len(tbl), bool)
        labels[det] = True
        confidence.append(np.asarray(tbl['confidence'], float))
        real.append(labels)
        kind.append(np.full(len(tbl), i % 2))
    return np.concatenate(confidence), np.concatenate(real), np.concatenate(kind)


def plot(before, after, ece_before, ece_after, model, path):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color='0.6', lw=1, ls='--', label='perfect')
    ax.plot(
        before['mean_confidence'],
        before['fraction_real'],
        'o-',
        color='C3',
        label=f'network probability (ECE {ece_before:.3f})',
    )
    ax.plot(
        after['mean_confidence'],
        after['fraction_real'],
        's-',
        color='C0',
        label=f'calibrated confidence (ECE {ece_after:.3f})',
    )
    ax.set_xlabel('confidence (bin mean)')
    ax.set_ylabel('fraction of detections that are stars')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(f'{model}: held-out simulated frames', fontsize=9)
    ax.legend(loc='upper left', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f'wrote {path}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument('--frames', type=int, default=96, help='frames in each set')
    parser.add_argument(
        '--write-registry',
        action='store_true',
        help="store the calibration in the package registry's entry",
    )
    parser.add_argument('--output-dir', default='benchmarks/results')
    parser.add_argument('--figure-dir', default='docs/_static')
    args = parser.parse_args(argv)

    finder = UNetLoGFinder(model=args.model, precision='f32', calibration=False)
    fit_conf, fit_real, _ = labelled_detections(finder, args.frames, seed=61_000)
    test_conf, test_real, test_kind = labelled_detections(finder, args.frames, seed=62_000)
    calibration = ConfidenceCalibration.fit(fit_conf, fit_real)
    calibrated = calibration(test_conf)

    ece_before = expected_calibration_error(test_conf, test_real)
    ece_after = expected_calibration_error(calibrated, test_real)
    print(
        f'{args.model}: {fit_conf.size} detections to fit, {test_conf.size} held out '
        f'({test_real.mean():.3f} real)'
    )
    print(f'ECE on held-out frames: network {ece_before:.4f}, calibrated {ece_after:.4f}')
    for k, name in ((0, 'MeerLICHT-like'), (1, 'training draws')):
        sel = test_kind == k
        print(
            f'  {name}: network {expected_calibration_error(test_conf[sel], test_real[sel]):.4f}'
            f', calibrated {expected_calibration_error(calibrated[sel], test_real[sel]):.4f}'
        )

    before = reliability_table(test_conf, test_real)
    after = reliability_table(calibrated, test_real)
    table = after.copy()
    table.meta.update(
        {
            'model': args.model,
            'frames': args.frames,
            'ece_network': round(ece_before, 4),
            'ece_calibrated': round(ece_after, 4),
            'calibration': calibration.to_dict(),
        }
    )
    save_result(table, Path(args.output_dir) / f'calibration_{args.model}.ecsv')
    plot(
        before,
        after,
        ece_before,
        ece_after,
        args.model,
        Path(args.figure_dir) / f'reliability_{args.model}.png',
    )
    if args.write_registry:
        entries = json.loads(REGISTRY.read_text())
        entries[args.model]['calibration'] = calibration.to_dict()
        REGISTRY.write_text(json.dumps(entries, indent=2) + '\n')
        print(f'stored the calibration of {args.model} in {REGISTRY}')


if __name__ == '__main__':
    main()
