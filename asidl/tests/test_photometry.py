# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Shape columns on mosaics of the sources' windows (`asidl.mosaic`) against
the plain band path of `asidl.photometry.shape_columns`, bit for bit.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from asidl.background import background_map
from asidl.datasets import FrameParameters, simulate_frame
from asidl.mosaic import window_mosaic
from asidl.photometry import SHAPE_COLUMNS, shape_columns
from asidl.prepare import prepare_image


def _image(shape, density, *, masked=False, seed=0):
    params = FrameParameters(
        shape=shape, density=density, fwhm=3.0, cluster_center=(shape[0] / 2, shape[1] / 2)
    )
    data = simulate_frame(params, seed=seed).data
    mask = None
    if masked:
        rng = np.random.default_rng(seed)
        mask = rng.random(shape) < 0.02
        mask[shape[0] // 3 : shape[0] // 2] = True
        mask[:, :5] = True
    image = prepare_image(data, mask)
    return image, background_map(image.data, image.valid, box=32)


def _positions(shape, n, seed=0):
    """
    Random positions (a few just beyond the image), positions halfway
    between pixels, close pairs, and a grid near every edge and corner.
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    y, x = rng.uniform(-0.6, ny - 0.4, n), rng.uniform(-0.6, nx - 0.4, n)
    y[: n // 4] = np.round(y[: n // 4]) + 0.5
    x[n // 8 : n // 2] = np.round(x[n // 8 : n // 2]) - 0.5
    near = np.array([-0.5, 0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 4.49, 5.5, 7.0, 10.5])
    ey = np.concatenate([near, ny - 1 - near, [ny / 2]])
    ex = np.concatenate([near, nx - 1 - near, [nx / 2]])
    ey, ex = (a.ravel() for a in np.meshgrid(ey, ex))
    m = min(n, 40)
    y = np.concatenate([y, ey, y[:m] + rng.uniform(-2, 2, m)])
    x = np.concatenate([x, ex, x[:m] + rng.uniform(-2, 2, m)])
    order = rng.permutation(y.size)
    return x[order], y[order]


def _assert_same(got, expected):
    for name in SHAPE_COLUMNS:
        assert got[name].dtype == expected[name].dtype, name
        assert_array_equal(got[name], expected[name], err_msg=name, strict=True)


CASES = {
    'sparse': ((150, 130), 5.0, 60, False),
    'crowded': ((120, 140), 300.0, 2000, False),
    'masked': ((150, 130), 50.0, 300, True),
    'flat': ((12, 200), 50.0, 100, False),
    'narrow': ((200, 15), 50.0, 100, False),
}


@pytest.mark.parametrize('fwhm', [1.2, 3.5, 8.0])
@pytest.mark.parametrize('case', CASES)
def test_windows_give_the_band_columns_bit_for_bit(case, fwhm):
    shape, density, n, masked = CASES[case]
    image, bkg = _image(shape, density, masked=masked)
    x, y = _positions(shape, n)
    for rows in (512, 40):
        band = shape_columns(image, bkg, x, y, fwhm, rows=rows, windows=False)
        assert np.isfinite(band['sharpness']).any()
        for windows in (True, None):
            got = shape_columns(image, bkg, x, y, fwhm, rows=rows, windows=windows)
            _assert_same(got, band)


@pytest.mark.parametrize('fwhm', [3.5, None])
def test_windows_without_sources_or_fwhm(fwhm):
    image, bkg = _image((64, 64), 20.0)
    for x, y in (([], []), ([3.0, 30.2], [60.6, 31.0])):
        x, y = np.array(x), np.array(y)
        band = shape_columns(image, bkg, x, y, fwhm, windows=False)
        _assert_same(shape_columns(image, bkg, x, y, fwhm, windows=True), band)
        assert band['n_pixels'].size == x.size


def test_window_mosaic_holds_the_subtracted_pixels():
    """Each window is the band's subtracted pixels around its source."""
    image, bkg = _image((100, 90), 20.0, masked=True)
    iy, ix = np.array([10, 50, 95]), np.array([1, 40, 88])
    mosaic, my, mx = window_mosaic(image, bkg, iy, ix, (2, 2))
    assert mosaic.shape == (27, 9) and mosaic.dtype == np.float32
    subtracted = np.where(image.valid, image.data - bkg.rows(0, 100)[0], 0.0)
    padded = np.pad(subtracted, 4)
    assert_array_equal(my, [4, 13, 22])
    assert_array_equal(mx, [1, 4, 7])  # windows moved inside at the edges
    for k, x0 in enumerate([0, 36, 81]):
        window = padded[iy[k] : iy[k] + 9, x0 + 4 : x0 + 13]
        assert_array_equal(mosaic[9 * k : 9 * k + 9], window)
    with pytest.raises(ValueError, match='narrower'):
        window_mosaic(image, bkg, iy, ix, (2, 50))


@pytest.mark.parametrize(
    'on_grids, at_pixels, dtype',
    [
        ('windows', 'background_pixels', np.float32),
        ('background_on_grids', 'background_at', np.float64),
    ],
)
def test_background_on_grids_is_the_background_at_their_pixels(on_grids, at_pixels, dtype):
    """The grid methods give their per-pixel twins' values, bit for bit."""
    image, bkg = _image((130, 100), 20.0)
    rng = np.random.default_rng(1)
    rows = np.clip(rng.integers(-5, 130, (30, 1)) + np.arange(9), 0, 129)
    cols = np.clip(rng.integers(-5, 100, (30, 1)) + np.arange(13), 0, 99)
    grids = getattr(bkg, on_grids)(rows, cols)
    assert grids.shape == (30, 9, 13) and grids.dtype == dtype
    yy, xx = np.broadcast_arrays(rows[:, :, None], cols[:, None, :])
    assert_array_equal(grids, getattr(bkg, at_pixels)(yy, xx))
    if dtype == np.float32:  # the full-resolution rows are float32 too
        assert_array_equal(grids[0], bkg.rows(0, 130)[0][np.ix_(rows[0], cols[0])])


@pytest.mark.parametrize('windows', [True, False, None])
def test_bands_on_threads_give_the_serial_columns_bit_for_bit(monkeypatch, windows):
    # Above a few thousand sources the bands are measured on threads; the
    # columns are those of one band after the other.
    from asidl import photometry

    image, bkg = _image((300, 260), 300.0, masked=True, seed=4)
    x, y = _positions(image.data.shape, 2500, seed=4)
    monkeypatch.setattr(photometry, '_PARALLEL_SOURCES', 10**9)
    serial = shape_columns(image, bkg, x, y, 3.0, rows=32, windows=windows)
    monkeypatch.setattr(photometry, '_PARALLEL_SOURCES', 0)
    _assert_same(shape_columns(image, bkg, x, y, 3.0, rows=32, windows=windows), serial)
