"""SMOTER-style baselines for deep imbalanced regression (and classes).

Two comparison baselines built on :class:`~skltsynth.resamplers.base.BaseEmbeddingResampler`
so that they follow the same plan (rows per DIR bin) as skltsynth's own
resamplers:

* :class:`SMOTER` -- SMOTE inside each group (class or DIR bin): a synthetic
  row is ``x_i + lam (x_j - x_i)`` for a seed ``x_i`` and one of its
  ``k_neighbors`` nearest neighbours ``x_j`` in the same group, and its target
  is interpolated with the same weight, ``y_i + lam (y_j - y_i)`` (Torgo et
  al., 2013, with the target interpolated as in SMOTE for regression
  benchmarks).  A bin with fewer than two rows borrows rows from the
  neighbouring bins (:meth:`~skltsynth.policy.targets.ResamplingPlan.seed_pool`).
* :class:`RandomBinOverSampler` -- random over-sampling per DIR bin: copies of
  seed rows with their targets (the regression analogue of
  imbalanced-learn's ``RandomOverSampler``).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval

from .base import BaseEmbeddingResampler, SyntheticRows

__all__ = ["RandomBinOverSampler", "SMOTER"]


class _PoolSampler(BaseEmbeddingResampler):
    """Shared plumbing: draw seeds per group from the plan's seed pools."""

    def _partners(self, X, pool, seeds):
        """Index (into ``pool``) of the row each seed interpolates towards."""
        return seeds

    def _generate(self, X, y, plan):
        pools = plan.seed_pool(min_rows=2)
        regression = plan.task == "regression"
        X_parts, y_parts = [], []
        for g, n in self._progress(plan.n_new.items(), total=len(plan.n_new)):
            pool = pools[g]
            seeds = self._rng.integers(len(pool), size=n)
            partners = self._partners(X, pool, seeds)
            lam = self._rng.random(n) if partners is not seeds else np.zeros(n)
            a, b = X[pool[seeds]], X[pool[partners]]
            X_parts.append(a + lam[:, None].astype(X.dtype) * (b - a))
            if regression:
                ya, yb = y[pool[seeds]], y[pool[partners]]
                y_parts.append(ya + lam * (yb - ya))
            else:
                y_parts.append(np.full(n, plan.group_values[g]))
        return SyntheticRows(np.concatenate(X_parts), np.concatenate(y_parts))


class SMOTER(_PoolSampler):
    """SMOTE within classes or DIR bins, with interpolated regression targets.

    Parameters
    ----------
    k_neighbors : int, default=5
        Neighbours a seed can interpolate towards (capped, per group, at the
        group's size minus one).
    sampling_strategy, target_type, n_bins, bin_width, device, random_state, verbose
        See :class:`~skltsynth.resamplers.base.BaseEmbeddingResampler`.
    synthetic_target : {"centre", "uniform"}, default="centre"
        Unused: a synthetic row's target is interpolated between its two
        parent rows with the row's own interpolation weight.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines._smoter import SMOTER
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[rng.uniform(0, 1, 80), rng.uniform(1, 2, 8)]
    >>> X = np.c_[y, rng.normal(size=88)]
    >>> X_res, y_res = SMOTER(n_bins=2, random_state=0).fit_resample(X, y)
    >>> X_res.shape[0] > 88, bool(np.all((y_res[88:] >= 1) & (y_res[88:] <= 2)))
    (True, True)
    """

    _parameter_constraints = {
        **BaseEmbeddingResampler._parameter_constraints,
        "k_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        k_neighbors=5,
        sampling_strategy="auto",
        target_type="auto",
        n_bins=None,
        bin_width=None,
        synthetic_target="centre",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self._store_params(locals())

    def _partners(self, X, pool, seeds):
        if len(pool) < 2:
            return seeds.copy()  # a lone row can only be copied
        k = min(self.k_neighbors, len(pool) - 1)
        neighbours = (
            NearestNeighbors(n_neighbors=k).fit(X[pool]).kneighbors(return_distance=False)
        )
        column = self._rng.integers(k, size=len(seeds))
        return neighbours[seeds, column]


class RandomBinOverSampler(_PoolSampler):
    """Random over-sampling within classes or DIR bins (copies of real rows).

    Parameters
    ----------
    sampling_strategy, target_type, n_bins, bin_width, device, random_state, verbose
        See :class:`~skltsynth.resamplers.base.BaseEmbeddingResampler`.
    synthetic_target : {"centre", "uniform"}, default="centre"
        Unused: a copy keeps its seed row's target.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines._smoter import RandomBinOverSampler
    >>> y = np.r_[np.linspace(0, 1, 50), [1.6, 1.9]]
    >>> X = y[:, None] * [1.0, 2.0]
    >>> X_res, y_res = RandomBinOverSampler(n_bins=2, random_state=0).fit_resample(X, y)
    >>> bool(np.all(np.isin(y_res[52:], [1.6, 1.9])))
    True
    """

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        target_type="auto",
        n_bins=None,
        bin_width=None,
        synthetic_target="centre",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self._store_params(locals())
