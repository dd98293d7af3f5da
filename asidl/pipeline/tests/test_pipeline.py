# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`asidl.pipeline.find_stars_in_files` in this process and on real Dask
clusters: an in-process one (fast) and one with worker processes, of
which one is killed mid-run.
"""

import os
import signal
import threading
import time

import astropy.units as u
import numpy as np
import pytest
from astropy.nddata import NDData
from astropy.table import QTable
from distributed import Client, LocalCluster
from regions import Regions

from asidl.io import read_image
from asidl.pipeline import BatchResult, expand_paths, find_stars_in_files
from asidl.pipeline.worker import finder_cache_info, prepare_worker
from asidl.tests.helpers import write_corrupt, write_frame, write_table_only

# These tests are about files, resume and workers; their small frames hold too
# few bright isolated stars to measure the FWHM, so the finder warns and
# searches at its own scale, which is all they need.
pytestmark = pytest.mark.filterwarnings('ignore::asidl.fwhm.FWHMWarning')

N_GOOD = 4

#: In-process clusters must not listen on, or look up, any outside address
#: (the tests are offline; pytest-remotedata enforces it).
LOCALHOST_ONLY = {
    'protocol': 'tcp',
    'host': '127.0.0.1',
    'dashboard_address': '127.0.0.1:0',
    'worker_dashboard_address': '127.0.0.1:0',
}


@pytest.fixture(scope='module')
def night(tmp_path_factory):
    """Four good frames, a corrupt file and a FITS file without an image, in one directory."""
    directory = tmp_path_factory.mktemp('night')
    good = [
        write_frame(directory / f'frame_{i}.fits', seed=10 + i, shape=(128, 128), wcs=i % 2 == 0)
        for i in range(N_GOOD)
    ]
    write_corrupt(directory / 'frame_corrupt.fits')
    write_table_only(directory / 'frame_table.fits')
    return directory, good


@pytest.fixture(scope='module')
def reference(finder, night):
    """The Python API's catalog of each good frame, by file stem."""
    return {path.stem: finder(read_image(path)) for path in night[1]}


def assert_same_catalog(table, ref):
    assert table.colnames == ref.colnames
    assert len(table) == len(ref) > 5
    for name in ('x_centroid', 'y_centroid', 'flux', 'confidence'):
        np.testing.assert_allclose(
            u.Quantity(table[name]).value, u.Quantity(ref[name]).value, rtol=1e-5, atol=1e-4
        )
    if 'sky_centroid' in ref.colnames:
        assert table['sky_centroid'].separation(ref['sky_centroid']).max() < 1e-3 * u.arcsec


def assert_catalogs_complete(out_dir, reference, suffix='.ecsv'):
    """Exactly one whole catalog per good frame, nothing else (no temporary files)."""
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(stem + suffix for stem in reference)
    for stem, ref in reference.items():
        assert_same_catalog(QTable.read(out_dir / (stem + suffix)), ref)


def check_result(result, night):
    assert isinstance(result, BatchResult)
    directory, good = night
    summary = result.summary
    assert len(summary) == N_GOOD + 2 and not result.ok
    assert result.counts() == {'done': N_GOOD, 'skipped': 0, 'failed': 2}
    by_name = {os.path.basename(row['input']): row for row in summary}
    assert 'not a readable FITS file' in by_name['frame_corrupt.fits']['error']
    assert 'no 2D image HDU' in by_name['frame_table.fits']['error']
    assert by_name['frame_corrupt.fits']['catalog'] == ''
    assert sorted(os.path.basename(n) for n in result.failures['input']) == [
        'frame_corrupt.fits',
        'frame_table.fits',
    ]
    for path in good:
        assert by_name[path.name]['status'] == 'done' and by_name[path.name]['error'] == ''


# --------------------------------------------------------------------------
# In this process


def test_serial_run_writes_every_catalog_and_reports_failures(tmp_path, night, reference):
    directory, _ = night
    out = tmp_path / 'cats'
    result = find_stars_in_files(str(directory / 'frame_*.fits'), out_dir=out)
    check_result(result, night)
    assert result.catalogs == []
    assert_catalogs_complete(out, reference)
    for stem, ref in reference.items():
        row = result.summary[
            [os.path.basename(i) == stem + '.fits' for i in result.summary['input']]
        ][0]
        assert row['n_sources'] == len(ref) and row['catalog'] == str(out / f'{stem}.ecsv')
    meta = QTable.read(out / 'frame_0.ecsv').meta
    assert meta['image'] == str(directory / 'frame_0.fits') and meta['hdu'] == 0


def test_rerun_skips_finished_catalogs_and_overwrite_redoes_them(tmp_path, night, reference):
    directory, good = night
    out = tmp_path / 'cats'
    find_stars_in_files(good[:2], out_dir=out)
    first = (out / 'frame_0.ecsv').stat().st_mtime_ns
    result = find_stars_in_files(good, out_dir=out)
    assert result.summary['status'].tolist() == ['skipped', 'skipped', 'done', 'done']
    assert result.summary['n_sources'].mask.tolist() == [True, True, False, False]
    assert (out / 'frame_0.ecsv').stat().st_mtime_ns == first
    assert_catalogs_complete(out, reference)
    again = find_stars_in_files(good[:1], out_dir=out, overwrite=True)
    assert again.summary['status'].tolist() == ['done']
    assert (out / 'frame_0.ecsv').stat().st_mtime_ns > first


def test_stale_temporary_files_of_a_killed_run_are_removed(tmp_path, night):
    out = tmp_path / 'cats'
    out.mkdir()
    (out / '.frame_0.ecsv.1234abcd.asidl-tmp').write_text('half a catalog')
    find_stars_in_files(night[1][:1], out_dir=out)
    assert sorted(p.name for p in out.iterdir()) == ['frame_0.ecsv']


def test_in_memory_nddata_and_formats(tmp_path, night, reference):
    images = [read_image(p) for p in night[1][:2]]
    result = find_stars_in_files(images)
    assert result.ok and result.summary['input'].tolist() == [str(p) for p in night[1][:2]]
    for table, path in zip(result.catalogs, night[1][:2]):
        assert_same_catalog(table, reference[path.stem])
    anonymous = find_stars_in_files(
        [NDData(images[0].data)], out_dir=tmp_path, output_format='fits'
    )
    assert anonymous.summary['input'].tolist() == ['NDData[0]']
    assert (tmp_path / 'image_0000.fits').exists()
    named = find_stars_in_files(images[:1], out_dir=tmp_path, output_format='csv', names=['mine'])
    assert named.ok and (tmp_path / 'mine.csv').exists()


def test_sidecar_files(tmp_path, night, reference):
    path = night[1][0]
    find_stars_in_files(path, out_dir=tmp_path, regions='sky', overlay=True, region_radius=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'frame_0.ecsv',
        'frame_0.png',
        'frame_0.reg',
    ]
    shapes = Regions.read(tmp_path / 'frame_0.reg', format='ds9')
    assert len(shapes) == len(reference['frame_0'])
    assert (tmp_path / 'frame_0.png').read_bytes()[:4] == b'\x89PNG'


def test_empty_frames_get_an_empty_catalog(tmp_path, finder):
    flat = NDData(np.full((64, 64), 1000.0, np.float32), unit=u.adu)
    result = find_stars_in_files([flat], out_dir=tmp_path)
    assert result.summary['status'][0] == 'done' and result.summary['n_sources'][0] == 0
    table = QTable.read(tmp_path / 'image_0000.ecsv')
    assert len(table) == 0 and table['flux'].unit == u.adu and 'mag' in table.colnames


def test_finder_options_reach_the_finder(night, reference):
    path = night[1][0]
    ref = reference['frame_0']
    fewer = find_stars_in_files(path, n_brightest=3, threshold=0.3)
    assert len(fewer.catalogs[0]) == 3 and fewer.catalogs[0].meta['threshold'] == 0.3
    # A plain peak_max is in the image's unit (adu here).
    cut = float(np.median(ref['peak'].value))
    below = find_stars_in_files(path, peak_max=cut).catalogs[0]
    assert 0 < len(below) < len(ref) and np.all(below['peak'] <= cut * u.adu)


def test_invalid_arguments_raise_before_any_work(tmp_path, night):
    good = night[1]
    with pytest.raises(TypeError, match='unknown UNetLoGFinder option.*treshold'):
        find_stars_in_files(good, treshold=0.3)
    with pytest.raises(ValueError, match='threshold must be a positive number'):
        find_stars_in_files(good, out_dir=tmp_path, threshold=-1)
    with pytest.raises(ValueError, match='output_format must be one of ecsv, fits'):
        find_stars_in_files(good, out_dir=tmp_path, output_format='xlsx')
    with pytest.raises(ValueError, match='regions and overlay files need an out_dir'):
        find_stars_in_files(good, regions='image')
    with pytest.raises(FileNotFoundError, match="no file matches '.*nothing_"):
        find_stars_in_files(str(tmp_path / 'nothing_*.fits'))
    with pytest.raises(TypeError, match='model must be a registered model name or the path'):
        find_stars_in_files(good, model=object())
    with pytest.raises(ValueError, match='model file .*nope.keras does not exist'):
        find_stars_in_files(good, model=tmp_path / 'nope.keras')
    (tmp_path / 'other').mkdir()
    twin = write_frame(tmp_path / 'other' / 'frame_0.fits', shape=(32, 32))
    with pytest.raises(ValueError, match='would both write .*frame_0.ecsv'):
        find_stars_in_files([good[0], twin], out_dir=tmp_path)
    with pytest.raises(ValueError, match='would overwrite an input image'):
        find_stars_in_files(good[0], out_dir=good[0].parent, output_format='fits')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['other']


def test_expand_paths(tmp_path):
    for name in ('b.fits', 'a.fits', 'c.txt'):
        (tmp_path / name).write_text('')
    assert expand_paths([str(tmp_path / '*.fits'), 'missing.fits']) == [
        str(tmp_path / 'a.fits'),
        str(tmp_path / 'b.fits'),
        'missing.fits',
    ]
    odd = tmp_path / 'x[1].fits'
    odd.write_text('')
    assert expand_paths(odd) == [str(odd)]  # an existing name is not a pattern


# --------------------------------------------------------------------------
# On Dask


@pytest.fixture(scope='module')
def thread_cluster():
    """Two workers as threads of this process (they share its loaded model)."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, **LOCALHOST_ONLY
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def test_dask_run_matches_the_python_api(tmp_path, night, reference, thread_cluster):
    directory, _ = night
    out = tmp_path / 'cats'
    result = find_stars_in_files(
        sorted(directory.glob('frame_*.fits')), client=thread_cluster, out_dir=out, progress=True
    )
    check_result(result, night)
    assert_catalogs_complete(out, reference)
    # NDData inputs are scattered to the workers; catalogs come back in input order.
    images = [read_image(p) for p in night[1]]
    in_memory = find_stars_in_files(images, client=thread_cluster)
    for table, path in zip(in_memory.catalogs, night[1]):
        assert_same_catalog(table, reference[path.stem])


def test_dask_invalid_options_raise_in_the_caller(night, thread_cluster):
    with pytest.raises(ValueError, match='overlap must be a number between 0 and 1'):
        find_stars_in_files(night[1], client=thread_cluster, overlap=2.0)


@pytest.mark.slow
def test_worker_processes_load_the_model_once_and_survive_a_killed_worker(tmp_path, finder):
    """
    Real worker processes: each builds one finder for all its images, even
    when a worker is killed (SIGKILL) in the middle of the run; Dask moves
    its work to the other (or restarted) worker, and every catalog is
    written once, whole.
    """
    paths = [
        write_frame(tmp_path / f'big_{i}.fits', seed=40 + i, shape=(320, 320), mask_extname=None)
        for i in range(8)
    ]
    out = tmp_path / 'cats'
    box = {}
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, **LOCALHOST_ONLY
        ) as cluster,
        Client(cluster) as client,
    ):
        # Load the model on both workers now, so that both are busy when the kill comes.
        client.run(prepare_worker, {})
        pids = client.run(os.getpid)
        runner = threading.Thread(
            target=lambda: box.update(result=find_stars_in_files(paths, client=client, out_dir=out))
        )
        runner.start()
        deadline = time.monotonic() + 120
        while not any(out.glob('*.ecsv')) and time.monotonic() < deadline:
            time.sleep(0.01)
        n_at_kill = len(list(out.glob('*.ecsv')))
        victim, survivor = pids
        os.kill(pids[victim], signal.SIGKILL)
        runner.join(timeout=240)
        assert not runner.is_alive()
        counts = client.run(finder_cache_info, workers=[survivor])[survivor]
    assert 0 < n_at_kill < len(paths), 'the worker must be killed in the middle of the run'
    # One finder for the warm-up and all the survivor's images.
    assert counts['built'] == 1 and counts['used'] >= 3, counts
    result = box['result']
    assert result.ok, result.failures
    assert sorted(p.name for p in out.iterdir()) == sorted(f'{p.stem}.ecsv' for p in paths)
    for path in paths:
        table = QTable.read(out / f'{path.stem}.ecsv')
        assert table.meta['image'] == str(path)
        assert_same_catalog(table, finder(read_image(path)))


# --------------------------------------------------------------------------
# Resume trusts only what a catalog records


def test_resume_redoes_an_image_that_changed_or_other_options(tmp_path):
    path = write_frame(tmp_path / 'x.fits', seed=3, shape=(64, 64))
    out = tmp_path / 'cats'
    assert find_stars_in_files(path, out_dir=out).counts()['done'] == 1
    meta = QTable.read(out / 'x.ecsv').meta
    assert (meta['image'], meta['image_size']) == (str(path), path.stat().st_size)
    assert len(meta['options_sha256']) == 64
    assert find_stars_in_files(path, out_dir=out).counts()['skipped'] == 1
    assert find_stars_in_files(path, out_dir=out, threshold=0.3).counts()['done'] == 1
    assert find_stars_in_files(path, out_dir=out, threshold=0.3).counts()['skipped'] == 1
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert find_stars_in_files(path, out_dir=out, threshold=0.3).counts()['done'] == 1


def test_resume_of_images_in_memory_compares_their_data(tmp_path):
    data = write_and_read(tmp_path)
    out = tmp_path / 'cats'
    assert find_stars_in_files([NDData(data)], out_dir=out).counts()['done'] == 1
    assert 'image' not in QTable.read(out / 'image_0000.ecsv').meta
    assert find_stars_in_files([NDData(data)], out_dir=out).counts()['skipped'] == 1
    assert find_stars_in_files([NDData(data + 1.0)], out_dir=out).counts()['done'] == 1


def write_and_read(tmp_path):
    return read_image(write_frame(tmp_path / 'mem.fits', seed=4, shape=(64, 64))).data


def test_outputs_never_replace_files_asidl_did_not_write(tmp_path):
    path = write_frame(tmp_path / 'x.fits', seed=3, shape=(64, 64))
    out = tmp_path / 'cats'
    out.mkdir()
    image = write_frame(out / 'x.fits', seed=5, shape=(64, 64))
    (out / 'x.reg').write_text('circle(1, 2, 3)\n')
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for kwargs in ({'output_format': 'fits'}, {'regions': 'image'}):
        with pytest.raises(FileExistsError, match='is not .*asidl wrote.*overwrite=True'):
            find_stars_in_files(path, out_dir=out, **kwargs)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # CSV catalogs carry no meta: a re-run redoes them rather than trusting them.
    assert find_stars_in_files(path, out_dir=out, output_format='csv').counts()['done'] == 1
    assert find_stars_in_files(path, out_dir=out, output_format='csv').counts()['done'] == 1
    result = find_stars_in_files(path, out_dir=out, output_format='fits', overwrite=True)
    assert result.ok and image.read_bytes() != before['x.fits']
