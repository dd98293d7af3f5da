# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The scale front end: images whose stars are broader than a model knows
are block-summed so that the network sees stars at its native scale.

Each registered model records the FWHM range, in pixels, over which it
finds stars best (``fwhm_range`` in the registry).  For an image whose
FWHM exceeds that range, `block_factor` picks the smallest integer ``b``
that brings the FWHM into it, `block_sum` adds each ``b x b`` block of
pixels into one (a sum of counts keeps Poisson statistics, so a star's
signal-to-noise ratio is unchanged), the finder detects stars on the
binned image (`detect_at_scale` decides the factor, measuring the FWHM
if need be), and `to_original` maps their positions back:
a position ``x_bin`` (0-based, pixel centres at integers) in the binned
image is ``(x_bin + 0.5) * b - 0.5`` in the original one.  Photometry
then uses the original pixels.

Undersampled stars (FWHM below the range) are left as they are: no
resampling adds information that the pixels do not hold.
"""

import warnings
from contextlib import nullcontext

import numpy as np

from .background import background_map
from .constants import ROW_PIXELS
from .fwhm import FWHMEstimate, FWHMWarning, measure_fwhm, prefetch_fitter
from .prepare import PreparedImage

__all__ = [
    'DEFAULT_FWHM_RANGE',
    'BINNED_TOLERANCE',
    'block_factor',
    'block_sum',
    'detect_at_scale',
    'peaks_to_original',
    'to_original',
]

#: FWHM range (pixels) of models that do not record their own: that of the
#: shipped models, which were trained on FWHMs of 1.5 to 8 pixels and lose
#: faint stars above about 6 (see ``benchmarks/psf_scale.py``).
DEFAULT_FWHM_RANGE = (1.5, 6.0)

#: Once an image is binned, stars up to this factor broader than the top of
#: the model's range are left so, rather than binned further (at 12 pixels
#: the default model scores a Dice of 0.38/0.22 binned 2x2 against 0.39/0.15
#: binned 3x3 at 10/75 stars per square arcminute; ``benchmarks/psf_scale.py``).
BINNED_TOLERANCE = 1.1


def block_factor(fwhm, fwhm_range=DEFAULT_FWHM_RANGE):
    """
    The block size that brings ``fwhm`` within a model's range.

    Parameters
    ----------
    fwhm : float or None
        The image's FWHM in pixels; `None` (unknown) gives 1.
    fwhm_range : tuple of two float, optional
        The smallest and largest FWHM the model handles best.

    Returns
    -------
    factor : int
        1 when ``fwhm`` is within or below the range, else the smallest
        integer ``b >= 2`` with ``fwhm / b`` at most `BINNED_TOLERANCE`
        times the top of the range: every extra factor costs position
        accuracy (the network places stars to a fraction of a binned
        pixel), which matters more than stars slightly beyond the range.

    Examples
    --------
    >>> from asidl.resample import block_factor
    >>> block_factor(4.5), block_factor(8.0), block_factor(12.5), block_factor(15.0)
    (1, 2, 2, 3)
    """
    if fwhm is None or fwhm <= fwhm_range[1]:
        return 1
    return max(2, int(np.ceil(fwhm / (BINNED_TOLERANCE * fwhm_range[1]))))


def _blocks(array, factor, fill):
    """``array`` padded with ``fill`` to whole blocks, as ``(gy, gx, factor * factor)``."""
    ny, nx = array.shape
    gy, gx = -(-ny // factor), -(-nx // factor)
    padded = np.full((gy * factor, gx * factor), fill, dtype=array.dtype)
    padded[:ny, :nx] = array
    return padded.reshape(gy, factor, gx, factor).transpose(0, 2, 1, 3).reshape(gy, gx, -1)


def block_sum(image, factor):
    """
    Sum each ``factor x factor`` block of pixels of an image into one.

    Masked and non-finite pixels, and those beyond the image edge in the
    last partial blocks, are left out of the sums, which are scaled up by
    the fraction of the block's pixels left out, so that the background
    level stays the same everywhere.  A block is masked only when all of
    its pixels are.

    Parameters
    ----------
    image : `~asidl.prepare.PreparedImage`
        The image (from `~asidl.prepare.prepare_image`).
    factor : int
        Block size in pixels, at least 1.

    Returns
    -------
    binned : `~asidl.prepare.PreparedImage`
        A new image of shape ``ceil(ny / factor), ceil(nx / factor)``,
        with the unit of ``image``; its ``wcs`` is `None`, since the
        finder's positions are mapped back (`to_original`) before any sky
        coordinate is computed.

    Examples
    --------
    >>> import numpy as np
    >>> from asidl.prepare import prepare_image
    >>> from asidl.resample import block_sum
    >>> data = np.arange(16.0).reshape(4, 4)
    >>> block_sum(prepare_image(data), 2).data
    array([[10., 18.],
           [42., 50.]], dtype=float32)
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f'factor must be a positive integer, got {factor!r}')
    if factor == 1:
        return PreparedImage(data=image.data.copy(), valid=image.valid.copy(), unit=image.unit)
    ny, nx = image.data.shape
    binned = np.zeros((-(-ny // factor), -(-nx // factor)), dtype=np.float32)
    valid = np.zeros(binned.shape, dtype=bool)
    # Rows of blocks at a time: the float64 sums never need a full-frame copy.
    step = factor * max(1, ROW_PIXELS // max(nx * factor, 1))
    for start in range(0, ny, step):
        rows = np.s_[start : start + step]
        out = np.s_[start // factor : (start + step) // factor]
        data, ok = image.data[rows], image.valid[rows]
        values = _blocks(np.where(ok, data, 0).astype(np.float64), factor, 0.0)
        counts = _blocks(ok, factor, False).sum(axis=2)
        valid[out] = counts > 0
        with np.errstate(invalid='ignore', divide='ignore'):
            binned[out] = np.where(valid[out], values.sum(axis=2) * (factor * factor) / counts, 0.0)
    return PreparedImage(data=binned, valid=valid, unit=image.unit)


def to_original(position, factor):
    """
    Map positions in a block-summed image back to the original pixels.

    Parameters
    ----------
    position : float or `~numpy.ndarray`
        Positions along one axis of the binned image (0-based, pixel
        centres at integers).
    factor : int
        The block size.

    Returns
    -------
    position : float or `~numpy.ndarray`
        ``(position + 0.5) * factor - 0.5``.

    Examples
    --------
    >>> from asidl.resample import to_original
    >>> float(to_original(0.0, 2)), float(to_original(1.25, 3))
    (0.5, 4.75)
    """
    return (np.asarray(position, dtype=float) + 0.5) * factor - 0.5


def peaks_to_original(peaks, factor, valid):
    """
    Peaks found in an image block-summed by ``factor``, in the original
    pixels.

    Parameters
    ----------
    peaks : `~asidl.peaks.Peaks`
        Peaks of the binned image.
    factor : int
        The block size.
    valid : 2D bool `~numpy.ndarray`
        The usable pixels of the original image.

    Returns
    -------
    peaks : `~asidl.peaks.Peaks`
        Positions mapped back (`to_original`), peak pixels the original
        pixels nearest them; peaks on masked pixels are dropped, as they
        would be at the original scale.
    """
    y, x = to_original(peaks.y, factor), to_original(peaks.x, factor)
    ny, nx = valid.shape
    iy = np.clip(np.round(y).astype(int), 0, ny - 1)
    ix = np.clip(np.round(x).astype(int), 0, nx - 1)
    keep = valid[iy, ix]
    return type(peaks)(
        iy[keep], ix[keep], peaks.log_response[keep], peaks.confidence[keep], y[keep], x[keep]
    )


def detect_at_scale(image, bkg, detect, *, fwhm=None, fwhm_range=DEFAULT_FWHM_RANGE, timings=None):
    """
    Detections at a model's native scale.

    With ``fwhm`` given the image is searched once, block-summed by
    `block_factor`.  Otherwise the FWHM is measured
    (`~asidl.fwhm.measure_fwhm`) from the detections at the image's own
    scale, or, if too few bright stars are found there (stars too broad
    for the network), from those on the image binned 2x2, then 4x4, fitted
    in the original pixels or, where too few are bright enough per pixel
    there, in the binned ones; the detections at the factor the FWHM calls
    for are returned.

    Parameters
    ----------
    image : `~asidl.prepare.PreparedImage`
        The image.
    bkg : `~asidl.background.BackgroundMap`
        Its background.
    detect : callable
        ``detect(factor)`` gives the `~asidl.peaks.Peaks` of the image
        block-summed by ``factor``, in the original pixels.
    fwhm : float or None, optional
        The FWHM of the stars in pixels, if known.
    fwhm_range : tuple of two float, optional
        The model's FWHM range.
    timings : `~asidl.bands.Timings` or None, optional
        Where to add the seconds spent measuring the FWHM.

    Returns
    -------
    peaks : `~asidl.peaks.Peaks`
        The detections.
    scale : dict
        ``fwhm`` (`None` if it could not be measured), ``fwhm_source``
        (``'given'``, ``'measured'`` or ``'default'``), ``fwhm_stars``
        (the stars measured) and ``block_size``, for the table's ``meta``.

    Warns
    -----
    `~asidl.fwhm.FWHMWarning`
        The FWHM could not be measured; the image is searched at its own
        scale.
    """
    if fwhm is not None:
        factor = block_factor(fwhm, fwhm_range)
        return detect(factor), {'fwhm': fwhm, 'fwhm_source': 'given', 'block_size': factor}
    timings = (lambda stage: nullcontext()) if timings is None else timings
    # The fitter's import overlaps with the first detection pass.
    importing = prefetch_fitter()

    def measure(peaks, factor=1):
        """
        The FWHM measured around the peaks of a pass on the image binned
        by ``factor``: on the original pixels, or if that fails, on the
        binned ones, in original pixels.
        """
        with timings('fwhm'):
            if importing is not None:
                importing.join()
            estimate = measure_fwhm(
                image.data,
                image.valid,
                bkg,
                bkg.noise_at(peaks.y, peaks.x),
                peaks.x,
                peaks.y,
                guess=None if factor == 1 else 4.0 * factor,
            )
            if estimate is not None or factor == 1:
                return estimate
            # Binned pixels hold ``factor`` times the signal-to-noise ratio of
            # the original ones: broad stars too faint per pixel to be fitted
            # there can be fitted here.
            binned = block_sum(image, factor)
            binned_bkg = background_map(binned.data, binned.valid)
            x, y = (peaks.x + 0.5) / factor - 0.5, (peaks.y + 0.5) / factor - 0.5
            estimate = measure_fwhm(
                binned.data, binned.valid, binned_bkg, binned_bkg.noise_at(y, x), x, y, guess=4.0
            )
            if estimate is None:
                return None
            return FWHMEstimate(estimate * factor, estimate.n_stars, estimate.scatter * factor)

    passes = {1: detect(1)}
    estimate = measure(passes[1])
    # Stars too broad for the network leave too few bright detections to
    # measure at the image's own scale: look again on binned images.
    for factor in (2, 4):
        if estimate is not None:
            break
        passes[factor] = detect(factor)
        estimate = measure(passes[factor], factor)
    if estimate is None:
        warnings.warn(
            'The FWHM of the stars could not be measured (too few bright, '
            'isolated, unsaturated stars); the image is searched at its own '
            'scale. Pass fwhm= to UNetLoGFinder to set it.',
            FWHMWarning,
        )
        return passes[1], {'fwhm': None, 'fwhm_source': 'default', 'block_size': 1}
    factor = block_factor(estimate, fwhm_range)
    if factor not in passes:
        passes[factor] = detect(factor)
    return passes[factor], {
        'fwhm': round(float(estimate), 3),
        'fwhm_source': 'measured',
        'fwhm_stars': estimate.n_stars,
        'block_size': factor,
    }
