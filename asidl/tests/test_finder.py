# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The photutils star-finder contract, re-implemented for UNetLoGFinder, and
its integration with photutils PSF photometry and astropy NDData.
"""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.nddata import CCDData, NDData
from astropy.table import QTable
from astropy.wcs import WCS
from numpy.testing import assert_allclose, assert_array_equal
from photutils.detection import StarFinderBase
from photutils.utils.exceptions import NoDetectionsWarning

from asidl import UNetLoGFinder
from asidl.datasets import FrameParameters, simulate_frame
from asidl.evaluation import score_detections
from asidl.fwhm import FWHMWarning

COLUMNS = [
    'id',
    'x_centroid',
    'y_centroid',
    'confidence',
    'log_response',
    'sharpness',
    'roundness1',
    'roundness2',
    'n_pixels',
    'background',
    'peak',
    'flux',
    'mag',
]


def _positions(tbl):
    return np.column_stack([tbl['x_centroid'], tbl['y_centroid']])


def test_is_a_photutils_star_finder(finder):
    assert isinstance(finder, StarFinderBase)


def test_table_columns_and_meta(catalog):
    assert isinstance(catalog, QTable)
    assert catalog.colnames == COLUMNS
    assert_array_equal(catalog['id'], np.arange(1, len(catalog) + 1))
    assert catalog.meta['model'] == 'asidl-default'
    assert catalog.meta['threshold'] == 0.2
    assert 'asidl_version' in catalog.meta
    assert np.all((catalog['confidence'] >= 0) & (catalog['confidence'] <= 1))
    assert np.all(catalog['log_response'] > 0.2)


def test_finds_the_stars(frame, catalog):
    """The shipped model recovers the simulated stars, bright ones to sub-pixel accuracy."""
    from asidl.evaluation import match_sources

    t = frame.targets
    s = score_detections(catalog['x_centroid'], catalog['y_centroid'], t['x'], t['y'])
    assert s['dice'] > 0.65
    di, ti = match_sources(catalog['x_centroid'], catalog['y_centroid'], t['x'], t['y'])
    bright = t['snr'][ti] > 20
    err = np.hypot(catalog['x_centroid'][di] - t['x'][ti], catalog['y_centroid'][di] - t['y'][ti])
    assert bright.sum() > 10
    assert np.median(err[bright]) < 0.15


def test_call_equals_find_stars(finder, frame, catalog):
    tbl = finder.find_stars(frame.data)
    assert_array_equal(_positions(tbl), _positions(catalog))


def test_repeated_calls_identical(finder, frame, catalog):
    tbl = finder(frame.data)
    for col in COLUMNS:
        assert_array_equal(tbl[col], catalog[col])


def test_input_not_modified(finder_at_fwhm, frame):
    data = frame.data.copy()
    mask = np.zeros(data.shape, bool)
    mask[:20] = True
    data[5, 5] = np.nan
    before_data, before_mask = data.copy(), mask.copy()
    finder_at_fwhm(data, mask=mask)
    assert_array_equal(data, before_data)
    assert_array_equal(mask, before_mask)


def test_no_sources_returns_none_and_warns(finder):
    # Without stars, their FWHM cannot be measured either.
    with pytest.warns(NoDetectionsWarning), pytest.warns(FWHMWarning):
        assert finder(np.full((64, 64), 1000.0)) is None
    with pytest.warns(NoDetectionsWarning):
        assert UNetLoGFinder(fwhm=3.0)(np.full((64, 64), 1000.0)) is None


def test_all_masked_returns_none_and_warns(finder, frame):
    with pytest.warns(NoDetectionsWarning):
        assert finder(frame.data, mask=np.ones(frame.data.shape, bool)) is None
    with pytest.warns(NoDetectionsWarning):
        assert finder(np.full((40, 40), np.nan)) is None


def test_mask_reduces_sources(finder_at_fwhm, frame, catalog):
    mask = np.zeros(frame.data.shape, bool)
    mask[:, :96] = True
    tbl = finder_at_fwhm(frame.data, mask=mask)
    assert len(tbl) < len(catalog)
    assert np.all(tbl['x_centroid'] > 93)


def test_integer_mask_equals_boolean_mask(finder, frame):
    mask = np.zeros(frame.data.shape, bool)
    mask[40:90, 30:120] = True
    t_bool = finder(frame.data, mask=mask)
    t_int = finder(frame.data, mask=mask.astype(np.int32) * 7)
    assert_array_equal(_positions(t_bool), _positions(t_int))


def test_nan_region_counts_as_masked(finder, frame):
    data = frame.data.copy()
    data[60:100, 50:140] = np.nan
    mask = np.zeros(data.shape, bool)
    mask[60:100, 50:140] = True
    t_nan = finder(data)
    t_mask = finder(frame.data, mask=mask)
    assert_array_equal(_positions(t_nan), _positions(t_mask))
    inside = (
        (t_nan['y_centroid'] > 61)
        & (t_nan['y_centroid'] < 98)
        & (t_nan['x_centroid'] > 51)
        & (t_nan['x_centroid'] < 138)
    )
    assert not inside.any()


def test_masked_array_and_nddata_masks(finder_at_fwhm, frame):
    finder = finder_at_fwhm
    mask = np.zeros(frame.data.shape, bool)
    mask[:80] = True
    expected = _positions(finder(frame.data, mask=mask))
    masked = np.ma.MaskedArray(frame.data, mask=mask)
    assert_array_equal(_positions(finder(masked)), expected)
    assert_array_equal(_positions(finder(NDData(frame.data, mask=mask))), expected)


def test_exclude_border(frame, catalog):
    finder = UNetLoGFinder(exclude_border=True)
    tbl = finder(frame.data)
    ny, nx = frame.data.shape
    assert len(tbl) < len(catalog)
    assert np.all((tbl['x_centroid'] >= 2) & (tbl['x_centroid'] <= nx - 3))
    assert np.all((tbl['y_centroid'] >= 2) & (tbl['y_centroid'] <= ny - 3))


def test_n_brightest(frame, catalog):
    tbl = UNetLoGFinder(n_brightest=10)(frame.data)
    assert len(tbl) == 10
    assert_array_equal(tbl['id'], np.arange(1, 11))
    assert np.min(tbl['flux']) >= np.sort(catalog['flux'])[-10]


def test_peak_max(frame, catalog):
    limit = float(np.median(catalog['peak']))
    tbl = UNetLoGFinder(peak_max=limit)(frame.data)
    assert 0 < len(tbl) < len(catalog)
    assert np.all(tbl['peak'] <= limit)


def test_dtypes_and_byte_order(finder, frame, catalog):
    as_int = np.round(frame.data).astype(np.int32)
    big_endian = frame.data.astype('>f8')
    for data in (as_int, big_endian, as_int.astype(np.uint16)):
        tbl = finder(data)
        s = score_detections(
            tbl['x_centroid'],
            tbl['y_centroid'],
            catalog['x_centroid'],
            catalog['y_centroid'],
            radius=0.5,
        )
        assert s['dice'] > 0.95


def test_quantity_units_carried(finder, frame, catalog):
    tbl = finder(frame.data * u.adu)
    assert_array_equal(_positions(tbl), _positions(catalog))
    for col in ('peak', 'flux', 'background'):
        assert tbl[col].unit == u.adu
        assert_allclose(tbl[col].value, catalog[col])
    assert not hasattr(tbl['mag'], 'unit') or tbl['mag'].unit in (None, u.dimensionless_unscaled)


def test_quantity_peak_max(frame, catalog):
    limit = float(np.median(catalog['peak']))
    tbl = UNetLoGFinder(peak_max=limit * u.adu)(frame.data * u.adu)
    assert np.all(tbl['peak'] <= limit * u.adu) and 0 < len(tbl) < len(catalog)
    # The same limit in another, convertible unit is converted to the data's
    # unit: mJy for data in Jy. Taken as a number it would keep every source.
    jy = UNetLoGFinder(peak_max=limit * u.Jy)(frame.data * u.Jy)
    mjy = UNetLoGFinder(peak_max=1000 * limit * u.mJy)(frame.data * u.Jy)
    assert len(mjy) == len(jy) == len(tbl)
    assert np.all(mjy['peak'] <= limit * u.Jy) and mjy['peak'].unit == u.Jy


def test_quantity_unit_mismatch_refused(frame):
    with pytest.raises(ValueError, match='peak_max'):
        UNetLoGFinder(peak_max=10 * u.Jy)(frame.data * u.adu)
    with pytest.raises(ValueError, match='peak_max'):
        UNetLoGFinder(peak_max=10.0)(frame.data * u.adu)
    with pytest.raises(ValueError, match='peak_max'):
        UNetLoGFinder(peak_max=10 * u.adu)(frame.data)


def test_nddata_with_wcs_gives_sky_centroid(finder, frame, catalog):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    wcs.wcs.crval = [150.0, 2.0]
    wcs.wcs.crpix = [96, 80]
    wcs.wcs.cdelt = [-0.56 / 3600, 0.56 / 3600]
    for nd in (NDData(frame.data, wcs=wcs, unit='adu'), CCDData(frame.data, wcs=wcs, unit='adu')):
        tbl = finder(nd)
        assert isinstance(tbl['sky_centroid'], SkyCoord)
        expected = wcs.pixel_to_world(tbl['x_centroid'], tbl['y_centroid'])
        assert_allclose(tbl['sky_centroid'].separation(expected).arcsec, 0, atol=1e-6)
        assert tbl['flux'].unit == u.adu
        assert len(tbl) == len(catalog)


@pytest.mark.parametrize(
    'make, factor',
    [
        (lambda d: np.round(d).astype(np.uint64) + np.uint64(2**40), 1.0),
        (lambda d: d.astype(np.float64) + 1e9, 1.0),
        (lambda d: d.astype(np.float64) * 1e36, 1e36),  # finite, beyond float32
        (lambda d: d.astype(np.float64) * 1e-60, 1e-60),  # finite, below float32
    ],
)
def test_large_offsets_do_not_lose_stars(finder, frame, catalog, make, factor):
    """Data float32 cannot hold to the noise are shifted first (uint64 + 2**40 found nothing)."""
    data = make(frame.data)
    tbl = finder(data)
    assert tbl is not None
    s = score_detections(
        tbl['x_centroid'],
        tbl['y_centroid'],
        catalog['x_centroid'],
        catalog['y_centroid'],
        radius=0.5,
    )
    assert s['dice'] > 0.95
    # Levels are reported in the data's own terms.
    level = np.median(data.astype(np.float64))
    assert abs(np.median(tbl['background']) - level) < 0.01 * abs(level)
    assert_allclose(np.median(tbl['flux']), factor * np.median(catalog['flux']), rtol=0.2)


@pytest.mark.parametrize('unit', ['mag', 'dex', 'deg'])
def test_flux_columns_never_come_out_in_non_flux_units(finder, frame, unit):
    for data in (
        frame.data * u.Unit(unit),
        NDData(frame.data, unit=unit),
        CCDData(frame.data, unit=unit),
    ):
        with pytest.raises(ValueError, match=f'unit {unit}, which is .*not a flux'):
            finder(data)


def test_unusable_wcs_gives_the_table_without_sky_centroid(finder, frame, catalog):
    from astropy.utils.exceptions import AstropyUserWarning

    from asidl.tests.helpers import simple_wcs

    wcs = simple_wcs(frame.data.shape)
    wcs.wcs.cdelt = [0, 0]  # singular: pixel_to_world raises InvalidTransformError
    with pytest.warns(AstropyUserWarning, match='no sky_centroid'):
        tbl = finder(CCDData(frame.data, wcs=wcs, unit='adu'))
    assert 'sky_centroid' not in tbl.colnames and len(tbl) == len(catalog)


@pytest.mark.parametrize(
    'bad, exc, match',
    [
        (np.zeros((3, 4, 5)), ValueError, '2D'),
        (np.zeros(10), ValueError, '2D'),
        (np.zeros((0, 5)), ValueError, 'empty'),
        (np.array([['a', 'b'], ['c', 'd']]), TypeError, 'numeric'),
        (np.ones((4, 4), dtype=complex), TypeError, 'numeric'),
        (np.ones((4, 4), dtype=bool), TypeError, 'numeric'),
    ],
)
def test_bad_data(finder, bad, exc, match):
    with pytest.raises(exc, match=match):
        finder(bad)


def test_bad_mask(finder):
    data = np.zeros((20, 20))
    with pytest.raises(ValueError, match='same shape'):
        finder(data, mask=np.zeros((10, 20), bool))
    with pytest.raises(TypeError, match='mask'):
        finder(data, mask=np.zeros((20, 20), float))


@pytest.mark.parametrize(
    'kwargs, match',
    [
        ({'sigma': 0}, 'sigma'),
        ({'threshold': -1}, 'threshold'),
        ({'overlap': 1.5}, 'overlap'),
        ({'n_brightest': 0}, 'n_brightest'),
        ({'n_brightest': 2.5}, 'n_brightest'),
        ({'peak_max': -3}, 'peak_max'),
        ({'tile_size': 100}, 'tile_size'),
        ({'tile_size': 64, 'tile_margin': 30}, 'tile_margin'),
        ({'batch_size': 0}, 'batch_size'),
        ({'normalization': 'zscore'}, 'normalization'),
        ({'model': 'no-such-model'}, 'asidl-default'),
        ({'model': 'missing/file.keras'}, 'does not exist'),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UNetLoGFinder(**kwargs)


@pytest.mark.parametrize(
    'kwargs, match',
    [
        ({'sigma': np.inf}, '^sigma must be a finite positive number'),
        ({'sigma': np.nan}, '^sigma must be a positive number'),
        ({'sigma': 1e6}, '^sigma must be at most 120 pixels'),
        ({'sigma': 5.0, 'tile_size': 64, 'tile_margin': 16}, '^sigma must be at most 4 pixels'),
        ({'threshold': np.inf}, '^threshold must be a finite positive number'),
        ({'tile_size': 0}, '^tile_size must be a positive integer multiple of 32'),
        ({'tile_size': -64}, '^tile_size must be a positive integer multiple of 32'),
        ({'tile_size': True}, '^tile_size'),
        ({'tile_size': 64.0}, '^tile_size'),
        ({'tile_margin': -1}, '^tile_margin must be a non-negative integer'),
        ({'tile_margin': 2.5}, '^tile_margin must be a non-negative integer'),
        ({'tile_size': 32, 'tile_margin': 32}, '^tile_margin must leave at least half'),
    ],
)
def test_unusable_parameters_are_refused_up_front(kwargs, match):
    """Each named in its own message, before any model is loaded or any data seen."""
    with pytest.raises(ValueError, match=match):
        UNetLoGFinder(**kwargs)


def test_bad_parameter_types():
    with pytest.raises(TypeError, match='exclude_border'):
        UNetLoGFinder(exclude_border='yes')
    with pytest.raises(TypeError, match='model'):
        UNetLoGFinder(model=42)


def test_positional_options_refused():
    with pytest.raises(TypeError):
        UNetLoGFinder('asidl-default')


def test_small_images():
    """Images smaller than a tile work, including a single star on a tiny frame."""
    finder = UNetLoGFinder(fwhm=3.0)  # one star is too few to measure it
    params = FrameParameters(shape=(24, 40), density=0.0, fwhm=3.0, sky=200, bias=300)
    blank = simulate_frame(params, seed=1).data.astype(float)
    yy, xx = np.mgrid[:24, :40]
    star = blank + 3000 * np.exp(-((xx - 20.3) ** 2 + (yy - 11.6) ** 2) / (2 * 1.3**2))
    tbl = finder(star)
    assert len(tbl) == 1
    assert abs(tbl['x_centroid'][0] - 20.3) < 0.3
    assert abs(tbl['y_centroid'][0] - 11.6) < 0.3


def test_tile_seams_do_not_change_results(frame):
    """Different tilings of the same frame give the same stars at the same places."""
    big = UNetLoGFinder(tile_size=256, tile_margin=32)(frame.data)
    small = UNetLoGFinder(tile_size=96, tile_margin=24)(frame.data)
    s = score_detections(
        small['x_centroid'], small['y_centroid'], big['x_centroid'], big['y_centroid'], radius=0.5
    )
    assert s['dice'] > 0.97


def test_star_on_a_seam_found_once():
    """A star straddling the boundary between two tile cores is reported once."""
    finder = UNetLoGFinder(tile_size=64, tile_margin=16, fwhm=3.5)  # cores of 32 pixels
    rng = np.random.default_rng(3)
    data = rng.normal(500.0, 10.0, (64, 96))
    yy, xx = np.mgrid[:64, :96]
    for x0 in (31.5, 63.6):  # on the seams at x = 31.5 and 63.5
        data += 4000 * np.exp(-((xx - x0) ** 2 + (yy - 30.2) ** 2) / (2 * 1.5**2))
    tbl = finder(data)
    for x0 in (31.5, 63.6):
        near = np.hypot(tbl['x_centroid'] - x0, tbl['y_centroid'] - 30.2) < 3
        assert near.sum() == 1


def test_bias_and_background_offsets_do_not_matter(finder, frame, catalog):
    """Raw frames work: a different bias level or a linear gradient changes nothing."""
    ny, nx = frame.data.shape
    gradient = np.linspace(0, 300, nx)[None, :]
    for data in (frame.data + 5000.0, frame.data + gradient):
        tbl = finder(data)
        s = score_detections(
            tbl['x_centroid'],
            tbl['y_centroid'],
            catalog['x_centroid'],
            catalog['y_centroid'],
            radius=0.5,
        )
        assert s['dice'] > 0.95


def test_probability_map(finder, frame):
    prob = finder.probability_map(frame.data)
    assert prob.shape == frame.data.shape
    assert prob.min() >= 0 and prob.max() <= 1
    # the footprints of the targets are far more probable than the rest
    assert prob[frame.mask == 1].mean() > 5 * prob[frame.mask == 0].mean()


def test_psf_photometry_finder(frame):
    from photutils.psf import CircularGaussianPRF, IterativePSFPhotometry, PSFPhotometry

    psf_model = CircularGaussianPRF(fwhm=3.5)
    data = frame.data - np.median(frame.data)
    # Told the FWHM: the residual images of IterativePSFPhotometry's later
    # iterations hold too few stars to measure it.
    finder = UNetLoGFinder(fwhm=frame.parameters.fwhm)
    phot = PSFPhotometry(psf_model, (7, 7), finder=finder, aperture_radius=4)
    result = phot(data)
    assert len(result) == len(finder(data))
    assert np.isfinite(result['flux_fit']).mean() > 0.9

    iphot = IterativePSFPhotometry(psf_model, (7, 7), finder=finder, aperture_radius=4, maxiters=2)
    iresult = iphot(data)
    assert len(iresult) >= len(result)


def test_bright_star_positions_are_precise():
    """Bright, isolated stars are placed to a few hundredths of a pixel."""
    finder = UNetLoGFinder(fwhm=4.2)  # three stars are too few to measure it
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[:96, :96]
    truth = [(20.37, 30.81), (60.5, 70.08), (75.13, 18.66)]
    data = rng.normal(400.0, 12.0, (96, 96))
    for y0, x0 in truth:
        data += 20000 * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 1.8**2))
    tbl = finder(data)
    s = score_detections(
        tbl['x_centroid'], tbl['y_centroid'], [t[1] for t in truth], [t[0] for t in truth]
    )
    assert s['tp'] == 3 and s['rms'] < 0.05


@pytest.mark.parametrize('fwhm', [0, -2.0, np.nan, np.inf, '3', True])
def test_bad_fwhm(fwhm):
    with pytest.raises(ValueError, match='fwhm must be a (finite )?positive'):
        UNetLoGFinder(fwhm=fwhm)


def test_fwhm_given_and_measured_in_meta(frame, catalog):
    assert catalog.meta['fwhm_source'] == 'measured' and catalog.meta['block_size'] == 1
    assert catalog.meta['fwhm'] == pytest.approx(frame.parameters.fwhm, rel=0.1)
    given = UNetLoGFinder(fwhm=np.float32(3.5))
    assert given.fwhm == 3.5 and 'fwhm=3.5' in repr(given)
    tbl = given(frame.data)
    assert tbl.meta['fwhm'] == 3.5 and tbl.meta['fwhm_source'] == 'given'
    assert_array_equal(_positions(tbl), _positions(catalog))  # within the model's range
    # Three stars are too few to measure: one warning, and the image's own scale.
    sparse = simulate_frame(FrameParameters(shape=(96, 96), density=2.0, fwhm=3.0), seed=5)
    with pytest.warns(FWHMWarning, match='could not be measured') as record:
        tbl = UNetLoGFinder()(sparse.data)
    assert sum(issubclass(w.category, FWHMWarning) for w in record) == 1
    assert tbl is None or (tbl.meta['fwhm'] is None and tbl.meta['fwhm_source'] == 'default')
