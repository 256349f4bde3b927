"""Resamplers built on :class:`skltsynth.resamplers.base.BaseEmbeddingResampler`.

:class:`BaseDiffusionResampler` is the shared base of the two diffusion
resamplers (as imbalanced-learn's ``BaseSMOTE`` is for the SMOTE family).
"""

from ._diffusion_base import BaseDiffusionResampler
from .latent_diffusion import LatentDiffusionResampler
from .memory_ddpm import MemoryDDPMResampler
from .vmf_kde import VMFKDEResampler

__all__ = [
    "BaseDiffusionResampler",
    "LatentDiffusionResampler",
    "MemoryDDPMResampler",
    "VMFKDEResampler",
]
