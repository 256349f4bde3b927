"""Quality gate for synthetic rows: Mahalanobis distance to the real rows of their group.

For every group (class or DIR bin) a Gaussian is fitted to the real rows: the
mean and a Ledoit-Wolf shrunk covariance (shrinkage as
:func:`sklearn.covariance.ledoit_wolf_shrinkage`, through the Gram matrix when
rows are fewer than features).  A synthetic row is accepted
when its Mahalanobis distance does not exceed the ``quantile`` quantile of the
distances of the real rows.

Two details make this usable on embeddings (d of 384-2048, bins of a handful
of rows):

* the shrunk covariance ``(1 - s) S + s mu I`` is never formed: it is kept as
  an eigen-decomposition of the (at most ``min(n, d)``-dimensional) empirical
  part plus an isotropic remainder, so distances cost ``O(m d k)`` for ``m``
  rows and ``k <= min(n, d)`` components, vectorised over rows;
* the reference distances of real rows are *cross-fitted*: each real row's
  distance is computed from a mean and covariance fitted without it
  (``cv`` folds).  In-sample distances are biased low when ``n`` is not much
  larger than ``d``, which would make the gate reject most fresh rows drawn
  from the very same distribution.

Groups with fewer than ``min_rows`` rows borrow rows: DIR bins (``ordered``
groups) pool their neighbouring bins on both sides until enough rows are
found; classes keep their own mean and use the pooled within-class
covariance.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.covariance import ledoit_wolf_shrinkage

from .._random import check_random_state, random_subset
from .._torch_utils import batches

__all__ = ["MahalanobisGate"]

#: Rows of ``X`` copied to float64 at once by the gate's fit and score (bounds memory).
_BLOCK_ROWS = 8192
#: Most within-group residual rows behind the pooled covariance of small groups.
_POOLED_MAX_ROWS = 20000


def _lw_shrinkage(Rc):
    """Ledoit-Wolf shrinkage of centred rows ``Rc``.

    Same value as :func:`sklearn.covariance.ledoit_wolf_shrinkage` (which is
    used when ``n >= d``); with fewer rows than features the two ``d x d``
    sums it needs are taken through the ``n x n`` Gram matrix instead
    (``sum((X.T X)**2) = sum((X X.T)**2)``, ``sum(X2.T X2) = sum(||x_i||**4)``),
    which costs ``O(n^2 d)`` instead of ``O(n d^2)``.
    """
    n, d = Rc.shape
    if n >= d:
        return ledoit_wolf_shrinkage(Rc, assume_centered=True)
    sq = np.einsum("ij,ij->i", Rc, Rc)
    mu = sq.sum() / (n * d)
    gram = Rc @ Rc.T
    delta_ = float(np.einsum("ij,ij->", gram, gram)) / n**2
    beta_ = float(np.dot(sq, sq))
    beta = (beta_ / n - delta_) / (d * n)
    delta = (delta_ - 2.0 * mu * mu * d + d * mu**2) / d
    beta = min(beta, delta)
    return 0.0 if beta == 0 else beta / delta


def _column_variance(X):
    """Per-column variance in float64, summed over blocks of rows (no copy of ``X``)."""
    n = X.shape[0]
    mean = sum(np.asarray(X[c], dtype=np.float64).sum(axis=0) for c in batches(n, _BLOCK_ROWS)) / n
    sq = np.zeros(X.shape[1])
    for chunk in batches(n, _BLOCK_ROWS):
        block = np.asarray(X[chunk], dtype=np.float64) - mean
        sq += np.einsum("ij,ij->j", block, block)
    return sq / n


class _ShrunkGaussian:
    """Mean + Ledoit-Wolf covariance in eigen form; squared Mahalanobis distances."""

    def __init__(self, R, shrinkage=None, floor=0.0, assume_centered=False):
        R = np.asarray(R, dtype=np.float64)
        n, d = R.shape
        self.mean = np.zeros(d) if assume_centered else R.mean(axis=0)
        Rc = R - self.mean
        if shrinkage is None:
            shrinkage = _lw_shrinkage(Rc) if n > 1 else 1.0
        s = float(shrinkage)
        mu = float(np.einsum("ij,ij->", Rc, Rc)) / (n * d)
        self.a = max(s * mu, floor, np.finfo(np.float64).tiny)
        # eigen-decomposition of the empirical covariance through the smaller Gram matrix
        if n <= d:
            lam, U = np.linalg.eigh(Rc @ Rc.T)
            keep = lam > 1e-10 * max(lam.max(initial=0.0), 1e-300)
            lam, U = lam[keep], U[:, keep]
            V = (Rc.T @ U) / np.sqrt(lam)
        else:
            lam, V = np.linalg.eigh(Rc.T @ Rc)
            keep = lam > 1e-10 * max(lam.max(initial=0.0), 1e-300)
            lam, V = lam[keep], V[:, keep]
        self.V = V  # (d, k) orthonormal columns
        self.eig = self.a + (1.0 - s) * lam / n  # shrunk eigenvalues along V

    def sq_dist(self, Z):
        Zc = np.asarray(Z, dtype=np.float64) - self.mean
        proj = Zc @ self.V
        total = np.einsum("ij,ij->i", Zc, Zc)
        resid = np.clip(total - np.einsum("ij,ij->i", proj, proj), 0.0, None)
        return (proj**2 / self.eig).sum(axis=1) + resid / self.a


def _crossfit_sq_dist(R, folds, rng, floor, assume_centered=False):
    """Squared distance of every row of R under a model fitted without it."""
    n = R.shape[0]
    k = int(min(folds, n))
    out = np.empty(n)
    if k < 2:
        out[:] = 0.0
        return out
    fold_of = rng.permutation(n) % k
    shrink = _lw_shrinkage(R if assume_centered else R - R.mean(axis=0))
    for f in range(k):
        test = fold_of == f
        model = _ShrunkGaussian(R[~test], shrinkage=shrink, floor=floor,
                                assume_centered=assume_centered)
        out[test] = model.sq_dist(R[test])
    return out


class MahalanobisGate:
    """Accept synthetic rows that lie within the real rows' Mahalanobis radius.

    Parameters
    ----------
    quantile : float, default=0.95
        A synthetic row of group ``g`` is accepted when its Mahalanobis
        distance is at most this quantile of the (cross-fitted) distances of
        the real rows of ``g``.  ``1.0`` uses the largest real distance.
    min_rows : int, default=10
        Groups with fewer real rows borrow rows (neighbouring bins when
        ``ordered``; the pooled within-group covariance otherwise, estimated
        from at most 20,000 within-group residual rows drawn at random).
    cv : int, default=5
        Folds of the cross-fitted reference distances.
    max_radius : int or None, default=None
        With ``ordered`` groups, the farthest neighbouring bin (on each side)
        a small bin may borrow rows from; None = as far as needed.  A bin
        whose pool within that radius holds fewer than two rows gets no
        model, so its synthetic rows are rejected: a bin far from the data
        is not judged by rows of a different target.
    random_state : int, numpy.random.Generator or None, default=None
        Fold assignment.

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_groups,)
        Accepted squared distance per group (``nan`` for groups without a
        model: no rows in the group or its pool).
    n_groups_ : int
        Number of groups seen by :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.policy.quality import MahalanobisGate
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 8))
    >>> groups = np.repeat([0, 1], 100)
    >>> gate = MahalanobisGate(quantile=0.95, random_state=0).fit(X, groups)
    >>> gate.accept(np.array([[0.0] * 8, [50.0] * 8]), np.array([0, 1])).tolist()
    [True, False]
    """

    def __init__(self, quantile=0.95, min_rows=10, cv=5, max_radius=None, random_state=None):
        self.quantile = quantile
        self.min_rows = min_rows
        self.cv = cv
        self.max_radius = max_radius
        self.random_state = random_state

    def _check_params(self):
        if not isinstance(self.quantile, numbers.Real) or not 0 < self.quantile <= 1:
            raise ValueError(f"quantile must lie in (0, 1], got {self.quantile!r}.")
        if not isinstance(self.min_rows, numbers.Integral) or self.min_rows < 2:
            raise ValueError(f"min_rows must be an integer >= 2, got {self.min_rows!r}.")
        if not isinstance(self.cv, numbers.Integral) or self.cv < 2:
            raise ValueError(f"cv must be an integer >= 2, got {self.cv!r}.")
        if self.max_radius is not None and (
            not isinstance(self.max_radius, numbers.Integral) or self.max_radius < 0
        ):
            raise ValueError(f"max_radius must be None or an integer >= 0, got {self.max_radius!r}.")

    def fit(self, X, groups, n_groups=None, ordered=False):
        """Fit one shrunk Gaussian and one distance threshold per group.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real rows.
        groups : array-like of int, shape (n_samples,)
            Group index of every row (``0 .. n_groups - 1``).
        n_groups : int, default=None
            Number of groups; defaults to ``groups.max() + 1``.
        ordered : bool, default=False
            Groups are ordered bins: small groups pool neighbouring bins.

        Returns
        -------
        self : MahalanobisGate
        """
        self._check_params()
        X = np.asarray(X)  # kept in its dtype: groups are copied to float64 one at a time
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        groups = np.asarray(groups, dtype=np.int64)
        if X.ndim != 2 or groups.shape != (X.shape[0],):
            raise ValueError("X must be 2-D and groups 1-D with one entry per row of X.")
        if groups.size and groups.min() < 0:
            raise ValueError("groups must be non-negative integers.")
        n_groups = int(groups.max(initial=-1) + 1 if n_groups is None else n_groups)
        rng = check_random_state(self.random_state)
        self.n_groups_ = n_groups
        self._floor = 1e-6 * float(_column_variance(X).mean()) if X.shape[0] > 1 else 1e-12
        order = np.argsort(groups, kind="stable")
        starts = np.searchsorted(groups[order], np.arange(n_groups + 1))
        members = [order[starts[g] : starts[g + 1]] for g in range(n_groups)]
        counts = np.diff(starts)
        q = float(self.quantile)
        self.thresholds_ = np.full(n_groups, np.nan)
        self._models = [None] * n_groups
        pooled = None
        reach = n_groups if self.max_radius is None else int(self.max_radius)
        for g in range(n_groups):
            if counts[g] == 0 and (not ordered or not counts[max(0, g - 1) : g + 2].any()):
                continue  # no rows here (nor, for bins, next door): no model, rows rejected
            if counts[g] >= self.min_rows or (ordered and counts.sum() <= counts[g]):
                pool = members[g]
            elif ordered:
                radius, pool = 0, members[g]
                while len(pool) < self.min_rows and radius < min(n_groups, reach):
                    radius += 1
                    lo, hi = max(0, g - radius), min(n_groups, g + radius + 1)
                    pool = np.concatenate(members[lo:hi])
            else:
                if pooled is None:
                    pooled = self._pooled_within(X, groups, counts, rng)
                cov, thr = pooled
                mean = X[members[g]].mean(axis=0)
                self._models[g] = (mean, cov)
                self.thresholds_[g] = thr
                continue
            if len(pool) < 2:
                continue
            R = X[pool]
            model = _ShrunkGaussian(R, floor=self._floor)
            ref = _crossfit_sq_dist(R, self.cv, rng, self._floor)
            self._models[g] = (model.mean, model)
            self.thresholds_[g] = np.quantile(ref, q)
        return self

    def _pooled_within(self, X, groups, counts, rng):
        """Within-group residuals (leave-one-out means), one covariance for all groups."""
        n_g = counts[groups]
        rows = np.flatnonzero(n_g >= 2)
        rows = random_subset(rng, rows, _POOLED_MAX_ROWS)  # bounds time and memory
        means = np.zeros((len(counts), X.shape[1]))
        for chunk in batches(X.shape[0], _BLOCK_ROWS):  # group sums, block by block
            np.add.at(means, groups[chunk], np.asarray(X[chunk], dtype=np.float64))
        means /= np.maximum(counts, 1)[:, None]
        g_rows = groups[rows]
        resid = (np.asarray(X[rows], dtype=np.float64) - means[g_rows]) \
            * (n_g[rows] / (n_g[rows] - 1.0))[:, None]
        if resid.shape[0] < 2:
            raise ValueError("MahalanobisGate needs at least two rows in some group.")
        cov = _ShrunkGaussian(resid, floor=self._floor, assume_centered=True)
        ref = _crossfit_sq_dist(resid, self.cv, rng, self._floor, assume_centered=True)
        return cov, float(np.quantile(ref, float(self.quantile)))

    def score(self, X_new, groups_new):
        """Squared Mahalanobis distance over the group's threshold (accept when <= 1).

        Parameters
        ----------
        X_new : array-like of shape (m, n_features)
            Rows to judge.
        groups_new : array-like of int, shape (m,)
            Group index of every row.

        Returns
        -------
        ratio : ndarray of shape (m,)
            ``inf`` for rows of groups without a model.
        """
        X_new = np.asarray(X_new)
        groups_new = np.asarray(groups_new, dtype=np.int64)
        if X_new.ndim != 2 or groups_new.shape != (X_new.shape[0],):
            raise ValueError("X_new must be 2-D and groups_new 1-D with one entry per row.")
        out = np.full(X_new.shape[0], np.inf)
        # rows grouped once; each group scored in blocks of rows, so only one block
        # is ever copied to float64
        order = np.argsort(groups_new, kind="stable")
        sorted_groups = groups_new[order]
        present = np.unique(sorted_groups)
        lo = np.searchsorted(sorted_groups, present, side="left")
        hi = np.searchsorted(sorted_groups, present, side="right")
        for g, a, b in zip(present, lo, hi):
            if not 0 <= g < self.n_groups_ or self._models[g] is None:
                continue
            mean, model = self._models[g]
            thr = self.thresholds_[g]
            rows = order[a:b]
            for chunk in batches(rows.size, _BLOCK_ROWS):
                idx = rows[chunk]
                d2 = model.sq_dist(np.asarray(X_new[idx], dtype=np.float64) - mean + model.mean)
                out[idx] = d2 / thr if thr > 0 else np.where(d2 > 0, np.inf, 0.0)
        return out

    def accept(self, X_new, groups_new):
        """Boolean mask of rows within their group's radius.

        Parameters
        ----------
        X_new : array-like of shape (m, n_features)
        groups_new : array-like of int, shape (m,)

        Returns
        -------
        mask : ndarray of bool, shape (m,)
        """
        return self.score(X_new, groups_new) <= 1.0
