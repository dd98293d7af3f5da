# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Shared test fixtures, and the ``slow`` marker.

Tests marked ``@pytest.mark.slow`` (training runs, worker processes, whole
batch runs) are skipped unless pytest is given ``--run-slow`` (an option of
pytest-skip-slow, which pytest-astropy brings); CI and tox run them.
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import pytest  # noqa: E402

from asidl.datasets import FrameParameters, simulate_frame  # noqa: E402

#: A tiny network and training run: seconds, not minutes, and enough to
#: exercise checkpoints, resuming and export.
TINY_TRAINING = dict(
    steps_per_epoch=2,
    batch_size=2,
    frame_shape=(32, 32),
    base_filters=2,
    depth=2,
    n_validation=1,
    verbose=0,
)


@pytest.fixture(scope='session')
def finder():
    """The finder with the shipped default model."""
    from asidl import UNetLoGFinder

    return UNetLoGFinder()


@pytest.fixture(scope='session')
def finder_at_fwhm(frame):
    """
    The default finder told the FWHM of ``frame``'s stars, for tests of
    something else on parts of it (masked, cut out) that hold too few stars
    to measure the FWHM.
    """
    from asidl import UNetLoGFinder

    return UNetLoGFinder(fwhm=frame.parameters.fwhm)


@pytest.fixture(scope='session')
def frame():
    """A 160x192 simulated raw frame, moderately crowded, without artifacts."""
    params = FrameParameters(
        shape=(160, 192), density=40.0, fwhm=3.5, sky=300.0, read_noise=8.0, bias=800.0, gain=1.5
    )
    return simulate_frame(params, seed=42)


@pytest.fixture(scope='session')
def catalog(finder, frame):
    """The default finder's catalog of ``frame``."""
    return finder(frame.data)


@pytest.fixture(scope='session')
def tiny_training(tmp_path_factory):
    """
    The checkpoint directory and history of one uninterrupted two-epoch
    run of `~asidl.training.train.train` on a tiny network, shared by the
    tests that need a trained model.  Tests must not write into it.
    """
    from asidl.training.train import train

    directory = tmp_path_factory.mktemp('tiny_training')
    history = train(directory, epochs=2, log=None, **TINY_TRAINING)
    return directory, history
