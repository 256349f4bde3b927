"""How many synthetic rows each class or DIR bin receives (allocation rules).

Re-exported from :mod:`skltsynth.policy.targets`, which builds the resampling plan:

* :func:`largest_remainder` -- integer rows from real-valued shares;
* :func:`flat_allocation` -- flatten a (smoothed) density up to its peak;
* :func:`priority_allocation` / :func:`priority_shares` -- LatentDiff's
  priority mix of per-bin model error and rarity;
* :func:`neighbourhood_counts` and :func:`capped_allocation` -- the real rows
  around every bin, and an allocation that never exceeds a per-bin cap.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.ndimage import convolve1d

__all__ = [
    "capped_allocation",
    "flat_allocation",
    "largest_remainder",
    "neighbourhood_counts",
    "priority_allocation",
    "priority_shares",
]


def largest_remainder(shares, total):
    """Round non-negative shares to integers that sum to ``total``.

    Parameters
    ----------
    shares : array-like of shape (n,)
        Non-negative shares (need not be normalised).
    total : int
        The sum of the result.

    Returns
    -------
    counts : ndarray of shape (n,), dtype int64

    Examples
    --------
    >>> from skltsynth.policy.targets import largest_remainder
    >>> largest_remainder([1, 1, 1], 10).tolist()
    [4, 3, 3]
    """
    shares = np.asarray(shares, dtype=np.float64)
    total = int(total)
    if np.any(shares < 0) or not np.all(np.isfinite(shares)):
        raise ValueError("shares must be finite and non-negative.")
    if total <= 0 or shares.sum() <= 0:
        return np.zeros(len(shares), dtype=np.int64)
    exact = shares / shares.sum() * total
    counts = np.floor(exact).astype(np.int64)
    rest = total - counts.sum()
    if rest > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:rest]] += 1
    return counts


def flat_allocation(density, counts, ratio=1.0):
    """Rows per bin that flatten a (smoothed) density up to its fullest bin.

    ``density`` is rescaled to the total of ``counts`` so it is in rows; each
    bin that holds real rows receives ``round(ratio * max(density) -
    density_b)`` rows (never negative).  Empty bins receive none: synthesis
    needs real rows of, or near, the bin, and generating outside the observed
    range is never done by default.

    Parameters
    ----------
    density : array-like of shape (n_bins,)
        Smoothed density, e.g. :func:`smoothed_density`.
    counts : array-like of shape (n_bins,)
        Real rows per bin.
    ratio : float, default=1.0
        Fraction of the fullest bin to reach (``1.0`` = flat).

    Returns
    -------
    n_new : ndarray of shape (n_bins,), dtype int64

    Examples
    --------
    >>> from skltsynth.policy.targets import flat_allocation
    >>> flat_allocation([10, 4, 1], [10, 4, 1]).tolist()
    [0, 6, 9]
    """
    density = np.asarray(density, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    if density.shape != counts.shape:
        raise ValueError("density and counts must have the same shape.")
    if not 0 < ratio:
        raise ValueError(f"ratio must be positive, got {ratio!r}.")
    if density.sum() <= 0:
        return np.zeros(len(counts), dtype=np.int64)
    rows = density * (counts.sum() / density.sum())
    n_new = np.rint(ratio * rows.max() - rows)
    n_new[counts == 0] = 0
    return np.clip(n_new, 0, None).astype(np.int64)


def priority_allocation(counts, errors, total, lam=0.9):
    """LatentDiff priority allocation of ``total`` synthetic rows over bins.

    ``P_b`` is proportional to ``lam * e_b + (1 - lam) * (1 - n_b / max n)``
    with ``e_b`` the per-bin error normalised to ``[0, 1]``.  ``lam=0`` gives
    pure count-based (rarity) allocation.  Empty bins receive nothing.

    Parameters
    ----------
    counts : array-like of shape (n_bins,)
        Real rows per bin.
    errors : array-like of shape (n_bins,)
        Per-bin error of a quick model (any non-negative scale); NaN for bins
        without rows is allowed.
    total : int
        Number of rows to allocate.
    lam : float, default=0.9
        Weight of the error term, in ``[0, 1]``.

    Returns
    -------
    n_new : ndarray of shape (n_bins,), dtype int64
        Sums to ``total`` (when any bin has rows).

    Examples
    --------
    >>> from skltsynth.policy.targets import priority_allocation
    >>> priority_allocation([100, 10, 10], [0.1, 0.2, 0.9], 100, lam=0.5).tolist()
    [0, 35, 65]
    """
    return largest_remainder(priority_shares(counts, errors, lam), total)


def priority_shares(counts, errors, lam=0.9):
    """The (unnormalised) LatentDiff priority of every bin.

    See :func:`priority_allocation`, which rounds these shares to rows.

    Parameters
    ----------
    counts : array-like of shape (n_bins,)
        Real rows per bin.
    errors : array-like of shape (n_bins,)
        Per-bin error of a quick model; NaN for bins without rows is allowed.
    lam : float, default=0.9
        Weight of the error term, in ``[0, 1]``.

    Returns
    -------
    shares : ndarray of shape (n_bins,)
        Non-negative; zero for bins without rows.

    Examples
    --------
    >>> from skltsynth.policy.targets import priority_shares
    >>> priority_shares([100, 10, 10], [0.1, 0.2, 0.9], lam=0.5).round(3).tolist()
    [0.0, 0.512, 0.95]
    """
    counts = np.asarray(counts, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64)
    if counts.shape != errors.shape:
        raise ValueError("counts and errors must have the same shape.")
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must lie in [0, 1], got {lam!r}.")
    has_rows = counts > 0
    if not has_rows.any():
        return np.zeros(len(counts))
    e = np.where(has_rows & np.isfinite(errors), errors, 0.0)
    lo, hi = e[has_rows].min(), e[has_rows].max()
    e = (e - lo) / (hi - lo) if hi > lo else np.zeros_like(e)
    rarity = 1.0 - counts / counts.max()
    priority = np.where(has_rows, lam * e + (1.0 - lam) * rarity, 0.0)
    if priority.sum() <= 0:  # all bins equal: spread evenly over bins with rows
        priority = has_rows.astype(np.float64)
    return np.clip(priority, 0, None)


def neighbourhood_counts(counts, radius=1):
    """Real rows in every bin and its ``radius`` neighbours on each side.

    Parameters
    ----------
    counts : array-like of shape (n_bins,)
        Real rows per bin.
    radius : int, default=1
        Bins on each side to include.

    Returns
    -------
    support : ndarray of shape (n_bins,), dtype int64

    Examples
    --------
    >>> from skltsynth.policy.targets import neighbourhood_counts
    >>> neighbourhood_counts([5, 0, 1, 0, 0, 3]).tolist()
    [5, 6, 1, 1, 3, 3]
    """
    counts = np.asarray(counts, dtype=np.int64)
    if not isinstance(radius, numbers.Integral) or radius < 0:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}.")
    return convolve1d(counts, np.ones(2 * int(radius) + 1, dtype=np.int64), mode="constant")


def capped_allocation(shares, caps, total):
    """Spread ``total`` rows over bins in proportion to ``shares``, never above ``caps``.

    Rows a capped bin cannot take go to the other bins with room, in
    proportion to their shares (water filling); when every bin with a
    positive share is full, the result sums to less than ``total``.

    Parameters
    ----------
    shares : array-like of shape (n_bins,)
        Non-negative shares.
    caps : array-like of shape (n_bins,)
        Most rows each bin may receive (non-negative integers).
    total : int
        Rows to allocate.

    Returns
    -------
    n_new : ndarray of shape (n_bins,), dtype int64
        ``n_new <= caps``; sums to ``min(total, caps[shares > 0].sum())``.

    Examples
    --------
    >>> from skltsynth.policy.targets import capped_allocation
    >>> capped_allocation([1, 1, 8], [10, 10, 3], 12).tolist()
    [5, 4, 3]
    """
    shares = np.asarray(shares, dtype=np.float64)
    caps = np.asarray(caps, dtype=np.int64)
    if shares.shape != caps.shape:
        raise ValueError("shares and caps must have the same shape.")
    if np.any(caps < 0):
        raise ValueError("caps must be non-negative.")
    n_new = np.zeros(len(shares), dtype=np.int64)
    left = int(total)
    open_ = (shares > 0) & (caps > 0)
    while left > 0 and open_.any():
        add = np.minimum(largest_remainder(np.where(open_, shares, 0.0), left), caps - n_new)
        if add.sum() == 0:  # remainder rows all landed on full bins: give one to the largest
            add[np.flatnonzero(open_)[np.argmax(shares[open_])]] = 1
        n_new += add
        left -= int(add.sum())
        open_ &= n_new < caps
    return n_new
