# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Frames per minute of whole FITS files to catalogs, on this machine.

Writes N simulated MeerLICHT-like raw frames (16-bit FITS, 2560x2560 by
default) and turns each into an ECSV catalog with

* ``asidl, 1 process``: `asidl.pipeline.find_stars_in_files` without Dask;
* ``asidl, Dask N x T``: the same on a `distributed.LocalCluster` of N
  worker processes with T threads each (what ``asidl batch`` runs);
* ``SEP, 1 process``: SExtractor's algorithms through ``sep`` as
  SExtractor runs them by default (background mesh of 64 pixels with a
  3x3 median filter, subtracted; detection at 1.5 times the global
  background RMS with the default 3x3 pyramidal filter, at least 5
  pixels, default deblending), catalog of positions and fluxes.

Every method reads the same files and writes a catalog per file.  The
clock starts after a warm-up (model loaded and network graph built in
each process, the cluster started; ``startup_s`` records that cost) and
stops when the last catalog is written.  Results go to
``benchmarks/results/batch.ecsv`` (then ``python benchmarks/to_rst.py``).

Run from the repository root::

    python benchmarks/batch.py                       # 8 files of 2560x2560
    python benchmarks/batch.py --n-files 16 --workers 2 --threads 1
    python benchmarks/batch.py --n-files 2 --size 512 --output /tmp/batch.ecsv   # smoke test

The machine should be otherwise idle.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from astropy.io import fits  # noqa: E402
from astropy.table import QTable  # noqa: E402
from common import meerlicht_frame, save_result, sep_sextractor_defaults  # noqa: E402

from asidl.io import catalog_stem, write_catalog  # noqa: E402
from asidl.pipeline import find_stars_in_files  # noqa: E402
from asidl.pipeline.worker import cached_finder  # noqa: E402


def write_frames(directory, n_files, size):
    """N raw 16-bit frames as FITS files; their paths."""
    paths = []
    for i in range(n_files):
        data = meerlicht_frame(30, seed=1000 + i, shape=(size, size)).data
        raw = np.clip(np.round(data), 0, 65535).astype(np.uint16)
        header = fits.Header({'BUNIT': 'adu'})
        path = Path(directory) / f'frame_{i:03d}.fits'
        fits.PrimaryHDU(raw, header=header).writeto(path, overwrite=True)
        paths.append(str(path))
    return paths


def warm_up(options, size):
    """Build the finder and its network graph in this process (on a worker, via client.run)."""
    from asidl.datasets import meerlicht_like, simulate_frame

    finder = cached_finder(options)
    rng = np.random.default_rng(1)
    shape = (min(size, 512),) * 2
    finder(simulate_frame(meerlicht_like(shape, 30, rng=rng), rng=rng).data)
    return True


def run_asidl(paths, out_dir, options, client=None):
    result = find_stars_in_files(paths, client=client, out_dir=out_dir, overwrite=True, **options)
    if not result.ok:
        raise RuntimeError(f'asidl failed on some files:\n{result.failures}')
    return int(result.summary['n_sources'].sum())


def sep_catalog(path):
    """SEP with SExtractor's default background and detection, on one file."""
    with fits.open(path, memmap=False) as hdul:
        return sep_sextractor_defaults(hdul[0].data)


def run_sep(paths, out_dir):
    n = 0
    for path in paths:
        table = sep_catalog(path)
        write_catalog(table, Path(out_dir) / f'{catalog_stem(path)}.ecsv', overwrite=True)
        n += len(table)
    return n


def timed(label, n_files, size, workers, threads, startup, run):
    t0 = time.perf_counter()
    n_sources = run()
    seconds = time.perf_counter() - t0
    fpm = 60 * n_files / seconds
    print(
        f'{label}: {n_files} files in {seconds:.1f} s = {fpm:.2f} frames/min '
        f'({n_sources} sources; startup {startup:.1f} s)',
        flush=True,
    )
    return (
        label,
        workers,
        threads,
        n_files,
        size,
        seconds,
        fpm,
        startup,
        n_sources,
        os.cpu_count(),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--n-files', type=int, default=8)
    parser.add_argument('--size', type=int, default=2560)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument(
        '--methods', nargs='+', default=['serial', 'dask', 'sep'], choices=['serial', 'dask', 'sep']
    )
    parser.add_argument(
        '--workdir',
        help='directory for the frames and catalogs (default: a temporary one, removed afterwards)',
    )
    parser.add_argument('--output', default='benchmarks/results/batch.ecsv')
    args = parser.parse_args(argv)

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix='asidl-batch-bench-'))
    workdir.mkdir(parents=True, exist_ok=True)
    options = {'model': args.model}
    rows = []
    try:
        t0 = time.perf_counter()
        paths = write_frames(workdir, args.n_files, args.size)
        print(
            f'wrote {args.n_files} frames of {args.size}x{args.size} in '
            f'{time.perf_counter() - t0:.0f} s to {workdir}',
            flush=True,
        )

        if 'serial' in args.methods:
            t0 = time.perf_counter()
            warm_up(options, args.size)
            startup = time.perf_counter() - t0
            rows.append(
                timed(
                    'asidl, 1 process',
                    args.n_files,
                    args.size,
                    1,
                    1,
                    startup,
                    lambda: run_asidl(paths, workdir / 'serial', options),
                )
            )

        if 'dask' in args.methods:
            from distributed import Client, LocalCluster

            t0 = time.perf_counter()
            with (
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=args.threads,
                    processes=True,
                    dashboard_address=None,
                ) as cluster,
                Client(cluster) as client,
            ):
                client.run(warm_up, options, args.size)
                startup = time.perf_counter() - t0
                label = f'asidl, Dask {args.workers}x{args.threads}'
                rows.append(
                    timed(
                        label,
                        args.n_files,
                        args.size,
                        args.workers,
                        args.threads,
                        startup,
                        lambda: run_asidl(paths, workdir / 'dask', options, client=client),
                    )
                )

        if 'sep' in args.methods:
            (workdir / 'sep').mkdir(exist_ok=True)
            rows.append(
                timed(
                    'SEP, 1 process',
                    args.n_files,
                    args.size,
                    1,
                    1,
                    0.0,
                    lambda: run_sep(paths, workdir / 'sep'),
                )
            )
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    table = QTable(
        rows=rows,
        names=(
            'method',
            'workers',
            'threads',
            'n_files',
            'size',
            'seconds',
            'frames_per_min',
            'startup_s',
            'n_sources',
            'cpus',
        ),
    )
    table.meta['model'] = args.model
    table.meta['comment'] = (
        'Whole files to ECSV catalogs on simulated MeerLICHT-like raw '
        'frames; the clock starts after each method is warmed up.'
    )
    save_result(table, args.output)


if __name__ == '__main__':
    main()
