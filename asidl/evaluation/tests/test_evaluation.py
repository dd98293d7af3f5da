# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
import pytest
from numpy.testing import assert_allclose

from asidl.evaluation import match_sources, score_detections


def test_one_to_one_matching_prefers_closest():
    # two detections near one true star: only the closest matches
    di, ti = match_sources([10.0, 10.5], [10.0, 10.0], [10.4], [10.0])
    assert di.tolist() == [1] and ti.tolist() == [0]


def test_scores():
    s = score_detections([1.0, 5.0, 50.0], [1.0, 5.0, 50.0], [1.3, 5.0, 20.0], [1.0, 5.4, 20.0])
    assert (s['tp'], s['fp'], s['fn']) == (2, 1, 1)
    assert_allclose(s['dice'], 4 / 6)
    assert_allclose(s['rms'], np.sqrt((0.3**2 + 0.4**2) / 2))
    assert_allclose(s['precision'], 2 / 3)
    assert_allclose(s['recall'], 2 / 3)


def test_radius():
    assert score_detections([0.0], [0.0], [2.5], [0.0])['tp'] == 0
    assert score_detections([0.0], [0.0], [2.5], [0.0], radius=3)['tp'] == 1


def test_empty_inputs():
    s = score_detections([], [], [1.0], [1.0])
    assert (s['tp'], s['fp'], s['fn'], s['dice']) == (0, 0, 1, 0.0)
    assert np.isnan(s['rms'])
    assert score_detections([], [], [], [])['dice'] == 1.0


def test_compare_finders_with_truth(frame, finder):
    from asidl.evaluation import classical_finders, compare_finders

    finders = {'UNetLoGFinder': finder}
    finders.update(classical_finders(frame.data, fwhm=frame.parameters.fwhm))
    table = compare_finders(frame.data, frame.targets, finders, pixel_scale=0.56)
    assert list(table['finder'][:3]) == ['UNetLoGFinder', 'DAOStarFinder', 'IRAFStarFinder']
    n_true = len(frame.targets)
    assert np.all(table['TP'] + table['FN'] == n_true)
    assert np.all(table['TP'] + table['FP'] == table['N'])
    assert np.all((table['Dice'] >= 0) & (table['Dice'] <= 1))
    assert 'TP_per_arcmin2' in table.colnames
    # on this crowded raw frame the network finds more true stars than DAOStarFinder
    assert table['TP'][0] > table['TP'][1]


def test_compare_finders_without_truth_cross_matches(frame, finder, catalog):
    from asidl.evaluation import classical_finders, compare_finders

    finders = {'UNetLoGFinder': finder}
    finders.update(classical_finders(frame.data, reference=catalog))  # FWHM fitted
    table = compare_finders(frame.data, None, finders)
    assert table['matched'][0] == table['N'][0] == len(catalog)
    assert np.all(table['matched'] <= table['N'])


def test_plot_detections(frame, catalog):
    import matplotlib

    matplotlib.use('Agg')
    from asidl.evaluation import plot_detections

    t = frame.targets
    ax = plot_detections(frame.data, catalog['x_centroid'], catalog['y_centroid'], t['x'], t['y'])
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    s = score_detections(catalog['x_centroid'], catalog['y_centroid'], t['x'], t['y'])
    assert labels == [f'TP ({s["tp"]})', f'FP ({s["fp"]})', f'FN ({s["fn"]})']


def test_artificial_star_test_completeness_rises_with_flux(finder):
    from asidl.datasets import FrameParameters, simulate_frame
    from asidl.evaluation import artificial_star_test

    params = FrameParameters(
        shape=(256, 256),
        density=30.0,
        fwhm=3.0,
        psf='gaussian',
        sky=200.0,
        read_noise=5.0,
        bias=300.0,
    )
    frame = simulate_frame(params, seed=8)
    sky_sigma = np.sqrt(200.0 + 25.0)
    # S/N of a Gaussian PSF of FWHM 3: flux / (sigma * sqrt(4 pi s^2)), s = 3 / 2.355
    area = 4 * np.pi * (3 / 2.355) ** 2
    fluxes = np.array([0.5, 30.0]) * sky_sigma * np.sqrt(area)
    table = artificial_star_test(frame.data, finder, fluxes=fluxes, n_per_flux=20, seed=1)
    assert list(table['n_injected']) == [20, 20]
    assert table['fraction'][0] < 0.3  # S/N 0.5: invisible
    assert table['fraction'][1] > 0.9  # S/N 30: always found


def test_scores_by_bin():
    from astropy.table import QTable

    from asidl.evaluation import scores_by_bin

    truth = QTable(
        {'x': [10.0, 20.0, 30.0, 40.0], 'y': [5.0, 5.0, 5.0, 5.0], 'snr': [4.0, 6.0, 60.0, 70.0]}
    )
    table = scores_by_bin([10.3, 30.0, 40.1], [5.0, 5.0, 5.0], truth, bins=(3, 10, 100))
    assert list(table['n_true']) == [2, 2]
    assert list(table['n_found']) == [1, 2]
    assert_allclose(table['completeness'], [0.5, 1.0])
    assert_allclose(table['rms'], [0.3, np.sqrt(0.01 / 2)])


def test_plot_dice_versus_density():
    import matplotlib

    matplotlib.use('Agg')
    from astropy.table import QTable

    from asidl.evaluation import plot_dice_versus_density

    table = QTable(
        {
            'finder': ['UNetLoGFinder', 'DAOStarFinder (3 sigma)'] * 2,
            'density': [1, 1, 10, 10],
            'Dice': [0.8, 0.5, 0.7, 0.4],
        }
    )
    ax = plot_dice_versus_density(table)
    assert [line.get_label() for line in ax.get_lines()] == ['UNetLoGFinder', 'DAOStarFinder']
    assert_allclose(ax.get_lines()[1].get_ydata(), [0.5, 0.4])


def test_combine_scores():
    from asidl.evaluation import combine_scores

    a = score_detections([0.0, 5.0], [0.0, 5.0], [0.3, 20.0], [0.0, 20.0])
    b = score_detections([1.0], [1.0], [1.0], [1.4])
    c = combine_scores([a, b])
    assert (c['tp'], c['fp'], c['fn']) == (2, 1, 1)
    assert_allclose(c['dice'], 4 / 6)
    assert_allclose(c['rms'], np.sqrt((0.3**2 + 0.4**2) / 2))
    assert np.isnan(combine_scores([])['rms'])


def test_negative_image_reflects_about_the_background():
    from asidl.evaluation import negative_image

    rng = np.random.default_rng(0)
    data = 100.0 + 0.05 * np.arange(128)[None, :] + rng.normal(0, 2, (128, 128))
    data[60:63, 60:63] += 500.0  # a "star"
    original = data.copy()
    reflected = negative_image(data)
    np.testing.assert_array_equal(data, original)  # input not modified
    assert reflected[61, 61] < 100.0 - 400.0  # the star is now a hole
    # reflected + data is twice the smooth background: no noise left in it.
    twice_background = reflected + data
    assert np.std(np.diff(twice_background[:50], axis=1)) < 0.05
    assert_allclose(np.median(twice_background[:50, 32:96] / 2 - data[:50, 32:96]), 0.0, atol=0.5)
    # The noise keeps its amplitude.
    assert_allclose(np.std(np.diff(reflected[:50], axis=1)), 2.0 * np.sqrt(2), rtol=0.1)


def _counter(detections):
    """A finder that reports every pixel above ``detections`` as a source."""

    def find(data, mask=None):
        from astropy.table import QTable

        level = np.median(data) + detections * 1.4826 * np.median(np.abs(data - np.median(data)))
        peaks = (data > level) & (data == ndimage.maximum_filter(data, 3))
        y, x = np.nonzero(peaks)
        return (
            QTable({'x_centroid': x.astype(float), 'y_centroid': y.astype(float)})
            if x.size
            else None
        )

    from scipy import ndimage

    return find


@pytest.mark.parametrize('smoothing', [0, 1.5])
def test_negative_image_test_on_pure_noise_and_on_stars(smoothing):
    from scipy import ndimage

    from asidl.evaluation import negative_image_test

    rng = np.random.default_rng(1)
    noise = ndimage.gaussian_filter(rng.normal(0.0, 10.0, (256, 256)), smoothing) + 1000.0
    result = negative_image_test(noise, _counter(3.0))
    # Symmetric noise, white or correlated: as many detections on the
    # reflection as on the frame.
    assert result['found'] > 20
    assert abs(result['negative'] - result['found']) < 4 * np.sqrt(result['found'])
    stars = noise.copy()
    stars[20::40, 20::40] += 300.0
    result = negative_image_test(stars, _counter(3.0))
    assert result['net'] >= 36 - 4 * np.sqrt(result['negative'] + 1)
    assert result['false_fraction'] == result['negative'] / result['found']
    assert len(result['catalog']) == result['found']


def test_negative_image_test_is_a_lower_bound(finder):
    # On a simulated frame with white noise and no artifacts, the reflection
    # finds no more than the detections that match no star at all; those
    # come from blends of faint stars, which the reflection cannot show.
    from asidl.datasets import meerlicht_like, simulate_frame
    from asidl.evaluation import negative_image_test

    rng = np.random.default_rng(0)
    frame = simulate_frame(meerlicht_like((384, 384), 10, rng=rng, artifacts=False), rng=rng)
    result = negative_image_test(frame.data, finder)
    x, y = result['catalog']['x_centroid'], result['catalog']['y_centroid']
    t = frame.targets
    s = score_detections(x, y, t['x'], t['y'])
    assert result['found'] == s['tp'] + s['fp']
    unmatched = score_detections(x, y, frame.truth['x'], frame.truth['y'])['fp']
    assert unmatched <= s['fp']
    assert result['negative'] <= unmatched + 3
