# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`UNetLoGFinder`: a U-Net + Laplacian-of-Gaussian star finder with the
interface of `photutils.detection.DAOStarFinder`.

The class is a thin conductor of the package's steps, which
`~UNetLoGFinder.network_maps` and `~UNetLoGFinder.catalog_from_maps` take
in two halves, keeping the network's maps between them:

    prepare_image -> background_map -> detect_at_scale (detect_in_bands)
      -> UNetLoGCatalog -> QTable
"""

import warnings

import numpy as np
from photutils.detection import StarFinderBase
from photutils.utils.exceptions import NoDetectionsWarning

from .background import background_map, noise_correlation
from .bands import Timings, detect_in_bands
from .calibration import confidence_floor
from .catalog import UNetLoGCatalog
from .maps import NetworkMaps
from .normalize import normalize
from .parameters import FinderParameters, positive_number
from .predict import predict_maps
from .prepare import prepare_image
from .resample import block_sum, detect_at_scale, peaks_to_original

__all__ = ['UNetLoGFinder']


class UNetLoGFinder(FinderParameters, StarFinderBase):
    """
    Find stars with a U-Net and a Laplacian of Gaussian (ASID-L).

    A U-Net trained on simulated raw frames turns the image into a map
    of the probability that each pixel belongs to a star; a single-scale
    Laplacian of Gaussian finds the blobs in that map (Stoppa et al.
    2022, A&A 662, A109), and the network's offset head places each star
    to a fraction of a pixel.  Raw frames need no background subtraction,
    flat fielding or bias correction; cosmic rays, satellite trails,
    diffraction spikes and galaxies are not reported as stars.

    The call signature and output follow
    `photutils.detection.DAOStarFinder`, so the finder can replace it in
    existing code, including as the ``finder`` of
    `photutils.psf.PSFPhotometry`.

    Parameters
    ----------
    model : str, path-like or `keras.Model`, optional
        A registered model name (see `asidl.registry.available_models`),
        the path of a ``.keras`` or Keras 2 ``.h5`` file, or a Keras
        model.  The default model ships with the package and needs no
        network.
    fwhm : float or None, optional
        The FWHM of the image's stars in pixels, as DAOStarFinder's
        ``fwhm``.  `None` measures it from the bright, isolated,
        unsaturated stars of a first pass (`asidl.fwhm.measure_fwhm`).
        Images whose stars are broader than the model's FWHM range (in
        the registry; 1.5 to 6 pixels for the shipped models) are
        block-summed so that the network sees stars at its native scale
        (`asidl.resample`); positions are mapped back to the original
        pixels and photometry uses the original data.  If the FWHM cannot
        be measured (too few bright stars), the image is searched at its
        own scale, with an `~asidl.fwhm.FWHMWarning`.
    sigma : float, optional
        Standard deviation, in pixels, of the LoG kernel; 1.43 matches the
        13-pixel training footprint (paper Sect. 4.2).
    threshold : float or None, optional
        Lowest scale-normalized LoG response of a detection, tau in the
        paper.  Lower values find fainter stars and more false positives.
        `None` uses the value the registry records for the model (tuned
        for it), else the paper's 0.2.
    overlap : float, optional
        Of two blobs overlapping by more than this fraction only the
        stronger is kept (omega in the paper), between 0 and 1.
    n_brightest : int or None, optional
        Keep only this many sources, those with the largest ``flux``.
    peak_max : float, `~astropy.units.Quantity` or None, optional
        Reject sources whose ``peak`` exceeds this value (for example to
        drop saturated stars); in the units of the data.
    exclude_border : bool, optional
        Drop sources within 2 pixels (the footprint radius) of the image
        edge.
    normalization : {'asinh', 'standardize'} or None, optional
        How raw data are scaled for the network (see
        `asidl.normalize`).  `None` uses what the registry records for
        the model, ``'asinh'`` for models given by path or object.
    tile_size : int, optional
        Largest side of the tiles given to the network, a multiple of 32;
        tiles shrink to cover the image with little padding.
    tile_margin : int, optional
        Context on each side of a tile that is predicted and discarded.
    batch_size : int or None, optional
        Tiles per network call (bounds memory on large frames); by default
        about two million pixels' worth.
    shape_columns : bool, optional
        Add DAOStarFinder's ``sharpness``, ``roundness1``,
        ``roundness2`` and ``n_pixels`` columns, measured by photutils'
        DAOStarFinder catalog at the sources' positions with a kernel of
        the given or measured FWHM (`asidl.photometry.dao_shape_columns`).
        They cost a few per cent of the run time; `False` leaves them
        out.
    band_rows : int or None, optional
        Rows of the image that are normalized, run through the network and
        searched for peaks at a time (rounded down to whole rows of tiles,
        at least one); memory grows with ``band_rows`` times the image
        width, not with the image.  `None` (default) uses one row of tiles
        (``tile_size - 2 tile_margin`` image rows).  The catalog does not
        depend on it.
    precision : {'auto', 'f32', 'bf16'}, optional
        Arithmetic of the network.  The bundled models run with OpenVINO
        on the CPU, without TensorFlow.  ``'f32'`` gives TensorFlow's
        probabilities to about 1e-5 on any CPU.  ``'bf16'`` is faster on
        CPUs with bfloat16 instructions (elsewhere it runs float32); its
        probabilities differ by up to about 0.1 at single pixels, but the
        quality benchmark's Dice stays within 0.003 of float32 (see the
        Speed section of the comparison in the docs).  ``'auto'`` (the
        default) is ``'bf16'`` where the CPU has bfloat16 instructions
        and ``'f32'`` elsewhere.  The precision used is the finder's
        ``precision`` attribute and the catalog's ``meta['precision']``.
        Models given as Keras objects or files, and downloaded or
        user-registered models, run with TensorFlow in float32 whatever
        this says.
    calibration : `~asidl.calibration.ConfidenceCalibration`, False or None, optional
        How the network's probability becomes the ``confidence`` column.
        `None` uses the calibration the registry records for the model
        (fitted on simulated frames, so that of the sources with
        confidence near p a fraction near p are stars), or none if it
        records none; `False` reports the network's probability as it is.
    min_confidence : 'auto', float or None, optional
        Sources whose calibrated ``confidence`` is below this are not
        reported.  The calibration is fitted on frames with white noise;
        where neighbouring pixels share their noise (resampled mosaics,
        coadds, photographic plates) noise bumps look like faint stars
        to the network, with high confidence.  ``'auto'`` (the default)
        measures that correlation (`asidl.background.noise_correlation`)
        and sets the level by `asidl.calibration.confidence_floor`: none
        for white noise, 0.5 for resampled images, 0.8 for plate grain.
        It applies only to calibrated confidences.  `None` reports every
        detection.  The level used and the correlation are the table's
        ``meta['min_confidence']`` and ``meta['noise_correlation']``.
    undersampled_model : 'auto', str or None, optional
        A registered model whose detections the finder reports on images
        whose FWHM (given, or measured from the model's first pass) is
        below the model's FWHM range, for example a model trained on
        undersampled stars.  It runs with the finder's parameters and its
        own threshold, normalization and calibration (unless given); the
        table's ``meta['model']`` is the model that found the sources and
        ``meta['routed_from']`` the finder's own.  With the FWHM measured,
        such images are searched twice.  ``'auto'`` (the default) takes the
        model the registry names for the finder's model, if any (none of
        the bundled models names one yet); `None` keeps the finder's model
        at every FWHM.

    See Also
    --------
    photutils.detection.DAOStarFinder, photutils.detection.IRAFStarFinder

    Examples
    --------
    >>> from asidl import UNetLoGFinder
    >>> from asidl.datasets import FrameParameters, simulate_frame
    >>> frame = simulate_frame(FrameParameters(shape=(128, 128), density=20, fwhm=4.5),
    ...                        seed=3)
    >>> finder = UNetLoGFinder(fwhm=4.5)     # too few stars here to measure it
    >>> tbl = finder(frame.data)
    >>> tbl.colnames[:3]
    ['id', 'x_centroid', 'y_centroid']
    """

    def probability_map(self, data, *, mask=None):
        """
        The network's source probability map of an image, at the image's
        own scale (`network_maps` gives the maps the finder uses).

        Parameters
        ----------
        data, mask
            As for `find_stars`.

        Returns
        -------
        probability : 2D `~numpy.ndarray`
            Values in [0, 1], zero at masked pixels.
        """
        image = prepare_image(data, mask)
        bkg = background_map(image.data, image.valid)
        normalized = normalize(image.data, image.valid, method=self.normalization, bkg=bkg)
        prob, _ = predict_maps(
            normalized,
            self.model,
            tile_size=self.tile_size,
            margin=self.tile_margin,
            batch_size=self.batch_size,
        )
        prob[~image.valid] = 0.0
        return prob

    def find_stars(self, data, *, mask=None):
        """
        Find stars in an image.

        Parameters
        ----------
        data : 2D array_like, `~astropy.units.Quantity` or `~astropy.nddata.NDData`
            The image: raw (not background subtracted) or calibrated, any
            numeric dtype.  A masked array's mask and an NDData's ``mask``,
            ``unit`` and ``wcs`` are used.  NaN and infinite pixels are
            treated as masked.  The input is not modified.
        mask : 2D bool or int array_like, optional
            Pixels to ignore (True or non-zero).

        Returns
        -------
        table : `~astropy.table.QTable` or `None`
            One row per star, or `None` (with a `NoDetectionsWarning`) if
            none is found.  As DAOStarFinder's, the table answers to
            photutils' pre-3.0 column names (``xcentroid``, ``ycentroid``,
            ``npix``) with a deprecation warning until
            ``photutils.future_column_names`` is set; then it is a plain
            `~astropy.table.QTable`.  Columns:

            * ``id``: unique source number, starting at 1.
            * ``x_centroid``, ``y_centroid``: sub-pixel position (0-based,
              pixel centres at integers).
            * ``sky_centroid``: `~astropy.coordinates.SkyCoord` of the
              position, only when the input is NDData with a WCS.
            * ``confidence``: the network's largest probability in the
              3x3 pixels around the detection, in [0, 1], calibrated
              (see ``calibration``) so that it estimates the probability
              that the source is a star.
            * ``log_response``: the scale-normalized LoG response of the
              probability map at the detection (compared with
              ``threshold``).
            * ``sharpness``, ``roundness1``, ``roundness2``, ``n_pixels``:
              DAOStarFinder's shape statistics, computed by photutils'
              DAOStarFinder catalog around the pixel nearest the position,
              with the Gaussian kernel of the FWHM in ``meta['fwhm']``
              (given or measured): ``sharpness`` (DAOFIND's SHARP),
              ``roundness1`` (SROUND, from the symmetry of the convolved
              image), ``roundness2`` (GROUND, from Gaussian fits to the
              marginal distributions) and ``n_pixels`` (the size of the
              kernel array).  A statistic is NaN where DAOStarFinder's fits
              fail (DAOStarFinder would drop the source), and all are NaN,
              with ``n_pixels`` 0, when the FWHM could not be measured.
              Only with ``shape_columns=True`` (the default).
            * ``background``: the local background level (bias + sky)
              that was subtracted, in data units.
            * ``peak``: the largest background-subtracted pixel value in
              the 5x5 box around the detection, in data units.
            * ``flux``: the sum of background-subtracted pixel values in
              that box (masked pixels excluded), in data units; an
              instrumental flux, like DAOStarFinder's.
            * ``mag``: ``-2.5 * log10(flux)``; NaN where ``flux <= 0``.

            ``meta`` records the package version, date, model and
            parameters.
        """
        self.timings = timings = Timings()
        with timings('prepare'):
            image = prepare_image(data, mask)
            peak_max = self.peak_max_in(image.unit)
            if not image.valid.any():
                return _nothing_to_search()
        with timings('background'):
            bkg = background_map(image.data, image.valid)
        finder, peaks, scale = self._detect_routed(image, bkg)
        return finder._table(
            image,
            bkg,
            peaks,
            scale,
            finder.threshold,
            peak_max,
            lambda: noise_correlation(image.data, image.valid),
        )

    def network_maps(self, data, *, mask=None):
        """
        The network's maps of an image, to build catalogs from.

        The first half of `find_stars`: the image is prepared, its FWHM
        measured if need be, and the network run over it once (block-summed
        if its stars are broader than the model's range), and its maps are
        kept.  `catalog_from_maps` does the rest, at any threshold.

        Parameters
        ----------
        data, mask
            As for `find_stars`.

        Returns
        -------
        maps : `~asidl.maps.NetworkMaps`
            The probability and offset maps (three float32 images' worth),
            the image and its background, and the FWHM and block size.

        Examples
        --------
        >>> from asidl import UNetLoGFinder
        >>> from asidl.datasets import FrameParameters, simulate_frame
        >>> frame = simulate_frame(FrameParameters(shape=(128, 128), density=20,
        ...                                        fwhm=4.5), seed=3)
        >>> finder = UNetLoGFinder(fwhm=4.5)
        >>> maps = finder.network_maps(frame.data)
        >>> maps.probability.shape, maps.block_size
        ((128, 128), 1)
        >>> [len(finder.catalog_from_maps(maps, threshold=t)) for t in (0.2, 0.4)]
        [16, 14]
        """
        self.timings = timings = Timings()
        with timings('prepare'):
            image = prepare_image(data, mask)
        if not image.valid.any():
            return NetworkMaps.blank(image, self.model_name, fwhm=self.fwhm)
        with timings('background'):
            bkg = background_map(image.data, image.valid)
        kept = {}
        finder, _, scale = self._detect_routed(image, bkg, kept)
        valid, output, network_input, edges = kept[finder.model_name, scale['block_size']]
        return NetworkMaps(
            image, bkg, output, valid, edges, scale, finder.model_name, network_input
        )

    def _detect_routed(self, image, bkg, kept=None):
        """
        The finder whose model searches the image (this one, or that of
        `undersampled_model` where the image's FWHM, given or measured in
        a first pass, is below the model's range), its detections and the
        scale (`~asidl.resample.detect_at_scale`), with ``routed_from``
        where the other model was used.
        """
        finder = self.undersampled_finder(self.fwhm) or self
        peaks, scale = detect_at_scale(
            image,
            bkg,
            lambda b: finder._detect(image, bkg, b, kept),
            fwhm=self.fwhm,
            fwhm_range=finder.fwhm_range,
            timings=self.timings,
        )
        if finder is self and scale['fwhm_source'] == 'measured':
            other = self.undersampled_finder(scale['fwhm'])
            if other is not None:  # measured below the range: search again
                finder, peaks = other, other._detect(image, bkg, 1, kept)
        if finder is not self:
            scale['routed_from'] = self.model_name
        return finder, peaks, scale

    def catalog_from_maps(self, maps, *, threshold=None):
        """
        The catalog of an image from the network's maps of it.

        The second half of `find_stars`: with the finder that made the maps
        and its own threshold, the table is the one `find_stars` returns,
        column for column and bit for bit; other thresholds give the table
        the finder would give with that ``threshold``, the FWHM and block
        size staying those of the maps.

        Parameters
        ----------
        maps : `~asidl.maps.NetworkMaps`
            From `network_maps`, of a finder with the same model.
        threshold : float or None, optional
            The LoG threshold; `None` for the finder's ``threshold``.

        Returns
        -------
        table : `~astropy.table.QTable` or `None`
            As for `find_stars`; ``meta['threshold']`` is the threshold
            used.
        """
        if (
            isinstance(maps, NetworkMaps)
            and maps.model == self.undersampled_model
            and maps.scale.get('routed_from') == self.model_name
        ):
            # Maps this finder made with its undersampled model.
            finder = self.undersampled_finder(maps.scale['fwhm'])
            table = finder.catalog_from_maps(maps, threshold=threshold)
            self.timings = finder.timings
            return table
        if not isinstance(maps, NetworkMaps) or maps.model != self.model_name:
            raise ValueError(
                f'maps must be the NetworkMaps of a finder with the model '
                f'{self.model_name!r}, got {maps!r}'
            )
        threshold = self.threshold if threshold is None else positive_number(threshold, 'threshold')
        self.timings = timings = Timings()
        image = maps.image
        peak_max = self.peak_max_in(image.unit)
        if not image.valid.any():
            return _nothing_to_search()
        peaks = maps.peaks(
            sigma=self.sigma, threshold=threshold, overlap=self.overlap, timings=timings
        )
        return self._table(
            image,
            maps.background,
            peaks,
            maps.scale,
            threshold,
            peak_max,
            lambda: maps.noise_correlation,  # measured once per maps
        )

    def _table(self, image, bkg, peaks, scale, threshold, peak_max, correlation):
        """
        The catalog of the sources kept, as a table (None if none).
        ``correlation()`` gives the image's noise correlation; it is called
        only when ``min_confidence='auto'`` needs it.
        """
        meta = self.meta
        meta['threshold'] = threshold
        meta.update(scale)
        meta['min_confidence'], meta['noise_correlation'] = self._confidence_floor(correlation)
        with self.timings('photometry'):
            catalog = UNetLoGCatalog(
                image,
                bkg,
                peaks,
                fwhm=scale['fwhm'],
                calibration=self.calibration,
                shape_columns=self.shape_columns,
                exclude_border=self.exclude_border,
                peak_max=peak_max,
                min_confidence=meta['min_confidence'],
                n_brightest=self.n_brightest,
                meta=meta,
            ).apply_all_filters()
        if catalog is None:
            return None
        with self.timings('catalog'):
            return catalog.to_table()

    def _confidence_floor(self, measure):
        """
        The lowest confidence to report (`None` for all) and the noise
        correlation it was chosen by (`None` if not measured), with
        ``measure()`` the image's noise correlation.
        """
        if self.min_confidence != 'auto':
            return self.min_confidence, None
        if self.calibration is None:  # the levels are calibrated confidences
            return None, None
        with self.timings('correlation'):
            correlation = measure()
        if not np.isfinite(correlation):
            return None, None
        return (confidence_floor(correlation) or None), round(correlation, 4)

    def _detect(self, image, bkg, factor, kept=None):
        """
        The peaks of the image block-summed by ``factor``, in its own
        pixels; the maps are added to ``kept``, if given, under ``factor``.
        """
        at_scale, bkg_at_scale = image, bkg
        if factor > 1:
            with self.timings('resample'):
                at_scale = block_sum(image, factor)
                bkg_at_scale = background_map(at_scale.data, at_scale.valid)
        peaks = detect_in_bands(
            at_scale,
            bkg_at_scale,
            self.model,
            sigma=self.sigma,
            threshold=self.threshold,
            overlap=self.overlap,
            normalization=self.normalization,
            tile_size=self.tile_size,
            margin=self.tile_margin,
            batch_size=self.batch_size,
            band_rows=self.band_rows,
            timings=self.timings,
            keep_maps=kept is not None,
        )
        if kept is not None:
            peaks, kept[self.model_name, factor] = peaks[0], (at_scale.valid, *peaks[1])
        return peaks if factor == 1 else peaks_to_original(peaks, factor, image.valid)


def _nothing_to_search():
    warnings.warn(
        'No sources were found: every pixel is masked or not finite.', NoDetectionsWarning
    )
