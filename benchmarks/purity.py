# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Purity on real images without a truth catalog: the negative-image test.

Every FITS image in the real-image directory (by default
``../shared/data/real``: a digitized photographic plate of M67 and a
resampled Spitzer GLIMPSE mosaic) is searched by UNetLoGFinder (each
model given, with its default ``min_confidence='auto'``, and the first
model also with ``min_confidence=None``: every detection, as before the
automatic level), SEP and DAOStarFinder at their usual thresholds, then
reflected about its smooth background (`asidl.evaluation.negative_image`)
and searched again.  The count on the reflected frame estimates the false
detections.  Also checks the estimate against the truth on simulated
frames with white noise, resampled (correlated) noise and plate grain.

Writes ``benchmarks/results/purity_real.ecsv``,
``benchmarks/results/purity_simulated.ecsv`` and the overlay figure
``docs/_static/purity_cutouts.png`` (fixed cutouts, detections on the
frame and on its reflection, to look at by eye).
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from astropy.io import fits  # noqa: E402
from astropy.table import QTable  # noqa: E402
from common import meerlicht_frame, save_result, score  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.datasets import resample_shift, simulate_frame  # noqa: E402
from asidl.evaluation import (  # noqa: E402
    classical_finders,
    negative_image,
    negative_image_test,
)

#: Usual thresholds of the classical finders, in background RMS.
SETTINGS = {'SEP': (1.5, 3.0), 'DAOStarFinder': (3.0, 5.0)}

#: Cutouts shown in the figure: (y slice, x slice) per image file.
CUTOUTS = {
    'M6707HH.fits': (slice(300, 450), slice(300, 450)),
    'spitzer_example_image.fits': (slice(180, 330), slice(430, 580)),
}


def fitted_fwhm(data, reference):
    """FWHM of bright sources of ``reference`` (for DAOStarFinder)."""
    from photutils.psf import fit_fwhm

    # Skip the ten brightest, often saturated.
    bright = reference[np.argsort(-np.asarray(reference['flux']))[10:60]]
    xy = np.column_stack([bright['x_centroid'], bright['y_centroid']])
    bad = ~np.isfinite(data)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        fwhm = fit_fwhm(
            np.where(bad, 0.0, data - np.nanmedian(data)), xypos=xy, fit_shape=7, mask=bad
        )
    return float(np.nanmedian(fwhm))


def classical(name, nsigma, fwhm):
    """A classical finder whose background is estimated on the frame it searches."""

    def run(frame, mask=None):
        return classical_finders(frame, fwhm=fwhm, nsigma=nsigma, mask=mask)[name](frame, mask=mask)

    return run


def every_label(model):
    return f'UNetLoGFinder ({model}, every detection)'


def real_images(directory, models):
    rows, catalogs = [], {}
    for path in sorted(Path(directory).glob('*.fits')):
        data = fits.getdata(path).astype(float)
        finders = {f'UNetLoGFinder ({m})': UNetLoGFinder(model=m, precision='f32') for m in models}
        finders[every_label(models[0])] = UNetLoGFinder(
            model=models[0], precision='f32', min_confidence=None
        )
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            fwhm = fitted_fwhm(data, next(iter(finders.values()))(data))
        for name, levels in SETTINGS.items():
            finders.update({f'{name} ({k:g} sigma)': classical(name, k, fwhm) for k in levels})
        for label, finder in finders.items():
            result = negative_image_test(data, finder)
            rows.append(
                (
                    path.name,
                    label,
                    result['found'],
                    result['negative'],
                    result['false_fraction'],
                    result['net'],
                )
            )
            catalogs[path.name, label] = (result['catalog'], result['negative_catalog'])
            print(
                f'{path.name:28s} {label:32s} found {result["found"]:6d} '
                f'negative {result["negative"]:6d} false {result["false_fraction"]:6.1%} '
                f'net {result["net"]:6d}',
                flush=True,
            )
        print(f'{path.name}: FWHM {fwhm:.2f} px for DAOStarFinder')
        meta = catalogs[path.name, f'UNetLoGFinder ({models[0]})'][0].meta
        print(
            f'{path.name}: noise correlation {meta["noise_correlation"]}, '
            f'min_confidence {meta["min_confidence"]}'
        )
    table = QTable(
        rows=rows, names=('image', 'finder', 'found', 'negative', 'false_fraction', 'net')
    )
    return table, catalogs


def simulated(models, frames=2):
    """The negative-image estimate against the truth, white and correlated noise."""
    rows = []
    for density in (1, 10, 75):
        for noise in ('white', 'resampled', 'grain'):
            for model in models:
                finder = UNetLoGFinder(model=model, precision='f32')
                fp = negative = found = 0
                for i in range(frames):
                    frame = meerlicht_frame(density, seed=1000 * density + i)
                    data, truth = frame.data, frame.targets
                    if noise == 'resampled':
                        data = resample_shift(data, 0.5, 0.5, 'bilinear')
                        truth = truth.copy()
                        truth['x'] += 0.5
                        truth['y'] += 0.5
                    elif noise == 'grain':
                        p = frame.parameters
                        p.grain, p.grain_scale, p.block = 1.5, 1.2, 2
                        frame = simulate_frame(p, seed=1000 * density + i)
                        data, truth = frame.data, frame.targets
                    result = negative_image_test(data, finder)
                    s = score(result['catalog'], truth)
                    fp += s['fp']
                    negative += result['negative']
                    found += result['found']
                rows.append((density, noise, model, found, fp, negative))
                print(
                    f'{density:4d}/arcmin2 {noise:10s} {model:14s} found {found:6d} '
                    f'FP (truth) {fp:6d}  negative {negative:6d}',
                    flush=True,
                )
    return QTable(rows=rows, names=('density', 'noise', 'model', 'found', 'FP_truth', 'negative'))


def figure(directory, catalogs, labels, output):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from astropy.visualization import AsinhStretch, ImageNormalize, ZScaleInterval

    images = [name for name in CUTOUTS if (Path(directory) / name).exists()]
    fig, axes = plt.subplots(
        2 * len(images), len(labels), figsize=(3.2 * len(labels), 6.4 * len(images)), squeeze=False
    )
    for i, name in enumerate(images):
        data = fits.getdata(Path(directory) / name).astype(float)
        ys, xs = CUTOUTS[name]
        for j, (frame, which) in enumerate(((data, 0), (negative_image(data), 1))):
            cut = frame[ys, xs]
            norm = ImageNormalize(cut, interval=ZScaleInterval(), stretch=AsinhStretch(0.3))
            for k, label in enumerate(labels):
                ax = axes[2 * i + j, k]
                ax.imshow(cut, origin='lower', cmap='gray_r', norm=norm)
                tbl = catalogs[name, label][which]
                n = 0
                if tbl is not None:
                    x = np.asarray(tbl['x_centroid']) - xs.start
                    y = np.asarray(tbl['y_centroid']) - ys.start
                    inside = (x >= 0) & (x < cut.shape[1]) & (y >= 0) & (y < cut.shape[0])
                    n = int(inside.sum())
                    ax.scatter(
                        x[inside],
                        y[inside],
                        s=40,
                        facecolors='none',
                        edgecolors='tab:red',
                        linewidths=0.8,
                    )
                ax.set_title(
                    f'{label}\n{"reflected " if which else ""}{name.split(".")[0]}: {n}', fontsize=8
                )
                ax.set_xlim(-0.5, cut.shape[1] - 0.5)
                ax.set_ylim(-0.5, cut.shape[0] - 0.5)
                ax.set_xticks([])
                ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(output, dpi=80)
    print(f'wrote {output}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument(
        'directory', nargs='?', default='../shared/data/real', help='directory of real FITS images'
    )
    parser.add_argument('--models', nargs='+', default=['asidl-default'])
    parser.add_argument('--frames', type=int, default=2, help='simulated frames per point')
    parser.add_argument(
        '--no-simulated',
        action='store_true',
        help='skip the check against the truth on simulated frames',
    )
    parser.add_argument('--results', default='benchmarks/results')
    parser.add_argument('--figure', default='docs/_static/purity_cutouts.png')
    args = parser.parse_args(argv)

    table, catalogs = real_images(args.directory, args.models)
    table.meta['models'] = args.models
    save_result(table, Path(args.results) / 'purity_real.ecsv')
    if args.figure:
        Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
        # The first two models (the current one and the one it replaced).
        labels = [f'UNetLoGFinder ({m})' for m in args.models[:2]]
        labels.insert(1, every_label(args.models[0]))
        labels += ['SEP (1.5 sigma)', 'DAOStarFinder (5 sigma)']
        figure(args.directory, catalogs, labels, args.figure)
    if not args.no_simulated:
        sim = simulated(args.models, args.frames)
        save_result(sim, Path(args.results) / 'purity_simulated.ecsv')


if __name__ == '__main__':
    main()
