# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Write each ``benchmarks/results/*.ecsv`` as an RST table beside it, for the
documentation to include.
"""

from pathlib import Path

from astropy.table import QTable


def main():
    for path in sorted(Path(__file__).parent.joinpath('results').glob('*.ecsv')):
        if path.name.startswith(('large_frame', 'worker_memory')):
            continue  # these scripts write their own tables
        table = QTable.read(path)
        for name in table.colnames:
            if table[name].dtype.kind == 'f':
                table[name].info.format = '.3f'
        table.write(path.with_suffix('.rst'), format='ascii.rst', overwrite=True)
        print(f'wrote {path.with_suffix(".rst")}')


if __name__ == '__main__':
    main()
