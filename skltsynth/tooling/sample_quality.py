"""Quality of synthetic rows against the real rows they imitate.

* :func:`mmd_rbf` -- unbiased squared maximum mean discrepancy, RBF kernel;
* :func:`knn_precision_recall` -- manifold precision / recall
  (Kynkaanniemi et al., 2019);
* :func:`density` and :func:`coverage` -- Naeem et al. (2020);
* :func:`diversity` -- mean pairwise distance;
* :func:`nearest_real_distance` -- distance of each synthetic row to its
  closest real row (copies have distance 0);
* :func:`synthetic_quality_report` -- all of these per class (or DIR bin)
  and averaged per shot group.

All distances are Euclidean (on L2-normalised embeddings they are a monotone
function of the cosine).  Pairwise work is chunked so memory stays bounded
(about ``chunk_bytes`` per block).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.neighbors import NearestNeighbors

from .._defaults import shot_thresholds
from .shot_groups import SHOT_GROUPS, _regression_groups, classification_shot_groups

__all__ = [
    "coverage",
    "density",
    "diversity",
    "knn_precision_recall",
    "mmd_rbf",
    "nearest_real_distance",
    "synthetic_quality_report",
]

_CHUNK_BYTES = 64 * 2**20


def _as_2d(X, name):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got an array of shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return X


def _row_chunks(n_rows, n_cols, chunk_bytes=_CHUNK_BYTES):
    step = max(1, int(chunk_bytes // (8 * max(1, n_cols))))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _median_gamma(X, Y, max_rows=1000):
    """RBF gamma = 1 / (2 median^2) of pairwise distances of the pooled rows."""
    Z = np.concatenate([X, Y])
    if len(Z) > max_rows:  # evenly spaced deterministic subsample
        Z = Z[np.linspace(0, len(Z) - 1, max_rows).astype(np.int64)]
    D = euclidean_distances(Z, squared=True)
    d2 = D[np.triu_indices_from(D, k=1)]
    med = np.median(d2[d2 > 0]) if np.any(d2 > 0) else 1.0
    return 1.0 / (2.0 * med)  # med is a squared distance: exp(-d^2 / (2 sigma^2))


def _kernel_sum(A, B, gamma, exclude_diagonal=False):
    total = 0.0
    for rows in _row_chunks(len(A), len(B)):
        K = rbf_kernel(A[rows], B, gamma=gamma)
        total += K.sum()
    if exclude_diagonal:
        total -= len(A)  # k(x, x) = 1 for the RBF kernel
    return total


def mmd_rbf(X, Y, gamma=None):
    """Unbiased squared maximum mean discrepancy with an RBF kernel.

    ``MMD^2_u = mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j)
    - 2 mean_{i, j} k(x_i, y_j)`` with ``k(a, b) = exp(-gamma ||a - b||^2)``
    (Gretton et al., 2012).  Unbiased, so it can be slightly negative when
    the two samples come from the same distribution.

    Parameters
    ----------
    X : array-like of shape (n, d)
        First sample (e.g. real rows), ``n >= 2``.
    Y : array-like of shape (m, d)
        Second sample (e.g. synthetic rows), ``m >= 2``.
    gamma : float, default=None
        Kernel width.  ``None``: median heuristic, ``1 / (2 median^2)`` of
        the pairwise distances of the pooled sample (subsampled to 1000 rows).

    Returns
    -------
    mmd2 : float

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.tooling.metrics import mmd_rbf
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(200, 5)), rng.normal(size=(200, 5))
    >>> abs(mmd_rbf(a, b)) < 0.02, mmd_rbf(a, b + 2) > 0.1
    (True, True)
    """
    X = _as_2d(X, "X")
    Y = _as_2d(Y, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y have different widths: {X.shape[1]} and {Y.shape[1]}.")
    n, m = len(X), len(Y)
    if n < 2 or m < 2:
        raise ValueError(f"mmd_rbf needs at least 2 rows in each sample, got {n} and {m}.")
    if gamma is None:
        gamma = _median_gamma(X, Y)
    elif not gamma > 0:
        raise ValueError(f"gamma must be positive, got {gamma!r}.")
    kxx = _kernel_sum(X, X, gamma, exclude_diagonal=True) / (n * (n - 1))
    kyy = _kernel_sum(Y, Y, gamma, exclude_diagonal=True) / (m * (m - 1))
    kxy = _kernel_sum(X, Y, gamma) / (n * m)
    return float(kxx + kyy - 2.0 * kxy)


def _knn_radii(X, k):
    """Distance of every row to its k-th nearest other row."""
    if len(X) < 2:
        raise ValueError("k-NN radii need at least 2 rows.")
    k = min(int(k), len(X) - 1)
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return dist[:, -1]


def _ball_hits(points, centres, radii):
    """For each point: number of balls ``B(centres_i, radii_i)`` that contain it."""
    hits = np.zeros(len(points), dtype=np.int64)
    r2 = radii**2
    for rows in _row_chunks(len(points), len(centres)):
        D = euclidean_distances(points[rows], centres, squared=True)
        hits[rows] = (D <= r2[None, :]).sum(axis=1)
    return hits


def _check_k(k):
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")


def knn_precision_recall(real, synthetic, k=5):
    """Manifold precision and recall (Kynkaanniemi et al., 2019).

    The real manifold is the union of balls around real rows with radius the
    distance to their k-th nearest real neighbour; precision is the fraction
    of synthetic rows inside it.  Recall swaps the roles: the fraction of
    real rows inside the synthetic manifold.

    Parameters
    ----------
    real : array-like of shape (n, d)
        Real rows (``n >= 2``).
    synthetic : array-like of shape (m, d)
        Synthetic rows (``m >= 2``).
    k : int, default=5
        Neighbourhood size (capped at the sample size minus one).

    Returns
    -------
    precision : float
    recall : float

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.tooling.metrics import knn_precision_recall
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(300, 3))
    >>> p, r = knn_precision_recall(real, real[:150] * 0.2)
    >>> p > 0.9, r < 0.6
    (True, True)
    """
    _check_k(k)
    real = _as_2d(real, "real")
    synthetic = _as_2d(synthetic, "synthetic")
    precision = np.mean(_ball_hits(synthetic, real, _knn_radii(real, k)) > 0)
    recall = np.mean(_ball_hits(real, synthetic, _knn_radii(synthetic, k)) > 0)
    return float(precision), float(recall)


def density(real, synthetic, k=5):
    """Density of synthetic rows on the real manifold (Naeem et al., 2020).

    ``(1 / (k m)) sum_j #{i : synthetic_j in B(real_i, r_i)}`` with ``r_i``
    the k-NN radius of real row ``i``; about 1 when the two samples match,
    above 1 when synthetic rows crowd dense real regions.

    Parameters
    ----------
    real : array-like of shape (n, d)
    synthetic : array-like of shape (m, d)
    k : int, default=5

    Returns
    -------
    density : float

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.tooling.metrics import density
    >>> rng = np.random.default_rng(0)
    >>> 0.6 < density(rng.normal(size=(400, 2)), rng.normal(size=(400, 2))) < 1.4
    True
    """
    _check_k(k)
    real = _as_2d(real, "real")
    synthetic = _as_2d(synthetic, "synthetic")
    k_eff = min(int(k), len(real) - 1)
    hits = _ball_hits(synthetic, real, _knn_radii(real, k))
    return float(hits.sum() / (k_eff * len(synthetic)))


def coverage(real, synthetic, k=5):
    """Coverage of the real rows by synthetic ones (Naeem et al., 2020).

    Fraction of real rows whose k-NN ball (radius: distance to the k-th
    nearest real neighbour) holds at least one synthetic row.

    Parameters
    ----------
    real : array-like of shape (n, d)
    synthetic : array-like of shape (m, d)
    k : int, default=5

    Returns
    -------
    coverage : float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.tooling.metrics import coverage
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(200, 2))
    >>> coverage(real, real + 1e-3) == 1.0, coverage(real, real[:5]) < 0.3
    (True, True)
    """
    _check_k(k)
    real = _as_2d(real, "real")
    synthetic = _as_2d(synthetic, "synthetic")
    radii = _knn_radii(real, k)
    nearest = nearest_real_distance(synthetic, real)  # real row -> nearest synthetic
    return float(np.mean(nearest <= radii))


def diversity(X):
    """Mean pairwise Euclidean distance between distinct rows.

    Exact (chunked, O(n^2 d) time, bounded memory).

    Parameters
    ----------
    X : array-like of shape (n, d)
        Rows (``n >= 2``).

    Returns
    -------
    diversity : float

    Examples
    --------
    >>> from skltsynth.tooling.metrics import diversity
    >>> diversity([[0.0, 0.0], [3.0, 4.0]])
    5.0
    """
    X = _as_2d(X, "X")
    n = len(X)
    if n < 2:
        raise ValueError(f"diversity needs at least 2 rows, got {n}.")
    total = 0.0
    for rows in _row_chunks(n, n):
        total += euclidean_distances(X[rows], X).sum()
    return float(total / (n * (n - 1)))


def nearest_real_distance(real, synthetic):
    """Distance from every synthetic row to its nearest real row.

    A distance of 0 means an exact copy of a real row (as random
    over-sampling produces); compare with the real rows' own
    nearest-neighbour distances to judge how close is too close.

    Parameters
    ----------
    real : array-like of shape (n, d)
    synthetic : array-like of shape (m, d)

    Returns
    -------
    distance : ndarray of shape (m,)

    Examples
    --------
    >>> from skltsynth.tooling.metrics import nearest_real_distance
    >>> nearest_real_distance([[0.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [1.0, 2.0]]).tolist()
    [0.0, 2.0]
    """
    real = _as_2d(real, "real")
    synthetic = _as_2d(synthetic, "synthetic")
    dist, _ = NearestNeighbors(n_neighbors=1).fit(real).kneighbors(synthetic)
    return dist[:, 0]


def _group_quality(real, syn, k, gamma):
    row = {"n_real": len(real), "n_synthetic": len(syn)}
    nan = float("nan")
    ok = len(real) >= 2 and len(syn) >= 2
    row["mmd2"] = mmd_rbf(real, syn, gamma) if ok else nan
    if ok:
        row["precision"], row["recall"] = knn_precision_recall(real, syn, k)
        row["density"] = density(real, syn, k)
        row["coverage"] = coverage(real, syn, k)
    else:
        row.update(precision=nan, recall=nan, density=nan, coverage=nan)
    row["diversity_real"] = diversity(real) if len(real) >= 2 else nan
    row["diversity_synthetic"] = diversity(syn) if len(syn) >= 2 else nan
    if len(syn):
        d_syn = nearest_real_distance(real, syn)
        row["nearest_real_median"] = float(np.median(d_syn))
        if len(real) >= 2:
            ref = float(np.median(_knn_radii(real, 1)))
            row["nearest_real_ratio"] = row["nearest_real_median"] / ref if ref > 0 else nan
            row["copy_fraction"] = float(np.mean(d_syn <= 1e-3 * ref))
        else:
            row["nearest_real_ratio"] = nan
            row["copy_fraction"] = float(np.mean(d_syn == 0))
    else:
        row.update(nearest_real_median=nan, nearest_real_ratio=nan, copy_fraction=nan)
    return row


def synthetic_quality_report(
    X_real,
    y_real,
    X_syn,
    y_syn,
    *,
    k=5,
    gamma=None,
    bins=None,
    many=None,
    few=None,
):
    """Quality of synthetic rows, per class (or DIR bin) and per shot group.

    Every class (or target bin) that received synthetic rows is compared
    with the real rows of the same class or bin: MMD^2 (RBF, median
    heuristic per group unless ``gamma`` is given), manifold precision /
    recall, density / coverage, diversity of real and synthetic rows, the
    median distance of synthetic rows to their nearest real row
    (``nearest_real_median``), that median divided by the median
    nearest-neighbour distance among real rows (``nearest_real_ratio``; near
    0 means near-copies) and the fraction of near-exact copies
    (``copy_fraction``: distance below 1e-3 of that real spacing).

    Parameters
    ----------
    X_real, y_real : array-like
        Real rows and their class labels or continuous targets.
    X_syn, y_syn : array-like
        Synthetic rows and their targets.
    k : int, default=5
        Neighbourhood size of the k-NN metrics.
    gamma : float, default=None
        RBF width for MMD (default: median heuristic).
    bins : int or array-like, default=None
        Give DIR bins (count or edges) for a continuous target; ``None`` means
        class labels.
    many, few : int, default=None
        Shot-group thresholds: ``50`` / ``15`` for classes (many ``>=``),
        ``100`` / ``20`` for bins (many ``>``).

    Returns
    -------
    report : dict
        ``"per_group"``: :class:`pandas.DataFrame` with one row per class or
        bin that has synthetic rows (column ``group`` = label or bin index,
        ``shot`` = many / medium / few and the metrics above);
        ``"per_shot"``: the mean of the metric columns per shot group (and
        ``"all"``).

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.tooling.metrics import synthetic_quality_report
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(80, 4)), np.repeat([0, 1], [60, 20])
    >>> Xs, ys = X[60:] + 0.05 * rng.normal(size=(20, 4)), np.ones(20, int)
    >>> rep = synthetic_quality_report(X, y, Xs, ys)
    >>> rep["per_group"]["shot"].tolist()
    ['medium']
    """
    import pandas as pd

    X_real = _as_2d(X_real, "X_real")
    X_syn = _as_2d(X_syn, "X_syn")
    y_real = np.asarray(y_real)
    y_syn = np.asarray(y_syn)
    if len(X_real) != len(y_real) or len(X_syn) != len(y_syn):
        raise ValueError("X and y must have the same number of rows (real and synthetic).")
    if X_real.shape[1] != X_syn.shape[1]:
        raise ValueError(
            f"Real and synthetic rows have different widths: {X_real.shape[1]} and "
            f"{X_syn.shape[1]}."
        )
    if bins is None:
        many, few = shot_thresholds("classification", many, few)
        g_real, g_syn = y_real, y_syn
        shots = classification_shot_groups(y_real, np.unique(y_syn), many, few)
        keys = np.unique(y_syn)
    else:
        from ..policy.targets import _check_edges, assign_bins

        many, few = shot_thresholds("regression", many, few)
        edges = _check_edges(bins, y_real)
        g_real, g_syn = assign_bins(y_real, edges), assign_bins(y_syn, edges)
        keys = np.unique(g_syn)
        centres = (edges[:-1] + edges[1:]) / 2
        shots = _regression_groups(y_real, centres[keys], edges, many, few)
    rows = []
    for key, shot in zip(keys, shots):
        row = {"group": key.item() if hasattr(key, "item") else key, "shot": shot}
        row.update(_group_quality(X_real[g_real == key], X_syn[g_syn == key], k, gamma))
        rows.append(row)
    per_group = pd.DataFrame(rows)
    if per_group.empty:
        return {"per_group": per_group, "per_shot": pd.DataFrame()}
    metric_cols = [c for c in per_group.columns if c not in ("group", "shot")]
    per_shot = per_group.groupby("shot")[metric_cols].mean()
    per_shot.loc["all"] = per_group[metric_cols].mean()
    order = [s for s in (*SHOT_GROUPS, "all") if s in per_shot.index]
    return {"per_group": per_group, "per_shot": per_shot.loc[order]}
