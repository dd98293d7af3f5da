# Licensed under a 3-clause BSD style license - see LICENSE.rst
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import NDData
from astropy.table import QTable, Table
from astropy.utils.exceptions import AstropyUserWarning
from regions import CirclePixelRegion, CircleSkyRegion, Regions

from asidl.io import (
    catalog_stem,
    empty_catalog,
    read_image,
    write_catalog,
    write_overlay,
    write_regions,
)
from asidl.tests.helpers import write_corrupt, write_frame, write_table_only


@pytest.fixture(scope='module')
def image_file(tmp_path_factory):
    """A frame with a WCS, BUNIT = adu and a MASK extension."""
    return write_frame(tmp_path_factory.mktemp('io') / 'frame.fits', seed=5)


@pytest.fixture(scope='module')
def image(image_file):
    return read_image(image_file)


@pytest.fixture(scope='module')
def sky_catalog(finder, image):
    return finder(image)


def _leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.startswith('.')]


# --------------------------------------------------------------------------
# read_image


def test_read_image_wcs_unit_mask(image_file, image):
    with fits.open(image_file) as hdul:
        raw = hdul[0].data
        mask = hdul['MASK'].data
    assert isinstance(image, NDData)
    np.testing.assert_array_equal(image.data, raw)
    assert image.unit == u.adu
    assert image.wcs is not None and image.wcs.has_celestial
    np.testing.assert_array_equal(image.mask, mask != 0)
    assert image.mask.sum() == 400
    assert image.meta['hdu'] == 0 and image.meta['filename'] == str(image_file)
    assert image.meta['header']['BUNIT'] == 'adu'
    # FITS is big-endian; the data come back in native byte order, unchanged.
    assert image.data.dtype.isnative and image.data.dtype == raw.dtype.newbyteorder('=')


def test_default_hdu_is_the_first_image_and_dq_goes_with_its_extver(tmp_path):
    """An HST-like file: empty primary, SCI/DQ pairs; masks are never the image."""
    shape = (40, 50)
    sci1, sci2 = np.full(shape, 1.0, np.float32), np.full(shape, 2.0, np.float32)
    dq1, dq2 = np.zeros(shape, np.int16), np.zeros(shape, np.int16)
    dq1[0, 0] = 4
    dq2[1, 1] = 8
    hdus = [
        fits.PrimaryHDU(),
        fits.ImageHDU(dq1, name='DQ', ver=1),  # a mask first: not the image
        fits.ImageHDU(sci1, name='SCI', ver=1),
        fits.ImageHDU(sci2, name='SCI', ver=2),
        fits.ImageHDU(dq2, name='DQ', ver=2),
    ]
    path = tmp_path / 'mef.fits'
    fits.HDUList(hdus).writeto(path)

    first = read_image(path)
    assert first.meta['hdu'] == 2 and first.data[0, 0] == 1.0
    assert first.mask[0, 0] and first.mask.sum() == 1
    assert first.wcs is None and first.unit is None

    second = read_image(path, hdu=('SCI', 2))
    assert second.meta['hdu'] == 3 and second.data[0, 0] == 2.0
    assert second.mask[1, 1] and second.mask.sum() == 1
    assert read_image(path, hdu=3).meta['hdu'] == 3
    assert read_image(path, hdu=2, mask_hdu=None).mask is None
    explicit = read_image(path, hdu=2, mask_hdu=('DQ', 2))
    assert explicit.mask[1, 1] and not explicit.mask[0, 0]


def test_separate_mask_file_is_combined(tmp_path, image_file):
    extra = np.zeros((160, 160), bool)
    extra[100, 100] = True
    fits.PrimaryHDU(extra.astype(np.uint8)).writeto(tmp_path / 'bpm.fits')
    image = read_image(image_file, mask=tmp_path / 'bpm.fits')
    assert image.mask[100, 100] and image.mask[15, 15] and image.mask.sum() == 401
    from_array = read_image(image_file, mask=extra, mask_hdu=None)
    np.testing.assert_array_equal(from_array.mask, extra)


@pytest.mark.parametrize(
    'bunit, unit',
    [
        ('adu', u.adu),
        ('ADU', u.adu),
        ('ELECTRONS/S', u.electron / u.s),
        ('MJy/sr', u.MJy / u.sr),
        ('counts', u.ct),
    ],
)
def test_bunit(tmp_path, bunit, unit):
    path = write_frame(tmp_path / 'f.fits', shape=(32, 32), bunit=bunit, mask_extname=None)
    assert read_image(path).unit == unit


def test_unknown_bunit_warns_and_drops_the_unit(tmp_path):
    path = write_frame(
        tmp_path / 'f.fits', shape=(32, 32), bunit='furlongs per cow', mask_extname=None
    )
    with pytest.warns(AstropyUserWarning, match='furlongs per cow'):
        assert read_image(path).unit is None


def test_non_celestial_wcs_is_not_used(tmp_path):
    header = fits.Header({'CTYPE1': 'LINEAR', 'CTYPE2': 'LINEAR', 'CRPIX1': 1, 'CRPIX2': 1})
    fits.PrimaryHDU(np.ones((20, 20), np.float32), header=header).writeto(tmp_path / 'l.fits')
    assert read_image(tmp_path / 'l.fits').wcs is None


def test_read_errors_name_the_file_and_the_problem(tmp_path, image_file):
    with pytest.raises(FileNotFoundError, match='missing.fits does not exist'):
        read_image(tmp_path / 'missing.fits')
    corrupt = write_corrupt(tmp_path / 'corrupt.fits')
    with pytest.raises(OSError, match='corrupt.fits'):
        read_image(corrupt)
    truncated = tmp_path / 'truncated.fits'
    truncated.write_bytes(image_file.read_bytes()[: 2880 + 10000])
    with pytest.raises(OSError, match='truncated'), warnings.catch_warnings():
        warnings.simplefilter('ignore', AstropyUserWarning)  # astropy's own "truncated"
        read_image(truncated)
    table_only = write_table_only(tmp_path / 'table.fits')
    with pytest.raises(ValueError, match=r'table.fits: no 2D image HDU .*BinTableHDU'):
        read_image(table_only)
    with pytest.raises(ValueError, match=r"there is no HDU 'SCI'.*\['PRIMARY', 'MASK'\]"):
        read_image(image_file, hdu='SCI')
    with pytest.raises(ValueError, match='there is no HDU 7'):
        read_image(image_file, hdu=7)
    with pytest.raises(ValueError, match=r'HDU 1 is not a 2D image \(it is a BinTableHDU\)'):
        read_image(table_only, hdu=1)
    with pytest.raises(ValueError, match=r'mask has shape \(3, 3\)'):
        read_image(image_file, mask=np.zeros((3, 3), bool))
    with pytest.raises(FileNotFoundError, match='mask file'):
        read_image(image_file, mask=tmp_path / 'no_mask.fits')


def test_mask_extension_of_another_shape_is_an_error(tmp_path):
    hdus = fits.HDUList(
        [
            fits.PrimaryHDU(np.ones((20, 20), np.float32)),
            fits.ImageHDU(np.zeros((10, 10), np.uint8), name='BPM'),
        ]
    )
    hdus.writeto(tmp_path / 'f.fits')
    with pytest.raises(ValueError, match=r'BPM\) has shape \(10, 10\)'):
        read_image(tmp_path / 'f.fits')
    assert read_image(tmp_path / 'f.fits', mask_hdu=None).mask is None


def test_read_image_does_what_the_finder_needs(tmp_path, finder, image_file, sky_catalog):
    """The NDData carries mask, unit and WCS into the catalog."""
    assert sky_catalog['flux'].unit == u.adu
    assert isinstance(sky_catalog['sky_centroid'], SkyCoord)
    x, y = sky_catalog['x_centroid'], sky_catalog['y_centroid']
    assert not np.any((x > 9) & (x < 30) & (y > 9) & (y < 30)), 'masked box must be empty'
    brightest = np.argmax(sky_catalog['flux'])
    bx, by = round(x[brightest]), round(y[brightest])
    bad = np.zeros((160, 160), np.uint8)
    bad[by - 4 : by + 5, bx - 4 : bx + 5] = 1
    fits.PrimaryHDU(bad).writeto(tmp_path / 'bpm.fits')
    masked = finder(read_image(image_file, mask=tmp_path / 'bpm.fits'))
    assert len(masked) < len(sky_catalog)
    assert np.min(np.hypot(masked['x_centroid'] - bx, masked['y_centroid'] - by)) > 3


# --------------------------------------------------------------------------
# Catalogs


def test_catalog_stem():
    assert catalog_stem('a/b/frame.fits') == 'frame'
    assert catalog_stem('frame.FIT') == 'frame'
    # Compressed images keep the compression: never the name of the uncompressed image.
    assert catalog_stem('frame.fits.fz') == 'frame.fz'
    assert catalog_stem('frame.fts.gz') == 'frame.gz'
    assert catalog_stem('frame.fits.GZ') == 'frame.GZ'
    assert catalog_stem('frame.v2.fits') == 'frame.v2'
    assert catalog_stem('image') == 'image'


@pytest.mark.parametrize('suffix', ['.ecsv', '.fits', '.fit'])
def test_catalog_round_trip_keeps_units_meta_and_sky(tmp_path, sky_catalog, suffix):
    path = write_catalog(sky_catalog, tmp_path / f'cat{suffix}')
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no unit or HIERARCH warnings on reading
        back = QTable.read(path)
    assert back.colnames == sky_catalog.colnames
    assert len(back) == len(sky_catalog) > 10
    for name in ('x_centroid', 'y_centroid', 'confidence', 'flux', 'mag'):
        np.testing.assert_allclose(back[name], sky_catalog[name], rtol=1e-6)
    assert back['flux'].unit == u.adu
    sep = back['sky_centroid'].separation(sky_catalog['sky_centroid'])
    assert sep.max() < 1e-6 * u.arcsec
    meta = {key.lower(): value for key, value in back.meta.items()}  # FITS upper-cases
    assert meta['model'] == sky_catalog.meta['model']
    assert meta['threshold'] == sky_catalog.meta['threshold']
    assert _leftovers(tmp_path) == []


def test_csv_has_ra_dec_in_degrees(tmp_path, sky_catalog):
    path = write_catalog(sky_catalog, tmp_path / 'cat.csv')
    back = Table.read(path, format='ascii.csv')
    names = [n for n in sky_catalog.colnames if n != 'sky_centroid']
    assert back.colnames == names[:3] + ['ra', 'dec'] + names[3:]
    np.testing.assert_allclose(back['ra'], sky_catalog['sky_centroid'].ra.deg, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back['dec'], sky_catalog['sky_centroid'].dec.deg, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back['flux'], sky_catalog['flux'].value, rtol=1e-9)
    assert 'sky_centroid' in sky_catalog.colnames  # the caller's table is unchanged


def test_write_catalog_refuses_unknown_suffix_and_existing_file(tmp_path, sky_catalog):
    with pytest.raises(ValueError, match=r'cat.txt: the suffix must be one of .ecsv'):
        write_catalog(sky_catalog, tmp_path / 'cat.txt')
    path = tmp_path / 'cat.ecsv'
    path.write_text('old')
    with pytest.raises(FileExistsError, match='overwrite'):
        write_catalog(sky_catalog, path)
    assert path.read_text() == 'old'
    write_catalog(sky_catalog, path, overwrite=True)
    assert len(QTable.read(path)) == len(sky_catalog)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        write_catalog(sky_catalog, tmp_path / 'no' / 'such' / 'dir.ecsv')


def test_failed_write_leaves_the_old_catalog_and_no_temporary_file(tmp_path, sky_catalog):
    path = write_catalog(sky_catalog, tmp_path / 'cat.fits')
    before = path.read_bytes()
    unwritable = sky_catalog.copy()
    unwritable['thing'] = np.array([object()] * len(unwritable), dtype=object)
    with pytest.raises(Exception):  # noqa: B017 - FITS cannot hold Python objects
        write_catalog(unwritable, path, overwrite=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cat.fits']


def test_empty_catalog_has_the_columns_of_a_real_one(finder, image, sky_catalog):
    empty = empty_catalog(finder, image)
    assert len(empty) == 0
    assert empty.colnames == sky_catalog.colnames
    for name in empty.colnames:
        assert getattr(empty[name], 'unit', None) == getattr(sky_catalog[name], 'unit', None)
    plain = finder(image.data)
    assert empty_catalog(finder, image.data).colnames == plain.colnames
    assert empty.meta['model'] == finder.model_name


# --------------------------------------------------------------------------
# Region files and overlays


def test_pixel_regions_parse_back_at_the_catalog_positions(tmp_path, sky_catalog):
    path = write_regions(sky_catalog, tmp_path / 'cat.reg', radius=3.0)
    shapes = Regions.read(path, format='ds9')
    assert len(shapes) == len(sky_catalog)
    assert all(isinstance(s, CirclePixelRegion) and s.radius == 3.0 for s in shapes)
    # DS9 image coordinates are 1-based; regions converts back to 0-based.
    np.testing.assert_allclose([s.center.x for s in shapes], sky_catalog['x_centroid'], atol=1e-6)
    np.testing.assert_allclose([s.center.y for s in shapes], sky_catalog['y_centroid'], atol=1e-6)
    assert 'image' in path.read_text().splitlines()[1]


def test_sky_regions(tmp_path, sky_catalog, image):
    path = write_regions(
        sky_catalog, tmp_path / 'cat.reg', coordinates='sky', wcs=image.wcs, radius=4.0
    )
    shapes = Regions.read(path, format='ds9')
    assert all(isinstance(s, CircleSkyRegion) for s in shapes)
    centers = SkyCoord([s.center for s in shapes])
    assert centers.separation(sky_catalog['sky_centroid']).max() < 0.01 * u.arcsec
    np.testing.assert_allclose(shapes[0].radius.to_value(u.arcsec), 4 * 0.56, rtol=1e-5)
    # Without a WCS the pixel scale comes from the catalog itself.
    estimated = Regions.read(
        write_regions(sky_catalog, tmp_path / 'b.reg', coordinates='sky'), format='ds9'
    )
    np.testing.assert_allclose(estimated[0].radius.to_value(u.arcsec), 4 * 0.56, rtol=1e-3)


def test_region_errors(tmp_path, sky_catalog):
    plain = sky_catalog.copy()
    plain.remove_column('sky_centroid')
    with pytest.raises(ValueError, match='sky_centroid column or a WCS'):
        write_regions(plain, tmp_path / 'a.reg', coordinates='sky')
    with pytest.raises(ValueError, match="'image' or 'sky'"):
        write_regions(plain, tmp_path / 'a.reg', coordinates='galactic')
    with pytest.raises(ValueError, match='radius'):
        write_regions(plain, tmp_path / 'a.reg', radius=0)
    assert _leftovers(tmp_path) == [] and not (tmp_path / 'a.reg').exists()


def test_overlay_png(tmp_path, image, sky_catalog):
    path = write_overlay(image, sky_catalog, tmp_path / 'o.png', title='frame')
    assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    write_overlay(np.zeros((20, 20)), None, tmp_path / 'empty.png')
    assert (tmp_path / 'empty.png').stat().st_size > 1000


def test_files_asidl_wrote_are_told_from_others(tmp_path, image_file, image, sky_catalog):
    from asidl.io import written_by_asidl

    ours = [
        write_catalog(sky_catalog, tmp_path / f'c{s}', overwrite=False)
        for s in ('.ecsv', '.fits', '.csv')
    ]
    ours.append(write_regions(sky_catalog, tmp_path / 'c.reg'))
    ours.append(write_overlay(image, sky_catalog, tmp_path / 'c.png'))
    for path in ours:
        assert written_by_asidl(path), path
    others = {
        'image.fits': image_file.read_bytes(),
        'notes.ecsv': b'# notes\n',
        'table.csv': b'a,b\n1,2\n',
        'photo.png': b'\x89PNG\r\n\x1a\n' + b'\0' * 64,
        'ds9.reg': b'circle(1, 2, 3)\n',
        'binary.ecsv': b'\xff\xfe\0\0',
        'empty.fits': b'',
    }
    for name, content in others.items():
        (tmp_path / name).write_bytes(content)
        assert not written_by_asidl(tmp_path / name), name
    write_table_only(tmp_path / 'foreign_table.fits')
    assert not written_by_asidl(tmp_path / 'foreign_table.fits')


def test_empty_catalog_of_an_image_with_an_unusable_wcs(finder, image):
    wcs = image.wcs.deepcopy()
    wcs.wcs.cdelt = [0, 0]
    table = empty_catalog(finder, NDData(image.data, wcs=wcs, unit=image.unit))
    assert len(table) == 0 and 'sky_centroid' not in table.colnames
    assert 'sky_centroid' in empty_catalog(finder, image).colnames
