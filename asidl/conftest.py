# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Shared test fixtures."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import pytest  # noqa: E402

from asidl.simulate import FrameParameters, simulate_frame  # noqa: E402


@pytest.fixture(scope='session')
def finder():
    """The finder with the shipped default model."""
    from asidl import UNetLoGFinder

    return UNetLoGFinder()


@pytest.fixture(scope='session')
def frame():
    """A 160x192 simulated raw frame, moderately crowded, without artifacts."""
    params = FrameParameters(shape=(160, 192), density=40.0, fwhm=3.5, sky=300.0,
                             read_noise=8.0, bias=800.0, gain=1.5)
    return simulate_frame(params, seed=42)


@pytest.fixture(scope='session')
def catalog(finder, frame):
    """The default finder's catalog of ``frame``."""
    return finder(frame.data)
