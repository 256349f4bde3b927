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
  neighbouring bins (:meth:`~skltsynth.policy.plan.ResamplingPlan.seed_pool`).
* :class:`RandomBinOverSampler` -- random over-sampling per DIR bin: copies of
  seed rows with their targets (the regression analogue of
  imbalanced-learn's ``RandomOverSampler``).

:func:`interpolate_in_pools` is SMOTER's interpolation on its own; LatentDiff
starts its SDEdit chains from such rows
(:class:`~skltsynth.LatentDiffusionResampler`, ``start="interpolate"``).
"""

from __future__ import annotations

import numbers
from abc import abstractmethod

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval

from ..policy.plan import draw_seed_rows
from .base import BaseEmbeddingResampler, SyntheticRows

__all__ = ["SMOTE_NEIGHBOURS", "RandomBinOverSampler", "SMOTER", "interpolate_in_pools"]

#: Neighbours a SMOTE seed can interpolate towards (SMOTE's and SMOTER's k).
SMOTE_NEIGHBOURS = 5


def _smote_partners(X, pool, seeds, k_neighbors, rng):
    """Index (into ``pool``) of one of the ``k_neighbors`` nearest pool rows of every seed."""
    if len(pool) < 2:
        return seeds.copy()  # a lone row can only be copied
    k = min(int(k_neighbors), len(pool) - 1)
    neighbours = NearestNeighbors(n_neighbors=k).fit(X[pool]).kneighbors(return_distance=False)
    return neighbours[seeds, rng.integers(k, size=len(seeds))]


def interpolate_in_pools(X, y, groups, pools, rng, k_neighbors=SMOTE_NEIGHBOURS,
                         return_pairs=False):
    """SMOTE(R) rows: ``x_i + lam (x_j - x_i)`` within the pool of every row's group.

    For every row to make, a seed ``x_i`` is drawn from its group's pool, a
    partner ``x_j`` among the seed's ``k_neighbors`` nearest rows of the same
    pool, and ``lam`` uniformly in [0, 1); the target (when ``y`` is given)
    is interpolated with the same weight, ``y_i + lam (y_j - y_i)`` (Torgo
    et al., 2013), so every row lies on a segment between two real rows with
    a consistent target.  A pool of one row yields copies of it.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Real rows.
    y : ndarray of shape (n,) or None
        Continuous targets of the real rows; None for class labels.
    groups : ndarray of shape (m,)
        Group (class or bin) of every row to make, grouped together (as
        :meth:`~skltsynth.policy.plan.ResamplingPlan.new_groups` returns).
    pools : dict of int to ndarray
        Group -> indices of ``X`` to interpolate between
        (:meth:`~skltsynth.policy.plan.ResamplingPlan.seed_pool`).
    rng : numpy.random.Generator
    k_neighbors : int, default=5
    return_pairs : bool, default=False
        Also return every row's parents and weight.

    Returns
    -------
    rows : ndarray of shape (m, d), dtype of ``X``
    targets : ndarray of shape (m,) or None
        Interpolated targets (None when ``y`` is None).
    pairs : tuple of three ndarrays of shape (m,)
        Only with ``return_pairs``: the indices (into ``X``) of every row's
        seed and partner, and its weight ``lam``.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.resamplers._smoter import interpolate_in_pools
    >>> X = np.array([[0.0], [1.0], [10.0]]); y = np.array([0.0, 1.0, 10.0])
    >>> rows, t = interpolate_in_pools(X, y, np.zeros(4, int), {0: np.array([0, 1])},
    ...                                np.random.default_rng(0))
    >>> bool(np.all((rows[:, 0] >= 0) & (rows[:, 0] <= 1))), bool(np.allclose(rows[:, 0], t))
    (True, True)
    """
    groups = np.asarray(groups, dtype=np.int64)
    rows = np.empty((groups.size, X.shape[1]), dtype=X.dtype)
    first, second = np.empty(groups.size, np.int64), np.empty(groups.size, np.int64)
    weight = np.empty(groups.size)
    for g in dict.fromkeys(groups.tolist()):  # groups in order of appearance
        where = np.flatnonzero(groups == g)
        pool = np.asarray(pools[g])
        seeds = rng.integers(len(pool), size=where.size)
        partners = _smote_partners(X, pool, seeds, k_neighbors, rng)
        lam = rng.random(where.size)
        first[where], second[where], weight[where] = pool[seeds], pool[partners], lam
        a, b = X[pool[seeds]], X[pool[partners]]
        rows[where] = a + lam[:, None].astype(X.dtype) * (b - a)
    targets = None if y is None else y[first] + weight * (y[second] - y[first])
    return (rows, targets, (first, second, weight)) if return_pairs else (rows, targets)


class _PoolSampler(BaseEmbeddingResampler):
    """Shared plumbing: rows per group from the plan's seed pools."""

    @abstractmethod
    def _rows(self, X, y, groups, pools):
        """Synthetic rows (and regression targets, or None) for ``groups``."""

    def _generate(self, X, y, plan):
        pools = plan.seed_pool(min_rows=2)
        groups = plan.new_groups()
        regression = plan.task == "regression"
        rows, targets = self._rows(X, y if regression else None, groups, pools)
        return SyntheticRows(rows, targets if regression else plan.group_values[groups])


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
    >>> from skltsynth.resamplers._smoter import SMOTER
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[rng.uniform(0, 1, 80), rng.uniform(1, 2, 8)]
    >>> X = np.c_[y, rng.normal(size=88)]
    >>> X_res, y_res = SMOTER(n_bins=[0.0, 1.0, 2.0], random_state=0).fit_resample(X, y)
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
        k_neighbors=SMOTE_NEIGHBOURS,
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

    def _rows(self, X, y, groups, pools):
        return interpolate_in_pools(X, y, groups, pools, self._rng, self.k_neighbors)


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
    >>> from skltsynth.resamplers._smoter import RandomBinOverSampler
    >>> y = np.r_[np.linspace(0, 0.5, 50), [1.6, 1.9]]
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

    def _rows(self, X, y, groups, pools):
        seeds = draw_seed_rows(groups, pools, self._rng)
        return X[seeds].copy(), None if y is None else y[seeds].astype(np.float64)
