# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Input validation: copies, masks, units, offsets, WCS."""

import astropy.units as u
import numpy as np
import pytest
from astropy.nddata import NDData
from astropy.utils.exceptions import AstropyUserWarning

from asidl.prepare import prepare_image


def test_copy_and_float32():
    data = np.arange(12, dtype='>i2').reshape(3, 4)
    image = prepare_image(data)
    assert image.data.dtype == np.float32 and image.data.dtype.isnative
    assert not np.shares_memory(image.data, data) and not image.data.flags.writeable


def test_valid_combines_masks_and_nonfinite():
    data = np.ones((3, 3))
    data[0, 0] = np.nan
    data[0, 1] = np.inf
    extra = np.zeros((3, 3), int)
    extra[2, 0] = 1
    masked = np.ma.MaskedArray(data, mask=np.eye(3, dtype=bool))
    expected = ~(np.eye(3, dtype=bool) | ~np.isfinite(data) | extra.astype(bool))
    np.testing.assert_array_equal(prepare_image(masked, mask=extra).valid, expected)
    nd = NDData(data, mask=np.eye(3, dtype=bool))
    np.testing.assert_array_equal(prepare_image(nd, mask=extra).valid, expected)


def test_units():
    image = prepare_image(np.ones((2, 2)) * u.electron)
    assert image.unit == u.electron
    image = prepare_image(NDData(np.ones((2, 2)), unit='adu'))
    assert image.unit == u.adu


def test_errors():
    with pytest.raises(TypeError, match='numeric'):
        prepare_image([[object(), 1], [2, 3]])
    with pytest.raises(ValueError, match='2D'):
        prepare_image(5.0)
    with pytest.raises(ValueError, match='shape'):
        prepare_image(NDData(np.ones((3, 3)), mask=np.ones((2, 2), bool)))


@pytest.mark.parametrize(
    'dtype, offset',
    [(np.uint64, 2**40), (np.int64, -(2**50)), (np.uint32, 2**31), (np.float64, 1e9)],
)
def test_large_offsets_are_subtracted_before_the_float32_cast(dtype, offset):
    rng = np.random.default_rng(0)
    small = rng.normal(0, 10, (40, 50)).round()
    data = (
        (small.astype(np.float64) + offset).astype(dtype)
        if dtype is np.float64
        else small.astype(np.int64).astype(dtype) + dtype(offset)
    )
    image = prepare_image(data)
    assert image.valid.all() and image.data.dtype == np.float32
    assert abs(image.offset - offset) < 50
    # The differences between pixels survive exactly.
    np.testing.assert_array_equal(image.data - image.data[0, 0], small - small[0, 0])
    np.testing.assert_array_equal(
        image.data.astype(np.float64) + image.offset, data.astype(np.float64)
    )


def test_exact_casts_keep_the_data_as_it_is():
    data = np.arange(12, dtype=np.uint16).reshape(3, 4) + 60000
    for array in (data, data.astype(np.float64), data.astype(np.int64), data.astype(np.float32)):
        image = prepare_image(array)
        assert image.offset == 0.0
        np.testing.assert_array_equal(image.data, data.astype(np.float32))


def test_finite_values_beyond_float32_are_not_lost():
    data = np.random.default_rng(1).normal(1e39, 1e37, (20, 20))
    data[5, 5] = 1e42  # a star far above the rest
    image = prepare_image(data)
    assert image.valid.all() and np.isfinite(image.data).all()
    assert np.log2(image.scale) % 1 == 0  # a power of two: exact
    np.testing.assert_allclose(
        image.data.astype(float) * image.scale + image.offset, data, rtol=1e-6
    )
    data[3, 4] = 1e300  # far beyond float32 even after the offset
    with pytest.warns(AstropyUserWarning, match='1 finite pixel'):
        image = prepare_image(data)
    assert not image.valid[3, 4] and image.valid.sum() == data.size - 1


@pytest.mark.parametrize(
    'unit', ['mag', 'dex', 'deg', 'rad', 'sr', 'mag(AB)', 'dB', 'mag / arcsec2', 'dex(cm / s2)']
)
def test_units_that_are_not_flux_are_refused(unit):
    for data in (np.ones((4, 4)) * u.Unit(unit), NDData(np.ones((4, 4)), unit=unit)):
        with pytest.raises(ValueError, match='not a flux'):
            prepare_image(data)


@pytest.mark.parametrize('unit', ['adu', 'electron / s', 'MJy / sr', 'Jy', 'ct', ''])
def test_flux_units_are_accepted(unit):
    assert prepare_image(NDData(np.ones((4, 4)), unit=unit)).unit == u.Unit(unit)


def test_unusable_wcs_is_dropped_with_a_warning():
    from asidl.tests.helpers import simple_wcs

    wcs = simple_wcs((4, 4))
    wcs.wcs.cdelt = [0, 0]  # a singular transformation
    with pytest.warns(AstropyUserWarning, match='no sky_centroid'):
        image = prepare_image(NDData(np.ones((4, 4)), wcs=wcs))
    assert image.wcs is None
    assert prepare_image(NDData(np.ones((4, 4)), wcs=simple_wcs((4, 4)))).wcs is not None


def test_float32_input_is_used_read_only_without_a_copy():
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    image = prepare_image(data)
    assert np.shares_memory(image.data, data)
    assert not image.data.flags.writeable and data.flags.writeable
    with pytest.raises(ValueError, match='read-only'):
        image.data[0, 0] = 99
    assert data[0, 0] == 0
    other = prepare_image(data.astype('>f4'))
    assert other.data.dtype.isnative and not other.data.flags.writeable


def test_float64_input_is_converted_in_blocks_of_rows(monkeypatch):
    """Blocks of rows (no full-frame float64 temporaries) give the whole-frame conversion."""
    import asidl.prepare

    data = 1e9 + np.random.default_rng(2).normal(0, 5, (50, 40))
    expected = prepare_image(data)
    monkeypatch.setattr(asidl.prepare, 'ROW_PIXELS', 100)
    image = prepare_image(data)
    assert image.offset == expected.offset and image.offset != 0
    np.testing.assert_array_equal(image.data, expected.data)
