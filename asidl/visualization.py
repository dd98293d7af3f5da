# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Images with their sources marked: the one overlay of asidl.

`plot_overlay` shows an image (zscale, grey) with a marker at every source
of one or more catalogs.  ``asidl find --overlay`` and ``asidl batch
--overlay`` write it as a PNG (`overlay_png`, `asidl.io.write_overlay`),
``asidl demo`` compares the finders with it, and
`asidl.evaluation.plot_detections` marks true and false detections with it.

matplotlib is imported only when a plot is made.
"""

import io

import numpy as np

from .constants import REGION_RADIUS
from .utils import source_positions

__all__ = ['MARKERS', 'PNG_SOFTWARE', 'TRUTH_MARKER', 'overlay_png', 'plot_overlay']

#: PNG text chunk (``Software``) that marks the overlays asidl writes.
PNG_SOFTWARE = 'asidl'

#: Markers of the catalogs of an overlay, in order (`matplotlib.axes.Axes.scatter`
#: keywords): red circles, then blue squares, then orange diamonds.
MARKERS = (
    {'marker': 'o', 'edgecolors': 'red'},
    {'marker': 's', 'edgecolors': 'deepskyblue'},
    {'marker': 'D', 'edgecolors': 'orange'},
)

#: Marker of true positions (small green dots).
TRUTH_MARKER = {'marker': 'o', 'color': 'limegreen', 's': 3, 'linewidths': 0}


def plot_overlay(
    data,
    catalogs,
    *,
    ax=None,
    title=None,
    truth=None,
    markers=None,
    radius=REGION_RADIUS,
    legend=None,
):
    """
    Show an image with a marker at every source of one or more catalogs.

    Parameters
    ----------
    data : 2D array_like or `~astropy.nddata.NDData`
        The image, shown with a zscale grey stretch (non-finite pixels are
        ignored when choosing it).
    catalogs : table, (x, y) pair, None, or dict
        The sources: a table with ``x_centroid`` and ``y_centroid`` (or
        ``x`` and ``y``) columns, a pair of position arrays, or `None`
        for none; or a dict from a legend label to any of those.  The
        catalogs get the `MARKERS` in order.
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; a new 8x8 inch figure (pyplot) if `None`.
    title : str, optional
        Title of the axes.
    truth : table or (x, y) pair, optional
        True positions, drawn as small green dots (`TRUTH_MARKER`).
    markers : dict, optional
        ``{label: scatter keywords}`` replacing the default marker of a
        catalog.
    radius : float, optional
        Radius of the markers in image pixels.
    legend : bool, optional
        Draw a legend; by default when ``catalogs`` is a dict or ``truth``
        is given.

    Returns
    -------
    ax : `matplotlib.axes.Axes`
    """
    from astropy.visualization import ImageNormalize, ZScaleInterval

    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=(8, 8)).add_subplot()
    data = np.asanyarray(getattr(data, 'data', data), dtype=float)
    finite = data[np.isfinite(data)]
    norm = ImageNormalize(finite if finite.size else np.zeros(1), interval=ZScaleInterval())
    ax.imshow(data, origin='lower', cmap='Greys_r', norm=norm, interpolation='nearest')
    labelled = isinstance(catalogs, dict)
    layers = catalogs if labelled else {None: catalogs}
    markers = markers or {}
    # Marker area in points squared for a circle of `radius` image pixels.
    points_per_pixel = ax.figure.get_figwidth() * 72 * ax.get_position().width / max(data.shape)
    size = max((2 * radius * points_per_pixel) ** 2, 12.0)
    if truth is not None:
        tx, ty = source_positions(truth)
        ax.scatter(tx, ty, label='truth', **TRUTH_MARKER)
    for i, (label, sources) in enumerate(layers.items()):
        x, y = source_positions(sources)
        style = {
            's': size,
            'facecolors': 'none',
            'linewidths': 0.8,
            **MARKERS[i % len(MARKERS)],
            **markers.get(label, {}),
        }
        ax.scatter(x, y, label=label, **style)
    if legend if legend is not None else (labelled or truth is not None):
        ax.legend(loc='upper right', fontsize=9)
    if title:
        ax.set_title(title)
    return ax


def overlay_png(data, catalog, *, title=None, radius=REGION_RADIUS):
    """
    The overlay of one catalog (`plot_overlay`) as PNG bytes, titled with
    the number of sources and marked as asidl's (`PNG_SOFTWARE`).

    It draws without pyplot, so that threads and Dask workers can call it.

    Parameters
    ----------
    data : 2D array_like or `~astropy.nddata.NDData`
    catalog : `~astropy.table.Table` or None
    title : str, optional
        Prefix of the title, e.g. the image's file name.
    radius : float, optional
        Radius of the circles in image pixels.

    Returns
    -------
    png : bytes
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 8))
    FigureCanvasAgg(fig)
    n = 0 if catalog is None else len(catalog)
    plot_overlay(
        data,
        catalog,
        ax=fig.add_subplot(),
        radius=radius,
        title=f'{title + ": " if title else ""}{n} sources',
    )
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format='png', dpi=110, bbox_inches='tight', metadata={'Software': PNG_SOFTWARE}
    )
    return buffer.getvalue()
