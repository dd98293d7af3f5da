# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np

from asidl.datasets import load_example_frame, make_example_frame


def test_bundled_example_is_what_the_simulator_makes():
    data, header, truth = load_example_frame()
    fresh, fresh_header, fresh_truth = make_example_frame()
    np.testing.assert_array_equal(data, fresh)
    np.testing.assert_allclose(truth['x'], fresh_truth['x'])
    assert header['FWHMPIX'] == fresh_header['FWHMPIX']
    assert data.dtype == np.uint16 and len(truth) > 100
