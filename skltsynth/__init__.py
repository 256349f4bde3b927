"""skltsynth: embedding-space oversampling for long-tailed data.

Scikit-learn / imbalanced-learn compatible resamplers that synthesise new rows
in the embedding space of a frozen encoder, for long-tailed classification and
deep imbalanced regression (DIR).
"""

from .epistemic import EpistemicHeadClassifier
from .guidance import LongtailGuidance, select_guidance_scale
from .logit_adjustment import LogitAdjustedClassifier
from .meta import ResampledEstimator
from .resamplers.latent_diffusion import LatentDiffusionResampler
from .resamplers.memory_ddpm import MemoryDDPMResampler
from .resamplers.vmf_kde import VMFKDEResampler

__version__ = "0.1.0"

__all__ = [
    "EpistemicHeadClassifier",
    "LatentDiffusionResampler",
    "LogitAdjustedClassifier",
    "LongtailGuidance",
    "MemoryDDPMResampler",
    "ResampledEstimator",
    "VMFKDEResampler",
    "__version__",
    "select_guidance_scale",
]
