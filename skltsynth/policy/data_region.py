"""The region of the real rows that guided sampling stays in.

Longtail Guidance pushes the diffusion model's clean-row estimate up the
gradient of a longtail signal, and nothing in the signal keeps the row on the
data: on CLINC150-LT (MemoryDDPM defaults, an Epistemic Head's epistemic
signal, scale 1000) guided rows reached 3.3x the real rows' norm and 2.5x the
largest distance of a real row to its class centre.  :class:`DataRegion`
records where the real rows lie -- the range of their norms and, per class
(or for all rows), the centre and the largest distance of a real row to it --
and :meth:`DataRegion.project` pulls a row back into that region.

The diffusion resamplers build one from their training rows whenever they
guide, attach it to the guidance object (:meth:`LongtailGuidance.within
<skltsynth.policy.guidance.LongtailGuidance.within>`), and the sampler projects
every guided x0 estimate with it (:mod:`skltsynth.engines.diffusion.sampling`),
so the final rows (the last step's estimate) lie in the region too.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import sparse

__all__ = ["DataRegion"]

#: Alternations of the two projections (class ball, then norm shell); later
#: passes correct what the norm rescaling moved out of the ball.  Unit-norm
#: embeddings make the ball and the shell meet in a thin cap, where
#: alternation converges slowly: on the demo data (MemoryDDPM, scale 1) 2
#: passes left 203 of 3,396 rows up to 0.5 % outside their class ball, 10
#: passes 16 rows within 0.03 %.
_PASSES = 10
#: Rows handled at once when a region is measured (bounds memory).
_BLOCK_ROWS = 65536


class DataRegion:
    """Norm range of the real rows and each group's centre and radius.

    Parameters
    ----------
    norm_range : tuple of float
        ``(lowest, highest)`` L2 norm of a real row.
    centres : ndarray of shape (n_groups, n_features)
        Mean of each group's real rows.
    radii : ndarray of shape (n_groups,)
        Largest distance of a real row of the group to its centre (``inf``
        for a group without rows: it is not constrained).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skltsynth.policy.data_region import DataRegion
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    >>> region = DataRegion.from_rows(X, np.array([0, 0, 1, 1]))
    >>> region.norm_range
    (1.0, 1.0)
    >>> x = region.project(torch.tensor([[3.0, 3.0]]), torch.tensor([0]))
    >>> [round(v, 3) for v in x[0].tolist()], bool(region.contains(x.numpy(), [0])[0])
    ([0.707, 0.707], True)
    """

    def __init__(self, norm_range, centres, radii):
        lo, hi = (float(v) for v in norm_range)
        if not 0.0 <= lo <= hi:
            raise ValueError(f"norm_range must be 0 <= low <= high, got {norm_range!r}.")
        self.norm_range = (lo, hi)
        self.centres = np.asarray(centres, dtype=np.float64)
        self.radii = np.asarray(radii, dtype=np.float64)
        if self.centres.ndim != 2 or self.radii.shape != (self.centres.shape[0],):
            raise ValueError("centres must have shape (n_groups, d) and radii (n_groups,).")
        self._torch = {}

    @classmethod
    def from_rows(cls, X, groups=None, n_groups=None):
        """The region of rows ``X`` (grouped by ``groups``: class indices, or None = one group).

        Parameters
        ----------
        X : array-like of shape (n, d)
        groups : array-like of int, shape (n,), default=None
            Group index (0..n_groups-1) of every row; None puts all rows in group 0.
        n_groups : int, default=None
            Number of groups (default: ``max(groups) + 1``).

        Returns
        -------
        region : DataRegion
        """
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError("X must be a non-empty 2-D array.")
        n = X.shape[0]
        groups = (np.zeros(n, dtype=np.int64) if groups is None
                  else np.asarray(groups, dtype=np.int64).ravel())
        if groups.shape[0] != n or groups.min() < 0:
            raise ValueError("groups must hold one non-negative index per row of X.")
        n_groups = int(groups.max()) + 1 if n_groups is None else int(n_groups)
        counts = np.bincount(groups, minlength=n_groups)
        members = sparse.csr_matrix((np.ones(n), (groups, np.arange(n))), shape=(n_groups, n))
        centres = np.asarray(members @ X, dtype=np.float64) / np.maximum(counts, 1)[:, None]
        radii = np.where(counts > 0, 0.0, np.inf)  # a group without rows is not constrained
        norms = np.empty(n)
        for start in range(0, n, _BLOCK_ROWS):  # bounded memory: no (n, d) float64 copy
            block = slice(start, start + _BLOCK_ROWS)
            rows = X[block].astype(np.float64, copy=False)
            norms[block] = np.linalg.norm(rows, axis=1)
            np.maximum.at(radii, groups[block],
                          np.linalg.norm(rows - centres[groups[block]], axis=1))
        return cls((norms.min(), norms.max()), centres, radii)

    @property
    def n_groups(self):
        """Number of groups (1 for a region of all rows)."""
        return self.centres.shape[0]

    def _group_index(self, cond, n, like):
        if self.n_groups == 1 or cond is None:
            return torch.zeros(n, dtype=torch.long, device=like.device)
        cond = torch.as_tensor(cond, device=like.device).reshape(-1)
        if cond.is_floating_point():  # a continuous condition: the region has one group
            return torch.zeros(n, dtype=torch.long, device=like.device)
        return cond.long().clamp(0, self.n_groups - 1)

    def _tensors(self, like):
        key = (like.device, like.dtype)
        if key not in self._torch:
            self._torch[key] = (torch.as_tensor(self.centres, device=like.device, dtype=like.dtype),
                                torch.as_tensor(self.radii, device=like.device, dtype=like.dtype))
        return self._torch[key]

    def project(self, x, cond=None):
        """Rows ``x`` pulled into the region (torch, original units).

        A row farther from its group's centre than the group's radius moves
        towards the centre onto that sphere; then its norm is clipped to
        ``norm_range`` (rescaling along the row).  Repeated passes of the
        pair (:data:`_PASSES`) settle rows the rescaling moved out of the
        ball again.  Rows already
        in the region are unchanged.

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
        cond : torch.Tensor of shape (n,), default=None
            Group index of every row (class index); ignored for a region of
            one group or a floating-point (continuous) condition.

        Returns
        -------
        x : torch.Tensor of shape (n, d)
        """
        centres, radii = self._tensors(x)
        g = self._group_index(cond, x.shape[0], x)
        c, r = centres[g], radii[g]
        lo, hi = self.norm_range
        for _ in range(_PASSES):
            d = (x - c).norm(dim=1)
            shrink = torch.where(d > r, r / d.clamp_min(1e-30), torch.ones_like(d))
            x = c + (x - c) * shrink[:, None]
            norm = x.norm(dim=1)
            target = norm.clamp(lo, hi)
            x = x * torch.where(norm > 0, target / norm.clamp_min(1e-30),
                                torch.ones_like(norm))[:, None]
        return x

    def contains(self, X, groups=None, rtol=1e-4):
        """Which rows of ``X`` lie in the region (numpy; up to a relative tolerance).

        Parameters
        ----------
        X : array-like of shape (n, d)
        groups : array-like of int, shape (n,), default=None
        rtol : float, default=1e-4
            Tolerance relative to the highest real norm.

        Returns
        -------
        inside : ndarray of bool, shape (n,)
        """
        X = np.asarray(X, dtype=np.float64)
        g = (np.zeros(X.shape[0], dtype=np.int64) if groups is None or self.n_groups == 1
             else np.asarray(groups, dtype=np.int64).ravel())
        tol = rtol * max(self.norm_range[1], 1e-12)
        norms = np.linalg.norm(X, axis=1)
        dist = np.linalg.norm(X - self.centres[g], axis=1)
        lo, hi = self.norm_range
        return (norms >= lo - tol) & (norms <= hi + tol) & (dist <= self.radii[g] + tol)
