# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Depth on a real image at a matched false-detection rate: artificial stars
made with the image's own PSF, injected into the M67 photographic plate.

For each finder setting (UNetLoGFinder at several LoG thresholds, SEP at
several thresholds) the negative-image test (`asidl.evaluation.negative_image_test`)
estimates the false-detection fraction, and `asidl.evaluation.artificial_star_test`
measures completeness versus injected magnitude; the magnitude of 50%
completeness is interpolated.  Compare finders at settings of equal false
fraction.  Writes ``benchmarks/results/depth_m67.ecsv``.
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
from common import save_result  # noqa: E402
from purity import classical, fitted_fwhm  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.background import background_map  # noqa: E402
from asidl.evaluation import artificial_star_test, build_epsf, negative_image_test  # noqa: E402


def mag50(table):
    """Instrumental magnitude at which the completeness falls through 50%."""
    mag = -2.5 * np.log10(np.asarray(table['flux'], float))
    frac = np.asarray(table['fraction'], float)
    order = np.argsort(mag)
    mag, frac = mag[order], frac[order]
    below = np.flatnonzero(frac < 0.5)
    if below.size == 0:
        return np.nan
    i = below[0]
    if i == 0:
        return np.nan
    return float(np.interp(0.5, [frac[i], frac[i - 1]], [mag[i], mag[i - 1]]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('image', nargs='?', default='../shared/data/real/M6707HH.fits')
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument('--thresholds', nargs='+', type=float, default=[0.2, 0.35, 0.5])
    parser.add_argument(
        '--sep',
        nargs='*',
        type=float,
        default=[1.5, 2.0, 3.0, 5.0],
        help='SEP thresholds (none: skip SEP)',
    )
    parser.add_argument('--n-per-flux', type=int, default=60)
    parser.add_argument('--output', default='benchmarks/results/depth_m67.ecsv')
    args = parser.parse_args(argv)

    data = fits.getdata(args.image).astype(float)
    valid = np.isfinite(data)
    reference = UNetLoGFinder(model=args.model, precision='f32', threshold=0.5)(data)
    background = background_map(data.astype(np.float32), valid).rows(0, data.shape[0])[0]
    epsf = build_epsf(data - background, reference)
    fwhm = fitted_fwhm(data, reference)
    # Fluxes at background-limited S/N 2 to 200 for the image's own PSF.
    psf = epsf.data / epsf.data.sum()
    sigma = float(np.median(background_map(data.astype(np.float32), valid).noise))
    fluxes = np.geomspace(2.0, 200.0, 12) * sigma * np.sqrt(1.0 / np.sum(psf**2))

    settings = [
        (
            f'UNetLoGFinder ({args.model})',
            f'tau {t:g}',
            UNetLoGFinder(model=args.model, precision='f32', threshold=t),
        )
        for t in args.thresholds
    ]
    settings += [('SEP', f'{k:g} sigma', classical('SEP', k, fwhm)) for k in args.sep]
    rows = []
    for name, setting, finder in settings:
        purity = negative_image_test(data, finder)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            completeness = artificial_star_test(
                data, finder, fluxes=fluxes, epsf=epsf, n_per_flux=args.n_per_flux, seed=1
            )
        m50 = mag50(completeness)
        rows.append(
            (name, setting, purity['found'], purity['negative'], purity['false_fraction'], m50)
        )
        print(
            f'{name:30s} {setting:10s} found {purity["found"]:6d} negative '
            f'{purity["negative"]:6d} false {purity["false_fraction"]:6.1%}  '
            f'50% completeness at {m50:.2f} mag  '
            + ' '.join(f'{f:.2f}' for f in completeness['fraction']),
            flush=True,
        )
    table = QTable(
        rows=rows, names=('finder', 'setting', 'found', 'negative', 'false_fraction', 'mag50')
    )
    table.meta.update(
        {
            'image': Path(args.image).name,
            'fwhm': fwhm,
            'snr_injected': '2 to 200, background-limited, 12 steps',
            'mag': '-2.5 log10(injected flux in data units above background)',
        }
    )
    save_result(table, args.output)


if __name__ == '__main__':
    main()
