"""Epistemic Head: a predictive head plus K oracle-trained copies, for longtail signals.

The *Epistemic Head* (Longtail Guidance paper, section 2.1) adds ``K`` copies
of a trained head on top of the frozen base model and trains them with the
oracle (winner-take-all) loss: for every row only the head with the lowest
loss receives gradient.  Because the copies start from the trained base head,
they keep agreeing where data are plentiful and drift apart only where data
are rare, so their disagreement is a differentiable, single-pass signal of
"rare or hard" rows.  Predictions come from the base model alone.

* :mod:`.module` -- the torch module, the oracle losses, the signals;
* :class:`EpistemicHeadClassifier` -- classes (mutual information, entropy,
  energy; the base model's own entropy and energy);
* :class:`EpistemicHeadRegressor` -- continuous targets (variance of the
  heads), so guidance can serve deep imbalanced regression.
"""

from .classifier import EpistemicHeadClassifier
from .module import (
    CLASSIFICATION_SIGNALS,
    LONGTAIL_SIGNALS,
    REGRESSION_SIGNALS,
    EpistemicHeadModule,
    LongtailSignal,
    OracleLoss,
    OracleMSELoss,
)
from .regressor import EpistemicHeadRegressor

__all__ = [
    "CLASSIFICATION_SIGNALS",
    "LONGTAIL_SIGNALS",
    "REGRESSION_SIGNALS",
    "EpistemicHeadClassifier",
    "EpistemicHeadModule",
    "EpistemicHeadRegressor",
    "LongtailSignal",
    "OracleLoss",
    "OracleMSELoss",
]
