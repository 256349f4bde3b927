"""Continuous (DIR) targets: bins, label distribution smoothing, shot groups.

The public deep imbalanced regression (DIR) helpers of Yang et al. (2021);
:mod:`.plan` builds the resampling plan from them:

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

Nothing here touches torch.
"""

from __future__ import annotations

import numbers

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
    "assign_bins",
    "bin_edges",
    "capped_allocation",
    "flat_allocation",
    "largest_remainder",
    "lds_kernel_window",
    "neighbourhood_counts",
    "lds_weights",
    "priority_allocation",
    "priority_shares",
    "shot_groups",
    "smooth_counts",
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
    return smooth_counts(counts, kernel, ks, sigma)


def smooth_counts(counts, kernel="gaussian", ks=5, sigma=2.0):
    """Per-bin counts convolved with the LDS window (zero padding outside the range).

    Parameters
    ----------
    counts : array-like of shape (n_bins,)
    kernel, ks, sigma
        Kernel window (see :func:`lds_kernel_window`).

    Returns
    -------
    smoothed : ndarray of shape (n_bins,)

    Examples
    --------
    >>> from skltsynth.policy.targets import smooth_counts
    >>> smooth_counts([0.0, 4.0, 0.0], ks=3, sigma=1.0).round(2)
    array([2.9, 4. , 2.9])
    """
    window = lds_kernel_window(kernel, ks, sigma)
    return convolve1d(np.asarray(counts, dtype=np.float64), weights=window, mode="constant")


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
