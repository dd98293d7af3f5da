# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The README's quick start and CI run the same commands."""

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.skipif(not (ROOT / 'README.rst').exists(), reason='not run from a source checkout')
def test_ci_runs_the_readme_test_command():
    readme = (ROOT / 'README.rst').read_text()
    ci = (ROOT / '.ci' / 'run').read_text()
    quick_start = [line.strip() for line in readme.splitlines() if 'pip install' in line]
    assert quick_start == ['python -m pip install . && asidl demo',
                           'python -m pip install ".[test]" && python -m pytest']
    assert quick_start[1] in ci.splitlines()


@pytest.mark.skipif(not (ROOT / 'README.rst').exists(), reason='not run from a source checkout')
def test_ci_builds_the_docs_with_warnings_as_errors():
    ci = (ROOT / '.ci' / 'run').read_text().splitlines()
    tox = (ROOT / 'tox.ini').read_text()
    assert 'tox -e build_docs' in ci
    build = [line for line in tox.splitlines() if 'sphinx-build' in line]
    assert len(build) == 1 and ' -W ' in build[0]
