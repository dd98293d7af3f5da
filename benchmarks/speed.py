# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Speed of UNetLoGFinder, SEP and DAOStarFinder on the same raw frames, in one run.

On each simulated MeerLICHT-like raw frame (``--sizes``, at ``--density``
stars per square arcminute), times whole calls, best of ``--repeats``
after one warm-up call:

* ``asidl``: `asidl.UNetLoGFinder` with each model (``--models``) and
  each precision of the network (``--precisions f32 bf16``; OpenVINO for
  the bundled models), from the raw frame to the catalog (validation,
  background, normalization, network, LoG, FWHM measurement, photometry,
  table);
* ``SEP``: SExtractor's algorithms through ``sep`` with SExtractor's
  default settings (64-pixel background mesh with a 3x3 median filter,
  subtracted; detection at 1.5 times the global RMS with the default 3x3
  filter, at least 5 pixels, default deblending);
* ``DAOStarFinder``: `photutils.background.Background2D` subtracted, then
  DAOStarFinder at 5 times the background RMS with the true FWHM, as
  `asidl.evaluation.classical_finders` sets it up.

Prints each time and its ratio to SEP's on the same frame (``vs_SEP`` > 1:
slower than SEP) and writes ``benchmarks/results/speed.ecsv`` (then
``python benchmarks/to_rst.py``).  Network throughput alone, per engine,
is ``benchmarks/engines.py``.
"""

import argparse
import os
import sys
import time
import warnings
from functools import partial
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

from astropy.table import QTable  # noqa: E402
from common import meerlicht_frame, save_result, sep_sextractor_defaults  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.evaluation import classical_finders  # noqa: E402


def best_time(function, repeats):
    """The best of ``repeats`` calls after one warm-up call, and the last result."""
    result = function()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - t0)
    return min(times), result


def daofinder(data, fwhm):
    """Background2D and DAOStarFinder at 5 sigma, both timed."""
    finder = classical_finders(data, fwhm=fwhm, nsigma=5.0)['DAOStarFinder']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return finder(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--sizes', type=int, nargs='+', default=[2048, 2560])
    parser.add_argument(
        '--density',
        type=float,
        default=75.0,
        help='stars (S/N >= 3) per square arcminute (default: %(default)s)',
    )
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--models', nargs='+', default=['asidl-default', 'asidl-fast'])
    parser.add_argument('--precisions', nargs='+', default=['f32', 'bf16'], choices=('f32', 'bf16'))
    parser.add_argument(
        '--no-daofinder', action='store_true', help='skip DAOStarFinder (slow on large frames)'
    )
    parser.add_argument('--output', default='benchmarks/results/speed.ecsv')
    args = parser.parse_args(argv)

    finders = {
        (m, p): UNetLoGFinder(model=m, precision=p) for m in args.models for p in args.precisions
    }
    rows = []
    for size in args.sizes:
        frame = meerlicht_frame(args.density, seed=size, shape=(size, size))
        data = frame.data
        runs = [
            (f'asidl {m} {p}', 'asidl', m, f.engine, f.precision, partial(f, data))
            for (m, p), f in finders.items()
        ]
        runs.append(('SEP', 'SEP', '', 'sep', 'f64', partial(sep_sextractor_defaults, data)))
        if not args.no_daofinder:
            runs.append(
                (
                    'DAOStarFinder',
                    'DAOStarFinder',
                    '',
                    'photutils',
                    'f64',
                    partial(daofinder, data, frame.parameters.fwhm),
                )
            )
        timed = []
        for label, method, model, engine, precision, run in runs:
            seconds, table = best_time(run, args.repeats)
            timed.append(
                (
                    label,
                    method,
                    model,
                    engine,
                    precision,
                    seconds,
                    0 if table is None else len(table),
                )
            )
            print(
                f'{size}x{size} {label}: {seconds:.2f} s, {size * size / seconds / 1e6:.2f} '
                f'Mpix/s, {timed[-1][-1]} sources',
                flush=True,
            )
        sep_seconds = next(t[5] for t in timed if t[1] == 'SEP')
        for label, method, model, engine, precision, seconds, n in timed:
            ratio = seconds / sep_seconds
            rows.append(
                (
                    method,
                    model,
                    size,
                    engine,
                    precision,
                    seconds,
                    size * size / seconds / 1e6,
                    ratio,
                    n,
                    os.cpu_count(),
                )
            )
            print(f'  {label}: {ratio:.2f} x the time of SEP', flush=True)
    table = QTable(
        rows=rows,
        names=(
            'method',
            'model',
            'size',
            'engine',
            'precision',
            'seconds',
            'Mpix_per_s',
            'vs_SEP',
            'n_sources',
            'cpus',
        ),
    )
    table.meta['density'] = args.density
    for name in ('seconds', 'Mpix_per_s', 'vs_SEP'):
        table[name].info.format = '.3f' if name != 'vs_SEP' else '.2f'
    save_result(table, args.output)


if __name__ == '__main__':
    main()
