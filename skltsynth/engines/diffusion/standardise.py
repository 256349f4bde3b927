"""Per-dimension feature standardisation (torch) for diffusing embeddings.

Embedding coordinates are often far below the unit noise scale (a unit-norm row
in d = 768 has per-dimension std ~ 0.036), so rows are standardised before
diffusion and mapped back afterwards.  Statistics are computed in float64.
"""

from __future__ import annotations

import torch

from ..._torch_utils import batches

#: Rows per block when the standardiser sums over the data (bounds memory).
_BLOCK_ROWS = 8192

__all__ = ["Standardiser"]


class Standardiser:
    """Per-dimension ``(x - mean) / scale`` with a floor on ``scale``.

    Parameters
    ----------
    floor : float, default=1e-3
        Relative floor: ``scale = max(std, floor * mean(std), 1e-12)``.  Keeps
        (near-)constant dimensions from being blown up into pure noise.

    Attributes
    ----------
    mean_ : torch.Tensor of shape (d,)
    scale_ : torch.Tensor of shape (d,)

    Examples
    --------
    >>> import torch
    >>> from skltsynth.engines.diffusion.standardise import Standardiser
    >>> X = torch.tensor([[1.0, 10.0], [3.0, 30.0]])
    >>> s = Standardiser().fit(X)
    >>> s.transform(X)
    tensor([[-1., -1.],
            [ 1.,  1.]])
    >>> bool(torch.allclose(s.inverse_transform(s.transform(X)), X))
    True
    """

    def __init__(self, floor=1e-3):
        if not float(floor) >= 0.0:
            raise ValueError(f"floor must be >= 0, got {floor!r}.")
        self.floor = float(floor)

    def fit(self, X, sample_weight=None):
        """Learn mean and scale from rows ``X`` (shape (n, d)), optionally weighted."""
        if not isinstance(X, torch.Tensor) or X.dim() != 2 or X.shape[0] < 1:
            raise ValueError("X must be a 2-D torch.Tensor with at least one row.")
        X = X.detach()
        n = X.shape[0]
        if sample_weight is None:
            w = torch.full((n,), 1.0 / n, dtype=torch.float64, device=X.device)
        else:
            w = torch.as_tensor(sample_weight, dtype=torch.float64, device=X.device).reshape(-1)
            if w.shape[0] != n or bool((w < 0).any()) or float(w.sum()) <= 0:
                raise ValueError("sample_weight must be (n,) non-negative with a positive sum.")
            w = w / w.sum()
        # two passes in float64 over blocks of rows: no float64 copy of all of X
        mean = sum((w[c, None] * X[c].to(torch.float64)).sum(0) for c in batches(n, _BLOCK_ROWS))
        var = sum((w[c, None] * (X[c].to(torch.float64) - mean) ** 2).sum(0)
                  for c in batches(n, _BLOCK_ROWS))
        std = var.sqrt()
        floor = max(self.floor * float(std.mean()), 1e-12)
        self.mean_ = mean.to(X.dtype)
        self.scale_ = std.clamp(min=floor).to(X.dtype)
        return self

    def _stats(self, X):
        if not hasattr(self, "mean_"):
            raise RuntimeError("This Standardiser is not fitted yet; call fit(X) first.")
        if X.shape[-1] != self.mean_.shape[0]:
            raise ValueError(
                f"X has {X.shape[-1]} features, but the Standardiser was fitted with "
                f"{self.mean_.shape[0]}."
            )
        return (self.mean_.to(device=X.device, dtype=X.dtype),
                self.scale_.to(device=X.device, dtype=X.dtype))

    def transform(self, X):
        """``(X - mean) / scale`` (differentiable)."""
        mean, scale = self._stats(X)
        return (X - mean) / scale

    def inverse_transform(self, Z):
        """``Z * scale + mean`` (differentiable, so gradients account for the scale)."""
        mean, scale = self._stats(Z)
        return Z * scale + mean

    def to(self, device):
        """Move the statistics to ``device`` (returns self)."""
        if hasattr(self, "mean_"):
            self.mean_ = self.mean_.to(device)
            self.scale_ = self.scale_.to(device)
        return self
