"""Evaluation metrics for long-tailed tasks and for synthetic-row quality.

One import for both families (each lives in its own module):

* task metrics by shot group (:mod:`skltsynth.tooling.shot_groups`):
  :func:`shot_group_report`, :func:`regression_shot_report`,
  :func:`classification_shot_groups`;
* quality of synthetic rows (:mod:`skltsynth.tooling.sample_quality`):
  :func:`mmd_rbf`, :func:`knn_precision_recall`, :func:`density`,
  :func:`coverage`, :func:`diversity`, :func:`nearest_real_distance`,
  :func:`synthetic_quality_report`.
"""

from .sample_quality import (
    coverage,
    density,
    diversity,
    knn_precision_recall,
    mmd_rbf,
    nearest_real_distance,
    synthetic_quality_report,
)
from .shot_groups import (
    SHOT_GROUPS,
    classification_shot_groups,
    regression_shot_report,
    shot_group_report,
)

__all__ = [
    "classification_shot_groups",
    "coverage",
    "density",
    "diversity",
    "knn_precision_recall",
    "mmd_rbf",
    "nearest_real_distance",
    "regression_shot_report",
    "shot_group_report",
    "synthetic_quality_report",
]
