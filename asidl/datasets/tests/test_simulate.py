# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from asidl.constants import MASK_FOOTPRINT, TARGET_SNR
from asidl.datasets import FrameParameters, draw_parameters, simulate_frame, target_mask


def test_target_mask_is_the_paper_footprint():
    mask, offsets = target_mask([10.2], [20.7], (30, 40))
    assert mask.sum() == MASK_FOOTPRINT.sum() == 13
    assert_array_equal(mask[8:13, 19:24], MASK_FOOTPRINT)
    # offsets point from each footprint pixel to the star
    assert_allclose(offsets[0][10, 21], 10.2 - 10, atol=1e-6)
    assert_allclose(offsets[1][10, 21], 20.7 - 21, atol=1e-6)
    assert_allclose(offsets[1][10, 19], 20.7 - 19, atol=1e-6)
    assert np.all(offsets[:, mask == 0] == 0)


def test_target_mask_nearest_star_owns_shared_pixels():
    mask, offsets = target_mask([10.0, 10.0], [10.0, 12.4], (20, 20))
    # pixel (10, 11) is 1 px from the first star and 1.4 px from the second
    assert_allclose(offsets[1][10, 11], -1.0)
    assert_allclose(offsets[1][10, 12], 0.4, atol=1e-6)


def test_target_mask_clips_at_edges():
    mask, _ = target_mask([0.0], [0.0], (5, 5))
    assert mask.sum() == 6


def test_frames_are_reproducible():
    a = simulate_frame(seed=7)
    b = simulate_frame(seed=7)
    assert_array_equal(a.data, b.data)
    assert_array_equal(a.mask, b.mask)


def test_frame_contents():
    params = FrameParameters(shape=(96, 128), density=50, bias=700, gain=2.0, sky=400)
    frame = simulate_frame(params, seed=3)
    assert frame.data.shape == (96, 128) and frame.data.dtype == np.float32
    # raw frame: bias + sky / gain, not background subtracted
    assert abs(np.median(frame.data) - (700 + 400 / 2.0)) < 20
    t = frame.targets
    assert np.all(t['snr'] >= TARGET_SNR)
    assert np.all((t['x'] > -0.5) & (t['x'] < 127.5) & (t['y'] > -0.5) & (t['y'] < 95.5))
    # fainter stars exist too (confusion), and are not targets
    assert np.any(frame.truth['snr'] < TARGET_SNR)
    mask, _ = target_mask(t['y'], t['x'], params.shape)
    assert_array_equal(mask, frame.mask)


def test_density_sets_the_number_of_targets():
    counts = []
    for density in (5, 50):
        params = FrameParameters(shape=(256, 256), density=density, pixel_scale=0.56)
        counts.append(len(simulate_frame(params, seed=11).targets))
    area = (256 * 0.56 / 60) ** 2
    assert abs(counts[0] / area - 5) < 3
    assert abs(counts[1] / area - 50) < 12


def test_drawn_parameters_span_the_ranges():
    rng = np.random.default_rng(0)
    params = [draw_parameters(rng) for _ in range(300)]
    fwhm = np.array([p.fwhm for p in params])
    sky = np.array([p.sky for p in params])
    assert fwhm.min() >= 1.0 and fwhm.max() <= 8.0 and np.ptp(fwhm) > 5
    # about a third of the draws are undersampled (issue: any sampling)
    assert 0.3 < np.mean(fwhm < 2.5) < 0.6
    assert sky.min() >= 10 and sky.max() <= 5000
    assert {p.psf for p in params} == {'moffat', 'gaussian'}
    assert any(p.n_cosmic_rays for p in params) and any(p.n_trails for p in params)


def test_saturation_and_artifacts():
    params = FrameParameters(
        shape=(128, 128),
        density=5,
        full_well=20000,
        saturation_adu=20500,
        bias=500,
        n_cosmic_rays=20,
        n_trails=1,
        spikes=True,
        n_hot_pixels=5,
        blank_edge=10,
    )
    frame = simulate_frame(params, seed=5)
    assert frame.data.max() <= 20500
    assert frame.bad_pixels.sum() == 10 * 128
    # no targets in the blank band
    t = frame.targets
    ix = np.round(t['x']).astype(int).clip(0, 127)
    iy = np.round(t['y']).astype(int).clip(0, 127)
    assert not frame.bad_pixels[iy, ix].any()


def test_resample_shift_moves_the_centroid_and_keeps_the_flux():
    from asidl.datasets import RESAMPLING_KERNELS, resample_shift

    image = np.zeros((32, 32), np.float32)
    image[16, 16] = 1.0
    yy, xx = np.mgrid[:32, :32]
    for kernel in RESAMPLING_KERNELS:
        out = resample_shift(image, 0.3, -0.2, kernel)
        assert_allclose(out.sum(), 1.0, rtol=1e-5)
        assert_allclose((out * yy).sum() / out.sum(), 16.3, atol=0.02)
        assert_allclose((out * xx).sum() / out.sum(), 15.8, atol=0.02)
    assert_array_equal(image[16, 16], 1.0)  # input not modified
    with pytest.raises(ValueError, match='kernel'):
        resample_shift(image, 0.5, 0.5, 'nearest')


def _lag1_correlation(frame):
    r = frame.data - np.median(frame.data)
    r = r[8:-8, 8:-8]
    return np.corrcoef(r[:, :-1].ravel(), r[:, 1:].ravel())[0, 1]


@pytest.mark.parametrize(
    'kwargs',
    [
        {'resample': 'bilinear'},
        {'resample': 'lanczos3'},
        {'grain': 2.0, 'grain_scale': 1.5},
        {'block': 2},
    ],
)
def test_correlated_noise(kwargs):
    # A sparse frame: the pixel-to-pixel correlation is the noise's own.
    white = FrameParameters(shape=(128, 128), density=0.1)
    correlated = FrameParameters(shape=(128, 128), density=0.1, **kwargs)
    assert abs(_lag1_correlation(simulate_frame(white, seed=2))) < 0.05
    assert _lag1_correlation(simulate_frame(correlated, seed=2)) > 0.1


def test_coadd_deepens_and_grain_shallows_the_targets():
    base = dict(shape=(128, 128), density=30)
    white = simulate_frame(FrameParameters(**base), seed=4)
    coadd = simulate_frame(FrameParameters(**base, resample='bilinear', n_coadd=4), seed=4)
    grain = simulate_frame(FrameParameters(**base, grain=2.0, grain_scale=1.5), seed=4)
    # Same stars, drawn before the noise; S/N x2 for four exposures.
    assert_allclose(coadd.truth['flux'], white.truth['flux'])
    assert_allclose(coadd.truth['snr'], 2 * white.truth['snr'], rtol=1e-5)
    assert np.all(grain.truth['snr'] < white.truth['snr'])
    assert len(coadd.targets) > len(white.targets) > len(grain.targets)

    # The coadd's noise is lower: the sky pixels scatter less.
    def mad(data):
        return np.median(np.abs(data - np.median(data)))

    assert mad(coadd.data) < 0.7 * mad(white.data)


def test_photographic_response_flattens_bright_stars_only():
    base = dict(shape=(96, 96), density=30, sky=400.0)
    linear = simulate_frame(FrameParameters(**base), seed=5)
    plate = simulate_frame(FrameParameters(**base, response_knee=20.0), seed=5)
    # Same stars and noise: below the sky nothing changes, above it the
    # excess is compressed towards a plateau of 20 sky sigmas.
    assert_allclose(plate.truth['flux'], linear.truth['flux'])
    sky = 400.0 + 500.0
    below = linear.data < sky
    assert below.any()
    assert_allclose(plate.data[below], linear.data[below])
    assert np.all(plate.data <= linear.data + 1e-3)
    plateau = sky + 20 * np.sqrt(400.0 + 10.0**2)
    assert linear.data.max() > plateau + 1000
    assert plate.data.max() < plateau + 1
    # Faint excess stays nearly linear: 1 sigma above the sky loses < 3%.
    faint = (linear.data > sky + 15) & (linear.data < sky + 25)
    assert_allclose(plate.data[faint] - sky, linear.data[faint] - sky, rtol=0.03)


def test_drawn_parameters_include_processed_noise():
    rng = np.random.default_rng(1)
    params = [draw_parameters(rng) for _ in range(300)]
    assert 0.2 < np.mean([p.resample != 'none' for p in params]) < 0.5
    assert any(p.n_coadd > 1 for p in params) and any(p.grain for p in params)
    assert any(p.block == 2 for p in params) and any(p.pattern_noise for p in params)
    # Most plates, and only plates, get the emulsion's soft saturation.
    assert all(p.grain for p in params if p.response_knee)
    assert 0.5 < np.mean([p.response_knee > 0 for p in params if p.grain]) < 0.9
    assert min(p.min_snr for p in params) < 0.2
    rng = np.random.default_rng(1)
    plain = [draw_parameters(rng, correlated_noise=False) for _ in range(50)]
    assert all(p.resample == 'none' and not p.grain and p.block == 1 for p in plain)


def test_integer_parameters():
    # Integer FWHM and sky (as a user types them) simulate like floats.
    a = simulate_frame(FrameParameters(shape=(64, 64), density=30, fwhm=5, sky=400), seed=1)
    b = simulate_frame(FrameParameters(shape=(64, 64), density=30, fwhm=5.0, sky=400.0), seed=1)
    assert_allclose(a.data, b.data)
