# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The scale front end: block sums, the mapping back, and broad stars through the finder."""

import astropy.units as u
import numpy as np
import pytest
from astropy.nddata import NDData
from numpy.testing import assert_allclose, assert_array_equal

from asidl import UNetLoGFinder
from asidl.evaluation import score_detections
from asidl.prepare import prepare_image
from asidl.resample import block_factor, block_sum, to_original
from asidl.tests.helpers import meerlicht_frame

from .helpers import simple_wcs


def test_block_factor():
    assert [block_factor(f) for f in (None, 1.0, 4.5, 6.0)] == [1, 1, 1, 1]
    assert [block_factor(f) for f in (6.5, 8.0, 12.0, 13.2, 14.0, 20.0)] == [2, 2, 2, 2, 3, 4]
    assert block_factor(5.0, (1.0, 2.5)) == 2


def test_block_sum_masks_nans_and_edges():
    data = np.arange(30.0).reshape(5, 6)
    mask = np.zeros(data.shape, bool)
    mask[0:2, 0:2] = True  # a whole block: masked
    mask[0, 2] = True  # one pixel of a block: the others rescaled
    data[3, 0] = np.nan  # NaN: like a masked pixel
    image = prepare_image(u.Quantity(data, u.adu), mask)
    binned = block_sum(image, 2)
    assert binned.data.shape == (3, 3) and binned.unit == u.adu and binned.wcs is None
    assert_array_equal(binned.valid, np.array([[0, 1, 1], [1, 1, 1], [1, 1, 1]], bool))
    assert binned.data[0, 0] == 0
    assert binned.data[0, 1] == pytest.approx((3 + 8 + 9) * 4 / 3)
    assert binned.data[1, 0] == pytest.approx((12 + 13 + 19) * 4 / 3)
    assert binned.data[1, 1] == 14 + 15 + 20 + 21
    assert binned.data[2, 2] == pytest.approx((28 + 29) * 2)  # the last row: half a block
    with pytest.raises(ValueError, match='factor must be a positive integer'):
        block_sum(image, 0)


@pytest.mark.parametrize('factor', [2, 3])
@pytest.mark.parametrize('shift', [(0.0, 0.0), (0.25, -0.4), (0.5, 0.5), (-0.77, 0.13)])
def test_positions_map_back_exactly(factor, shift):
    """The centroid of a star in the binned image maps back onto its true position."""
    y0, x0 = 40.0 + shift[0], 37.0 + shift[1]
    yy, xx = np.mgrid[:90, :90]
    star = np.exp(-0.5 * ((yy - y0) ** 2 + (xx - x0) ** 2) / 4.0**2)
    binned = block_sum(prepare_image(star), factor).data.astype(float)
    by, bx = np.mgrid[: binned.shape[0], : binned.shape[1]]
    cy, cx = (binned * by).sum() / binned.sum(), (binned * bx).sum() / binned.sum()
    assert_allclose([to_original(cy, factor), to_original(cx, factor)], [y0, x0], atol=1e-6)
    assert_allclose(
        to_original((np.arange(5) + 0.5) / factor - 0.5, factor), np.arange(5), atol=1e-12
    )


@pytest.fixture(scope='module')
def broad():
    """A 384x384 raw frame of stars 9 pixels wide, with artifacts."""
    return meerlicht_frame((384, 384), 20.0, 9, fwhm=9.0)


def _dice(tbl, truth):
    return score_detections(tbl['x_centroid'], tbl['y_centroid'], truth['x'], truth['y'])['dice']


def test_broad_stars_found_after_resampling(finder, broad):
    truth = broad.targets
    measured = finder(broad.data)
    assert measured.meta['fwhm_source'] == 'measured' and measured.meta['block_size'] == 2
    assert measured.meta['fwhm'] == pytest.approx(9.0, rel=0.1)
    native = UNetLoGFinder(fwhm=5.0)(broad.data)  # the model's own scale
    assert native.meta['block_size'] == 1
    assert _dice(measured, truth) > _dice(native, truth) + 0.2
    given = UNetLoGFinder(fwhm=9.0)(broad.data)
    assert given.meta['fwhm_source'] == 'given' and given.meta['block_size'] == 2
    assert _dice(given, truth) > 0.4


def test_resampling_keeps_masks_nans_wcs_and_units(broad):
    data = broad.data.copy()
    mask = np.zeros(data.shape, bool)
    mask[:, 200:] = True
    data[50:60, 50:60] = np.nan
    wcs = simple_wcs(data.shape)
    finder = UNetLoGFinder(fwhm=9.0)
    tbl = finder(NDData(data, mask=mask, unit=u.adu, wcs=wcs))
    assert tbl.meta['block_size'] == 2
    assert np.all(tbl['x_centroid'] < 200)
    assert not np.any((np.abs(tbl['x_centroid'] - 55) < 5) & (np.abs(tbl['y_centroid'] - 55) < 5))
    assert tbl['flux'].unit == u.adu and tbl['background'].unit == u.adu
    sky = wcs.pixel_to_world(tbl['x_centroid'], tbl['y_centroid'])
    assert tbl['sky_centroid'].separation(sky).max() < 1e-6 * u.arcsec
    # Background and peak are those of the original pixels, not of the sums.
    p = broad.parameters
    assert_allclose(np.median(tbl['background'].value), p.bias + p.sky / p.gain, rtol=0.02)
    assert np.all(tbl['peak'].value < np.nanmax(data) - p.bias)
    # Same stars as without the unit and WCS, only where the mask allows.
    plain = finder(data, mask=mask)
    assert_allclose(tbl['x_centroid'], plain['x_centroid'])


def test_block_sum_in_rows_of_blocks_equals_the_whole_frame(monkeypatch):
    """Summed a few rows of blocks at a time (no full-frame float64 copy), the same result."""
    import asidl.resample
    from asidl.prepare import prepare_image
    from asidl.resample import block_sum

    data = np.random.default_rng(3).normal(100, 5, (53, 38)).astype(np.float32)
    data[7:12, 3:9] = np.nan
    expected = block_sum(prepare_image(data), 3)
    monkeypatch.setattr(asidl.resample, 'ROW_PIXELS', 100)
    binned = block_sum(prepare_image(data), 3)
    np.testing.assert_array_equal(binned.data, expected.data)
    np.testing.assert_array_equal(binned.valid, expected.valid)


def test_broad_faint_stars_are_measured_on_the_binned_image():
    """
    Stars 12 pixels wide whose pixels are too faint one by one to be fitted
    (peak S/N below 20) are fitted on the image binned 2x2, where each pixel
    holds twice their S/N.
    """
    from asidl.background import background_map
    from asidl.fwhm import measure_fwhm
    from asidl.peaks import Peaks
    from asidl.resample import detect_at_scale

    # A frame of benchmarks/psf_scale.py (10 stars per square arcminute) on
    # which the FWHM went unmeasured before.
    frame = meerlicht_frame((512, 512), 10.0, 1_012_014, fwhm=12.0)
    image = prepare_image(frame.data)
    bkg = background_map(image.data, image.valid)
    t = frame.truth[frame.truth['snr'] > 10]
    y, x = np.asarray(t['y'], float), np.asarray(t['x'], float)
    iy, ix = np.round(y).astype(int), np.round(x).astype(int)
    ones = np.ones(y.size)
    peaks = Peaks(iy, ix, ones, ones, y, x)

    # In the original pixels too few stars are bright enough ...
    assert measure_fwhm(image.data, image.valid, bkg, bkg.noise_at(y, x), x, y) is None
    # ... so the first pass, at the image's own scale (where the network
    # would find none of these stars), gives no FWHM, and the 2x2 pass does.
    calls = []

    def detect(factor):
        calls.append(factor)
        return (
            peaks
            if factor > 1
            else peaks._replace(**{k: v[:0] for k, v in peaks._asdict().items()})
        )

    found, scale = detect_at_scale(image, bkg, detect)
    assert calls == [1, 2]
    assert scale['fwhm_source'] == 'measured' and scale['block_size'] == 2
    assert scale['fwhm'] == pytest.approx(12.0, rel=0.1)
