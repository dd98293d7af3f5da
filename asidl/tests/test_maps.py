# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The finder in two halves: `UNetLoGFinder.network_maps` and
`UNetLoGFinder.catalog_from_maps` give the table of ``finder(data)`` bit
for bit, and catalogs at other thresholds without running the network.
"""

import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.nddata import NDData
from numpy.testing import assert_array_equal
from photutils.utils.exceptions import NoDetectionsWarning

from asidl import UNetLoGFinder
from asidl.datasets import FrameParameters, simulate_frame
from asidl.maps import NetworkMaps
from asidl.tests.helpers import simple_wcs


def assert_identical(table, reference, *, meta_except=('date',)):
    """Same class, columns, dtypes, units, values (NaN included) and meta."""
    assert type(table) is type(reference)
    assert table.colnames == reference.colnames
    assert len(table) == len(reference)
    for name in reference.colnames:
        ours, theirs = table[name], reference[name]
        if name == 'sky_centroid':
            assert_array_equal(ours.ra.deg, theirs.ra.deg)
            assert_array_equal(ours.dec.deg, theirs.dec.deg)
            continue
        assert ours.dtype == theirs.dtype, name
        assert getattr(ours, 'unit', None) == getattr(theirs, 'unit', None), name
        assert np.array_equal(np.asarray(ours), np.asarray(theirs), equal_nan=True), name
    assert list(table.meta) == list(reference.meta)
    for key in reference.meta:
        if key not in meta_except:
            assert table.meta[key] == reference.meta[key], key


def two_steps(finder, data, mask=None, **kwargs):
    maps = finder.network_maps(data, mask=mask)
    return maps, finder.catalog_from_maps(maps, **kwargs)


@pytest.fixture(scope='module')
def broad_frame():
    """Stars broader than the model's range: the finder block-sums the frame 2x2."""
    return simulate_frame(FrameParameters(shape=(256, 256), density=30.0, fwhm=9.0), seed=7)


def test_two_steps_give_the_table_of_a_call(finder, frame, catalog):
    maps, table = two_steps(finder, frame.data)
    assert isinstance(maps, NetworkMaps) and maps.block_size == 1
    assert maps.scale['fwhm_source'] == 'measured'
    assert_identical(table, catalog)
    for stage in ('LoG', 'peaks', 'refine', 'photometry', 'catalog'):  # of the last call
        assert finder.timings[stage] >= 0


def test_two_steps_with_a_mask_quantity_and_peak_max(frame):
    finder = UNetLoGFinder(peak_max=3000 * u.adu, n_brightest=40, exclude_border=True)
    mask = np.zeros(frame.data.shape, bool)
    mask[60:75, 10:40] = True
    data = frame.data * u.adu
    assert_identical(two_steps(finder, data, mask)[1], finder(data, mask=mask))


def test_two_steps_with_nddata_and_wcs(finder, frame):
    data = NDData(frame.data, wcs=simple_wcs(frame.data.shape), unit='adu')
    table = two_steps(finder, data)[1]
    assert 'sky_centroid' in table.colnames
    assert_identical(table, finder(data))


@pytest.mark.parametrize('band_rows', [32, 96])
def test_two_steps_on_bands_of_rows(frame, band_rows):
    """Small tiles and bands: the catalog is found on the finder's own bands."""
    finder = UNetLoGFinder(tile_size=64, tile_margin=16, band_rows=band_rows, fwhm=3.5)
    maps, table = two_steps(finder, frame.data)
    assert maps.band_edges.size > 0
    assert_identical(table, finder(frame.data))


def test_two_steps_on_a_block_summed_frame(finder, broad_frame):
    maps, table = two_steps(finder, broad_frame.data)
    assert maps.block_size == 2 and maps.probability.shape == (128, 128)
    assert_identical(table, finder(broad_frame.data))


def test_other_thresholds_give_the_tables_of_finders_with_them(frame):
    finder = UNetLoGFinder(fwhm=3.5)
    maps = finder.network_maps(frame.data)
    lengths = []
    for threshold in (0.15, 0.3, 0.45):
        table = finder.catalog_from_maps(maps, threshold=threshold)
        assert table.meta['threshold'] == threshold
        assert_identical(table, UNetLoGFinder(fwhm=3.5, threshold=threshold)(frame.data))
        lengths.append(len(table))
    assert lengths[0] > lengths[1] > lengths[2] > 0
    assert finder.threshold == 0.2  # the finder is left as it was


def test_maps_hold_the_network_output(finder, frame):
    maps = finder.network_maps(frame.data)
    assert maps.output.dtype == np.float32 and maps.output.shape == (*frame.data.shape, 3)
    assert np.shares_memory(maps.probability, maps.output)
    assert maps.offsets is not None and maps.network_input is None
    assert maps.probability.min() >= 0 and maps.probability.max() <= 1
    np.testing.assert_allclose(
        maps.probability, finder.probability_map(frame.data), rtol=0, atol=1e-6
    )
    assert 'asidl-default' in repr(maps)


def test_no_detections_in_two_steps():
    data = np.random.default_rng(1).normal(100.0, 5.0, (64, 64))
    finder = UNetLoGFinder(fwhm=3.5)
    maps = finder.network_maps(data)
    with pytest.warns(NoDetectionsWarning, match='No sources were found.'):
        assert finder.catalog_from_maps(maps) is None


def test_all_masked_in_two_steps(finder, frame):
    maps = finder.network_maps(frame.data, mask=np.ones(frame.data.shape, bool))
    assert not maps.probability.any()
    with pytest.warns(NoDetectionsWarning, match='every pixel is masked'):
        assert finder.catalog_from_maps(maps) is None


def test_maps_of_another_model_or_bad_thresholds_are_refused(finder, frame):
    maps = finder.network_maps(frame.data)
    with pytest.raises(
        ValueError, match="^maps must be the NetworkMaps of a finder with the model 'asidl-fast'"
    ):
        UNetLoGFinder(model='asidl-fast').catalog_from_maps(maps)
    with pytest.raises(ValueError, match='^maps must be'):
        finder.catalog_from_maps(frame.data)
    for threshold in (0, -1.0, np.nan, '0.2'):
        with pytest.raises(ValueError, match='^threshold must be a'):
            finder.catalog_from_maps(maps, threshold=threshold)


def test_catalogs_from_maps_do_not_warn_about_the_fwhm(finder, frame):
    """The FWHM is measured once, when the maps are made."""
    maps = finder.network_maps(frame.data)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        finder.catalog_from_maps(maps, threshold=0.3)
