"""skltsynth: embedding-space oversampling for long-tailed data.

Scikit-learn / imbalanced-learn compatible resamplers that synthesise new rows
in the embedding space of a frozen encoder, for long-tailed classification and
deep imbalanced regression (DIR).
"""

from .meta import ResampledEstimator

__version__ = "0.1.0"

__all__ = ["ResampledEstimator", "__version__"]
