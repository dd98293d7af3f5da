# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Wall time, peak memory and per-stage profile of UNetLoGFinder on whole raw frames.

Each frame is a simulated MeerLICHT-like raw frame written once as a
float32 FITS file (frames larger than 2640 pixels are simulated in
2640x2640 pieces and joined, which is far cheaper than simulating them
whole; the seams between pieces are ordinary sky to the finder).  Each
measurement runs in a fresh process that reads the file with
`asidl.io.read_image` (as ``asidl find`` does), builds the finder, and
calls it once on the frame; its wall time and the process's peak
resident memory (``ru_maxrss``, including Python, the libraries and the
compiled network) are recorded with the time the network alone takes
over the frame's tiles (so the share of everything else is known) and
the finder's per-stage timings
(`asidl.UNetLoGFinder.timings`; stages overlap on two threads, so they
sum to more than the wall time of the stages that overlap).

Writes ``benchmarks/results/large_frame.ecsv`` (one row per frame, model
and precision) and ``large_frame_stages.ecsv`` (seconds per stage).
``--pythonpath`` runs another checkout of asidl (e.g. the previous
release) in the measuring processes, for before/after comparisons.
"""

import argparse
import inspect
import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

#: Side of the pieces large frames are simulated in.
PIECE = 2640

#: Stars (S/N >= 3) per square arcminute of each frame size, as in issue 12.
DENSITY = {2560: 75.0, 10560: 10.0}


def make_frame(size, path, density):
    """Simulate a ``size x size`` raw frame (in pieces) into a float32 FITS file."""
    import numpy as np
    from astropy.io import fits

    from asidl.datasets import meerlicht_like, simulate_frame

    n = -(-size // PIECE)
    edges = np.linspace(0, size, n + 1).astype(int)
    data = np.empty((size, size), dtype=np.float32)
    for i in range(n):
        for j in range(n):
            shape = (edges[i + 1] - edges[i], edges[j + 1] - edges[j])
            rng = np.random.default_rng([size, i, j])
            frame = simulate_frame(meerlicht_like(shape, density, rng=rng), rng=rng)
            data[edges[i] : edges[i + 1], edges[j] : edges[j + 1]] = frame.data
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(data).writeto(path, overwrite=True)


def child(path, model, precision, band_rows, calls):
    """
    Run in the measuring process: print one JSON line of results.  With
    ``calls > 1`` the finder is called again on the same frame and the last
    call's time and stages are reported as the warm ones (the peak memory
    is that of the first call).
    """
    t0 = time.perf_counter()
    from asidl import UNetLoGFinder
    from asidl.io import read_image

    options = {'model': model, 'precision': precision}
    if band_rows is not None:
        options['band_rows'] = band_rows
    finder = UNetLoGFinder(**options)
    t1 = time.perf_counter()
    image = read_image(path)
    t2 = time.perf_counter()
    cpu = sum(os.times()[:2])
    table = finder(image)
    t3 = time.perf_counter()
    cpu = sum(os.times()[:2]) - cpu
    result = {
        'startup': t1 - t0,
        'read': t2 - t1,
        'find': t3 - t2,
        'cpu_seconds': cpu,
        'n_sources': 0 if table is None else len(table),
        'peak_rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'stages': dict(getattr(finder, 'timings', {}) or {}),
    }
    result['warm'] = result['find']
    for _ in range(calls - 1):  # the network has now seen these tile shapes
        t2 = time.perf_counter()
        finder(image)
        result['warm'] = time.perf_counter() - t2
        result['stages'] = dict(getattr(finder, 'timings', {}) or {})
    cpu = sum(os.times()[:2])
    result['network_alone'] = _network_alone(finder, image.data.shape)
    result['network_alone_cpu'] = sum(os.times()[:2]) - cpu
    print(json.dumps(result))


def _network_alone(finder, shape):
    """
    Seconds the network alone takes over the tiles of a frame of ``shape``
    (blank tiles, in the finder's batches, one after the other): the floor
    that the other stages add to.
    """
    import numpy as np

    try:
        from asidl.predict import TileGrid, run_batch
    except ImportError:  # a release before the band pipeline
        return float('nan')

    grid = TileGrid(
        shape,
        finder.model,
        tile_size=finder.tile_size,
        margin=finder.tile_margin,
        batch_size=finder.batch_size,
    )
    n_tiles = grid.ys.size * grid.xs.size
    tile = np.zeros((grid.tile_y, grid.tile_x), np.float32)
    model = finder.model
    streams = getattr(model, 'streams', 1)
    t0 = time.perf_counter()
    if streams > 1 and 'one_stream' in inspect.signature(run_batch).parameters:
        # As the bands run it: a request per stream, each on a thread of its own.
        with ThreadPoolExecutor(streams) as pool:
            list(pool.map(lambda _: run_batch(model, [tile], one_stream=True), range(n_tiles)))
    else:
        for start in range(0, n_tiles, grid.batch_size):
            run_batch(finder.model, [tile] * min(grid.batch_size, n_tiles - start))
    return time.perf_counter() - t0


def measure(path, model, precision, band_rows=None, pythonpath=None, calls=1):
    env = dict(os.environ)
    # This checkout's asidl unless told otherwise (not an installed copy).
    env['PYTHONPATH'] = pythonpath or str(Path(__file__).resolve().parent.parent)
    command = [
        sys.executable,
        __file__,
        '--child',
        str(path),
        '--models',
        model,
        '--precisions',
        precision,
    ]
    if band_rows is not None:
        command += ['--band-rows', str(band_rows)]
    command += ['--calls', str(calls)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_rst(path):
    """
    The documentation's tables beside ``path`` (the ``.ecsv`` written by
    `main`): the main columns of each measurement, and the seconds per stage
    with one column per frame, model and precision.
    """
    from astropy.table import QTable

    path = Path(path)
    table = QTable.read(path)
    columns = [
        'version',
        'size',
        'model',
        'precision',
        'seconds',
        'cpu_s',
        'warm_s',
        'network_alone_s',
        'not_network',
        'peak_rss_MiB',
        'n_sources',
    ]
    view = table[columns]
    for name in columns[4:-1]:
        view[name].info.format = {'peak_rss_MiB': '.0f', 'not_network': '.2f'}.get(name, '.1f')
    view.write(path.with_suffix('.rst'), format='ascii.rst', overwrite=True)
    stages_path = path.with_name(path.stem + '_stages.ecsv')
    if not stages_path.exists():
        return
    stages = QTable.read(stages_path)
    configs = list(dict.fromkeys(zip(stages['size'], stages['model'], stages['precision'])))
    rows = []
    for stage in dict.fromkeys(stages['stage']):
        row = [stage]
        for size, model, precision in configs:
            match = (
                (stages['stage'] == stage)
                & (stages['size'] == size)
                & (stages['model'] == model)
                & (stages['precision'] == precision)
            )
            row.append(float(stages['seconds'][match][0]) if match.any() else float('nan'))
        rows.append(row)
    names = ['stage'] + [
        f'{size} {model.removeprefix("asidl-")} {precision}' for size, model, precision in configs
    ]
    pivot = QTable(rows=rows, names=names)
    for name in names[1:]:
        pivot[name].info.format = '.2f'
    pivot.write(stages_path.with_suffix('.rst'), format='ascii.rst', overwrite=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--sizes', type=int, nargs='+', default=[2560, 10560])
    parser.add_argument('--models', nargs='+', default=['asidl-default', 'asidl-fast'])
    parser.add_argument('--precisions', nargs='+', default=['f32', 'bf16'], choices=('f32', 'bf16'))
    parser.add_argument('--band-rows', type=int, default=None)
    parser.add_argument(
        '--calls',
        type=int,
        default=1,
        help='finder calls per process on frames up to 4096 pixels wide '
        '(the first is cold, the last is reported as warm)',
    )
    parser.add_argument(
        '--frames',
        default='/tmp/asidl_frames',
        help='directory of the simulated frames (made once)',
    )
    parser.add_argument(
        '--pythonpath', default=None, help='run this checkout of asidl in the measuring processes'
    )
    parser.add_argument('--label', default='this release')
    parser.add_argument('--output', default='benchmarks/results/large_frame.ecsv')
    parser.add_argument(
        '--rst', action='store_true', help='only write the RST tables of an existing --output'
    )
    parser.add_argument('--child', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rst:
        write_rst(args.output)
        return
    if args.child:
        child(args.child, args.models[0], args.precisions[0], args.band_rows, args.calls)
        return

    from astropy.table import QTable

    sys.path.insert(0, str(Path(__file__).parent))
    from common import save_result

    rows, stage_rows = [], []
    for size in args.sizes:
        density = DENSITY.get(size, 10.0)
        path = Path(args.frames) / f'raw{size}_d{density:g}.fits'
        if not path.exists():
            t0 = time.perf_counter()
            make_frame(size, path, density)
            print(f'simulated {path} in {time.perf_counter() - t0:.0f} s', flush=True)
        float32_mib = size * size * 4 / 2**20
        for model in args.models:
            for precision in args.precisions:
                r = measure(
                    path,
                    model,
                    precision,
                    args.band_rows,
                    args.pythonpath,
                    calls=args.calls if size <= 4096 else 1,
                )
                alone = r.get('network_alone', float('nan'))
                rows.append(
                    (
                        args.label,
                        size,
                        density,
                        model,
                        precision,
                        r['find'],
                        size * size / r['find'] / 1e6,
                        r['cpu_seconds'],
                        r['warm'],
                        alone,
                        1 - alone / r['warm'],
                        r['peak_rss_mib'],
                        float32_mib,
                        r['n_sources'],
                        r['read'],
                        r['startup'],
                        os.cpu_count(),
                    )
                )
                print(
                    f'{args.label}: {size}x{size} {model} {precision}: finder call '
                    f'{r["find"]:.1f} s ({r["cpu_seconds"]:.1f} s CPU), warm {r["warm"]:.1f} s,'
                    f' the network alone {alone:.1f} s ({r.get("network_alone_cpu", 0):.1f} s '
                    f'CPU); peak RSS {r["peak_rss_mib"]:.0f} MiB '
                    f'({r["peak_rss_mib"] / float32_mib:.1f}x the float32 image); '
                    f'read {r["read"]:.1f} s, start-up {r["startup"]:.1f} s, '
                    f'{r["n_sources"]} sources',
                    flush=True,
                )
                for stage, seconds in r['stages'].items():
                    stage_rows.append(
                        (args.label, size, model, precision, stage, seconds, seconds / r['warm'])
                    )
                if r['stages']:
                    print(
                        '   ' + ', '.join(f'{k} {v:.2f}' for k, v in r['stages'].items()),
                        flush=True,
                    )
    table = QTable(
        rows=rows,
        names=(
            'version',
            'size',
            'density',
            'model',
            'precision',
            'seconds',
            'Mpix_per_s',
            'cpu_s',
            'warm_s',
            'network_alone_s',
            'not_network',
            'peak_rss_MiB',
            'float32_image_MiB',
            'n_sources',
            'read_s',
            'startup_s',
            'cpus',
        ),
    )
    save_result(table, args.output)
    if stage_rows:
        stages = QTable(
            rows=stage_rows,
            names=('version', 'size', 'model', 'precision', 'stage', 'seconds', 'fraction'),
        )
        save_result(stages, str(args.output).replace('.ecsv', '_stages.ecsv'))
    write_rst(args.output)


if __name__ == '__main__':
    main()
