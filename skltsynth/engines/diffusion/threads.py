"""CPU threads of the diffusion engine: narrow denoisers run on one thread.

Denoisers at most :data:`SINGLE_THREAD_MAX_WIDTH` wide are trained and
sampled on one torch CPU thread (torch's setting is restored afterwards).
Their products (a batch of 256 through a 128-wide MLP) are too small to
share between threads: most of a step is dispatch, EMA and optimiser work.
Measured on the shared 2-core machine at load 4-11 (a randhie-sized engine,
same process, alternating): 5-21 ms of CPU per training step on one thread,
357-437 ms on two, whose threads spin waiting for each other
(LatentDiffusionResampler's default fit on randhie: 10-19 s on one thread,
347-406 s with torch's default two threads).  :class:`~.model.FeatureDiffusion`
applies it to every fit and sample, whoever calls them (the resamplers, the
``scale="auto"`` guidance probe, the Dask workers).
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["SINGLE_THREAD_MAX_WIDTH", "narrow_denoiser_threads"]

#: Widest denoiser that runs on one CPU thread.
SINGLE_THREAD_MAX_WIDTH = 128


@contextlib.contextmanager
def narrow_denoiser_threads(width, device):
    """One torch CPU thread while a denoiser of ``width`` runs on a CPU ``device``.

    Examples
    --------
    >>> import torch
    >>> from skltsynth.engines.diffusion.threads import narrow_denoiser_threads
    >>> before = torch.get_num_threads()
    >>> with narrow_denoiser_threads(64, "cpu"):
    ...     inside = torch.get_num_threads()
    >>> inside, torch.get_num_threads() == before
    (1, True)
    """
    n = torch.get_num_threads()
    single = torch.device(device).type == "cpu" and width <= SINGLE_THREAD_MAX_WIDTH and n > 1
    if single:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if single:
            torch.set_num_threads(n)
