# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The README's quick start and CI run the same commands."""

from pathlib import Path

import pytest


@pytest.fixture
def source_root(pytestconfig):
    """
    The source checkout: the package's parent when run from one, else
    pytest's rootdir (tox runs the installed package, with the checkout's
    pyproject.toml as its configuration).
    """
    for root in (Path(__file__).parents[2], pytestconfig.rootpath):
        if (root / 'README.rst').exists() and (root / '.ci' / 'run').exists():
            return root
    pytest.skip('not run from a source checkout')


def test_ci_runs_the_readme_test_command_and_the_slow_tests(source_root):
    readme = (source_root / 'README.rst').read_text()
    ci = (source_root / '.ci' / 'run').read_text().splitlines()
    quick_start = [line.strip() for line in readme.splitlines() if 'pip install' in line]
    assert quick_start == [
        'python -m pip install . && asidl demo',
        'python -m pip install ".[test]" && python -m pytest',
    ]
    assert quick_start[1] in ci
    # The quick start skips the slow tests; CI runs them after it.
    assert 'python -m pytest -m slow --run-slow' in ci


def test_tox_runs_the_slow_tests(source_root):
    tox = (source_root / 'tox.ini').read_text().splitlines()
    pytest_lines = [line.strip() for line in tox if line.strip().startswith('pytest ')]
    assert pytest_lines == ['pytest --pyargs asidl {toxinidir}/docs --run-slow {posargs}']


def test_ci_builds_the_docs_with_warnings_as_errors(source_root):
    ci = (source_root / '.ci' / 'run').read_text().splitlines()
    tox = (source_root / 'tox.ini').read_text()
    assert 'tox -e build_docs' in ci
    build = [line for line in tox.splitlines() if 'sphinx-build' in line]
    assert len(build) == 1 and ' -W ' in build[0]
