# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Peak memory of an ``asidl batch`` worker, per frame size.

For each size, simulated MeerLICHT-like raw frames are written as float32
FITS files (as ``benchmarks/large_frame.py`` makes them) and searched with
`asidl.find_stars_in_files` on a fresh `distributed.LocalCluster` of one
worker process (what ``asidl batch`` runs, one worker of it); afterwards
the worker reports its peak resident memory (``ru_maxrss``: Python, Dask,
the libraries, the compiled network and the largest frame, all included)
and how many finders it built.  Writes
``benchmarks/results/worker_memory.ecsv`` and, with its main columns,
``worker_memory.rst`` for the documentation.
"""

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

from astropy.table import QTable  # noqa: E402
from common import save_result  # noqa: E402
from large_frame import make_frame  # noqa: E402


def _peak_rss_mib():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _finders_built():
    from asidl.pipeline.worker import finder_cache_info

    return finder_cache_info()['built']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--sizes', type=int, nargs='+', default=[2560, 6000])
    parser.add_argument('--n-files', type=int, default=2, help='frames per size')
    parser.add_argument('--density', type=float, default=30.0)
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument('--threads', type=int, default=2, help='threads of the worker')
    parser.add_argument('--output', default='benchmarks/results/worker_memory.ecsv')
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster

    from asidl import find_stars_in_files

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            paths = []
            for k in range(args.n_files):
                path = Path(tmp) / f'frame{size}_{k}.fits'
                make_frame(size, path, args.density + k)  # distinct frames
                paths.append(str(path))
            with (
                LocalCluster(
                    n_workers=1,
                    threads_per_worker=args.threads,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                ) as cluster,
                Client(cluster) as client,
            ):
                baseline = next(iter(client.run(_peak_rss_mib).values()))
                t0 = time.perf_counter()
                result = find_stars_in_files(
                    paths,
                    client=client,
                    out_dir=Path(tmp) / 'cats',
                    model=args.model,
                    overwrite=True,
                )
                seconds = time.perf_counter() - t0
                peak = next(iter(client.run(_peak_rss_mib).values()))
                built = next(iter(client.run(_finders_built).values()))
            assert result.ok, result.failures
            image_mib = size * size * 4 / 2**20
            rows.append(
                (
                    size,
                    args.n_files,
                    args.model,
                    args.threads,
                    seconds,
                    int(result.summary['n_sources'].sum()),
                    built,
                    baseline,
                    peak,
                    image_mib,
                    peak / image_mib,
                )
            )
            print(
                f'{size}x{size}, {args.n_files} files: {seconds:.1f} s, worker peak '
                f'{peak:.0f} MiB (idle {baseline:.0f} MiB, float32 image {image_mib:.0f} '
                f'MiB), finders built: {built}',
                flush=True,
            )
            for path in paths:
                os.remove(path)
    table = QTable(
        rows=rows,
        names=(
            'size',
            'n_files',
            'model',
            'threads',
            'seconds',
            'n_sources',
            'finders_built',
            'idle_rss_MiB',
            'peak_rss_MiB',
            'image_MiB',
            'peak_over_image',
        ),
    )
    save_result(table, args.output)
    shown = table[
        'size',
        'n_files',
        'model',
        'threads',
        'n_sources',
        'finders_built',
        'peak_rss_MiB',
        'image_MiB',
    ]
    for name in ('peak_rss_MiB', 'image_MiB'):
        shown[name].info.format = '.0f'
    shown.write(Path(args.output).with_suffix('.rst'), format='ascii.rst', overwrite=True)


if __name__ == '__main__':
    main()
