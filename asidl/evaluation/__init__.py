# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Scoring finders: detections against a truth catalog
(``asidl.evaluation.matching``), the classical baselines and side-by-side
comparisons (``asidl.evaluation.baselines``), completeness from injected
artificial stars (``asidl.evaluation.artificial_stars``), the
negative-image test of false detections on real images
(``asidl.evaluation.negative``), and plots of the scores
(``asidl.evaluation.plots``).
"""

from .artificial_stars import artificial_star_test, build_epsf
from .baselines import classical_finders, compare_finders
from .matching import combine_scores, match_sources, score_detections, scores_by_bin
from .negative import negative_image, negative_image_test
from .plots import plot_detections, plot_dice_versus_density

__all__ = [
    'artificial_star_test',
    'build_epsf',
    'classical_finders',
    'combine_scores',
    'compare_finders',
    'match_sources',
    'negative_image',
    'negative_image_test',
    'plot_detections',
    'plot_dice_versus_density',
    'score_detections',
    'scores_by_bin',
]
