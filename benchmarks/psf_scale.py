# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Quality versus PSF width: UNetLoGFinder given the FWHM, measuring it, and
without resampling, against DAOStarFinder and SEP at their best thresholds.

Simulated raw frames like the quality benchmark's (0.56"/pixel, Moffat
beta 3, sky 400 e-, artifacts; `asidl.datasets.meerlicht_like`) with the
FWHM set from 1.2 to 12 pixels, at 10 and 75 stars per square arcminute,
three 512x512 frames per point.
"No resampling" is the finder before the scale front end: it is given an
FWHM inside the model's range, so the image is searched at its own
scale.  DAOStarFinder gets the true FWHM; DAOStarFinder and SEP run on
background-subtracted frames and are scored at the best of their
thresholds, chosen on the same frames (an optimistic baseline); SEP also
with a detection filter matched to the true FWHM.  The
FWHM estimate's relative error is that of the finder's ``meta['fwhm']``.

Further rows vary one condition at a time at 10 stars per square
arcminute and FWHMs of 2.5 and 8 pixels: a dark (30 e-) and a bright
(4000 e-) sky, input already background subtracted, no artifacts, and a
King-profile cluster.  Writes ``benchmarks/results/psf_scale.ecsv``.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from astropy.table import QTable  # noqa: E402
from common import classical_catalogs, save_result, score  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.constants import GAUSSIAN_FWHM_PER_SIGMA  # noqa: E402
from asidl.datasets import meerlicht_like, simulate_frame, sky_electrons  # noqa: E402
from asidl.evaluation import combine_scores  # noqa: E402

FWHMS = (1.2, 1.6, 2.5, 3.5, 5.0, 6.5, 8.0, 10.0, 12.0)
DENSITIES = (10, 75)
CONDITION_FWHMS = (2.5, 8.0)
CONDITIONS = ('sky 30 e-', 'sky 4000 e-', 'background subtracted', 'no artifacts', 'King cluster')


def make_frame(fwhm, density, seed, condition='default', shape=(512, 512)):
    """A simulated raw frame (and the data given to the finders) for one condition."""
    rng = np.random.default_rng(seed)
    params = meerlicht_like(shape, density, rng=rng, artifacts=condition != 'no artifacts')
    params.fwhm = float(fwhm)
    if condition == 'sky 30 e-':
        params.sky = 30.0
    elif condition == 'sky 4000 e-':
        params.sky = 4000.0
    elif condition == 'King cluster':
        params.cluster_fraction = 0.7
        params.cluster_core = 60.0
        params.cluster_center = (shape[0] / 2, shape[1] / 2)
    frame = simulate_frame(params, rng=rng)
    data = frame.data
    if condition == 'background subtracted':
        data = data - (sky_electrons(params) / params.gain + params.bias).astype(np.float32)
    return frame, data


SEP_MATCHED_THRESHOLDS = (1, 1.5, 2, 3, 4, 5, 7)


def sep_matched_catalogs(data, fwhm, thresholds=SEP_MATCHED_THRESHOLDS):
    """
    SEP with a detection filter matched to the true FWHM (a Gaussian),
    as SExtractor's manual advises for broad stars, on the frame minus a
    `~photutils.background.Background2D` background.

    Returns
    -------
    catalogs : dict
        ``{nsigma: table with x_centroid, y_centroid}``.
    """
    import sep
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground

    data = np.asarray(data, dtype=float)
    bkg = Background2D(
        data,
        64,
        filter_size=3,
        sigma_clip=SigmaClip(3.0),
        bkg_estimator=MedianBackground(),
        exclude_percentile=90,
    )
    sub = np.ascontiguousarray(data - bkg.background)
    sigma = fwhm / GAUSSIAN_FWHM_PER_SIGMA
    half = int(np.ceil(2 * fwhm))
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    kernel = np.exp(-0.5 * (xx**2 + yy**2) / sigma**2)
    out = {}
    for k in thresholds:
        objects = sep.extract(sub, k, err=bkg.background_rms, filter_kernel=kernel, minarea=3)
        out[k] = (
            None
            if len(objects) == 0
            else QTable({'x_centroid': objects['x'], 'y_centroid': objects['y']})
        )
    return out


def run_point(finders, fwhm, density, condition, n_frames):
    """Scores of every finder on ``n_frames`` frames at one FWHM and density."""
    scores = {name: [] for name in finders}
    classical = {}
    errors, factors = [], []
    for i in range(n_frames):
        group = CONDITIONS.index(condition) + 1 if condition in CONDITIONS else 0
        seed = 1_000_000 * group + 100_000 * density + int(1000 * fwhm) + 7 * i
        frame, data = make_frame(fwhm, density, seed, condition)
        truth = frame.targets
        for name, make in finders.items():
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                tbl = make(fwhm)(data)
            scores[name].append(score(tbl, truth))
            if name == 'asidl, measuring fwhm' and tbl is not None:
                measured = tbl.meta['fwhm']
                errors.append(np.nan if measured is None else measured / fwhm - 1)
                factors.append(tbl.meta['block_size'])
        catalogs = classical_catalogs(data, fwhm)
        catalogs['SEP, matched filter'] = sep_matched_catalogs(data, fwhm)
        for name, by_k in catalogs.items():
            for k, tbl in by_k.items():
                classical.setdefault(name, {}).setdefault(k, []).append(score(tbl, truth))
    row = {name: combine_scores(s)['dice'] for name, s in scores.items()}
    for name, by_k in classical.items():
        best_k = max(by_k, key=lambda k: combine_scores(by_k[k])['dice'])
        row[name] = combine_scores(by_k[best_k])['dice']
        row[f'{name} sigma'] = best_k
    row['targets'] = sum(s['tp'] + s['fn'] for s in scores['asidl, fwhm given'])
    errors = np.asarray(errors, dtype=float)
    row['fwhm error'] = float(np.nanmean(errors)) if np.isfinite(errors).any() else np.nan
    row['fwhm max error'] = (
        float(np.nanmax(np.abs(errors))) if np.isfinite(errors).any() else np.nan
    )
    row['unmeasured'] = int(np.count_nonzero(~np.isfinite(errors)))
    row['block'] = int(max(factors, default=1))
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--frames', type=int, default=3, help='frames per point')
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument('--output', default='benchmarks/results/psf_scale.ecsv')
    args = parser.parse_args(argv)

    native = UNetLoGFinder(model=args.model, precision='f32')
    low = native.fwhm_range[0]
    finders = {
        'asidl, fwhm given': lambda fwhm: UNetLoGFinder(
            model=args.model, precision='f32', fwhm=fwhm
        ),
        'asidl, measuring fwhm': lambda fwhm: native,
        'asidl, no resampling': lambda fwhm: UNetLoGFinder(
            model=args.model, precision='f32', fwhm=low
        ),
    }
    points = [('default', d, f) for d in DENSITIES for f in FWHMS]
    points += [(c, 10, f) for c in CONDITIONS for f in CONDITION_FWHMS]
    rows = []
    start = time.perf_counter()
    for condition, density, fwhm in points:
        row = run_point(finders, fwhm, density, condition, args.frames)
        best = max(row['DAOStarFinder'], row['SEP'], row['SEP, matched filter'])
        rows.append(
            (
                condition,
                density,
                fwhm,
                row['targets'],
                row['asidl, fwhm given'],
                row['asidl, measuring fwhm'],
                row['asidl, no resampling'],
                row['DAOStarFinder'],
                row['DAOStarFinder sigma'],
                row['SEP'],
                row['SEP sigma'],
                row['SEP, matched filter'],
                row['SEP, matched filter sigma'],
                row['asidl, measuring fwhm'] - best,
                row['fwhm error'],
                row['fwhm max error'],
                row['unmeasured'],
                row['block'],
            )
        )
        print(
            f'{condition:22s} {density:3d}/arcmin2 FWHM {fwhm:4.1f}: given '
            f'{row["asidl, fwhm given"]:.3f} measured {row["asidl, measuring fwhm"]:.3f} '
            f'no resampling {row["asidl, no resampling"]:.3f} DAO {row["DAOStarFinder"]:.3f} '
            f'SEP {row["SEP"]:.3f} SEP matched {row["SEP, matched filter"]:.3f}  '
            f'FWHM error {row["fwhm error"]:+.3f} '
            f'block {row["block"]}  [{time.perf_counter() - start:.0f} s]',
            flush=True,
        )
    table = QTable(
        rows=rows,
        names=(
            'condition',
            'density',
            'fwhm',
            'targets',
            'given',
            'measured',
            'no_resampling',
            'DAOStarFinder',
            'DAO_sigma',
            'SEP',
            'SEP_sigma',
            'SEP_matched',
            'SEP_matched_sigma',
            'margin',
            'fwhm_error',
            'fwhm_max_error',
            'unmeasured',
            'block',
        ),
    )
    table.meta['model'] = args.model
    table.meta['frames_per_point'] = args.frames
    table.meta['frame'] = (
        '512x512 simulated raw frames, 0.56"/pixel, Moffat beta 3, sky 400 '
        'e- unless stated, artifacts unless stated'
    )
    table.meta['columns'] = (
        'given, measured, no_resampling: Dice of UNetLoGFinder with fwhm given, measured, and '
        'searched at the image scale; DAOStarFinder, SEP: Dice at their best threshold '
        '(*_sigma), SEP_matched with a Gaussian filter of the true FWHM; margin: measured '
        'minus the best classical; fwhm_error: mean relative '
        'error of the measured FWHM, fwhm_max_error the largest; unmeasured: frames whose '
        'FWHM could not be measured; block: block size used'
    )
    save_result(table, args.output)


if __name__ == '__main__':
    main()
