"""skltsynth: embedding-space oversampling for long-tailed data.

Scikit-learn / imbalanced-learn compatible resamplers that synthesise new rows
in the embedding space of a frozen encoder, for long-tailed classification and
deep imbalanced regression (DIR).
"""

from .meta import ResampledEstimator
from .resamplers.latent_diffusion import LatentDiffusionResampler
from .resamplers.memory_ddpm import MemoryDDPMResampler

__version__ = "0.1.0"

__all__ = ["LatentDiffusionResampler", "MemoryDDPMResampler", "ResampledEstimator", "__version__"]
