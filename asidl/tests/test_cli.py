# Licensed under a 3-clause BSD style license - see LICENSE.rst
import subprocess
import sys

import pytest

from asidl.cli import main


def test_help_runs_as_a_command():
    out = subprocess.run([sys.executable, '-m', 'asidl.cli', '--help'], capture_output=True,
                         text=True, check=True).stdout
    assert 'demo' in out and 'train' in out


def test_demo(tmp_path, capsys):
    png = tmp_path / 'overlay.png'
    assert main(['demo', '--output', str(png)]) == 0
    out = capsys.readouterr().out
    assert 'UNetLoGFinder found' in out and 'DAOStarFinder' in out and 'Dice' in out
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_unknown_command_fails():
    with pytest.raises(SystemExit) as err:
        main(['no-such-command'])
    assert err.value.code == 2
