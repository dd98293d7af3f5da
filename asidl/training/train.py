# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Training a U-Net on streamed simulated frames.

`train` resumes from its checkpoint directory: ``last.keras`` (model and
optimizer state) and ``state.json`` (epochs done, configuration, history)
are written after every epoch, ``best.keras`` whenever the object-level
validation Dice improves.  Each epoch draws its frames from a stream
seeded with ``seed + epoch``, so an interrupted and resumed run sees the
same data as an uninterrupted one.

Validation runs the finder itself (`~asidl.UNetLoGFinder` with the model
being trained) on a fixed set of simulated frames and reports the
object-level Dice and position RMS, not only the pixel loss.
"""

import json
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
from photutils.utils.exceptions import NoDetectionsWarning

from ..constants import LOG_OVERLAP, LOG_SIGMA, LOG_THRESHOLD
from ..datasets import draw_parameters, meerlicht_like, simulate_frame
from ..evaluation import combine_scores, score_detections
from . import (
    defaults,
    layers,  # noqa: F401  (registers asidl's own Keras layers)
)
from .losses import asidl_loss
from .stream import TrainingStream
from .unet import build_unet

__all__ = ['train', 'validation_frames', 'validate', 'learning_rate_at']

# The cosine decay of the learning rate stops at this fraction of the initial rate.
MIN_LEARNING_RATE_FRACTION = 0.02


def validation_frames(n=defaults.N_VALIDATION, *, shape=(256, 256), seed=12345, draw=None):
    """
    A fixed, reproducible set of validation frames: half MeerLICHT-like
    frames at the benchmark densities (1 to 250 stars per square arcminute,
    with artifacts), half drawn from the training distribution (``draw``,
    by default the domain-randomized `~asidl.datasets.draw_parameters`).
    """
    draw = draw_parameters if draw is None else draw
    rng = np.random.default_rng(seed)
    densities = (1, 10, 30, 75, 150, 250)
    frames = []
    for i in range(n):
        if i % 2 == 0:
            params = meerlicht_like(shape, densities[(i // 2) % len(densities)], rng=rng)
        else:
            params = draw(rng, shape)
        frames.append(simulate_frame(params, rng=rng))
    return frames


def validate(
    model, frames, *, sigma=LOG_SIGMA, threshold=LOG_THRESHOLD, overlap=LOG_OVERLAP, fwhm='measured'
):
    """
    Object-level scores of ``model`` on simulated frames.

    ``fwhm='true'`` gives the finder each frame's true FWHM, as a user who
    knows the seeing would; ``'measured'`` lets it measure the FWHM, which
    costs about two thirds of the time of validation.

    Returns
    -------
    scores : dict
        Summed ``tp``, ``fp``, ``fn``, the ``dice`` of the sums, and the
        position ``rms`` (pixels) over all matches.
    """
    from ..finder import UNetLoGFinder
    from ..fwhm import FWHMWarning

    if fwhm not in ('measured', 'true'):
        raise ValueError(f"fwhm must be 'measured' or 'true', got {fwhm!r}")
    finder = UNetLoGFinder(model=model, sigma=sigma, threshold=threshold, overlap=overlap)
    scores = []
    for frame in frames:
        finder.fwhm = float(frame.targets.meta['fwhm']) if fwhm == 'true' else None
        with warnings.catch_warnings():
            # A frame without stars finds nothing; one with too few bright
            # isolated stars cannot have its FWHM measured and is searched at
            # the network's own scale: both are part of what is scored.
            warnings.simplefilter('ignore', NoDetectionsWarning)
            warnings.simplefilter('ignore', FWHMWarning)
            tbl = finder(frame.data, mask=frame.bad_pixels)
        x, y = (tbl['x_centroid'], tbl['y_centroid']) if tbl is not None else ([], [])
        t = frame.targets
        scores.append(score_detections(x, y, t['x'], t['y']))
    return combine_scores(scores)


def learning_rate_at(epoch, epochs, learning_rate):
    """
    The learning rate of epoch ``epoch`` (0-based) of ``epochs``: a cosine
    decay from ``learning_rate``, held at no less than 2% of it.
    """
    lr = 0.5 * learning_rate * (1 + math.cos(math.pi * epoch / epochs))
    return max(lr, learning_rate * MIN_LEARNING_RATE_FRACTION)


def _save_atomic(model, path):
    tmp = path.with_name(path.stem + '.tmp.keras')
    model.save(tmp)
    os.replace(tmp, path)


def train(
    checkpoint_dir,
    *,
    epochs=defaults.EPOCHS,
    steps_per_epoch=defaults.STEPS_PER_EPOCH,
    batch_size=defaults.BATCH_SIZE,
    frame_shape=(defaults.FRAME_SIZE, defaults.FRAME_SIZE),
    base_filters=defaults.BASE_FILTERS,
    depth=defaults.DEPTH,
    input_stride=defaults.INPUT_STRIDE,
    learning_rate=defaults.LEARNING_RATE,
    seed=defaults.SEED,
    n_validation=defaults.N_VALIDATION,
    draw=None,
    initial_model=None,
    verbose=1,
    log=print,
):
    """
    Train (or resume training) a U-Net on simulated frames.

    The defaults are those of ``asidl train`` (`asidl.training.defaults`).

    Parameters
    ----------
    checkpoint_dir : str or path-like
        Where checkpoints and ``state.json`` live; training resumes from
        them if present.
    epochs : int, optional
        Total number of epochs (including those already done).
    steps_per_epoch : int, optional
        Batches per epoch.
    batch_size : int, optional
        Frames per batch.
    frame_shape : tuple of int, optional
        Size of the simulated training frames.
    base_filters, depth, input_stride : int, optional
        Network width, depth and space-to-depth stride (see
        `~asidl.training.unet.build_unet`); ignored when resuming.
    learning_rate : float, optional
        Initial learning rate of Adam; it follows a cosine decay over
        ``epochs``.
    seed : int, optional
        Seed of the training streams and of the weight initialization.
    n_validation : int, optional
        Validation frames scored after every epoch.
    draw : callable or None, optional
        ``draw(rng, shape)`` returns the `~asidl.datasets.FrameParameters`
        of a training frame (see `~asidl.training.stream.TrainingStream`);
        by default the domain-randomized distribution.  When given, half of
        the validation frames are drawn from it too (the other half stay
        MeerLICHT-like benchmark frames).  Pass it again when resuming.
    verbose : int, optional
        Keras progress output: 1 for a progress bar, 2 for one line per
        epoch, 0 for none.
    log : callable or None, optional
        Receives one line of text per epoch; `None` for silence.

    Returns
    -------
    history : list of dict
        One entry per epoch: loss, validation scores, learning rate, seconds.
    """
    import keras

    if log is None:

        def log(line):
            pass

    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    state_path = checkpoint_dir / 'state.json'
    last_path = checkpoint_dir / 'last.keras'
    best_path = checkpoint_dir / 'best.keras'

    if last_path.exists() and state_path.exists():
        state = json.loads(state_path.read_text())
        model = keras.models.load_model(last_path, custom_objects={'asidl_loss': asidl_loss})
        log(f'resuming from epoch {state["epoch"]} in {checkpoint_dir}')
    else:
        keras.utils.set_random_seed(seed)
        if initial_model is None:
            model = build_unet(base_filters=base_filters, depth=depth, input_stride=input_stride)
        else:
            from ..registry import load_model

            loaded, initial_name, _ = load_model(initial_model)
            # A copy: the loaded model may be shared with finders in this process.
            model = keras.models.clone_model(loaded)
            model.set_weights(loaded.get_weights())
            log(f'starting from the weights of {initial_name}')
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate), loss=asidl_loss, jit_compile=True
        )
        # A fine-tuned network keeps the initial model's architecture.
        fresh = initial_model is None
        state = {
            'epoch': 0,
            'best_dice': -1.0,
            'history': [],
            'config': {
                'base_filters': base_filters if fresh else None,
                'depth': depth if fresh else None,
                'input_stride': input_stride if fresh else None,
                'frame_shape': list(frame_shape),
                'batch_size': batch_size,
                'steps_per_epoch': steps_per_epoch,
                'learning_rate': learning_rate,
                'seed': seed,
                'initial_model': None if fresh else str(initial_name),
                'validation_fwhm': 'true',
            },
        }

    val_frames = validation_frames(n_validation, seed=seed + 12345, draw=draw)
    for epoch in range(state['epoch'], epochs):
        lr = learning_rate_at(epoch, epochs, learning_rate)
        model.optimizer.learning_rate.assign(lr)
        stream = TrainingStream(
            seed + 1000 * (epoch + 1),
            frame_shape=frame_shape,
            batch_size=batch_size,
            fresh_per_batch=2,
            draw=draw,
        )
        t0 = time.perf_counter()
        # The stream draws fresh random frames: nothing to shuffle.
        fit = model.fit(
            stream.batches(),
            steps_per_epoch=steps_per_epoch,
            epochs=1,
            shuffle=False,
            verbose=verbose,
        )
        # Runs begun before validation_fwhm existed keep measuring the FWHM,
        # so that their best epoch is chosen on one scale.
        scores = validate(
            model, val_frames, fwhm=state['config'].get('validation_fwhm', 'measured')
        )
        seconds = time.perf_counter() - t0
        entry = {
            'epoch': epoch + 1,
            'loss': float(fit.history['loss'][-1]),
            'learning_rate': float(lr),
            'seconds': round(seconds, 1),
            **scores,
        }
        state['history'].append(entry)
        state['epoch'] = epoch + 1
        _save_atomic(model, last_path)
        if scores['dice'] > state['best_dice']:
            state['best_dice'] = scores['dice']
            _save_atomic(model, best_path)
        tmp = state_path.with_suffix('.tmp')
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, state_path)
        log(
            f'epoch {epoch + 1}/{epochs}: loss {entry["loss"]:.4f}  val Dice {scores["dice"]:.4f} '
            f'(TP {scores["tp"]} FP {scores["fp"]} FN {scores["fn"]})  '
            f'RMS {scores["rms"]:.3f} px  lr {lr:.2e}  {seconds:.0f} s'
        )
    return state['history']
