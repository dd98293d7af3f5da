# Licensed under a 3-clause BSD style license - see LICENSE.rst
import astropy.units as u
import numpy as np
import pytest
from astropy.nddata import NDData

from asidl.prepare import prepare_image


def test_copy_and_float32():
    data = np.arange(12, dtype='>i2').reshape(3, 4)
    image = prepare_image(data)
    assert image.data.dtype == np.float32 and image.data.dtype.isnative
    image.data[0, 0] = 99
    assert data[0, 0] == 0


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
