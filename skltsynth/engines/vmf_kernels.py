"""Concentrations of the vMF kernels of vMF-KDE: one per row, from its nearest neighbours.

This module is a numpy/torch engine (no scikit-learn import), used by
:class:`~skltsynth.VMFKDEResampler` in memory and on a Dask cluster.

* :func:`local_kappa` -- every row's concentration from the cosine to its
  nearest neighbour(s) of the same group, with the median fallbacks for rows
  alone in their group;
* :func:`neighbour_kappa` -- the same for the rows of one group or pool (what
  a worker holding one class computes);
* :func:`fallback_rows`, :func:`global_fallback_kappa` -- the global fallback
  on a bounded random subsample.
"""

from __future__ import annotations

import numpy as np

from .._random import random_subset
from .vmf import kappa_from_cosine, nearest_neighbor_cosine

__all__ = ["FALLBACK_ROWS", "fallback_rows", "global_fallback_kappa", "local_kappa",
           "neighbour_kappa"]

#: Most rows used by the global fallback of :func:`local_kappa` (a random subsample).
FALLBACK_ROWS = 2048
def _group_median(values, groups):
    """Median of ``values`` within each group, returned per row (vectorised)."""
    order = np.lexsort((values, groups))
    g_sorted, v_sorted = groups[order], values[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    counts = np.diff(np.r_[starts, g_sorted.size])
    median = 0.5 * (v_sorted[starts + (counts - 1) // 2] + v_sorted[starts + counts // 2])
    out = np.empty_like(values)
    out[order] = np.repeat(median, counts)
    return out


def local_kappa(X, groups, *, kappa="moment", bandwidth=1.0, kappa_max=1e5, rows=None,
                n_neighbors=1, kappa_min=None, device=None, random_state=None):
    """Per-row vMF concentration from the nearest neighbour(s) of the same group.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows (their directions are used).
    groups : ndarray of int, shape (n_samples,)
        Group (class or bin) of every row.
    kappa : {"moment", "banerjee"} or float, default="moment"
        How a nearest-neighbour cosine becomes a concentration (see
        :func:`skltsynth.engines.vmf.kappa_from_cosine`), or one fixed value for every
        row.
    bandwidth : float, default=1.0
        The concentration is divided by it (larger = wider kernels).
    kappa_max : float, default=1e5
        Upper cap applied after the division.
    kappa_min : "group_median", float or None, default=None
        Lower bound applied after the division (so a bound on the kernel
        width): ``"group_median"`` raises every value below the median of its
        group's values (over the requested rows of the group that have a
        neighbour) to that median; a float is a fixed bound (``kappa_max``
        wins if it is lower); ``None`` applies none.
    rows : ndarray of int, default=None
        Only these rows need a value (others are NaN); default all.
    n_neighbors : int, default=1
        The cosine of row ``i`` is the mean cosine to its ``n_neighbors``
        nearest rows of the same group (fewer when the group is smaller).
    device : torch.device or str, default=None
        Device for the neighbour search.
    random_state : int, Generator or None, default=None
        Seed of the row subsample of the global fallback (below); used only
        when that fallback is needed and the data set has more than
        ``FALLBACK_ROWS`` (2,048) rows, so the result is deterministic
        otherwise.

    Returns
    -------
    kappa : ndarray of shape (n_samples,), float64
        Concentration of each requested row (after ``bandwidth``,
        ``kappa_min`` and ``kappa_max``).  A row alone in its group takes the
        median of the final values of the requested rows that have a
        neighbour.  If none has one
        (e.g. the only requested group is a single row), it takes the global
        fallback: the median over the rows of the data set, each against its
        nearest neighbour in any group.  Above 2,048 rows this runs on a
        uniform random subsample of 2,048 rows (drawn with ``random_state``;
        neighbours searched within the subsample), so the fallback costs at
        most ``2048^2 d`` operations whatever ``n``.  A subsample is sparser
        than the full data, so its neighbours are farther and the fallback
        kernel is somewhat wider: the concentration of a data set of 2,048
        rows, a closer match for a one-row group than the nearest-neighbour
        distance at the density of ``n`` rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines.vmf_kernels import local_kappa
    >>> X = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0]])
    >>> local_kappa(X, np.array([0, 0, 1])).round(1)
    array([5.2, 5.2, 5.2])
    >>> X = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])  # row 2 is isolated
    >>> local_kappa(X, np.zeros(3, dtype=int)).round(2)
    array([3.02, 3.02, 1.54])
    >>> local_kappa(X, np.zeros(3, dtype=int), kappa_min="group_median").round(2)
    array([3.02, 3.02, 3.02])
    """
    n = X.shape[0]
    rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    out = np.full(n, np.nan)
    values = neighbour_kappa(X[rows], groups[rows], kappa=kappa, bandwidth=bandwidth,
                             kappa_max=kappa_max, n_neighbors=n_neighbors,
                             kappa_min=kappa_min, device=device)
    has = ~np.isnan(values)
    if not has.all():
        if has.any():
            values[~has] = np.median(values[has])
        else:
            sub = fallback_rows(n, random_state)
            values[:] = global_fallback_kappa(X[sub], kappa=kappa, bandwidth=bandwidth,
                                              kappa_max=kappa_max, n_neighbors=n_neighbors,
                                              kappa_min=kappa_min, device=device)
    out[rows] = values
    return out


def _kappa_bounds(kappa_min, kappa_max):
    """``(floor, group_floor)``: the fixed lower bound and whether the group-median one applies."""
    group_floor = isinstance(kappa_min, str)
    if group_floor and kappa_min != "group_median":
        raise ValueError(f"kappa_min must be 'group_median', a float or None; got {kappa_min!r}.")
    return (0.0 if kappa_min is None or group_floor else float(kappa_min)), group_floor


def _finish(raw, bandwidth, floor, kappa_max):
    raw = np.maximum(np.asarray(raw, dtype=np.float64) / float(bandwidth), floor)
    return np.minimum(raw, float(kappa_max))


def neighbour_kappa(X, groups, *, kappa="moment", bandwidth=1.0, kappa_max=1e5, n_neighbors=1,
                    kappa_min=None, device=None):
    """Concentration of every row from its own group alone; NaN for a row alone in it.

    The part of :func:`local_kappa` that needs only the rows of one group
    (so a worker holding one class can compute it); :func:`local_kappa` then
    fills the NaN with a fallback.  Parameters as in :func:`local_kappa`.

    Returns
    -------
    kappa : ndarray of shape (n_samples,), float64

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines.vmf_kernels import neighbour_kappa
    >>> X = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0]])
    >>> neighbour_kappa(X, np.array([0, 0, 1])).round(1)
    array([5.2, 5.2, nan])
    """
    floor, group_floor = _kappa_bounds(kappa_min, kappa_max)
    if not isinstance(kappa, str):
        return np.full(X.shape[0], _finish(float(kappa), bandwidth, floor, kappa_max))
    cos = nearest_neighbor_cosine(X, groups, n_neighbors=n_neighbors, device=device)
    values = np.full(X.shape[0], np.nan)
    has = ~np.isnan(cos)
    values[has] = _finish(kappa_from_cosine(cos[has], X.shape[1], method=kappa), bandwidth,
                          floor, kappa_max)
    if group_floor and has.any():  # no kernel wider than its group's median kernel
        values[has] = np.maximum(values[has], _group_median(values[has], groups[has]))
    return values


def fallback_rows(n, random_state=None):
    """Sorted rows of the global fallback: all ``n``, or ``FALLBACK_ROWS`` drawn uniformly.

    Parameters
    ----------
    n : int
        Rows in the data set.
    random_state : int, Generator or None, default=None
        Used only when ``n > FALLBACK_ROWS``.

    Returns
    -------
    rows : ndarray of int64
    """
    return random_subset(random_state, n, FALLBACK_ROWS)


def global_fallback_kappa(X_sub, *, kappa="moment", bandwidth=1.0, kappa_max=1e5,
                          n_neighbors=1, kappa_min=None, device=None):
    """Median concentration of ``X_sub``, each row against its nearest row in any group.

    ``X_sub`` is the data set or its :func:`fallback_rows` subsample;
    parameters as in :func:`local_kappa`.

    Returns
    -------
    kappa : float
    """
    floor, _ = _kappa_bounds(kappa_min, kappa_max)
    cos_all = nearest_neighbor_cosine(X_sub, np.zeros(X_sub.shape[0], dtype=np.int64),
                                      n_neighbors=n_neighbors, device=device)
    return float(np.median(_finish(kappa_from_cosine(cos_all, X_sub.shape[1], method=kappa),
                                   bandwidth, floor, kappa_max)))
