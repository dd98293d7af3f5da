# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Speed of UNetLoGFinder on large raw frames, on this machine.

Times whole calls (validation, normalization, network, LoG, photometry,
table) on simulated MeerLICHT-like frames after one warm-up call, and
writes ``benchmarks/results/speed.ecsv``.
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
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument('--output', default='benchmarks/results/speed.ecsv')
    args = parser.parse_args(argv)

    finder = UNetLoGFinder(model=args.model)
    rows = []
    for size in args.sizes:
        data = meerlicht_frame(30, seed=size, shape=(size, size)).data
        finder(data)   # warm-up: builds the network's compute graph
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            tbl = finder(data)
            times.append(time.perf_counter() - t0)
        best = min(times)
        rows.append((size, best, size * size / best / 1e6, len(tbl), os.cpu_count()))
        print(f'{size}x{size}: {best:.2f} s per frame, {size * size / best / 1e6:.2f} Mpix/s, '
              f'{len(tbl)} sources', flush=True)
    table = QTable(rows=rows, names=('size', 'seconds', 'Mpix_per_s', 'n_sources', 'cpus'))
    table.meta['model'] = args.model
    save_result(table, args.output)


if __name__ == '__main__':
    main()
