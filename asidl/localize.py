# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Source localization on a probability map: the paper's Laplacian of
Gaussian step, followed by sub-pixel refinement.

The LoG is evaluated once over the whole stitched map (with OpenVINO, or
`scipy.ndimage`), so a star on a tile seam is found exactly once.  Its
scale-normalized response ``-sigma**2 * LoG`` peaks on blobs the size of
the training footprint; local maxima above ``threshold`` are candidates,
and of two candidates whose circles (radius ``sqrt(2) * sigma``) overlap
by more than ``overlap`` only the stronger is kept (paper Sect. 4.2).

The paper reports integer pixels.  When the network also predicts
sub-pixel offsets, each position is the probability-weighted mean of the
offset votes of the peak's 3x3 neighbourhood; otherwise a quadratic fit to
the 3x3 neighbourhood of the image gives the sub-pixel peak.
"""

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from .constants import LOG_OVERLAP, LOG_SIGMA, LOG_THRESHOLD

__all__ = [
    'log_response',
    'log_halo',
    'find_peaks',
    'local_maxima',
    'select_peaks',
    'refine_positions',
    'vote_positions',
    'circle_overlap',
    'neighbourhood',
    'log_parabola_offsets',
]


#: Maps larger than this many pixels are filtered in row blocks on
#: several threads (`scipy.ndimage` releases the GIL), where OpenVINO is
#: not used.
PARALLEL_PIXELS = 2**20

#: Strips of rows that the OpenVINO LoG stacks as channels of one tensor.
LOG_STRIPS = 16

# Whether the OpenVINO LoG can run here (set False when it first fails).
_OPENVINO_LOG = {'usable': True}


def _gaussian_kernels(sigma):
    """scipy.ndimage's Gaussian and second-derivative kernels of ``sigma``, float32."""
    radius = log_halo(sigma) - 1
    impulse = np.zeros(2 * radius + 1)
    impulse[radius] = 1.0
    return [
        ndimage.gaussian_filter1d(impulse, sigma, order=order, mode='constant').astype(np.float32)
        for order in (0, 2)
    ]


@functools.lru_cache(maxsize=8)
def _log_network(sigma, strips):
    """
    ``-sigma**2 LoG`` as an OpenVINO network on ``(1, strips, rows + 2 r,
    nx)`` tensors: each channel a strip of rows with ``r`` rows of halo
    above and below (no padding along y), zero beyond the columns.  Stacked
    as channels, the strips make a depthwise convolution that runs on the
    CPU's vector units, where `scipy.ndimage` filters one line at a time.
    """
    import openvino
    from openvino import opset13 as ops

    from .engine import _core  # the process's one OpenVINO Core

    radius = log_halo(sigma) - 1
    g0, g2 = _gaussian_kernels(sigma)
    x = ops.parameter([1, strips, -1, -1], np.float32)

    def conv(tensor, kernel, axis):
        shape = (kernel.size, 1) if axis == 0 else (1, kernel.size)
        weights = np.ascontiguousarray(
            np.broadcast_to(kernel.reshape(shape), (strips, 1, 1, *shape))
        )
        pads = [0, 0] if axis == 0 else [0, radius]
        return ops.group_convolution(tensor, ops.constant(weights), [1, 1], pads, pads, [1, 1])

    along_y = conv(conv(x, g2, 0), g0, 1)
    along_x = conv(conv(x, g0, 0), g2, 1)
    out = ops.multiply(ops.add(along_y, along_x), ops.constant(np.float32(-(sigma**2))))
    return _core().compile_model(
        openvino.Model([out], [x]), 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'}
    )


def _log_openvino(probability, sigma):
    """`log_response` of a float32 map with OpenVINO (`_log_network`)."""
    network = _log_network(float(sigma), LOG_STRIPS)
    radius = log_halo(sigma) - 1
    ny, nx = probability.shape
    rows = -(-ny // LOG_STRIPS)
    strips = np.zeros((1, LOG_STRIPS, rows + 2 * radius, nx), np.float32)
    for k in range(LOG_STRIPS):
        lo, hi = k * rows - radius, min((k + 1) * rows + radius, ny)
        start = max(lo, 0)
        if hi > start:
            strips[0, k, start - lo : hi - lo] = probability[start:hi]
    # A request per call: the compiled network is shared by threads.
    out = network.create_infer_request().infer({0: strips}, share_inputs=True)[0]
    return out.reshape(LOG_STRIPS * rows, nx)[:ny]


def log_response(probability, sigma=LOG_SIGMA):
    """
    Scale-normalized Laplacian-of-Gaussian response, ``-sigma**2 LoG``.

    Positive on bright blobs; a blob of the training footprint with
    probability 1 gives a response of about 0.72.  The Gaussian is
    truncated at 4 sigma and the map is zero beyond its edges, as in
    `scipy.ndimage.gaussian_laplace`.  Float32 maps are filtered with
    OpenVINO on the CPU's vector units, about 2.5 times faster than
    `scipy.ndimage`, whose values they equal to float32 rounding (1e-7);
    other maps, or all of them where OpenVINO cannot run, with `scipy.ndimage`,
    large ones in overlapping row blocks in parallel (the result is
    identical).
    """
    probability = np.asarray(probability)
    if probability.dtype == np.float32 and probability.size and _OPENVINO_LOG['usable']:
        try:
            return _log_openvino(probability, sigma)
        except (ImportError, RuntimeError):
            # OpenVINO missing or unable to compile on this machine: the same
            # response from scipy, from now on (only the speed differs).
            _OPENVINO_LOG['usable'] = False
    ny = probability.shape[0]
    n_blocks = min(os.cpu_count() or 1, 8, max(1, ny // 64))
    if probability.size <= PARALLEL_PIXELS or n_blocks < 2:
        response = ndimage.gaussian_laplace(probability, sigma, mode='constant', cval=0.0)
        response *= -(sigma**2)
        return response
    halo = log_halo(sigma)
    edges = np.linspace(0, ny, n_blocks + 1).astype(int)
    response = np.empty_like(probability)

    def block(k):
        lo, hi = edges[k], edges[k + 1]
        a, b = max(lo - halo, 0), min(hi + halo, ny)
        out = ndimage.gaussian_laplace(probability[a:b], sigma, mode='constant', cval=0.0)
        response[lo:hi] = out[lo - a : hi - a] * response.dtype.type(-(sigma**2))

    with ThreadPoolExecutor(n_blocks) as pool:
        list(pool.map(block, range(n_blocks)))
    return response


def log_halo(sigma=LOG_SIGMA):
    """
    Rows of probability on each side of a band of rows that give its LoG
    response exactly: each output row depends on input rows within the
    filter radius (scipy truncates the Gaussian at 4 sigma), plus one.
    """
    return int(4.0 * sigma + 0.5) + 1


def circle_overlap(distance, radius):
    """
    Fraction of the area of a circle of ``radius`` covered by an equal
    circle at ``distance``.
    """
    d = np.clip(np.asarray(distance, dtype=float) / (2.0 * radius), 0.0, 1.0)
    return (2.0 / np.pi) * (np.arccos(d) - d * np.sqrt(1.0 - d**2))


def _overlap_distance(sigma, overlap):
    """Largest centre distance at which two blobs overlap by more than ``overlap``."""
    radius = np.sqrt(2.0) * sigma
    d = np.linspace(0, 2 * radius, 2001)
    above = d[circle_overlap(d, radius) > overlap]
    return float(above.max()) if above.size else 0.0


def find_peaks(
    probability, *, sigma=LOG_SIGMA, threshold=LOG_THRESHOLD, overlap=LOG_OVERLAP, valid=None
):
    """
    Find blobs in a probability map with a single-scale LoG.

    Parameters
    ----------
    probability : 2D `~numpy.ndarray`
        The stitched network output, values in [0, 1].
    sigma, threshold, overlap : float, optional
        The paper's sigma, tau and omega.
    valid : 2D bool `~numpy.ndarray` or None, optional
        Where peaks may lie.

    Returns
    -------
    iy, ix : `~numpy.ndarray` of int
        Peak pixels, strongest first.
    response : `~numpy.ndarray`
        LoG response at the peaks.
    """
    response = log_response(np.asarray(probability, dtype=np.float32), sigma)
    iy, ix = local_maxima(response, threshold)
    if valid is not None:
        keep = valid[iy, ix]
        iy, ix = iy[keep], ix[keep]
    order, keep = select_peaks(iy, ix, response[iy, ix], sigma=sigma, overlap=overlap)
    return iy[order][keep], ix[order][keep], response[iy, ix][order][keep]


def select_peaks(iy, ix, strength, *, sigma=LOG_SIGMA, overlap=LOG_OVERLAP):
    """
    The order of candidate peaks, strongest first, and which of them
    survive the overlap test (of two blobs overlapping by more than
    ``overlap``, only the stronger is kept).

    Returns
    -------
    order : `~numpy.ndarray` of int
        Indices of the candidates, strongest first (ties in input order).
    keep : `~numpy.ndarray` of bool
        Whether each candidate, in that order, is kept.
    """
    order = np.argsort(-np.asarray(strength), kind='stable')
    keep = _prune(np.asarray(iy)[order], np.asarray(ix)[order], _overlap_distance(sigma, overlap))
    return order, keep


def local_maxima(response, threshold, *, first_row=0, n_rows=None):
    """
    Pixels above ``threshold`` that are not exceeded by any of their 8
    neighbours (as a 3x3 maximum filter would find them, but checking only
    the few pixels above the threshold).

    Parameters
    ----------
    response : 2D `~numpy.ndarray`
        A LoG response map, or a band of rows of one.
    threshold : float
    first_row : int, optional
        Row of the whole map at which ``response`` starts.
    n_rows : int or None, optional
        Rows of the whole map (those of ``response`` if `None`).  Pixels on
        the first and last rows of a band that is not at an edge of the
        map are not returned: their neighbours are not all in the band.

    Returns
    -------
    iy, ix : `~numpy.ndarray` of int
        Row-major, rows in the whole map's numbering.
    """
    ny, nx = response.shape
    n_rows = ny if n_rows is None else n_rows
    lo = 0 if first_row == 0 else 1
    hi = ny if first_row + ny == n_rows else ny - 1
    iy, ix = np.nonzero(response[lo:hi] > threshold)
    iy += lo
    keep = np.ones(iy.size, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            ny_, nx_ = iy + dy, ix + dx
            inside = (ny_ >= 0) & (ny_ < ny) & (nx_ >= 0) & (nx_ < nx)
            neighbour = response[np.clip(ny_, 0, ny - 1), np.clip(nx_, 0, nx - 1)]
            keep &= ~inside | (response[iy, ix] >= neighbour)
    return iy[keep] + first_row, ix[keep]


def _prune(iy, ix, max_distance):
    """Drop the weaker of every pair closer than ``max_distance`` (input strongest first)."""
    keep = np.ones(iy.size, dtype=bool)
    if iy.size < 2 or max_distance <= 0:
        return keep
    tree = cKDTree(np.column_stack([iy, ix]))
    pairs = tree.query_pairs(max_distance, output_type='ndarray')
    if pairs.size == 0:
        return keep
    pairs.sort(axis=1)  # (stronger, weaker): smaller index is stronger
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    for strong, weak in pairs:
        if keep[strong]:
            keep[weak] = False
    return keep


def neighbourhood(array, iy, ix, radius=1, fill=0.0):
    """
    The ``(2 radius + 1)`` square neighbourhoods of pixels ``(iy, ix)``.

    Parameters
    ----------
    array : 2D `~numpy.ndarray`
    iy, ix : `~numpy.ndarray` of int
        Centre pixels.
    radius : int, optional
        Half size of the square.
    fill : float, optional
        Value of the neighbours that fall outside ``array``.

    Returns
    -------
    values : `~numpy.ndarray`
        Shape ``(n, 2 radius + 1, 2 radius + 1)``.
    inside : `~numpy.ndarray` of bool
        Which neighbours lie inside ``array``.
    yy, xx : `~numpy.ndarray` of int
        Their pixel coordinates, clipped to the array.
    """
    ny, nx = array.shape
    offsets = np.arange(-radius, radius + 1)
    yy = np.asarray(iy)[:, None, None] + offsets[None, :, None]
    xx = np.asarray(ix)[:, None, None] + offsets[None, None, :]
    yy, xx = np.broadcast_arrays(yy, xx)
    inside = (yy >= 0) & (yy < ny) & (xx >= 0) & (xx < nx)
    yy = np.clip(yy, 0, ny - 1)
    xx = np.clip(xx, 0, nx - 1)
    return np.where(inside, array[yy, xx], fill), inside, yy, xx


def refine_positions(iy, ix, probability, offsets=None, image=None):
    """
    Sub-pixel positions of peaks.

    Parameters
    ----------
    iy, ix : `~numpy.ndarray` of int
        Peak pixels.
    probability : 2D `~numpy.ndarray`
        The probability map.
    offsets : tuple of two 2D `~numpy.ndarray`, or None
        Predicted ``(dy, dx)`` maps.  If given, the position is the
        probability-weighted mean of the votes ``pixel + offset`` of the
        3x3 neighbourhood that agree with the peak pixel's own vote to
        within one pixel.
    image : 2D `~numpy.ndarray`, optional
        Used when ``offsets`` is `None`: a quadratic fit to its 3x3
        neighbourhood gives the sub-pixel peak.

    Returns
    -------
    y, x : `~numpy.ndarray` of float
    """
    iy = np.asarray(iy, dtype=int)
    ix = np.asarray(ix, dtype=int)
    if iy.size == 0:
        return np.zeros(0), np.zeros(0)
    if offsets is not None:
        return vote_positions(
            iy,
            ix,
            neighbourhood(probability, iy, ix)[0],
            neighbourhood(offsets[0], iy, ix)[0],
            neighbourhood(offsets[1], iy, ix)[0],
        )
    source = probability if image is None else image
    win = neighbourhood(np.asarray(source, dtype=float), iy, ix)[0]
    return iy + _parabola(win[:, 0, 1], win[:, 1, 1], win[:, 2, 1]), ix + _parabola(
        win[:, 1, 0], win[:, 1, 1], win[:, 1, 2]
    )


def vote_positions(iy, ix, probability, dy, dx):
    """
    Sub-pixel positions from the offset votes of the 3x3 neighbourhoods of
    peaks (`refine_positions` with offsets, given the neighbourhoods).

    Parameters
    ----------
    iy, ix : `~numpy.ndarray` of int
        Peak pixels.
    probability, dy, dx : ``(n, 3, 3)`` `~numpy.ndarray`
        The probability and the predicted offsets around each peak (0
        beyond the image), as `neighbourhood` gives them.

    Returns
    -------
    y, x : `~numpy.ndarray` of float
    """
    oy, ox = np.mgrid[-1:2, -1:2]
    vy = dy + oy  # votes relative to the peak pixel
    vx = dx + ox
    agree = (vy - vy[:, 1:2, 1:2]) ** 2 + (vx - vx[:, 1:2, 1:2]) ** 2 < 1.0
    w = np.where(agree, probability, 0.0)
    wsum = w.sum(axis=(1, 2))
    wsum = np.where(wsum > 0, wsum, 1.0)
    shift_y = (w * vy).sum(axis=(1, 2)) / wsum
    shift_x = (w * vx).sum(axis=(1, 2)) / wsum
    return iy + np.clip(shift_y, -1.5, 1.5), ix + np.clip(shift_x, -1.5, 1.5)


def log_parabola_offsets(windows):
    """
    Sub-pixel peaks of bright, well-sampled sources from the image itself.

    A parabola through the logarithms of the 3x3 cross around a pixel is
    exact for a Gaussian profile and close for the core of any smooth PSF.
    Only windows whose centre is a strict maximum of positive values
    qualify (saturated, flat-topped cores do not); the others get NaN.

    Parameters
    ----------
    windows : ``(n, 3, 3)`` `~numpy.ndarray`
        Background-subtracted data around each source (NaN for pixels to
        ignore).

    Returns
    -------
    dy, dx : `~numpy.ndarray` of float
        Peak position relative to each window's centre pixel.
    """
    w = np.asarray(windows, dtype=float)
    centre = w[:, 1, 1]
    cross = np.stack([w[:, 0, 1], w[:, 2, 1], w[:, 1, 0], w[:, 1, 2]], axis=1)
    with np.errstate(invalid='ignore'):
        ok = np.isfinite(cross).all(axis=1) & (cross > 0).all(axis=1) & (centre > cross.max(axis=1))
    logs = np.log(np.where(ok[:, None, None], np.clip(np.nan_to_num(w), 1e-30, None), 1.0))
    dy = _parabola(logs[:, 0, 1], logs[:, 1, 1], logs[:, 2, 1])
    dx = _parabola(logs[:, 1, 0], logs[:, 1, 1], logs[:, 1, 2])
    return np.where(ok, dy, np.nan), np.where(ok, dx, np.nan)


def _parabola(left, centre, right):
    """Vertex of the parabola through three equally spaced samples, in [-0.5, 0.5]."""
    curvature = left - 2 * centre + right
    with np.errstate(divide='ignore', invalid='ignore'):
        shift = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    return np.clip(np.nan_to_num(shift), -0.5, 0.5)
