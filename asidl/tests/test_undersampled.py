# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The undersampled model: on images whose FWHM (given, or measured in a
first pass) is below the model's ``fwhm_range``, the finder reports the
detections of another registered model, with that model's own settings.
``asidl-fast`` stands in for a model trained on undersampled stars.
"""

import pytest
from numpy.testing import assert_array_equal

from asidl import UNetLoGFinder
from asidl.parameters import _undersampled_model
from asidl.registry import ModelRegistry
from asidl.tests.helpers import meerlicht_frame

COLUMNS = ['x_centroid', 'y_centroid', 'flux', 'peak', 'confidence', 'sharpness']


@pytest.fixture(scope='module')
def sharp():
    """A 320x320 raw frame of undersampled stars (FWHM 1.2 pixels), with artifacts."""
    return meerlicht_frame((320, 320), 40.0, 12, fwhm=1.2)


@pytest.fixture(scope='module')
def routed():
    return UNetLoGFinder(undersampled_model='asidl-fast', precision='f32')


def _assert_same_sources(got, expected):
    for name in COLUMNS:
        assert_array_equal(got[name], expected[name], err_msg=name)


def test_the_undersampled_model_reports_below_the_range(routed, sharp):
    # Given a FWHM below asidl-default's range (1.5 to 6 pixels), the
    # finder's catalog is asidl-fast's, made with asidl-fast's threshold
    # and calibration, and says so in meta.
    tbl = routed(sharp.data)  # measures 1.2-ish pixels first
    given = UNetLoGFinder(undersampled_model='asidl-fast', precision='f32', fwhm=1.2)(sharp.data)
    fast = UNetLoGFinder(model='asidl-fast', precision='f32', fwhm=1.2)(sharp.data)
    _assert_same_sources(given, fast)
    assert given.meta['model'] == 'asidl-fast' and given.meta['routed_from'] == 'asidl-default'
    assert given.meta['threshold'] == fast.meta['threshold'] == 0.3
    assert tbl.meta['fwhm_source'] == 'measured' and tbl.meta['fwhm'] < 1.5
    assert tbl.meta['model'] == 'asidl-fast' and tbl.meta['routed_from'] == 'asidl-default'
    for name in COLUMNS[:5]:  # the shape columns follow the FWHM measured
        assert_array_equal(tbl[name], fast[name], err_msg=name)


def test_within_the_range_the_finder_uses_its_own_model(routed, frame, catalog):
    # frame's stars are 3.5 pixels wide: the default model's catalog, bit
    # for bit, with or without an undersampled model.
    tbl = UNetLoGFinder(undersampled_model='asidl-fast')(frame.data)
    _assert_same_sources(tbl, catalog)
    assert tbl.meta['model'] == 'asidl-default' and 'routed_from' not in tbl.meta
    assert tbl.meta['undersampled_model'] == 'asidl-fast'
    given = UNetLoGFinder(undersampled_model='asidl-fast', fwhm=2.0)(frame.data)
    assert given.meta['model'] == 'asidl-default'


def test_maps_of_the_undersampled_model_give_the_same_catalog(routed, sharp):
    maps = routed.network_maps(sharp.data)
    assert maps.model == 'asidl-fast' and maps.scale['routed_from'] == 'asidl-default'
    _assert_same_sources(routed.catalog_from_maps(maps), routed(sharp.data))
    lower = routed.catalog_from_maps(maps, threshold=0.2)
    assert lower.meta['threshold'] == 0.2 and len(lower) >= len(routed(sharp.data))
    with pytest.raises(ValueError, match='NetworkMaps of a finder'):
        UNetLoGFinder(undersampled_model=None).catalog_from_maps(maps)


def test_parameters_given_carry_over_and_none_turns_it_off(sharp):
    fixed = UNetLoGFinder(
        undersampled_model='asidl-fast', fwhm=1.2, threshold=0.25, shape_columns=False
    )
    tbl = fixed(sharp.data)
    assert tbl.meta['model'] == 'asidl-fast' and tbl.meta['threshold'] == 0.25
    assert 'sharpness' not in tbl.colnames
    off = UNetLoGFinder(undersampled_model=None, fwhm=1.2)(sharp.data)
    assert off.meta['model'] == 'asidl-default' and off.meta['undersampled_model'] is None


def test_auto_takes_the_registry_entry():
    models = ModelRegistry()
    assert _undersampled_model('auto', models.entries['asidl-default'], models) == (
        models.entries['asidl-default'].get('undersampled_model')
    )
    assert _undersampled_model('auto', {'undersampled_model': 'asidl-fast'}, models) == 'asidl-fast'
    assert _undersampled_model('auto', None, models) is None
    with pytest.raises(ValueError, match="names 'no-such-model' as the undersampled model"):
        _undersampled_model('auto', {'undersampled_model': 'no-such-model'}, models)


@pytest.mark.parametrize('value', ['no-such-model', 3, True, ''])
def test_bad_undersampled_model(value):
    with pytest.raises(ValueError, match='undersampled_model must be'):
        UNetLoGFinder(undersampled_model=value)
