# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Network throughput of each bundled model with TensorFlow and with OpenVINO.

The same normalized tiles (from a simulated MeerLICHT-like frame) go
through the network with Keras/TensorFlow, and with OpenVINO in float32
and bfloat16 (channel first, as the finder runs it), after one warm-up
call each; prints Mpix/s (best of
``--repeats``) and the largest difference of each engine's probabilities
from TensorFlow's, and writes ``benchmarks/results/engines.ecsv``.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from astropy.table import QTable  # noqa: E402
from common import meerlicht_frame, save_result  # noqa: E402

from asidl.engine import compile_network  # noqa: E402
from asidl.normalize import normalize  # noqa: E402
from asidl.registry import load_model, openvino_files  # noqa: E402


def tiles(n, size):
    """``n`` normalized ``size``-pixel tiles of a simulated raw frame, as a network batch."""
    side = int(np.ceil(np.sqrt(n))) * size
    data = meerlicht_frame(30, seed=0, shape=(side, side)).data
    norm = normalize(data, np.isfinite(data), method='asinh')
    cut = [
        norm[y : y + size, x : x + size] for y in range(0, side, size) for x in range(0, side, size)
    ][:n]
    return np.stack(cut)[..., None].astype(np.float32)


def best_rate(predict, batch, repeats):
    predict(batch)  # warm-up: graph building, shape compilation
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(batch)
        best = min(best, time.perf_counter() - t0)
    return batch[..., 0].size / best / 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--models', nargs='+', default=['asidl-default', 'asidl-fast'])
    parser.add_argument('--tiles', type=int, default=8)
    parser.add_argument('--tile-size', type=int, default=512)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--output', default='benchmarks/results/engines.ecsv')
    args = parser.parse_args(argv)

    batch = tiles(args.tiles, args.tile_size)
    rows = []
    for name in args.models:
        keras_model = load_model(name)[0]
        reference = np.asarray(keras_model.predict_on_batch(batch))
        engines = [('tensorflow', 'f32', keras_model)]
        xml = openvino_files(name)[0]
        engines += [
            ('openvino', p, compile_network(xml, name=name, precision=p)) for p in ('f32', 'bf16')
        ]
        for engine, precision, network in engines:
            # What the finder runs: OpenVINO's channel-first output
            # (CompiledNetwork.predict_planes), Keras's channels-last one.
            predict = getattr(network, 'predict_planes', network.predict_on_batch)
            rate = best_rate(predict, batch, args.repeats)
            out = np.asarray(network.predict_on_batch(batch))
            diff = float(np.abs(out[..., 0] - reference[..., 0]).max())
            rows.append((name, engine, precision, rate, diff))
            print(
                f'{name:15s} {engine:10s} {precision:4s} {rate:6.2f} Mpix/s, '
                f'max |p - p_tf| {diff:.2g}',
                flush=True,
            )
    table = QTable(rows=rows, names=('model', 'engine', 'precision', 'Mpix_per_s', 'max_prob_diff'))
    table.meta.update(tiles=args.tiles, tile_size=args.tile_size, cpus=os.cpu_count())
    save_result(table, args.output)


if __name__ == '__main__':
    main()
