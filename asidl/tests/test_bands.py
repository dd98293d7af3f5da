# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Band-streamed detection gives the whole-frame results, seams included:
`detect_in_bands` against the whole-frame steps (normalize, predict_maps,
find_peaks, refine_positions) on small frames with small tiles and bands.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from asidl import UNetLoGFinder
from asidl.background import background_map
from asidl.bands import Timings, _shares, detect_in_bands
from asidl.localize import find_peaks, neighbourhood, refine_positions
from asidl.normalize import normalize
from asidl.peaks import Peaks, detect_in_maps
from asidl.predict import predict_maps
from asidl.prepare import prepare_image

TILE, MARGIN = 64, 16  # cores of 32 rows: the 160-row frame has 5 rows of tiles


def _whole_frame(image, bkg, model, *, normalization='asinh', batch_size=None, **peaks):
    """The detection steps run on the whole frame at once."""
    normalized = normalize(image.data, image.valid, method=normalization, bkg=bkg)
    prob, offsets = predict_maps(
        normalized, model, tile_size=TILE, margin=MARGIN, batch_size=batch_size
    )
    prob[~image.valid] = 0.0
    iy, ix, response = find_peaks(prob, valid=image.valid, **peaks)
    y, x = refine_positions(iy, ix, prob, offsets, image=None if offsets else normalized)
    confidence = neighbourhood(prob, iy, ix)[0].max(axis=(1, 2))
    return iy, ix, response, confidence, y, x


def _assert_same(banded, whole):
    biy, bix, bresponse, bconfidence, by, bx = banded
    wiy, wix, wresponse, wconfidence, wy, wx = whole
    assert biy.size > 20
    assert_array_equal(biy, wiy)
    assert_array_equal(bix, wix)
    assert_allclose(bresponse, wresponse, rtol=1e-6, atol=1e-7)
    assert_allclose(bconfidence, wconfidence, rtol=1e-6, atol=1e-7)
    assert_allclose(by, wy, rtol=0, atol=1e-9)
    assert_allclose(bx, wx, rtol=0, atol=1e-9)


@pytest.fixture(scope='module')
def masked_image(frame):
    """The test frame with a masked box across a band seam and NaNs on a tile seam."""
    data = frame.data.astype(np.float32)
    data[30:34, 50:120] = np.nan
    mask = np.zeros(data.shape, bool)
    mask[60:75, 10:40] = True
    image = prepare_image(data, mask)
    return image, background_map(image.data, image.valid)


@pytest.fixture(scope='module')
def echo_model():
    """
    Outputs the input, a fifth of it and minus a fifth of it: a probability
    map with a peak on every noise bump, so that any error at a seam shows.
    """
    import keras

    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(3, 1, use_bias=False)
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([np.array([1.0, 0.2, -0.2], np.float32).reshape(1, 1, 1, 3)])
    return model


@pytest.fixture(scope='module')
def blur_model():
    """A single-channel model without an offset head (a 3x3 box blur, then a sigmoid)."""
    import keras

    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(1, 3, padding='same', activation='sigmoid')
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([np.full((3, 3, 1, 1), 0.4, np.float32), np.array([-2.0], np.float32)])
    return model


@pytest.mark.parametrize('band_rows', [None, 32, 64, 96, 1000])
def test_bands_reproduce_the_whole_frame_with_the_shipped_model(finder, masked_image, band_rows):
    image, bkg = masked_image
    whole = _whole_frame(image, bkg, finder.model, threshold=finder.threshold)
    banded = detect_in_bands(
        image,
        bkg,
        finder.model,
        threshold=finder.threshold,
        tile_size=TILE,
        margin=MARGIN,
        band_rows=band_rows,
    )
    _assert_same(banded, whole)


@pytest.mark.parametrize('band_rows, batch_size', [(None, 1), (32, 4), (64, 7)])
def test_bands_reproduce_the_whole_frame_at_every_seam(
    echo_model, masked_image, band_rows, batch_size
):
    image, bkg = masked_image
    whole = _whole_frame(image, bkg, echo_model, batch_size=batch_size, threshold=0.05, overlap=0.5)
    banded = detect_in_bands(
        image,
        bkg,
        echo_model,
        threshold=0.05,
        overlap=0.5,
        tile_size=TILE,
        margin=MARGIN,
        band_rows=band_rows,
        batch_size=batch_size,
    )
    assert banded[0].size > 200
    _assert_same(banded, whole)


@pytest.mark.parametrize('normalization', ['asinh', 'standardize'])
def test_bands_without_offsets_refine_on_the_network_input(blur_model, masked_image, normalization):
    image, bkg = masked_image
    whole = _whole_frame(image, bkg, blur_model, normalization=normalization, threshold=0.02)
    banded = detect_in_bands(
        image,
        bkg,
        blur_model,
        normalization=normalization,
        threshold=0.02,
        tile_size=TILE,
        margin=MARGIN,
        band_rows=32,
    )
    _assert_same(banded, whole)


def test_finder_catalog_does_not_depend_on_the_band(frame):
    """Catalogs with one tile row per band and one band for the whole frame agree."""
    mask = np.zeros(frame.data.shape, bool)
    mask[60:75, 10:40] = True
    tables = []
    for band_rows in (32, 10_000):
        finder = UNetLoGFinder(tile_size=TILE, tile_margin=MARGIN, band_rows=band_rows)
        tables.append(finder(frame.data, mask=mask))
    assert len(tables[0]) == len(tables[1]) > 20
    for name in tables[0].colnames:
        assert_allclose(
            np.asarray(tables[0][name], float),
            np.asarray(tables[1][name], float),
            rtol=1e-7,
            atol=1e-9,
            err_msg=name,
        )
    for stage in (
        'prepare',
        'background',
        'normalize',
        'network',
        'LoG',
        'peaks',
        'refine',
        'fwhm',
        'photometry',
        'catalog',
    ):
        assert finder.timings[stage] >= 0


@pytest.mark.parametrize('band_rows', [0, -5, 2.5, '100', True])
def test_bad_band_rows(band_rows):
    with pytest.raises(ValueError, match='^band_rows must be a positive integer or None'):
        UNetLoGFinder(band_rows=band_rows)


def test_timings_add_up_per_stage():
    timings = Timings()
    for _ in range(3):
        with timings('a'):
            pass
    with pytest.raises(RuntimeError), timings('b'):
        raise RuntimeError('the time is kept even when the stage fails')
    assert set(timings) == {'a', 'b'} and all(v >= 0 for v in timings.values())
    timings.add('a', 2.5)
    assert timings['a'] >= 2.5


@pytest.mark.parametrize('n_tiles, streams', [(1, 2), (2, 2), (7, 2), (5, 3), (4, 1)])
def test_batches_are_shared_among_the_streams_in_order(n_tiles, streams):
    # Each stream of an OpenVINO network gets consecutive tiles of a batch;
    # every tile once, in order, no stream with nothing to do.
    shares = _shares(list(range(n_tiles)), streams)
    assert [t for share in shares for t in share] == list(range(n_tiles))
    assert len(shares) == min(n_tiles, streams) and all(shares)
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


@pytest.mark.parametrize(
    'model_name, band_rows', [('shipped', None), ('shipped', 96), ('echo', 32), ('blur', 64)]
)
def test_kept_maps_give_the_peaks_of_the_bands_bit_for_bit(
    finder, echo_model, blur_model, masked_image, model_name, band_rows
):
    """`detect_in_maps` on the maps `detect_in_bands` keeps finds exactly its peaks."""
    model = {'shipped': finder.model, 'echo': echo_model, 'blur': blur_model}[model_name]
    image, bkg = masked_image
    threshold = 0.05 if model_name == 'echo' else 0.02 if model_name == 'blur' else 0.2
    kwargs = dict(threshold=threshold, tile_size=TILE, margin=MARGIN, band_rows=band_rows)
    peaks = detect_in_bands(image, bkg, model, **kwargs)
    kept, (output, network_input, edges) = detect_in_bands(
        image, bkg, model, keep_maps=True, **kwargs
    )
    assert (network_input is None) == (model_name != 'blur')
    again = detect_in_maps(
        output, image.valid, edges, network_input=network_input, threshold=threshold
    )
    assert isinstance(again, Peaks) and again.iy.size > 20
    for field in Peaks._fields:
        assert_array_equal(getattr(kept, field), getattr(peaks, field), err_msg=field)
        assert_array_equal(getattr(again, field), getattr(peaks, field), err_msg=field)
    higher = detect_in_maps(
        output, image.valid, edges, network_input=network_input, threshold=2 * threshold
    )
    assert 0 < higher.iy.size < again.iy.size
