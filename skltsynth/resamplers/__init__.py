"""Resamplers built on :class:`skltsynth.base.BaseEmbeddingResampler`."""

from .vmf_kde import VMFKDEResampler
from .memory_ddpm import MemoryDDPMResampler
from .latent_diffusion import LatentDiffusionResampler

__all__ = ["LatentDiffusionResampler", "MemoryDDPMResampler", "VMFKDEResampler"]
