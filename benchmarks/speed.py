# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Speed of UNetLoGFinder on large raw frames, on this machine.

Times whole calls (validation, normalization, network, LoG, photometry,
table) on simulated MeerLICHT-like frames after one warm-up call, for
each precision of the network (``--precisions f32 bf16``; OpenVINO for
bundled models), and writes ``benchmarks/results/speed.ecsv``.  Network
throughput alone, per engine, is ``benchmarks/engines.py``.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

from astropy.table import QTable  # noqa: E402
from common import meerlicht_frame, save_result  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--sizes', type=int, nargs='+', default=[2048, 2560])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--models', nargs='+', default=['asidl-default', 'asidl-fast'])
    parser.add_argument('--precisions', nargs='+', default=['f32'], choices=('f32', 'bf16'))
    parser.add_argument('--output', default='benchmarks/results/speed.ecsv')
    args = parser.parse_args(argv)

    rows = []
    for model, precision in [(m, p) for m in args.models for p in args.precisions]:
        finder = UNetLoGFinder(model=model, precision=precision)
        for size in args.sizes:
            data = meerlicht_frame(30, seed=size, shape=(size, size)).data
            finder(data)   # warm-up: compiles the network for these tile shapes
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                tbl = finder(data)
                times.append(time.perf_counter() - t0)
            best = min(times)
            rate = size * size / best / 1e6
            rows.append((model, size, finder.engine, finder.precision, best, rate, len(tbl),
                         os.cpu_count()))
            print(f'{model} {size}x{size} {finder.engine} {finder.precision}: {best:.2f} s '
                  f'per frame, {rate:.2f} Mpix/s, {len(tbl)} sources', flush=True)
    table = QTable(rows=rows, names=('model', 'size', 'engine', 'precision', 'seconds',
                                     'Mpix_per_s', 'n_sources', 'cpus'))
    save_result(table, args.output)


if __name__ == '__main__':
    main()
