# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The network's maps of an image, kept to build catalogs from.

`~asidl.UNetLoGFinder.network_maps` runs the network over an image once
and keeps what it gives in a `NetworkMaps`;
`~asidl.UNetLoGFinder.catalog_from_maps` then builds the finder's catalog
from them at any threshold, without the network, so that a threshold can
be tuned, or the maps inspected, at the cost of one network pass.
"""

import functools
from dataclasses import dataclass, field

import numpy as np

from .background import noise_correlation
from .peaks import detect_in_maps
from .resample import peaks_to_original

__all__ = ['NetworkMaps']


@dataclass(repr=False)
class NetworkMaps:
    """
    The network's maps of an image, as `~asidl.UNetLoGFinder.network_maps`
    makes them.

    The maps are those of the image at the scale the network saw it:
    block-summed by ``block_size`` when its stars are broader than the
    model's FWHM range (`asidl.resample`), else the image's own pixels.
    They take three float32 images' worth of memory (four for models
    without offsets), unlike the finder's own calls, which keep only a
    band of rows at a time.

    Attributes
    ----------
    image : `~asidl.prepare.PreparedImage`
        The image, at its own scale (photometry and positions use it).
    background : `~asidl.background.BackgroundMap` or None
        Its background; `None` when every pixel is masked.
    output : ``(ny, nx, c)`` float32 `~numpy.ndarray`
        The network's output: the probability in channel 0, zero where
        there are no data, and, if ``c == 3``, the offsets ``dy, dx``.
    valid : 2D bool `~numpy.ndarray`
        Where peaks may lie, at the scale of the maps.
    band_edges : `~numpy.ndarray` of int
        The rows at which the finder's bands of rows begin
        (`asidl.peaks.band_edges`): catalogs are found on the same bands,
        so that they are the finder's bit for bit.
    scale : dict
        How the FWHM was obtained and the block size, as the table's
        ``meta`` records them (``fwhm``, ``fwhm_source``, ``block_size``
        and, when measured, ``fwhm_stars``).
    model : str
        The name of the model that made the maps.
    network_input : 2D float32 `~numpy.ndarray` or None
        The normalized image the network saw, kept for models without
        offsets, whose positions are refined on it.
    """

    image: object
    background: object
    output: np.ndarray
    valid: np.ndarray
    band_edges: np.ndarray
    scale: dict
    model: str
    network_input: np.ndarray = field(default=None)

    @classmethod
    def blank(cls, image, model, *, fwhm=None):
        """The maps of an image without a usable pixel: probability zero everywhere."""
        ny, nx = image.data.shape
        return cls(
            image,
            None,
            np.zeros((ny, nx, 1), np.float32),
            image.valid,
            np.zeros(0, int),
            {'fwhm': fwhm, 'block_size': 1},
            model,
        )

    def __repr__(self):
        ny, nx = self.output.shape[:2]
        return (
            f'<NetworkMaps of {self.model}: {ny}x{nx} pixels, block_size='
            f'{self.block_size}, fwhm={self.fwhm}>'
        )

    @property
    def probability(self):
        """The probability map (a view of ``output``), values in [0, 1]."""
        return self.output[..., 0]

    @property
    def offsets(self):
        """The predicted sub-pixel offsets ``(dy, dx)`` (views), or `None`."""
        if self.output.shape[-1] < 3:
            return None
        return self.output[..., 1], self.output[..., 2]

    @functools.cached_property
    def noise_correlation(self):
        """
        The short-range correlation of the image's noise
        (`asidl.background.noise_correlation`), measured on first use and
        kept, so that catalogs at several thresholds measure it once.
        """
        return noise_correlation(self.image.data, self.image.valid)

    @property
    def fwhm(self):
        """The FWHM of the stars in pixels, given or measured (`None` if unknown)."""
        return self.scale['fwhm']

    @property
    def block_size(self):
        """The block size of the maps' pixels, in pixels of the image."""
        return self.scale['block_size']

    def peaks(self, *, sigma, threshold, overlap, timings=None):
        """
        The peaks of the maps, in the pixels of ``image``.

        Parameters
        ----------
        sigma, threshold, overlap : float
            As for `~asidl.localize.find_peaks`.
        timings : `~asidl.bands.Timings` or None, optional
            Where to add the seconds spent in each stage.

        Returns
        -------
        peaks : `~asidl.peaks.Peaks`
            Found on the finder's bands of rows (`~asidl.peaks.detect_in_maps`),
            mapped back to the image's pixels if the maps are block-summed
            (`~asidl.resample.peaks_to_original`).
        """
        peaks = detect_in_maps(
            self.output,
            self.valid,
            self.band_edges,
            network_input=self.network_input,
            sigma=sigma,
            threshold=threshold,
            overlap=overlap,
            timings=timings,
        )
        if self.block_size > 1:
            peaks = peaks_to_original(peaks, self.block_size, self.image.valid)
        return peaks
