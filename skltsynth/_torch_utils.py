"""Device, random-state and batching helpers shared by estimators and engines.

Nothing here touches global random state: ``random_state`` becomes one
:class:`numpy.random.Generator` per fit, and every torch draw uses an explicit
:class:`torch.Generator` seeded from it.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

__all__ = [
    "batches",
    "make_torch_generator",
    "numpy_generator",
    "resolve_device",
    "to_cpu",
]


def resolve_device(device="auto"):
    """Turn a ``device`` parameter into a :class:`torch.device`.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}, str or torch.device, default="auto"
        ``"auto"`` picks CUDA when available, else CPU.  ``"cuda"`` or
        ``"cuda:N"`` on a machine without a usable GPU is an error.

    Returns
    -------
    device : torch.device

    Examples
    --------
    >>> from skltsynth._torch_utils import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            dev = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(
                f"Unknown device {device!r}; use 'auto', 'cpu' or 'cuda'."
            ) from exc
    else:
        raise TypeError(f"device must be a string or torch.device, got {type(device).__name__}.")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={str(device)!r} was requested but no CUDA GPU is available "
                "on this machine; use device='auto' or 'cpu'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={str(device)!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
    elif dev.type not in ("cpu", "mps"):
        raise ValueError(f"Unsupported device {str(device)!r}; use 'auto', 'cpu' or 'cuda'.")
    return dev


def numpy_generator(random_state=None):
    """A :class:`numpy.random.Generator` from any sklearn-style ``random_state``.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        ``None`` gives fresh OS entropy; an int a fixed seed; a RandomState
        instance is consumed (one draw) so sklearn's convention of a shared
        RandomState keeps working.

    Returns
    -------
    rng : numpy.random.Generator
    """
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(
        f"random_state must be None, an int, a RandomState or a Generator; got {random_state!r}."
    )


def make_torch_generator(rng, device="cpu"):
    """A fresh ``torch.Generator`` on ``device`` seeded from ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the seed (one draw).
    device : torch.device or str, default="cpu"

    Returns
    -------
    generator : torch.Generator
    """
    generator = torch.Generator(device=torch.device(device))
    generator.manual_seed(int(rng.integers(0, 2**63 - 1)))
    return generator


def batches(n, batch_size):
    """Yield ``slice`` objects covering ``range(n)`` in chunks of ``batch_size``.

    Parameters
    ----------
    n : int
        Number of items.
    batch_size : int
        Chunk size (at least 1).

    Yields
    ------
    chunk : slice
    """
    batch_size = max(1, int(batch_size))
    for start in range(0, n, batch_size):
        yield slice(start, min(n, start + batch_size))


def to_cpu(value):
    """Move torch modules and tensors (also inside lists/tuples/dicts) to CPU.

    Used when pickling fitted estimators so that a model fitted on a GPU
    unpickles on a machine without one.
    """
    if isinstance(value, torch.nn.Module):
        return value.to("cpu")
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu")
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(to_cpu(v) for v in value)
    if hasattr(value, "to_cpu_state") and callable(value.to_cpu_state):
        return value.to_cpu_state()
    return value
