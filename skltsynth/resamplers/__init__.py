"""Resamplers built on :class:`skltsynth.base.BaseEmbeddingResampler`."""

from .vmf_kde import VMFKDEResampler
