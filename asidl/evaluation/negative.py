# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The negative-image test: how many detections are noise, on real images
that have no truth catalog.

The frame reflected about its smooth background turns stars into holes
while the noise keeps its amplitude and correlations, so what a finder
reports on the reflected frame estimates what it reports on noise.
"""

import warnings

import numpy as np

__all__ = ['negative_image', 'negative_image_test']


def negative_image(data, *, mask=None, box_size=64):
    """
    The frame reflected about its smooth background, ``2 * background -
    data``: stars become holes, the noise keeps its amplitude and
    correlations.

    The background is `photutils.background.Background2D` with
    sigma-clipped medians in ``box_size`` boxes (3x3 median filter); boxes
    with up to 90% of their pixels clipped or masked still count, so that
    crowded fields keep a background.

    Parameters
    ----------
    data : 2D array_like
        The frame (raw or calibrated).  NaN pixels stay NaN.
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore when estimating the background.
    box_size : int, optional
        Background box size in pixels.

    Returns
    -------
    reflected : 2D float `~numpy.ndarray`
        A new array.
    """
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground

    data = np.asarray(data, dtype=float)
    bad = ~np.isfinite(data) if mask is None else (np.asarray(mask, bool) | ~np.isfinite(data))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        bkg = Background2D(
            data,
            box_size,
            filter_size=3,
            sigma_clip=SigmaClip(3.0),
            bkg_estimator=MedianBackground(),
            mask=bad if bad.any() else None,
            exclude_percentile=90,
        )
    return 2.0 * bkg.background - data


def negative_image_test(data, finder, *, mask=None, box_size=64):
    """
    Estimate a finder's false detections on a real image without a truth
    catalog, by running it on the image and on its `negative_image`.

    The count on the reflected frame estimates the count of noise
    detections on the frame itself.  It is a lower bound where the noise
    is skewed towards positive values (photographic grain, unresolved
    faint stars), and it also counts the finder's reactions to holes
    (over-subtracted or dead regions), which the positive frame lacks.

    Parameters
    ----------
    data : 2D array_like
        The frame (raw or calibrated).
    finder : callable
        ``finder(data, mask=None)`` returning a table or `None`, for
        example a `~asidl.UNetLoGFinder` or a photutils star finder (give
        classical finders background-subtracted data through a wrapper;
        see `classical_finders`).
    mask : 2D bool `~numpy.ndarray`, optional
        Pixels to ignore.
    box_size : int, optional
        Background box size of the reflection.

    Returns
    -------
    result : dict
        ``found`` (detections on the frame), ``negative`` (on the
        reflected frame), ``false_fraction`` (``negative / found``; NaN
        when nothing is found), ``net`` (``found - negative``, an estimate
        of the real sources found), and the two tables ``catalog`` and
        ``negative_catalog`` (either may be `None`).
    """
    data = np.asarray(data, dtype=float)
    reflected = negative_image(data, mask=mask, box_size=box_size)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        catalog = finder(data, mask=mask)
        negative_catalog = finder(reflected, mask=mask)
    found = 0 if catalog is None else len(catalog)
    negative = 0 if negative_catalog is None else len(negative_catalog)
    return {
        'found': found,
        'negative': negative,
        'false_fraction': negative / found if found else float('nan'),
        'net': found - negative,
        'catalog': catalog,
        'negative_catalog': negative_catalog,
    }
