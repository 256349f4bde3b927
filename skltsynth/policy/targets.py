"""Targets of both kinds: class labels and continuous (DIR) targets.

This module holds the policy that turns a target vector into a *resampling
plan*: which group (class, or DIR bin) every input row belongs to and how many
synthetic rows each group receives.  It also provides the public deep
imbalanced regression (DIR) helpers of Yang et al. (2021):

* :func:`bin_edges` -- fixed-width bins over the target range;
* :func:`assign_bins` -- the bin index of each target value;
* :func:`lds_weights` -- label distribution smoothing (LDS) sample weights,
  reproducing the reference implementation (including its reflect-mode
  gaussian window ``[.858 .946 1 .946 .858]`` for ``ks=5, sigma=2``);
* :func:`smoothed_density` -- the LDS-smoothed per-bin counts;
* :func:`shot_groups` -- many / medium / few shot group of evaluation rows;
* :func:`flat_allocation` and :func:`priority_allocation` -- how many rows to
  synthesise per bin (flatten the smoothed density, or LatentDiff's priority
  mix of model error and rarity);
* :func:`neighbourhood_counts` and :func:`capped_allocation` -- the real rows
  around every bin, and an allocation that never exceeds a per-bin cap (a
  bin is only asked for as many rows as its real rows can support).

Nothing here touches torch; the estimators call these functions and pass the
resulting :class:`ResamplingPlan` to their engine.
"""

from __future__ import annotations

import numbers
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import convolve1d, gaussian_filter1d
from scipy.signal.windows import triang

from .allocation import (
    capped_allocation,
    flat_allocation,
    largest_remainder,
    neighbourhood_counts,
    priority_allocation,
    priority_shares,
)

__all__ = [
    "ResamplingPlan",
    "assign_bins",
    "bin_edges",
    "capped_allocation",
    "draw_seed_rows",
    "flat_allocation",
    "largest_remainder",
    "lds_kernel_window",
    "neighbourhood_counts",
    "lds_weights",
    "priority_allocation",
    "priority_shares",
    "shot_groups",
    "smoothed_density",
]

_KERNELS = ("gaussian", "triang", "laplace")
_REWEIGHTS = ("sqrt_inv", "inverse", "none")
# Relative tolerance used when placing values on bin edges: 0.3 must fall in the
# bin [0.3, 0.4) even though 0.1 * 3 == 0.30000000000000004 in floating point.
_EDGE_TOL = 1e-9


def _as_1d_finite(y, name="y"):
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        y = np.ravel(y) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {np.shape(y)}.")
    if y.size == 0:
        raise ValueError(f"{name} is empty.")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return y


def bin_edges(y, n_bins=None, width=None):
    """Fixed-width bin edges over the range of a continuous target.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Continuous target values.
    n_bins : int, default=None
        Number of equal-width bins spanning ``[min(y), max(y)]``.
    width : float, default=None
        Bin width.  Edges are aligned to multiples of ``width`` (so
        ``width=0.1`` on scores in ``[0, 5]`` gives ``0, 0.1, ..., 5.1``, the
        DIR reference binning where ``5.0`` has a bin of its own).  Mutually
        exclusive with ``n_bins``.

    Returns
    -------
    edges : ndarray of shape (n_bins + 1,)
        Increasing bin edges.  With neither argument, the number of bins is
        numpy's ``"auto"`` histogram rule (max of Sturges and
        Freedman-Diaconis) clipped to ``[5, 100]``.

    Examples
    --------
    >>> from skltsynth.policy.targets import bin_edges
    >>> bin_edges([0.0, 0.4, 1.0], n_bins=2)
    array([0. , 0.5, 1. ])
    >>> bin_edges([0.0, 0.25, 0.5], width=0.25)
    array([0.  , 0.25, 0.5 , 0.75])
    """
    y = _as_1d_finite(y)
    if n_bins is not None and width is not None:
        raise ValueError("Give either n_bins or width, not both.")
    lo, hi = float(y.min()), float(y.max())
    if lo == hi:
        raise ValueError(
            "The continuous target has a single distinct value "
            f"({lo!r}); there is nothing to bin or rebalance."
        )
    if width is not None:
        if not isinstance(width, numbers.Real) or not width > 0:
            raise ValueError(f"width must be a positive number, got {width!r}.")
        start = np.floor(lo / width + _EDGE_TOL)
        stop = np.floor(hi / width + _EDGE_TOL) + 1
        return np.arange(start, stop + 1) * width
    if n_bins is None:
        n_bins = len(np.histogram_bin_edges(y, bins="auto")) - 1
        n_bins = int(np.clip(n_bins, 5, 100))
    if not isinstance(n_bins, numbers.Integral) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    return np.linspace(lo, hi, int(n_bins) + 1)


def _check_edges(bins, y=None):
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        if y is None:
            raise ValueError("An integer number of bins needs the target values.")
        return bin_edges(y, n_bins=int(bins))
    edges = np.asarray(bins, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2:
        raise ValueError("bins must be an integer or a 1-D sequence of at least two edges.")
    if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise ValueError("bin edges must be finite and strictly increasing.")
    return edges


def assign_bins(y, bins):
    """Bin index of every target value.

    Bins are closed on the left, ``[e_b, e_{b+1})``; values below the first
    edge go to bin 0 and values at or above the last edge to the last bin.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Target values.
    bins : int or array-like of shape (n_bins + 1,)
        Number of equal-width bins over the range of ``y``, or bin edges.

    Returns
    -------
    index : ndarray of shape (n_samples,), dtype int64
        Bin index in ``[0, n_bins - 1]``.

    Examples
    --------
    >>> from skltsynth.policy.targets import assign_bins
    >>> assign_bins([0.0, 0.3, 0.99, 1.0], [0.0, 0.5, 1.0])
    array([0, 0, 1, 1])
    """
    y = _as_1d_finite(y)
    edges = _check_edges(bins, y)
    scale = max(1.0, float(np.max(np.abs(edges))))
    idx = np.searchsorted(edges, y + _EDGE_TOL * scale, side="right") - 1
    return np.clip(idx, 0, len(edges) - 2).astype(np.int64)


def lds_kernel_window(kernel="gaussian", ks=5, sigma=2.0):
    """Symmetric LDS kernel window, normalised to a maximum of 1.

    Follows the reference code of Yang et al. (2021): the gaussian window is
    ``scipy.ndimage.gaussian_filter1d`` of a unit impulse in its default
    reflect mode, which gives ``[.858 .946 1 .946 .858]`` for ``ks=5,
    sigma=2``.

    Parameters
    ----------
    kernel : {"gaussian", "triang", "laplace"}, default="gaussian"
        Window shape.
    ks : int, default=5
        Window size (odd).
    sigma : float, default=2.0
        Width of the gaussian and laplace kernels.

    Returns
    -------
    window : ndarray of shape (ks,)

    Examples
    --------
    >>> from skltsynth.policy.targets import lds_kernel_window
    >>> lds_kernel_window().round(3)
    array([0.858, 0.946, 1.   , 0.946, 0.858])
    """
    if kernel not in _KERNELS:
        raise ValueError(f"Unknown LDS kernel {kernel!r}; choose one of {_KERNELS}.")
    if not isinstance(ks, numbers.Integral) or ks < 1 or ks % 2 == 0:
        raise ValueError(f"ks must be a positive odd integer, got {ks!r}.")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}.")
    half = (ks - 1) // 2
    if kernel == "gaussian":
        impulse = np.zeros(ks)
        impulse[half] = 1.0
        window = gaussian_filter1d(impulse, sigma=sigma)
    elif kernel == "triang":
        window = triang(ks)
    else:
        x = np.arange(-half, half + 1, dtype=np.float64)
        window = np.exp(-np.abs(x) / sigma) / (2.0 * sigma)
    return window / window.max()


def _bin_counts(y, edges):
    return np.bincount(assign_bins(y, edges), minlength=len(edges) - 1).astype(np.float64)


def smoothed_density(y, bins, kernel="gaussian", ks=5, sigma=2.0, reweight="none"):
    """LDS-smoothed count of every bin.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Continuous target values.
    bins : int or array-like
        Number of bins or bin edges (see :func:`assign_bins`).
    kernel, ks, sigma
        Kernel window (see :func:`lds_kernel_window`).
    reweight : {"none", "sqrt_inv", "inverse"}, default="none"
        Transform applied to the raw counts before smoothing: ``"sqrt_inv"``
        takes their square root, ``"inverse"`` clips them to ``[5, 1000]`` (as
        the reference code does), ``"none"`` keeps them.

    Returns
    -------
    density : ndarray of shape (n_bins,)
        Counts convolved with the window (zero padding outside the range).

    Examples
    --------
    >>> from skltsynth.policy.targets import smoothed_density
    >>> smoothed_density([0.1, 0.2, 0.9], [0.0, 0.5, 1.0], ks=1)
    array([2., 1.])
    """
    if reweight not in _REWEIGHTS:
        raise ValueError(f"Unknown reweight {reweight!r}; choose one of {_REWEIGHTS}.")
    y = _as_1d_finite(y)
    edges = _check_edges(bins, y)
    counts = _bin_counts(y, edges)
    if reweight == "sqrt_inv":
        counts = np.sqrt(counts)
    elif reweight == "inverse":
        counts = np.clip(counts, 5, 1000)
    window = lds_kernel_window(kernel, ks, sigma)
    return convolve1d(counts, weights=window, mode="constant")


def lds_weights(y, bins, kernel="gaussian", ks=5, sigma=2, reweight="sqrt_inv"):
    """Label distribution smoothing (LDS) sample weights.

    The weight of a row is the inverse of the smoothed count of its bin,
    rescaled to mean 1, exactly as in the reference code of "Delving into Deep
    Imbalanced Regression" (Yang et al., ICML 2021).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Continuous target values.
    bins : int or array-like
        Number of bins or bin edges (see :func:`assign_bins`).
    kernel : {"gaussian", "triang", "laplace"}, default="gaussian"
        LDS kernel.
    ks : int, default=5
        Kernel size.
    sigma : float, default=2
        Kernel width.
    reweight : {"sqrt_inv", "inverse", "none"}, default="sqrt_inv"
        ``"sqrt_inv"`` smooths square-rooted counts, ``"inverse"`` the counts
        clipped to ``[5, 1000]``; ``"none"`` returns all-ones weights.  (The
        reference code smooths the clipped counts of ``"inverse"`` as an
        integer array, which truncates them; skltsynth smooths in floating
        point.  ``"sqrt_inv"``, the published setting, matches exactly.)

    Returns
    -------
    weights : ndarray of shape (n_samples,)
        Positive weights with mean 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.policy.targets import lds_weights
    >>> y = np.r_[np.zeros(90) + 0.05, np.ones(10) * 0.95]
    >>> w = lds_weights(y, [0.0, 0.5, 1.0], ks=1)
    >>> bool(w[-1] > w[0]), round(float(w.mean()), 6)
    (True, 1.0)
    """
    y = _as_1d_finite(y)
    if reweight not in _REWEIGHTS:
        raise ValueError(f"Unknown reweight {reweight!r}; choose one of {_REWEIGHTS}.")
    if reweight == "none":
        return np.ones_like(y)
    edges = _check_edges(bins, y)
    density = smoothed_density(y, edges, kernel, ks, sigma, reweight)
    weights = 1.0 / density[assign_bins(y, edges)]
    return weights * (len(weights) / weights.sum())


def shot_groups(y_train, y_eval, bins, many=100, few=20):
    """Shot group of every evaluation row by its bin's training count.

    Parameters
    ----------
    y_train : array-like of shape (n_train,)
        Training targets (define the counts).
    y_eval : array-like of shape (n_eval,)
        Targets of the rows to label.
    bins : int or array-like
        Number of bins over ``y_train`` or bin edges.
    many : int, default=100
        A bin with more than ``many`` training rows is "many".
    few : int, default=20
        A bin with fewer than ``few`` training rows is "few"; otherwise
        "medium".

    Returns
    -------
    groups : ndarray of shape (n_eval,), dtype object
        ``"many"``, ``"medium"`` or ``"few"``.

    Examples
    --------
    >>> from skltsynth.policy.targets import shot_groups
    >>> shot_groups([0.1] * 150 + [0.6] * 5, [0.2, 0.7], [0.0, 0.5, 1.0]).tolist()
    ['many', 'few']
    """
    y_train = _as_1d_finite(y_train, "y_train")
    y_eval = _as_1d_finite(y_eval, "y_eval")
    if few > many:
        raise ValueError(f"few ({few}) must not exceed many ({many}).")
    edges = _check_edges(bins, y_train)
    counts = _bin_counts(y_train, edges)[assign_bins(y_eval, edges)]
    out = np.full(len(y_eval), "medium", dtype=object)
    out[counts > many] = "many"
    out[counts < few] = "few"
    return out


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
    >>> from skltsynth.policy.targets import draw_seed_rows
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
