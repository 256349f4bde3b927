"""The resampling plan: which group every row is in and how many rows each group gets.

A *group* is a class (classification) or a DIR bin (regression).
:func:`make_plan` turns a target vector and a ``sampling_strategy`` into a
:class:`ResamplingPlan`, with the DIR helpers of :mod:`.targets` (bins, LDS)
and the allocation rules of :mod:`.allocation`; the estimators pass the plan
to their engine. Nothing here touches torch.
"""

from __future__ import annotations

import numbers
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .allocation import flat_allocation
from .targets import _check_edges, assign_bins, bin_edges, smoothed_density

__all__ = ["ResamplingPlan", "draw_seed_rows", "make_plan"]


@dataclass
class ResamplingPlan:
    """What a resampler must synthesise, group by group.

    A *group* is a class (classification) or a DIR bin (regression).

    Attributes
    ----------
    task : {"classification", "regression"}
        Kind of target.
    groups : ndarray of shape (n_samples,), dtype int64
        Group index of every input row.
    group_values : ndarray of shape (n_groups,)
        Class label of every group, or the centre of every bin.
    group_counts : ndarray of shape (n_groups,), dtype int64
        Real rows per group.
    n_new : dict of int to int
        Synthetic rows to make per group index (only positive entries).
    bin_edges : ndarray of shape (n_groups + 1,) or None
        Bin edges (regression only).
    synthetic_target : {"centre", "uniform"}
        How :meth:`synthetic_targets` draws regression targets.
    """

    task: str
    groups: np.ndarray
    group_values: np.ndarray
    group_counts: np.ndarray
    n_new: dict = field(default_factory=dict)
    bin_edges: np.ndarray | None = None
    synthetic_target: str = "centre"

    @property
    def n_groups(self):
        """Number of groups (classes or bins)."""
        return len(self.group_values)

    @property
    def n_synthetic(self):
        """Total number of synthetic rows requested."""
        return int(sum(self.n_new.values()))

    @property
    def new_counts(self):
        """Synthetic rows of every group, ``n_new`` as an array of shape (n_groups,)."""
        counts = np.zeros(self.n_groups, dtype=np.int64)
        for g, k in self.n_new.items():
            counts[g] = k
        return counts

    def new_groups(self):
        """Group index of every synthetic row, each group repeated ``n_new`` times.

        Returns
        -------
        groups : ndarray of shape (n_synthetic,), dtype int64
        """
        if not self.n_new:
            return np.zeros(0, dtype=np.int64)
        keys = np.fromiter(self.n_new.keys(), dtype=np.int64)
        reps = np.fromiter(self.n_new.values(), dtype=np.int64)
        return np.repeat(keys, reps)

    def synthetic_targets(self, groups, rng):
        """Target value of synthetic rows of the given groups.

        Parameters
        ----------
        groups : array-like of int
            Group index of every synthetic row.
        rng : numpy.random.Generator
            Used for ``synthetic_target="uniform"``.

        Returns
        -------
        y : ndarray
            Class labels; or, for regression, the bin centre
            (``"centre"``) or a uniform draw inside the bin (``"uniform"``).
        """
        groups = np.asarray(groups, dtype=np.int64)
        if self.task == "classification" or self.synthetic_target == "centre":
            return self.group_values[groups]
        lo = self.bin_edges[groups]
        hi = self.bin_edges[groups + 1]
        return lo + (hi - lo) * rng.random(len(groups))

    def seed_pool(self, min_rows=2):
        """Row indices to draw seeds from for every group with ``n_new > 0``.

        A group with fewer than ``min_rows`` rows is pooled with its
        neighbouring groups (bins on both sides, widening until enough rows
        are found).  Neighbours only make sense for bins; for classes, the
        group's own rows are returned whatever their number.

        Parameters
        ----------
        min_rows : int, default=2
            Minimum number of rows in a pool.

        Returns
        -------
        pools : dict of int to ndarray
            Group index -> indices of input rows.
        """
        order = np.argsort(self.groups, kind="stable")
        starts = np.searchsorted(self.groups[order], np.arange(self.n_groups + 1))
        members = [order[starts[g] : starts[g + 1]] for g in range(self.n_groups)]
        pools = {}
        for g in self.n_new:
            if self.task == "classification" or len(members[g]) >= min_rows:
                pools[g] = members[g]
                continue
            radius, found = 0, members[g]
            while len(found) < min_rows and radius < self.n_groups:
                radius += 1
                lo, hi = max(0, g - radius), min(self.n_groups, g + radius + 1)
                found = np.concatenate(members[lo:hi])
            pools[g] = found
        return pools


def draw_seed_rows(groups, pools, rng):
    """A random seed row from its group's pool for every row to generate.

    Parameters
    ----------
    groups : ndarray of shape (m,)
        Group index of every row to generate.
    pools : dict of int to ndarray
        Group index -> candidate row indices (:meth:`ResamplingPlan.seed_pool`).
    rng : numpy.random.Generator

    Returns
    -------
    seeds : ndarray of shape (m,), dtype int64
        Indices into the rows the pools index.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.policy.plan import draw_seed_rows
    >>> seeds = draw_seed_rows(np.array([0, 0, 1]), {0: np.array([4, 5]), 1: np.array([9])},
    ...                        np.random.default_rng(0))
    >>> bool(set(seeds[:2]) <= {4, 5}), int(seeds[2])
    (True, 9)
    """
    groups = np.asarray(groups, dtype=np.int64)
    seeds = np.empty(groups.size, dtype=np.int64)
    for g in np.unique(groups):
        where = groups == g
        pool = pools.get(int(g))
        if pool is None or len(pool) == 0:
            raise ValueError(f"group {int(g)} has no rows to draw seeds from.")
        seeds[where] = np.asarray(pool)[rng.integers(0, len(pool), size=int(where.sum()))]
    return seeds


def _class_plan(y, sampling_strategy):
    """Plan for class labels with imbalanced-learn's sampling_strategy semantics."""
    from imblearn.utils import check_sampling_strategy

    classes, groups, counts = np.unique(y, return_inverse=True, return_counts=True)
    strategy = check_sampling_strategy(sampling_strategy, y, "over-sampling")
    index = {c: i for i, c in enumerate(classes.tolist())}
    n_new = OrderedDict(
        (index[c], int(n)) for c, n in strategy.items() if int(n) > 0
    )
    plan = ResamplingPlan(
        task="classification",
        groups=groups.astype(np.int64),
        group_values=classes,
        group_counts=counts.astype(np.int64),
        n_new=n_new,
    )
    return plan, strategy


def _regression_plan(y, sampling_strategy, edges, synthetic_target, lds_params):
    """Plan for a continuous target: DIR bins and rows per bin."""
    groups = assign_bins(y, edges)
    n_bins = len(edges) - 1
    counts = np.bincount(groups, minlength=n_bins)
    strategy = sampling_strategy
    if callable(strategy):
        strategy = strategy(y, edges)
    if isinstance(strategy, str):
        if strategy not in ("auto", "not majority", "all"):
            raise ValueError(
                f"Unknown sampling_strategy {strategy!r} for a continuous target; "
                "use 'auto', a float in (0, 1], a dict {bin index: rows} or a callable."
            )
        n_new = flat_allocation(smoothed_density(y, edges, **lds_params), counts)
    elif isinstance(strategy, numbers.Real) and not isinstance(strategy, bool):
        if not 0 < strategy <= 1:
            raise ValueError(
                f"A float sampling_strategy must lie in (0, 1], got {strategy!r}."
            )
        n_new = flat_allocation(
            smoothed_density(y, edges, **lds_params), counts, ratio=float(strategy)
        )
    elif isinstance(strategy, dict):
        n_new = np.zeros(n_bins, dtype=np.int64)
        for b, n in strategy.items():
            if not isinstance(b, numbers.Integral) or not 0 <= b < n_bins:
                raise ValueError(
                    f"sampling_strategy names bin {b!r}, which does not exist "
                    f"(bins are 0..{n_bins - 1})."
                )
            if not isinstance(n, numbers.Integral) or n < counts[b]:
                raise ValueError(
                    f"sampling_strategy asks for {n!r} rows in bin {b}, which already holds "
                    f"{counts[b]}: with over-sampling the number must be an integer at least "
                    "the current count."
                )
            if n > counts[b] and counts[b] == 0 and not np.any(counts[max(0, b - 1) : b + 2]):
                raise ValueError(
                    f"Bin {b} and its neighbours hold no rows: nothing to synthesise from."
                )
            n_new[b] = int(n - counts[b])
    else:
        raise ValueError(
            "sampling_strategy must be a str, a float, a dict or a callable, "
            f"got {type(sampling_strategy).__name__}."
        )
    centres = (edges[:-1] + edges[1:]) / 2.0
    n_new_dict = OrderedDict((int(b), int(n)) for b, n in enumerate(n_new) if n > 0)
    plan = ResamplingPlan(
        task="regression",
        groups=groups,
        group_values=centres,
        group_counts=counts.astype(np.int64),
        n_new=n_new_dict,
        bin_edges=edges,
        synthetic_target=synthetic_target,
    )
    return plan, OrderedDict(n_new_dict)


def make_plan(
    y,
    task,
    sampling_strategy="auto",
    n_bins=None,
    bin_width=None,
    synthetic_target="centre",
    lds_params=None,
):
    """Build the :class:`ResamplingPlan` for a validated target.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class labels or continuous targets.
    task : {"classification", "regression"}
        Kind of target.
    sampling_strategy : str, float, dict or callable, default="auto"
        For classes: imbalanced-learn's over-sampling semantics.  For a
        continuous target: ``"auto"`` flattens the LDS-smoothed density up to
        the fullest bin, a float in ``(0, 1]`` flattens up to that fraction of
        it, a dict maps bin index to the desired number of rows in that bin
        after resampling (as imbalanced-learn's class dicts do), a callable
        ``f(y, bin_edges)`` returns such a dict.
    n_bins, bin_width : int, float or None
        DIR binning (see :func:`bin_edges`); ``n_bins`` may also be an array
        of edges.
    synthetic_target : {"centre", "uniform"}
        Regression target of synthetic rows.
    lds_params : dict, default=None
        ``kernel``, ``ks``, ``sigma`` for the smoothed density.

    Returns
    -------
    plan : ResamplingPlan
    strategy : OrderedDict
        The resolved ``sampling_strategy_`` (class label or bin index ->
        rows to generate).
    """
    if task == "classification":
        return _class_plan(y, sampling_strategy)
    if n_bins is not None and not isinstance(n_bins, numbers.Integral):
        edges = _check_edges(n_bins)
        if bin_width is not None:
            raise ValueError("Give either bin edges in n_bins or bin_width, not both.")
    else:
        edges = bin_edges(y, n_bins=n_bins, width=bin_width)
    params = {"kernel": "gaussian", "ks": 5, "sigma": 2.0}
    params.update(lds_params or {})
    return _regression_plan(y, sampling_strategy, edges, synthetic_target, params)
