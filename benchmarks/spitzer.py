# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Real data: the Spitzer IRAC 4.5 micron GLIMPSE mosaic from the
photutils-datasets collection, an instrument the model never saw.

Runs UNetLoGFinder on the image given as NDData with its WCS and measures
the fraction of the GLIMPSE catalog sources recovered within 2.4 arcsec
and the median offset of the matches; DAOStarFinder (background
subtracted, FWHM 1.5 pixels) is measured the same way at several
thresholds.  The data are not part of asidl: pass the directory holding
``spitzer_example_image.fits`` and ``spitzer_example_catalog.xml``.
Writes ``benchmarks/results/spitzer.ecsv``.
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, str(Path(__file__).parent))

import astropy.units as u  # noqa: E402
import numpy as np  # noqa: E402
from astropy.coordinates import SkyCoord  # noqa: E402
from astropy.io import fits  # noqa: E402
from astropy.nddata import NDData  # noqa: E402
from astropy.table import QTable, Table  # noqa: E402
from astropy.wcs import WCS  # noqa: E402
from common import save_result  # noqa: E402

from asidl import UNetLoGFinder  # noqa: E402
from asidl.evaluation import classical_finders  # noqa: E402

RADIUS = 2.4 * u.arcsec


def recovery(catalog, tbl, wcs):
    """
    Fraction of catalog sources with a detection within RADIUS, the median
    offset of those matches, their mean offset (detection minus catalog) in
    galactic longitude and latitude, and the median offset once that mean is
    removed (the scatter a finder is responsible for, free of any
    systematic shift between the image's WCS and the catalog).
    """
    if tbl is None or len(tbl) == 0:
        return 0.0, np.nan, 0, np.nan, np.nan, np.nan
    if 'sky_centroid' in tbl.colnames:
        sky = tbl['sky_centroid']
    else:
        sky = wcs.pixel_to_world(tbl['x_centroid'], tbl['y_centroid'])
    sky = sky.galactic
    idx, sep, _ = catalog.match_to_catalog_sky(sky)
    ok = sep < RADIUS
    found, ref = sky[idx[ok]], catalog[ok]
    dl = ((found.l - ref.l).wrap_at(180 * u.deg) * np.cos(ref.b.radian)).to_value(u.arcsec)
    db = (found.b - ref.b).to_value(u.arcsec)
    scatter = np.median(np.hypot(dl - dl.mean(), db - db.mean()))
    return (
        float(ok.mean()),
        float(np.median(sep[ok].to_value(u.arcsec))),
        len(tbl),
        float(dl.mean()),
        float(db.mean()),
        float(scatter),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('data_dir', help='directory with the Spitzer image and catalog')
    parser.add_argument('--model', default='asidl-default')
    parser.add_argument('--output', default='benchmarks/results/spitzer.ecsv')
    args = parser.parse_args(argv)

    data_dir = Path(args.data_dir)
    with fits.open(data_dir / 'spitzer_example_image.fits') as hdul:
        data = np.array(hdul[0].data, dtype=float)
        wcs = WCS(hdul[0].header)
    cat = Table.read(data_dir / 'spitzer_example_catalog.xml')
    catalog = SkyCoord(cat['l'], cat['b'], unit='deg', frame='galactic')

    rows = []
    for threshold in (0.2, 0.3, 0.5):
        finder = UNetLoGFinder(model=args.model, precision='f32', threshold=threshold)
        frac, offset, n, dl, db, scatter = recovery(catalog, finder(NDData(data, wcs=wcs)), wcs)
        rows.append((f'UNetLoGFinder (threshold {threshold})', n, frac, offset, dl, db, scatter))
    for nsigma in (3, 5, 10):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            dao = classical_finders(data, fwhm=1.5, nsigma=nsigma)['DAOStarFinder']
            frac, offset, n, dl, db, scatter = recovery(catalog, dao(data), wcs)
        rows.append((f'DAOStarFinder ({nsigma} sigma)', n, frac, offset, dl, db, scatter))
    table = QTable(
        rows=rows,
        names=(
            'finder',
            'N',
            'recovered',
            'median_offset_arcsec',
            'mean_dl_arcsec',
            'mean_db_arcsec',
            'median_offset_minus_mean_arcsec',
        ),
    )
    for name in table.colnames[2:]:
        table[name].info.format = '.3f'
    table.meta['catalog'] = f'GLIMPSE, {len(cat)} sources; match radius {RADIUS}'
    table.pprint()
    save_result(table, args.output)


if __name__ == '__main__':
    main()
