# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Plots of scores: true and false detections over the image
(`plot_detections`, an `asidl.visualization.plot_overlay`) and the Dice
coefficient against source density (`plot_dice_versus_density`).
"""

import numpy as np

from .matching import match_sources

__all__ = ['plot_detections', 'plot_dice_versus_density']


def plot_detections(data, x, y, truth_x, truth_y, *, radius=2.0, ax=None, title=None):
    """
    Detections over the image, coloured by TP (green), FP (red) and FN
    (orange), as in the paper's Figs 7 and 8.

    Parameters
    ----------
    data : 2D array_like
        The image.
    x, y : array_like
        Detected positions (pixels).
    truth_x, truth_y : array_like
        True positions (pixels).
    radius : float, optional
        Match radius in pixels (see `match_sources`).
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; a new figure if `None`.
    title : str, optional

    Returns
    -------
    ax : `matplotlib.axes.Axes`
    """
    from ..visualization import plot_overlay

    x, y = np.asarray(x, float), np.asarray(y, float)
    truth_x, truth_y = np.asarray(truth_x, float), np.asarray(truth_y, float)
    di, ti = match_sources(x, y, truth_x, truth_y, radius=radius)
    fp = np.setdiff1d(np.arange(x.size), di)
    fn = np.setdiff1d(np.arange(truth_x.size), ti)
    layers = {
        f'TP ({di.size})': (x[di], y[di]),
        f'FP ({fp.size})': (x[fp], y[fp]),
        f'FN ({fn.size})': (truth_x[fn], truth_y[fn]),
    }
    colours = (
        {'edgecolors': 'limegreen'},
        {'edgecolors': 'red'},
        {'edgecolors': 'orange', 'marker': 's'},
    )
    return plot_overlay(
        data,
        layers,
        ax=ax,
        title=title,
        markers={label: {'marker': 'o', **colour} for label, colour in zip(layers, colours)},
    )


def plot_dice_versus_density(table, *, ax=None):
    """
    Dice coefficient against source density for several finders (paper Fig. 5).

    Parameters
    ----------
    table : `~astropy.table.Table`
        Columns ``finder``, ``density`` and ``Dice``, e.g. the output of
        ``benchmarks/quality_vs_density.py``.

    Returns
    -------
    ax : `matplotlib.axes.Axes`
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure(figsize=(6, 4)).add_subplot()
    names = [str(n) for n in table['finder']]
    for name in dict.fromkeys(n.split(' (')[0] for n in names):
        sel = np.array([n.split(' (')[0] == name for n in names])
        ax.plot(table['density'][sel], table['Dice'][sel], 'o-', label=name)
    ax.set_xscale('log')
    ax.set_xlabel('true sources per square arcminute')
    ax.set_ylabel('Dice')
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.figure.tight_layout()
    return ax
