"""Neighbour-span kernel: synthetic directions in the span of a seed's neighbours.

This module is a numpy/torch engine (no scikit-learn import).  For a seed
row ``x`` with nearest neighbours ``x_1 .. x_k`` in its own group (class or
DIR-bin seed pool), a draw is

    ``v = x + sum_j z_j (x_j - x)``,  ``z_j ~ N(0, scale^2 / k)``,

renormalised to the unit sphere (then, by the caller, to the seed's norm).
With ``interpolate=True`` the kernel is centred on a SMOTE point instead of
the seed: ``v = x + u (x_i - x) + sum_j z_j (x_j - x)`` with ``x_i`` one of
the ``k`` neighbours drawn uniformly and ``u ~ U(0, 1)`` -- the interpolated
row lies between two real rows (where a neighbour-based head looks for
them), the noise spreads it inside the span.
The noise is Gaussian inside the local affine span of the group's real rows,
with the covariance of the offsets to the neighbours: it spreads the group
along the directions in which its real rows actually differ, never along
the hundreds of directions in which none of them does.  Isotropic noise in
``d`` dimensions (a vMF kernel) is, for large ``d``, almost orthogonal to
every offset between real rows, so it moves each synthetic row away from all
unseen rows of its class; interpolation (SMOTE) stays on segments between
two rows.  The Gaussian weights let a draw leave the segment and the convex
hull a little while staying in the span.

* :func:`pool_neighbours` -- indices of the ``k`` nearest other rows of a
  pool by cosine, blocked on a torch device;
* :func:`span_draws` -- the draws for given seeds, vectorised over rows (a
  loop over the ``k`` neighbour slots only);
* :func:`pooled_span_rows` -- one interpolated span draw per requested row
  from its group's pool, at the seed's norm (the SDEdit start rows of the
  diffusion resamplers for classes).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["SPAN_NEIGHBORS", "SPAN_SCALE", "pool_neighbours", "pooled_span_rows", "span_draws",
           "unit_rows"]

#: Default neighbours ``k`` of the span kernel (capped at the pool size minus one).
SPAN_NEIGHBORS = 8
#: Default standard deviation of the total span weight ``sum_j z_j``.
SPAN_SCALE = 0.5

# Similarities (rows x pool) one block of the neighbour search may hold.
_BLOCK_ELEMENTS = 1 << 22


def unit_rows(X):
    """Rows scaled to unit L2 norm (all-zero rows stay zero), float64, and the norms.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines.neighbour_span import unit_rows
    >>> U, norms = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    >>> U.tolist(), norms.tolist()
    ([[0.6, 0.8], [0.0, 0.0]], [5.0, 0.0])
    """
    X = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(X, axis=1)
    return X / np.where(norms > 0, norms, 1.0)[:, None], norms


def pool_neighbours(U, k, *, device=None):
    """The ``k`` nearest other rows of every row of a pool, by cosine.

    Parameters
    ----------
    U : ndarray of shape (n, d)
        Unit rows of one pool (a class, or a DIR bin's seed pool).
    k : int
        Neighbours per row; capped at ``n - 1``.
    device : torch.device or str, default=None
        Device of the search (CPU when ``None``).

    Returns
    -------
    neighbours : ndarray of shape (n, min(k, n - 1)), int64
        Row indices into ``U``, nearest first (ties broken by index).  Empty
        (zero columns) for a pool of one row.  Memory is bounded: rows are
        compared with the pool in blocks of about 4M similarities.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines.neighbour_span import pool_neighbours
    >>> U = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    >>> pool_neighbours(U, 1).ravel().tolist()
    [1, 0, 1]
    """
    n = U.shape[0]
    k = int(min(k, n - 1))
    out = np.empty((n, max(k, 0)), dtype=np.int64)
    if k <= 0:
        return out
    pool = torch.from_numpy(np.ascontiguousarray(U, dtype=np.float64)).to(device or "cpu")
    step = max(1, _BLOCK_ELEMENTS // n)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        sim = pool[lo:hi] @ pool.T
        sim[torch.arange(hi - lo), torch.arange(lo, hi)] = -torch.inf  # not its own neighbour
        # Stable descending order: equal similarities keep index order (deterministic).
        order = torch.sort(sim, dim=1, descending=True, stable=True).indices[:, :k]
        out[lo:hi] = order.cpu().numpy()
    return out


def span_draws(U, seeds, neighbours, scale, rng, *, interpolate=False):
    """Unit draws ``x + sum_j z_j (x_j - x)`` around the given seed rows.

    Parameters
    ----------
    U : ndarray of shape (n, d)
        Unit rows of the pool.
    seeds : ndarray of int, shape (m,)
        Seed row (index into ``U``) of every draw.
    neighbours : ndarray of shape (n, k)
        From :func:`pool_neighbours` (``k >= 1``).
    scale : float
        Standard deviation of the total weight: ``z_j ~ N(0, scale^2 / k)``,
        so ``sum_j z_j`` has standard deviation ``scale`` whatever ``k``.
    rng : numpy.random.Generator
        Source of the weights (one ``(m, k)`` normal draw; with
        ``interpolate``, then one neighbour slot and one uniform per draw).
    interpolate : bool, default=False
        Centre each draw on ``x + u (x_i - x)``, ``x_i`` a random one of the
        seed's neighbours, ``u ~ U(0, 1)`` (SMOTE's point), instead of on ``x``.

    Returns
    -------
    draws : ndarray of shape (m, d), float64
        Unit rows (a draw that lands on the origin, possible only for
        degenerate pools, is replaced by its seed).

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines.neighbour_span import pool_neighbours, span_draws
    >>> U = np.eye(3)[:2]  # two rows: the span is the (e0, e1) plane
    >>> out = span_draws(U, np.zeros(4, dtype=int), pool_neighbours(U, 1), 0.5,
    ...                  np.random.default_rng(0))
    >>> bool(np.allclose(np.linalg.norm(out, axis=1), 1.0)), bool(np.all(out[:, 2] == 0))
    (True, True)
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    k = neighbours.shape[1]
    z = rng.standard_normal((seeds.size, k)) * (float(scale) / np.sqrt(k))
    base = U[seeds]
    nbr = neighbours[seeds]
    if interpolate:
        slot = np.minimum(np.floor(rng.random(seeds.size) * k).astype(np.int64), k - 1)
        u = rng.random(seeds.size)
        z[np.arange(seeds.size), slot] += u  # x + u (x_i - x) + sum_j z_j (x_j - x)
    draws = base * (1.0 - z.sum(axis=1))[:, None]
    for j in range(k):  # k slots, each vectorised over all draws
        draws += z[:, j, None] * U[nbr[:, j]]
    norms = np.linalg.norm(draws, axis=1, keepdims=True)
    flat = norms[:, 0] <= 1e-12
    if flat.any():
        draws[flat], norms[flat] = base[flat], 1.0
    return draws / norms


def pooled_span_rows(X, groups, pools, rng, *, k=SPAN_NEIGHBORS, scale=SPAN_SCALE,
                     device=None):
    """One interpolated span draw per requested row, from its group's pool.

    For each group, seeds are drawn uniformly from its pool and
    :func:`span_draws` (``interpolate=True``) moves each one to SMOTE's point
    towards a random one of its ``k`` nearest pool rows plus Gaussian noise in
    their span; the draw is rescaled to the seed's norm.  A pool of one row
    gives copies of that row.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Rows the pools index.
    groups : ndarray of int, shape (m,)
        Group of every row to make.
    pools : dict of int to ndarray
        Group -> row indices of ``X`` (e.g.
        :meth:`skltsynth.policy.plan.ResamplingPlan.seed_pool`).
    rng : numpy.random.Generator
    k : int, default=SPAN_NEIGHBORS
    scale : float, default=SPAN_SCALE
    device : torch.device or str, default=None
        Device of the neighbour search.

    Returns
    -------
    rows : ndarray of shape (m, d), float64

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines.neighbour_span import pooled_span_rows
    >>> X = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    >>> rows = pooled_span_rows(X, np.array([0, 0, 1]), {0: np.array([0, 1]), 1: np.array([2])},
    ...                         np.random.default_rng(0))
    >>> bool(np.all(rows[:2, 2] == 0)), rows[2].tolist()
    (True, [0.0, 0.0, 1.0])
    """
    groups = np.asarray(groups, dtype=np.int64)
    out = np.empty((groups.size, np.shape(X)[1]), dtype=np.float64)
    for g in np.unique(groups):
        where = np.flatnonzero(groups == g)
        pool = np.asarray(pools[int(g)], dtype=np.int64)
        pick = np.minimum(np.floor(rng.random(where.size) * pool.size).astype(np.int64),
                          pool.size - 1)
        if pool.size < 2:
            out[where] = X[pool[pick]]
            continue
        U, norms = unit_rows(X[pool])
        draws = span_draws(U, pick, pool_neighbours(U, k, device=device), scale, rng,
                           interpolate=True)
        out[where] = draws * norms[pick][:, None]
    return out
