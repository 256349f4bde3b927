"""The long-tailed subsampling protocol used by the benchmarks."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["long_tailed_counts", "make_long_tailed"]


def long_tailed_counts(n_classes, n_max=100, imbalance_ratio=20):
    """Training rows kept per class rank under an exponential profile.

    The class at rank ``i`` keeps ``round(n_max * imbalance_ratio ** (-i / (C - 1)))``
    rows, so rank 0 keeps ``n_max`` and the last rank ``n_max / imbalance_ratio``
    (rounded half to even, as Python's :func:`round`).

    Parameters
    ----------
    n_classes : int
        Number of classes ``C`` (at least 2).
    n_max : int, default=100
        Rows of the largest class.
    imbalance_ratio : float, default=20
        Ratio of the largest to the smallest class (at least 1).

    Returns
    -------
    counts : ndarray of shape (n_classes,), dtype int64
        Rows per rank, non-increasing.

    Examples
    --------
    >>> from skltsynth.datasets import long_tailed_counts
    >>> long_tailed_counts(5, n_max=100, imbalance_ratio=16).tolist()
    [100, 50, 25, 12, 6]
    """
    if not isinstance(n_classes, numbers.Integral) or n_classes < 2:
        raise ValueError(f"A long-tailed profile needs at least 2 classes, got {n_classes!r}.")
    if not isinstance(n_max, numbers.Integral) or isinstance(n_max, bool) or n_max < 1:
        raise ValueError(f"n_max must be a positive integer, got {n_max!r}.")
    if not isinstance(imbalance_ratio, numbers.Real) or not imbalance_ratio >= 1:
        raise ValueError(f"imbalance_ratio must be a number >= 1, got {imbalance_ratio!r}.")
    ranks = np.arange(n_classes)
    exact = n_max * float(imbalance_ratio) ** (-ranks / (n_classes - 1))
    counts = np.array([round(float(v)) for v in exact], dtype=np.int64)
    return np.maximum(counts, 1)


def make_long_tailed(
    X,
    y,
    n_max=100,
    imbalance_ratio=20,
    random_state=0,
    *,
    normalize=False,
    return_index=False,
):
    """Subsample a (balanced) training set into a long-tailed one.

    Implements the benchmark protocol of the shared datasets README exactly:

    1. ``rng = numpy.random.default_rng(random_state)``;
    2. ``order = rng.permutation(classes)`` where ``classes`` are the sorted
       distinct labels of ``y`` -- ``order[i]`` is the class at rank ``i``;
    3. for ``i = 0, 1, ..., C - 1`` in that order, the class at rank ``i``
       keeps ``round(n_max * imbalance_ratio ** (-i / (C - 1)))`` rows (see
       :func:`long_tailed_counts`), drawn with
       ``rng.choice(rows_of_class, size=n_i, replace=False)`` on the same
       generator, ``rows_of_class`` being the class's row indices in
       increasing order.

    The kept rows are returned **in their original order** (the drawn indices
    are sorted), so the output is a plain row subset of the input.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features (e.g. embeddings).
    y : array-like of shape (n_samples,)
        Class labels.
    n_max : int, default=100
        Rows kept for the class at rank 0; it must not exceed the size of the
        smallest class (every class must be able to supply its quota).
    imbalance_ratio : float, default=20
        Ratio between the largest and the smallest kept class.
    random_state : int, numpy.random.Generator or None, default=0
        Seed passed to :func:`numpy.random.default_rng`.
    normalize : bool, default=False
        L2-normalise the returned rows.  The README protocol works on
        normalised embeddings; the loaders (:func:`load_clinc150`) already
        normalise by default, so the default here leaves ``X`` as given.
    return_index : bool, default=False
        Also return the indices of the kept rows in ``X``.

    Returns
    -------
    X_lt : ndarray of shape (n_kept, n_features)
        Kept rows, same dtype as ``X``.
    y_lt : ndarray of shape (n_kept,)
        Their labels.
    index : ndarray of shape (n_kept,), dtype int64
        Only with ``return_index=True``: increasing row indices into ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.datasets import make_long_tailed
    >>> X = np.arange(40, dtype=float).reshape(20, 2)
    >>> y = np.repeat([0, 1, 2, 3], 5)
    >>> X_lt, y_lt = make_long_tailed(X, y, n_max=5, imbalance_ratio=5)
    >>> sorted(np.bincount(y_lt).tolist())
    [1, 2, 3, 5]
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got an array of shape {y.shape}.")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got an array of shape {X.shape}.")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y have different numbers of rows: {X.shape[0]} and {y.shape[0]}."
        )
    classes, inverse, class_sizes = np.unique(y, return_inverse=True, return_counts=True)
    counts = long_tailed_counts(len(classes), n_max, imbalance_ratio)
    if n_max > class_sizes.min():
        small = classes[np.argmin(class_sizes)]
        raise ValueError(
            f"n_max={n_max} is larger than the smallest class (class {small!r} has "
            f"{class_sizes.min()} rows); every class must be able to supply n_max rows, "
            "since any class may be drawn to rank 0."
        )
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(classes))  # same draws as rng.permutation(classes)
    by_class = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(class_sizes)])
    kept = []
    for rank, c in enumerate(order):
        rows = by_class[starts[c] : starts[c + 1]]
        kept.append(rng.choice(rows, size=int(counts[rank]), replace=False))
    index = np.sort(np.concatenate(kept)).astype(np.int64)
    X_lt = X[index]
    if normalize:
        X_lt = _l2_normalize(X_lt)
    if return_index:
        return X_lt, y[index], index
    return X_lt, y[index]


def _l2_normalize(X):
    """Row-wise L2 normalisation in the array's own float dtype (zero rows kept)."""
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.floating) or X.dtype == np.float16:
        X = X.astype(np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1).astype(X.dtype)
