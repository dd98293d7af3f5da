# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
DAOStarFinder-compatible catalogs (`asidl.catalog`), and the documented
photutils 3 detection and PSF-photometry examples (docs/user_guide/
detection.rst and psf.rst of photutils 3.0.0) run with ``UNetLoGFinder()``
in place of ``DAOStarFinder``.

The detection example loads an HST image over the network; here a
simulated star field of the same kind stands in for it (local data only).
"""

import warnings

import astropy.units as u
import numpy as np
import photutils
import pytest
from astropy.stats import sigma_clipped_stats
from astropy.table import QTable
from astropy.utils.exceptions import AstropyDeprecationWarning
from numpy.testing import assert_allclose, assert_array_equal
from photutils.aperture import CircularAperture, aperture_photometry
from photutils.background import LocalBackground, MMMBackground
from photutils.datasets import make_noise_image
from photutils.detection import DAOStarFinder
from photutils.psf import (
    CircularGaussianPRF,
    IterativePSFPhotometry,
    PSFPhotometry,
    make_psf_model_image,
)
from photutils.utils.exceptions import NoDetectionsWarning
from scipy.spatial import cKDTree

from asidl import UNetLoGFinder
from asidl.catalog import UNetLoGCatalog, catalog_table
from asidl.fwhm import FWHMWarning
from asidl.io import empty_catalog, write_catalog
from asidl.photometry import SHAPE_COLUMNS, dao_shape_columns, shape_columns

#: photutils 3's renamed star-finder columns that asidl's tables have.
RENAMED = {'xcentroid': 'x_centroid', 'ycentroid': 'y_centroid', 'npix': 'n_pixels'}


@pytest.fixture(scope='module')
def psf_example():
    """The image of psf.rst: ten Gaussian stars (FWHM 2.7) in Gaussian noise."""
    psf_model = CircularGaussianPRF(flux=1, fwhm=2.7)
    data, true_params = make_psf_model_image(
        (101, 101), psf_model, 10, model_shape=(9, 9), flux=(500, 700), min_separation=10, seed=0
    )
    noise = make_noise_image(data.shape, mean=0, stddev=1, seed=0)
    data += noise
    return data, np.abs(noise), true_params


@pytest.fixture(scope='module')
def star_field():
    """
    A stand-in for detection.rst's image: 80 undersampled stars (FWHM 2.5)
    on a sky of 10 with noise 5, and its sigma-clipped median and std.
    """
    psf_model = CircularGaussianPRF(flux=1, fwhm=2.5)
    data, true_params = make_psf_model_image(
        (256, 256), psf_model, 80, model_shape=(11, 11), flux=(500, 20000), min_separation=8, seed=1
    )
    data += make_noise_image(data.shape, distribution='gaussian', mean=10.0, stddev=5.0, seed=0)
    mean, median, std = sigma_clipped_stats(data, sigma=3.0)
    return data, true_params, median, std


@pytest.fixture(scope='module')
def sources(finder, star_field):
    """``sources = finder(data - median)``, as detection.rst calls DAOStarFinder."""
    data, _, median, _ = star_field
    return finder(data - median)


def _true_star_rows(table, true_params, radius=1.0):
    """Indices of the rows of ``table`` within ``radius`` of a true star."""
    xy = np.column_stack([table['x_centroid'], table['y_centroid']])
    dist, _ = cKDTree(np.column_stack([true_params['x_0'], true_params['y_0']])).query(xy)
    return np.flatnonzero(dist < radius)


# --------------------------------------------------------------------------
# The table class and photutils' old column names


def test_table_class_is_daostarfinders(sources, star_field):
    data, _, median, std = star_field
    dao = DAOStarFinder(5.0 * std, fwhm=2.5, sharpness_range=(0.2, 1.5))(data - median)
    assert type(sources) is type(dao)
    assert type(sources).__name__ == 'DeprecatedColumnQTable'
    assert set(SHAPE_COLUMNS) <= set(sources.colnames) & set(dao.colnames)


@pytest.mark.parametrize(('old', 'new'), RENAMED.items())
def test_old_names_work_with_daostarfinders_warning(sources, star_field, old, new):
    data, _, median, std = star_field
    dao = DAOStarFinder(5.0 * std, fwhm=2.5)(data - median)
    with pytest.warns(AstropyDeprecationWarning) as ours:
        column = sources[old]
    with pytest.warns(AstropyDeprecationWarning) as theirs:
        dao[old]
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert f"'{old}' was deprecated" in str(ours[0].message)
    assert_array_equal(column, sources[new])
    with pytest.warns(AstropyDeprecationWarning):
        assert old in sources


def test_new_names_do_not_warn(sources):
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        np.transpose((sources['x_centroid'], sources['y_centroid'], sources['n_pixels']))


def test_future_column_names_give_a_plain_qtable(finder, psf_example, monkeypatch):
    data = psf_example[0]
    with photutils.use_future_column_names():
        table = finder(data)
        empty = empty_catalog(finder, data)
        assert type(catalog_table()) is QTable
    assert type(table) is QTable and type(empty) is QTable
    assert 'sharpness' in table.colnames
    with pytest.raises(KeyError):
        table['xcentroid']
    monkeypatch.setattr(photutils, 'future_column_names', True)
    assert type(finder(data)) is QTable
    monkeypatch.setattr(photutils, 'future_column_names', False)
    assert type(finder(data)) is not QTable


def test_empty_catalogs_are_daostarfinder_tables_and_write_the_new_names(finder, sources, tmp_path):
    empty = empty_catalog(finder, np.zeros((64, 64)))
    assert type(empty) is type(sources)
    assert empty.colnames == sources.colnames
    assert empty['n_pixels'].dtype.kind == 'i' and empty['sharpness'].dtype.kind == 'f'
    with pytest.warns(AstropyDeprecationWarning):
        assert len(empty['xcentroid']) == 0
    for table, name in ((sources, 'found'), (empty, 'empty')):
        for suffix in ('.ecsv', '.fits'):
            path = write_catalog(table, tmp_path / f'{name}{suffix}')
            back = QTable.read(path)
            assert back.colnames == sources.colnames
            assert len(back) == len(table)
    back = QTable.read(tmp_path / 'found.fits')
    assert_allclose(back['roundness1'], sources['roundness1'])
    assert_array_equal(back['n_pixels'], sources['n_pixels'])


# --------------------------------------------------------------------------
# The shape columns


def test_shape_columns_are_daostarfinders_own(star_field):
    """At the same positions, the numbers DAOStarFinder puts in its table."""
    data, true_params, median, std = star_field
    xy = np.column_stack([true_params['x_0'], true_params['y_0']])
    dao = DAOStarFinder(
        5.0 * std, fwhm=2.5, xycoords=xy, sharpness_range=None, roundness_range=None
    )(data - median)
    assert len(dao) == len(xy)  # none dropped, so the rows correspond
    ours = dao_shape_columns(data - median, xy[:, 0], xy[:, 1], 2.5)
    assert list(ours) == list(SHAPE_COLUMNS)
    for name in SHAPE_COLUMNS:
        assert_allclose(ours[name], dao[name], rtol=1e-12, err_msg=name)
    # Scale and a constant offset do not change them.
    scaled = dao_shape_columns(3.0 * data + 100.0, xy[:, 0], xy[:, 1], 2.5)
    for name in SHAPE_COLUMNS:
        assert_allclose(scaled[name], ours[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_shape_columns_without_an_fwhm_are_nan():
    columns = dao_shape_columns(None, [3.0, 4.0], [5.0, 6.0], None)
    assert np.isnan(columns['sharpness']).all() and np.isnan(columns['roundness2']).all()
    assert_array_equal(columns['n_pixels'], [0, 0])


def test_finder_shape_columns_match_daostarfinder(sources, star_field):
    """
    The finder's columns (its own background and measured FWHM) match
    DAOStarFinder's at its positions on ``data - median``.
    """
    data, true_params, median, std = star_field
    assert sources.meta['fwhm_source'] == 'measured'
    assert sources.meta['fwhm'] == pytest.approx(2.5, abs=0.1)
    assert_array_equal(sources['n_pixels'], 25)  # DAOStarFinder's 5x5 kernel at FWHM 2.5
    stars = _true_star_rows(sources, true_params)
    assert stars.size == len(true_params)
    x, y = sources['x_centroid'][stars], sources['y_centroid'][stars]
    dao = dao_shape_columns(data - median, x, y, sources.meta['fwhm'])
    for name in SHAPE_COLUMNS:
        assert_allclose(sources[name][stars], dao[name], atol=1e-3, err_msg=name)
    # Round stars, as DAOStarFinder sees them.
    assert (np.abs(sources['roundness1'][stars]) < 0.5).all()
    assert (np.abs(sources['roundness2'][stars]) < 0.2).all()
    assert ((sources['sharpness'][stars] > 0.4) & (sources['sharpness'][stars] < 0.7)).all()


def test_shape_columns_in_bands_match_the_whole_image(finder, sources, star_field):
    """The finder measures them a band of rows at a time; seams change nothing."""
    from asidl.background import background_map
    from asidl.prepare import prepare_image

    data, _, median, _ = star_field
    image = prepare_image(data - median)
    bkg = background_map(image.data, image.valid)
    x, y, fwhm = sources['x_centroid'], sources['y_centroid'], sources.meta['fwhm']
    whole = shape_columns(image, bkg, x, y, fwhm, rows=image.data.shape[0])
    banded = shape_columns(image, bkg, x, y, fwhm, rows=16)
    for name in SHAPE_COLUMNS:
        assert_allclose(banded[name], whole[name], rtol=1e-10, atol=1e-12, err_msg=name)
    assert_allclose(whole['sharpness'], sources['sharpness'], rtol=1e-10)


def test_roundness_and_sharpness_cuts(sources, star_field):
    """
    DAOStarFinder's default cuts on asidl's table keep what DAOStarFinder
    keeps at asidl's positions: every star, not every noise peak.
    """
    data, true_params, median, std = star_field
    cut = (
        (sources['sharpness'] >= 0.2)
        & (sources['sharpness'] <= 1.0)
        & (sources['roundness1'] >= -1.0)
        & (sources['roundness1'] <= 1.0)
        & (sources['roundness2'] >= -1.0)
        & (sources['roundness2'] <= 1.0)
    )
    kept = sources[cut]
    assert len(_true_star_rows(kept, true_params)) == len(true_params)
    assert len(kept) < len(sources)
    xy = np.column_stack([sources['x_centroid'], sources['y_centroid']])
    dao = DAOStarFinder(5.0 * std, fwhm=sources.meta['fwhm'], xycoords=xy)(data - median)
    dist, rows = cKDTree(xy).query(np.column_stack([dao['x_centroid'], dao['y_centroid']]))
    assert (dist < 1.0).all()
    assert_array_equal(np.sort(rows), np.flatnonzero(cut))


def test_shape_columns_can_be_left_out(psf_example):
    finder = UNetLoGFinder(shape_columns=False)
    data = psf_example[0]
    table = finder(data)
    assert not set(SHAPE_COLUMNS) & set(table.colnames)
    assert empty_catalog(finder, data).colnames == table.colnames
    assert table.meta['shape_columns'] is False
    with pytest.raises(TypeError, match='shape_columns'):
        UNetLoGFinder(shape_columns='yes')


# --------------------------------------------------------------------------
# The documented examples, with UNetLoGFinder() for DAOStarFinder


def test_apertures_from_old_and_new_names(sources, star_field):
    """detection.rst: apertures at the sources, from the pre-3.0 names and the new ones."""
    data, true_params, median, _ = star_field
    with pytest.warns(AstropyDeprecationWarning) as record:
        positions = np.transpose((sources['xcentroid'], sources['ycentroid']))
    assert [str(w.message).split('.')[0] for w in record] == [
        "The column name 'xcentroid' was deprecated in version 3",
        "The column name 'ycentroid' was deprecated in version 3",
    ]
    assert_array_equal(positions, np.transpose((sources['x_centroid'], sources['y_centroid'])))
    apertures = CircularAperture(positions, r=4.0)
    phot = aperture_photometry(data - median, apertures)
    stars = _true_star_rows(sources, true_params)
    _, nearest = cKDTree(np.column_stack([true_params['x_0'], true_params['y_0']])).query(
        positions[stars]
    )
    ratio = phot['aperture_sum'][stars] / true_params['flux'][nearest]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.02)


#: psf.rst's printed results (DAOStarFinder(6.0, 2.0) as finder).
PSF_EXAMPLE_FIT = np.array(
    [
        [54.5658, 7.7644, 514.0091],
        [29.0865, 25.6111, 536.5793],
        [79.6281, 28.7487, 618.7642],
        [63.2340, 48.6408, 563.3437],
        [88.8848, 54.1202, 619.8904],
        [79.8763, 61.1380, 648.1658],
        [90.9606, 72.0861, 601.8593],
        [7.8038, 78.5734, 635.6317],
        [5.5350, 89.8870, 539.6831],
        [71.8414, 90.5842, 692.3373],
    ]
)

PSF_EXAMPLE_ITERATIVE = np.array(
    [
        [54.5665, 7.7641, 514.2650],
        [29.0883, 25.6092, 534.0850],
        [79.6273, 28.7480, 613.0496],
        [63.2340, 48.6415, 564.1528],
        [88.8856, 54.1203, 615.4907],
        [79.8765, 61.1359, 649.9589],
        [90.9631, 72.0880, 603.7433],
        [7.8203, 78.5821, 641.8223],
        [5.5350, 89.8870, 539.5237],
        [71.8485, 90.5830, 687.4573],
    ]
)


def test_psf_photometry_example(psf_example):
    data, error, _ = psf_example
    psf_model = CircularGaussianPRF(flux=1, fwhm=2.7)
    psfphot = PSFPhotometry(psf_model, (5, 5), finder=UNetLoGFinder(), aperture_radius=4)
    phot = psfphot(data, error=error)
    fit = np.column_stack([phot['x_fit'], phot['y_fit'], phot['flux_fit']])
    assert_allclose(fit, PSF_EXAMPLE_FIT, atol=0.002, rtol=1e-4)
    results = psfphot.finder_results
    for name in ('x_centroid', 'y_centroid', 'sharpness', 'peak', 'flux', 'mag'):
        assert np.isfinite(results[name]).all(), name
    assert ((results['sharpness'] > 0.2) & (results['sharpness'] < 1.0)).all()


def test_iterative_psf_photometry_example(finder, psf_example):
    data, error, _ = psf_example
    psf_model = CircularGaussianPRF(flux=1, fwhm=2.7)
    init_params = QTable()
    init_params['x'] = [54, 29, 80]
    init_params['y'] = [8, 26, 29]
    local_bkg_estimator = LocalBackground(5, 10, bkg_estimator=MMMBackground())
    psfphot2 = IterativePSFPhotometry(
        psf_model, (5, 5), finder=finder, local_bkg_estimator=local_bkg_estimator, aperture_radius=4
    )
    with warnings.catch_warnings():
        # The last iteration searches a residual image with no star left,
        # whose FWHM cannot be measured.
        warnings.simplefilter('ignore', FWHMWarning)
        phot = psfphot2(data, error=error, init_params=init_params)
    assert_array_equal(phot['iter_detected'], [1] * 3 + [2] * 7)
    fit = np.column_stack([phot['x_fit'], phot['y_fit'], phot['flux_fit']])
    # Fits agree with the documented ones to a few hundredths of a pixel
    # and a per cent (source 8 starts from a slightly different position).
    assert_allclose(fit[:, :2], PSF_EXAMPLE_ITERATIVE[:, :2], atol=0.03)
    assert_allclose(fit[:, 2], PSF_EXAMPLE_ITERATIVE[:, 2], rtol=0.01)


def test_fit_fwhm_example(finder, psf_example):
    """psf.rst: FWHMs fitted at the finder's positions."""
    from photutils.psf import fit_fwhm

    data, error, _ = psf_example
    finder_tbl = finder(data)
    xypos = list(zip(finder_tbl['x_centroid'], finder_tbl['y_centroid']))
    fwhm = fit_fwhm(data, xypos=xypos, error=error, fit_shape=(5, 5), fwhm=2)
    assert_allclose(fwhm, 2.7, atol=0.03)


# --------------------------------------------------------------------------
# The catalog object


@pytest.fixture(scope='module')
def raw_catalog(frame):
    """The finder's catalog object of ``frame`` before any filter."""
    from asidl.background import background_map
    from asidl.prepare import prepare_image

    finder = UNetLoGFinder(fwhm=3.5)
    maps = finder.network_maps(frame.data)
    peaks = maps.peaks(sigma=finder.sigma, threshold=finder.threshold, overlap=finder.overlap)
    image = prepare_image(frame.data)
    return finder, UNetLoGCatalog(
        image,
        background_map(image.data, image.valid),
        peaks,
        fwhm=3.5,
        calibration=finder.calibration,
        meta=finder.meta,
    )


def test_catalog_object_makes_the_finders_table(frame, raw_catalog):
    finder, catalog = raw_catalog
    reported = catalog.apply_all_filters()
    reference = finder(frame.data)
    table = reported.to_table()
    assert table.colnames == reference.colnames == list(catalog.default_columns)
    for name in reference.colnames:
        assert_array_equal(table[name], reference[name], err_msg=name)
    assert_array_equal(reported.id, np.arange(1, len(reported) + 1))
    # Row-major order, as photutils' finders give theirs.
    assert (np.diff(reported.peaks.iy) >= 0).all()


def test_catalog_indexing_carries_measured_columns_over(raw_catalog):
    _, catalog = raw_catalog
    catalog = catalog[:]  # a fresh copy: nothing measured yet
    flux = catalog.flux
    assert '_photometry' in catalog.__dict__ and 'xypos' not in catalog.__dict__
    brightest = catalog[np.argsort(-flux)[:5]]
    assert '_photometry' in brightest.__dict__ and len(brightest) == 5
    assert_array_equal(brightest.flux, np.sort(flux)[::-1][:5])
    # Columns measured on a subset are those of the whole catalog.
    one = catalog[3]
    assert len(one) == 1 and one.x_centroid[0] == catalog.x_centroid[3]
    assert_array_equal(catalog[catalog.flux > 0].mag, catalog.mag[catalog.flux > 0])


def test_catalog_filters(raw_catalog):
    finder, catalog = raw_catalog
    catalog = catalog[:]
    catalog.n_brightest = 7
    assert len(catalog.select_brightest()) == 7
    catalog.peak_max = float(np.median(catalog.peak))
    assert len(catalog.apply_filters()) == np.count_nonzero(catalog.peak <= catalog.peak_max)
    catalog.peak_max = -1e30
    with pytest.warns(NoDetectionsWarning, match='^No sources were found.$'):
        assert catalog.apply_all_filters() is None


def test_catalog_to_table_with_chosen_columns(raw_catalog):
    _, catalog = raw_catalog
    table = catalog.to_table(columns=['id', 'flux', 'xypos'])
    assert table.colnames == ['id', 'flux', 'xypos'] and table['xypos'].shape == (len(catalog), 2)
    assert table.meta['model'] == 'asidl-default'


@pytest.mark.parametrize('unit, wcs, shape', [(None, False, True), (u.adu, True, False)])
def test_empty_catalog_object(finder, frame, unit, wcs, shape):
    from asidl.tests.helpers import simple_wcs

    empty = UNetLoGCatalog.empty(
        unit=unit,
        wcs=simple_wcs((10, 10)) if wcs else None,
        shape_columns=shape,
        meta={'model': 'x'},
    )
    assert len(empty) == 0 and repr(empty) == '<UNetLoGCatalog(n_sources=0)>'
    table = empty.to_table()
    assert len(table) == 0 and table.meta == {'model': 'x'}
    assert ('sky_centroid' in table.colnames) == wcs
    assert (set(SHAPE_COLUMNS) <= set(table.colnames)) == shape
    assert table['flux'].unit == unit and table['id'].dtype.kind == 'i'
