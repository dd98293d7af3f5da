# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from asidl.datasets import target_mask
from asidl.localize import circle_overlap, find_peaks, log_response, refine_positions


def test_log_response_peaks_on_the_footprint():
    mask, _ = target_mask([20.0], [30.0], (40, 60))
    r = log_response(mask.astype(np.float32))
    assert np.unravel_index(np.argmax(r), r.shape) == (20, 30)
    assert 0.6 < r.max() < 0.8


def test_find_peaks_finds_each_footprint_once():
    ys = np.array([10.0, 10.0, 30.0, 45.0])
    xs = np.array([10.0, 14.0, 50.0, 5.0])  # the first two touch
    mask, _ = target_mask(ys, xs, (60, 70))
    iy, ix, resp = find_peaks(mask.astype(np.float32))
    found = sorted(zip(iy.tolist(), ix.tolist()))
    assert found == sorted(zip(ys.astype(int).tolist(), xs.astype(int).tolist()))
    assert np.all(np.diff(resp) <= 0)  # strongest first


def test_threshold_and_valid():
    mask, _ = target_mask([10.0, 30.0], [10.0, 30.0], (40, 40))
    prob = mask.astype(np.float32)
    prob[25:35, 25:35] *= 0.2  # a faint blob
    iy, ix, _ = find_peaks(prob, threshold=0.2)
    assert_array_equal(iy, [10])
    valid = np.ones(prob.shape, bool)
    valid[:20] = False
    iy, ix, _ = find_peaks(prob, threshold=0.05, valid=valid)
    assert_array_equal(iy, [30])


def test_overlap_pruning():
    # Two nearly coincident blobs: with overlap 0 only one survives.
    prob = np.zeros((30, 30), np.float32)
    prob[14:17, 10:13] = 1
    prob[14:17, 14:17] = 0.9
    assert len(find_peaks(prob, overlap=1.0)[0]) == 2
    assert len(find_peaks(prob, overlap=0.0)[0]) == 1


def test_circle_overlap():
    assert_allclose(circle_overlap(0.0, 2.0), 1.0)
    assert_allclose(circle_overlap(4.0, 2.0), 0.0)
    assert 0 < circle_overlap(1.0, 2.0) < 1


def test_refine_with_perfect_offsets_recovers_positions():
    ys = np.array([10.3, 25.8, 40.45])
    xs = np.array([12.6, 30.1, 8.5])
    mask, offsets = target_mask(ys, xs, (50, 50))
    iy, ix, _ = find_peaks(mask.astype(np.float32))
    y, x = refine_positions(iy, ix, mask.astype(np.float32), offsets)
    order = np.argsort(y)
    assert_allclose(y[order], ys, atol=1e-5)
    assert_allclose(x[order], xs, atol=1e-5)


def test_refine_without_offsets_uses_the_image():
    yy, xx = np.mgrid[:30, :30]
    image = np.exp(-((xx - 15.3) ** 2 + (yy - 12.8) ** 2) / (2 * 2.0**2))
    y, x = refine_positions(np.array([13]), np.array([15]), image, None, image=image)
    assert abs(x[0] - 15.3) < 0.05 and abs(y[0] - 12.8) < 0.05


def test_empty():
    iy, ix, r = find_peaks(np.zeros((10, 10), np.float32))
    assert iy.size == ix.size == r.size == 0
    y, x = refine_positions(iy, ix, np.zeros((10, 10)))
    assert y.size == 0


def test_log_parabola_is_exact_for_gaussians():
    from asidl.localize import log_parabola_offsets

    yy, xx = np.mgrid[-1:2, -1:2]
    windows = np.stack(
        [
            1000 * np.exp(-((xx - 0.3) ** 2 + (yy + 0.2) ** 2) / (2 * 1.7**2)),
            np.ones((3, 3)),  # flat top: not usable
            -np.ones((3, 3)),
        ]
    )  # negative: not usable
    dy, dx = log_parabola_offsets(windows)
    assert_allclose([dy[0], dx[0]], [-0.2, 0.3], atol=1e-9)
    assert np.isnan(dy[1:]).all() and np.isnan(dx[1:]).all()


def test_log_response_in_parallel_blocks_is_exact(monkeypatch):
    from scipy import ndimage

    import asidl.localize

    # float64 maps are filtered with scipy.ndimage, in row blocks when large.
    prob = np.random.default_rng(4).random((700, 300))
    expected = ndimage.gaussian_laplace(prob, 1.43, mode='constant') * -(1.43**2)
    monkeypatch.setattr(asidl.localize, 'PARALLEL_PIXELS', 0)
    monkeypatch.setattr(asidl.localize.os, 'cpu_count', lambda: 4)
    assert_array_equal(log_response(prob, 1.43), expected)


@pytest.mark.parametrize('shape', [(1, 1), (5, 7), (100, 3), (33, 1000), (700, 300)])
@pytest.mark.parametrize('sigma', [1.43, 2.5])
def test_log_response_of_float32_maps_is_scipys(shape, sigma):
    from scipy import ndimage

    # Float32 maps run on OpenVINO: scipy's LoG (truncated at 4 sigma, zero
    # beyond the edges) to float32 rounding, whatever the shape.
    prob = np.random.default_rng(5).random(shape).astype(np.float32)
    got = log_response(prob, sigma)
    expected = ndimage.gaussian_laplace(prob.astype(float), sigma, mode='constant') * -(sigma**2)
    assert got.dtype == np.float32 and got.shape == shape
    assert_allclose(got, expected, rtol=0, atol=5e-7)


def test_log_response_falls_back_to_scipy(monkeypatch):
    from scipy import ndimage

    import asidl.localize

    def broken(sigma, strips):
        raise RuntimeError('no CPU plugin')

    monkeypatch.setattr(asidl.localize, '_log_network', broken)
    monkeypatch.setitem(asidl.localize._OPENVINO_LOG, 'usable', True)
    prob = np.random.default_rng(7).random((60, 80)).astype(np.float32)
    expected = ndimage.gaussian_laplace(prob, 1.43, mode='constant') * np.float32(-(1.43**2))
    assert_array_equal(log_response(prob, 1.43), expected)
    assert asidl.localize._OPENVINO_LOG['usable'] is False
    assert_array_equal(log_response(prob, 1.43), expected)


def test_log_response_of_a_band_is_that_of_the_whole_map():
    from asidl.localize import log_halo

    # The band pipeline filters bands of rows with a halo: their rows must be
    # those of the whole map bit for bit, whatever strips the rows fall in.
    prob = np.random.default_rng(6).random((1000, 257)).astype(np.float32)
    whole = log_response(prob)
    halo = log_halo()
    for lo, hi in [(0, 100), (100, 437), (437, 1000), (3, 17)]:
        a, b = max(lo - halo, 0), min(hi + halo, 1000)
        assert_array_equal(log_response(prob[a:b])[lo - a : hi - a], whole[lo:hi])


def test_local_maxima_of_bands_are_those_of_the_whole_map():
    """Bands overlapping by a row find each maximum of their inner rows once."""
    from asidl.localize import local_maxima

    response = np.random.default_rng(5).random((90, 40)).astype(np.float32)
    iy, ix = local_maxima(response, 0.5)
    assert iy.size > 50
    found = []
    for lo, hi in [(0, 31), (29, 61), (59, 90)]:
        by, bx = local_maxima(response[lo:hi], 0.5, first_row=lo, n_rows=90)
        assert by.min() >= lo + (lo > 0) and by.max() < hi - (hi < 90)
        found.append(np.column_stack([by, bx]))
    assert_array_equal(np.concatenate(found), np.column_stack([iy, ix]))
