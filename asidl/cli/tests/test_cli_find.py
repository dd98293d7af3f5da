# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
``asidl find`` and ``asidl batch``, run as commands (subprocesses), their
catalogs read back with astropy and compared with the Python API's.
"""

import os
import re
import signal
import subprocess
import sys
import time

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable, Table
from distributed import Client, LocalCluster
from regions import CirclePixelRegion, Regions

from asidl.cli import main
from asidl.io import read_image
from asidl.tests.helpers import write_corrupt, write_frame

# These tests are about files, resume and workers; their small frames hold too
# few bright isolated stars to measure the FWHM, so the finder warns and
# searches at its own scale, which is all they need.
pytestmark = pytest.mark.filterwarnings('ignore::asidl.fwhm.FWHMWarning')

#: In-process clusters listen on localhost only (the tests are offline).
LOCALHOST_ONLY = {
    'protocol': 'tcp',
    'host': '127.0.0.1',
    'dashboard_address': '127.0.0.1:0',
    'worker_dashboard_address': '127.0.0.1:0',
}

TEMPORARY = re.compile(r'^\..*\.asidl-tmp$')


def asidl(*args, timeout=300):
    """Run the ``asidl`` command; returns the CompletedProcess."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
    return subprocess.run(
        [sys.executable, '-m', 'asidl.cli', *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope='module')
def frames(tmp_path_factory):
    """Two frames with WCS, BUNIT and MASK, one bare frame, and a corrupt file."""
    directory = tmp_path_factory.mktemp('cli')
    write_frame(directory / 'a.fits', seed=21, shape=(128, 128))
    write_frame(directory / 'b.fits', seed=22, shape=(128, 128))
    write_frame(
        directory / 'c.fits', seed=23, shape=(128, 128), wcs=False, bunit=None, mask_extname=None
    )
    write_corrupt(directory / 'd.fits')
    return directory


@pytest.fixture(scope='module')
def reference(finder, frames):
    return {name: finder(read_image(frames / f'{name}.fits')) for name in 'abc'}


@pytest.fixture(scope='module')
def scheduler():
    """Address of a running cluster (worker threads of this test process)."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, **LOCALHOST_ONLY
        ) as cluster,
        Client(cluster),
    ):
        yield cluster.scheduler_address


def assert_same_catalog(table, ref):
    assert table.colnames == ref.colnames
    assert len(table) == len(ref) > 5
    for name in ('x_centroid', 'y_centroid', 'flux', 'peak', 'mag'):
        np.testing.assert_allclose(
            u.Quantity(table[name]).value, u.Quantity(ref[name]).value, rtol=1e-5, atol=1e-4
        )
    assert getattr(table['flux'], 'unit', None) == getattr(ref['flux'], 'unit', None)
    if 'sky_centroid' in ref.colnames:
        assert table['sky_centroid'].separation(ref['sky_centroid']).max() < 1e-3 * u.arcsec


@pytest.mark.parametrize(
    'command, expected',
    [
        (
            'find',
            [
                '--output',
                '--out-dir',
                '--format',
                '--regions',
                '--overlay',
                '--hdu',
                '--mask-hdu',
                '--threshold',
                '--n-brightest',
                'examples:',
            ],
        ),
        (
            'batch',
            [
                '--out-dir',
                '--scheduler',
                '--workers',
                '--threads',
                '--overwrite',
                'resume',
                '--summary',
                'examples:',
            ],
        ),
    ],
)
def test_help_reads_like_a_unix_tool(capsys, command, expected):
    with pytest.raises(SystemExit) as exit_:
        main([command, '--help'])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f'usage: asidl {command}')
    for word in expected:
        assert word in out, word
    assert max(len(line) for line in out.splitlines()) <= 100


def test_find_writes_catalogs_regions_and_overlays(tmp_path, frames, reference):
    out = tmp_path / 'out'
    run = asidl(
        'find',
        frames / 'a.fits',
        frames / 'c.fits',
        frames / 'd.fits',
        '-d',
        out,
        '-f',
        'fits',
        '--regions',
        '--overlay',
    )
    assert run.returncode == 1, run.stderr  # d.fits is not FITS
    lines = run.stdout.splitlines()
    assert len(lines) == 2
    for line, name in zip(lines, 'ac'):
        n = len(reference[name])
        assert line.startswith(
            f'{frames / name}.fits: {n} stars -> {out / name}.fits + {name}.reg + {name}.png ('
        ), line
    assert re.search(r'asidl find: .*d\.fits: OSError: .*not a readable FITS file', run.stderr)
    assert sorted(p.name for p in out.iterdir()) == [
        'a.fits',
        'a.png',
        'a.reg',
        'c.fits',
        'c.png',
        'c.reg',
    ]
    for name in 'ac':
        assert_same_catalog(QTable.read(out / f'{name}.fits'), reference[name])
        shapes = Regions.read(out / f'{name}.reg', format='ds9')
        assert len(shapes) == len(reference[name])
        assert isinstance(shapes[0], CirclePixelRegion)
        np.testing.assert_allclose(
            [s.center.x for s in shapes], reference[name]['x_centroid'], atol=1e-6
        )
        assert (out / f'{name}.png').read_bytes()[:4] == b'\x89PNG'
    assert 'sky_centroid' not in QTable.read(out / 'c.fits').colnames  # no WCS


def test_find_output_formats_and_options(tmp_path, frames, reference, capsys):
    """The same command in this process (faster): -o with each suffix, finder options."""
    assert main(['find', str(frames / 'a.fits'), '-o', str(tmp_path / 'a.csv')]) == 0
    csv = Table.read(tmp_path / 'a.csv', format='ascii.csv')
    ref = reference['a']
    np.testing.assert_allclose(csv['ra'], ref['sky_centroid'].ra.deg, atol=1e-9)
    np.testing.assert_allclose(csv['x_centroid'], ref['x_centroid'], atol=1e-6)
    assert (
        main(
            [
                'find',
                str(frames / 'a.fits'),
                '-o',
                str(tmp_path / 'a.ecsv'),
                '--quiet',
                '--n-brightest',
                '4',
                '--threshold',
                '0.3',
                '--mask-hdu',
                'none',
            ]
        )
        == 0
    )
    few = QTable.read(tmp_path / 'a.ecsv')
    assert len(few) == 4 and few.meta['threshold'] == 0.3 and few.meta['n_brightest'] == 4
    out = capsys.readouterr()
    assert out.out.count('\n') == 1 and 'a.csv' in out.out  # --quiet printed nothing
    # A plain --peak-max is in the image's unit (BUNIT = adu).
    cut = float(np.median(ref['peak'].value))
    assert (
        main(
            ['find', str(frames / 'a.fits'), '-o', str(tmp_path / 'p.ecsv'), '--peak-max', str(cut)]
        )
        == 0
    )
    assert 0 < len(QTable.read(tmp_path / 'p.ecsv')) < len(ref)


@pytest.mark.parametrize(
    'args, message',
    [
        (['a.fits', 'b.fits', '-o', 'x.ecsv'], '--output names one catalog, but 2 images'),
        (['a.fits', '-o', 'x.txt'], 'suffix must be one of'),
        (['a.fits', '-f', 'fits', '-d', '{frames}'], 'would overwrite an input image'),
        (['a.fits', '--model', 'no-such-model', '-o', 'x.ecsv'], "unknown model 'no-such-model'"),
        (['a.fits', '--threshold', '-1', '-o', 'x.ecsv'], 'threshold must be a positive number'),
        (['a.fits', '--fwhm', 'inf', '-o', 'x.ecsv'], 'fwhm must be a finite positive number'),
        (['nothing*.fits'], "no file matches 'nothing"),
    ],
)
def test_find_usage_errors(tmp_path, frames, capsys, monkeypatch, args, message):
    monkeypatch.chdir(frames)
    args = [a.replace('{frames}', str(frames)).replace('x.', str(tmp_path / 'x.')) for a in args]
    assert main(['find', *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith('asidl find: error: ') and message in err
    assert list(tmp_path.iterdir()) == []


def test_batch_on_a_running_cluster(tmp_path, frames, reference, scheduler):
    out = tmp_path / 'cats'
    run = asidl(
        'batch',
        frames / '*.fits',
        '--out-dir',
        out,
        '--scheduler',
        scheduler,
        '--summary',
        tmp_path / 'summary.ecsv',
        '--progress',
    )
    assert run.returncode == 1, run.stderr
    assert re.fullmatch(
        r'asidl batch: 4 images: 3 done \(\d+ stars\), 0 skipped, 1 failed, in '
        r'[\d.]+ s, [\d.]+ images/min\n',
        run.stdout,
    ), run.stdout
    assert re.search(r'asidl batch: failed: .*d\.fits: OSError: .*not a readable FITS', run.stderr)
    assert '4/4' in run.stderr  # the progress bar
    assert sorted(p.name for p in out.iterdir()) == ['a.ecsv', 'b.ecsv', 'c.ecsv']
    for name in 'abc':
        assert_same_catalog(QTable.read(out / f'{name}.ecsv'), reference[name])
    summary = QTable.read(tmp_path / 'summary.ecsv')
    assert summary['status'].tolist() == ['done', 'done', 'done', 'failed']
    assert summary['n_sources'][:3].tolist() == [len(reference[n]) for n in 'abc']


def test_batch_usage_errors(tmp_path, frames, capsys):
    assert (
        main(
            [
                'batch',
                str(frames / 'a.fits'),
                '-d',
                str(tmp_path),
                '--summary',
                str(tmp_path / 's.txt'),
            ]
        )
        == 2
    )
    assert 'suffix must be one of' in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(['batch', str(frames / 'a.fits')])  # --out-dir is required
    assert exit_.value.code == 2
    assert (
        main(
            [
                'batch',
                str(frames / 'a.fits'),
                '-d',
                str(tmp_path),
                '--scheduler',
                'tcp://127.0.0.1:9',
                '--connect-timeout',
                '1',
            ]
        )
        == 2
    )
    assert 'asidl batch: error:' in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_batch_terminated_mid_run_then_resumed(tmp_path, finder, scheduler):
    """
    ``asidl batch`` on its own local cluster gets SIGTERM after the first
    catalog appears; the catalogs written are whole, and the same command
    run again (here on a running cluster) does the rest: every catalog
    once, complete, and no temporary files.
    """
    frames = tmp_path / 'night'
    frames.mkdir()
    paths = [write_frame(frames / f'n{i}.fits', seed=60 + i, shape=(320, 320)) for i in range(8)]
    out = tmp_path / 'cats'
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
    proc = subprocess.Popen(
        [
            sys.executable,
            '-m',
            'asidl.cli',
            'batch',
            str(frames / '*.fits'),
            '-d',
            str(out),
            '--workers',
            '1',
            '--threads',
            '1',
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline:
            if out.is_dir() and any(p.suffix == '.ecsv' for p in out.iterdir()):
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert 'interrupted by SIGTERM' in stderr and 'run the same command again' in stderr
    written = sorted(p.name for p in out.iterdir())
    assert not any(TEMPORARY.match(name) for name in written)
    assert 1 <= len(written) < len(paths), 'SIGTERM must arrive in the middle of the run'
    references = {p.stem: finder(read_image(p)) for p in paths}
    for name in written:
        assert_same_catalog(QTable.read(out / name), references[name[:-5]])

    run = asidl('batch', frames / '*.fits', '-d', out, '--scheduler', scheduler)
    assert run.returncode == 0, run.stderr
    assert (
        f'{len(paths)} images: {len(paths) - len(written)} done' in run.stdout
        and f'{len(written)} skipped, 0 failed' in run.stdout
    ), run.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(f'{p.stem}.ecsv' for p in paths)
    for path in paths:
        assert_same_catalog(QTable.read(out / f'{path.stem}.ecsv'), references[path.stem])


# --------------------------------------------------------------------------
# Never destroy a user's file


def _digest(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_find_never_replaces_an_image_or_another_file_without_overwrite(tmp_path, frames, capsys):
    other = write_frame(tmp_path / 'other_image.fits', seed=5, shape=(96, 96))
    notes = tmp_path / 'notes.ecsv'
    notes.write_text('my notes, not a catalog\n')
    for target in (other, notes):
        before = _digest(target)
        assert main(['find', str(frames / 'a.fits'), '-o', str(target)]) == 2
        err = capsys.readouterr().err
        assert err.startswith('asidl find: error: refusing to replace files: ')
        assert f'{target} exists and is not a catalog asidl wrote' in err
        assert '--overwrite' in err and _digest(target) == before
    # Forced explicitly, it is replaced.
    assert main(['find', str(frames / 'a.fits'), '-o', str(other), '--overwrite']) == 0
    assert QTable.read(other).meta['FINDER'] == 'UNetLoGFinder'  # FITS: upper case


def test_find_skips_an_up_to_date_catalog_and_redoes_a_stale_one(tmp_path, frames, capsys):
    catalog = tmp_path / 'a.ecsv'
    assert main(['find', str(frames / 'a.fits'), '-o', str(catalog)]) == 0
    meta = QTable.read(catalog).meta
    assert meta['image'] == str(frames / 'a.fits') and meta['image_size'] > 0
    first = catalog.stat().st_mtime_ns
    capsys.readouterr()
    assert main(['find', str(frames / 'a.fits'), '-o', str(catalog)]) == 0
    assert 'up to date, skipped' in capsys.readouterr().out
    assert catalog.stat().st_mtime_ns == first
    # Other options: the same image's catalog is redone.
    assert main(['find', str(frames / 'a.fits'), '-o', str(catalog), '--threshold', '0.4']) == 0
    assert QTable.read(catalog).meta['threshold'] == 0.4
    # Another image with the same catalog name is a collision, not a replacement.
    assert main(['find', str(frames / 'b.fits'), '-o', str(catalog)]) == 2
    assert 'is the catalog of another image' in capsys.readouterr().err
    assert QTable.read(catalog).meta['image'] == str(frames / 'a.fits')


@pytest.mark.slow
def test_compressed_images_never_name_their_catalog_after_the_uncompressed_one(tmp_path, scheduler):
    import gzip

    directory = tmp_path / 'dir'
    directory.mkdir()
    image = write_frame(directory / 'frame.fits', seed=7, shape=(96, 96))
    (directory / 'frame.fits.gz').write_bytes(gzip.compress(image.read_bytes()))
    before = _digest(image)
    assert main(['find', str(directory / 'frame.fits.gz'), '-f', 'fits', '-d', str(directory)]) == 0
    assert _digest(image) == before
    assert QTable.read(directory / 'frame.gz.fits').meta['IMAGE'] == str(
        directory / 'frame.fits.gz'
    )
    (directory / 'frame.gz.fits').unlink()
    run = asidl(
        'batch', directory / '*.gz', '-d', directory, '-f', 'fits', '--scheduler', scheduler
    )
    assert run.returncode == 0, run.stderr
    assert '1 done' in run.stdout and (directory / 'frame.gz.fits').exists()
    run = asidl(
        'batch',
        directory / '*.gz',
        '-d',
        directory,
        '-f',
        'fits',
        '--scheduler',
        scheduler,
        '--overwrite',
    )
    assert run.returncode == 0, run.stderr
    assert _digest(image) == before


@pytest.mark.slow
def test_batch_resume_checks_what_each_catalog_records(tmp_path, scheduler):
    """a/x.fits then b/x.fits into one directory: b is not 'skipped' with a's catalog."""
    for name, seed in (('a', 1), ('b', 2)):
        (tmp_path / name).mkdir()
        write_frame(tmp_path / name / 'x.fits', seed=seed, shape=(96, 96))
    out = tmp_path / 'o'
    run = asidl('batch', tmp_path / 'a' / 'x.fits', '-d', out, '--scheduler', scheduler)
    assert run.returncode == 0 and '1 done' in run.stdout, run.stderr
    run = asidl('batch', tmp_path / 'b' / 'x.fits', '-d', out, '--scheduler', scheduler)
    assert run.returncode == 2
    assert (
        f'{out / "x.ecsv"} is the catalog of another image, {tmp_path / "a" / "x.fits"}'
        in run.stderr
    )
    assert QTable.read(out / 'x.ecsv').meta['image'] == str(tmp_path / 'a' / 'x.fits')
    run = asidl(
        'batch', tmp_path / 'b' / 'x.fits', '-d', out, '--scheduler', scheduler, '--overwrite'
    )
    assert run.returncode == 0 and '1 done' in run.stdout, run.stderr
    assert QTable.read(out / 'x.ecsv').meta['image'] == str(tmp_path / 'b' / 'x.fits')


def test_batch_never_replaces_a_file_it_did_not_write(tmp_path, frames, capsys, scheduler):
    out = tmp_path / 'o'
    out.mkdir()
    image = write_frame(out / 'a.fits', seed=3, shape=(64, 64))
    picture = out / 'a.png'
    picture.write_bytes(b'\x89PNG holiday picture')
    summary = write_frame(tmp_path / 'summary.fits', seed=4, shape=(64, 64))
    saved = {p: _digest(p) for p in (image, picture, summary)}
    for extra in (['-f', 'fits'], ['--overlay'], ['--summary', str(summary)]):
        assert (
            main(
                ['batch', str(frames / 'a.fits'), '-d', str(out), '--scheduler', scheduler, *extra]
            )
            == 2
        )
        assert 'asidl batch: error: refusing to replace' in capsys.readouterr().err
    assert {p: _digest(p) for p in saved} == saved
    assert sorted(p.name for p in out.iterdir()) == ['a.fits', 'a.png']


def test_a_mask_that_masks_every_pixel_is_an_error(tmp_path, frames, capsys):
    science = write_frame(tmp_path / 'science.fits', seed=9, shape=(128, 128), mask_extname=None)
    assert (
        main(['find', str(frames / 'a.fits'), '--mask', str(science), '-d', str(tmp_path / 'o')])
        == 2
    )
    err = capsys.readouterr().err
    assert f'--mask {science} masks every pixel' in err
    assert not (tmp_path / 'o').exists()
    # A mask extension of the image itself that masks everything fails that image.
    everything = write_frame(
        tmp_path / 'masked.fits', seed=9, shape=(64, 64), masked_box=(slice(None), slice(None))
    )
    assert main(['find', str(everything), '-d', str(tmp_path / 'o')]) == 1
    assert 'every pixel is masked' in capsys.readouterr().err
    assert list((tmp_path / 'o').iterdir()) == []


@pytest.mark.slow
def test_a_worker_error_gives_the_message_without_a_traceback(tmp_path, frames):
    bogus = tmp_path / 'bogus.keras'
    bogus.write_text('not a model')
    run = asidl(
        'batch',
        frames / 'a.fits',
        '-d',
        tmp_path / 'o',
        '--model',
        bogus,
        '--workers',
        '1',
        '--threads',
        '1',
    )
    assert run.returncode == 2
    assert run.stderr == (
        f'asidl batch: error: {bogus} is not a valid .keras file: a .keras '
        'model is a zip archive holding a config.json, and this file is '
        'empty, truncated or of another kind\n'
    )
