# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Marks the documentation pages whose examples are slow (run with --run-slow)."""

import pytest

# training.rst trains a network and compares finders on a 256x256 frame.
SLOW_PAGES = {'training.rst'}


# tryfirst: before pytest-skip-slow skips what is marked slow.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name in SLOW_PAGES and item.path.parent.name == 'docs':
            item.add_marker(pytest.mark.slow)
