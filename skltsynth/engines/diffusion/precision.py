"""Matmul precision of the denoiser: float32, or bfloat16 autocast where the hardware has it.

The denoiser's cost is its matrix products.  On hardware with native
bfloat16 matrix units -- CPUs with Intel AMX tiles (Sapphire Rapids and
later) and CUDA devices that support bfloat16 -- ``torch.autocast`` runs the
products in bfloat16 with float32 accumulation while the weights, the
optimiser state, the EMA copy, the loss and every step of the sampler stay in
float32 (mixed precision).  Measured on a 2-core AMX CPU
(``benchmarks/bench_speed.py``): a (4096 x 512) @ (512 x 512) product runs
about 8x faster and a (256 x 512) one about 3x; a training step of the
5,000 x 384 problem about 1.7x.

``precision="auto"`` (the default of :class:`~skltsynth.engines.diffusion.DiffusionConfig`)
picks bfloat16 exactly there, and only for denoisers at least
:data:`MIN_BFLOAT16_WIDTH` wide; float32 elsewhere (CPUs without AMX, where
bfloat16 products are emulated or only marginally faster, and narrow
denoisers, whose steps are dominated by per-operation overhead that the
casts only add to: on the 20,000 x 13 regression problem, width 128, a
LatentDiffusionResampler fit took 7.2 CPU seconds in bfloat16 against 5.7 in
float32, while on 5,000 x 384 classes, width 512, 27.6 against 41.8).  The quality
comparison at the same seeds is in ``docs/benchmark/speed/quality.md``.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["MIN_BFLOAT16_WIDTH", "PRECISIONS", "at_precision", "autocast", "resolve_precision"]

PRECISIONS = ("auto", "float32", "bfloat16")
#: Narrowest denoiser for which ``"auto"`` picks bfloat16 (see the module docstring).
MIN_BFLOAT16_WIDTH = 256


def _native_bf16(device):
    """Whether ``device`` multiplies bfloat16 matrices in hardware."""
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        amx = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private: guard it
        try:
            return bool(amx()) if amx is not None else False
        except RuntimeError:  # pragma: no cover - depends on the build
            return False
    return False


def resolve_precision(precision, device, width=None):
    """``"float32"`` or ``"bfloat16"`` for ``precision`` on ``device``.

    Parameters
    ----------
    precision : {"auto", "float32", "bfloat16"}
        ``"auto"``: bfloat16 where the device has native bfloat16 matrix
        units (AMX CPUs, bf16-capable CUDA devices) and the denoiser is at
        least :data:`MIN_BFLOAT16_WIDTH` wide, else float32.
    device : torch.device or str
    width : int, optional
        Hidden width of the denoiser (None: not checked).

    Returns
    -------
    precision : {"float32", "bfloat16"}

    Examples
    --------
    >>> from skltsynth.engines.diffusion.precision import resolve_precision
    >>> resolve_precision("float32", "cpu")
    'float32'
    >>> resolve_precision("auto", "cpu", width=512) in ("float32", "bfloat16")
    True
    >>> resolve_precision("auto", "cpu", width=128)
    'float32'
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision != "auto":
        return precision
    if width is not None and int(width) < MIN_BFLOAT16_WIDTH:
        return "float32"
    return "bfloat16" if _native_bf16(torch.device(device)) else "float32"


def autocast(precision, device):
    """Context in which the denoiser runs at ``precision`` (resolved) on ``device``."""
    device = torch.device(device)
    if precision != "bfloat16" or device.type not in ("cpu", "cuda"):
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


class _AtPrecision:
    """``module`` called under :func:`autocast` (only the module: not the caller's code)."""

    def __init__(self, module, precision, device):
        self.module, self.precision, self.device = module, precision, torch.device(device)

    def __call__(self, *args, **kwargs):
        with autocast(self.precision, self.device):
            return self.module(*args, **kwargs)


def at_precision(module, precision, device):
    """``module`` itself for float32, else a callable running it under bfloat16 autocast.

    The sampler calls the denoiser through it, so guidance signals and the
    sampler's own arithmetic stay in float32.
    """
    return module if precision != "bfloat16" else _AtPrecision(module, precision, device)
