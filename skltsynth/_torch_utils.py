"""Device, batching and pickling helpers shared by estimators and engines.

Random state lives in :mod:`skltsynth._random`.
"""

from __future__ import annotations

import torch

__all__ = [
    "batches",
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
