"""Target gate for interpolated rows: is the target what the row's parents imply?

A SMOTER row ``x = x_i + lam (x_j - x_i)`` gets the target
``t = y_i + lam (y_j - y_i)``.  That is right when the target is close to
linear along the segment, and wrong when it is not: where one DIR bin holds
rows of two branches of the data (``y = z ** 2`` holds ``z`` and ``-z`` in
the same bin), the segment between two of them crosses the middle of the
range while its target stays at the top.  Such rows are label noise a head
fits: on a natural split of ``y = z ** 2`` (``make_regression`` features;
``python benchmarks/bench_dir.py --natural``) their targets were off the true
function by a mean squared 2.0 against 0.02 for the real rows, and a
HistGradientBoosting head fitted on them was 1.81-1.95x worse (seeds 0-2)
than on the real rows alone; with the true function's targets on the same
rows it was 2.3x better (seed 0).

:class:`PairTargetGate` fits one HistGradientBoosting model ``f`` of the real
rows and their cross-fitted residuals ``r = y - f_oof(x)``.  A synthetic row
made from parents ``i, j`` with weight ``lam`` (after the denoiser moved it,
and its target with it) should carry the residual its parents imply:

    ``discrepancy = |t - f(x) - ((1 - lam) r_i + lam r_j)|``

The parents' residuals carry the model's own bias in their part of the range
(a tree ensemble under-predicts the top of a skewed target), so the check
does not fall on the rare range because the model is poor there; a
comparison of ``t`` with ``f(x)`` alone does (it dropped rows of the top
range, LatentDiff user guide).  A row passes when its discrepancy is at most
``tolerance`` times the ``quantile`` quantile of the real rows' absolute
residuals in its bin and the two bins next to it.  On wide embeddings the
model is fitted on at most ``max_components`` principal components (on
STS-B-DIR's 5,249 x 1,536 rows one HistGradientBoosting fit took 17 s on two
cores, and the gate makes six).
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold, cross_val_predict

from .._random import check_random_state, random_subset
from .._torch_utils import batches

__all__ = ["MIN_FIT_ROWS", "PairTargetGate"]

#: Most real rows the model is fitted on (a uniform sample beyond; the other rows'
#: residuals are then out of sample by construction).
MAX_FIT_ROWS = 20_000
#: Folds of the cross-fitted residuals.
DEFAULT_CV = 5
#: Fewest real rows the gate is fitted on (two per fold); LatentDiff skips it below.
MIN_FIT_ROWS = 2 * DEFAULT_CV
#: Rows a bin's neighbourhood needs for a threshold of its own (else the global one).
MIN_THRESHOLD_ROWS = 5
#: Rows predicted at once (bounds the float64 copies of wide rows).
_BLOCK_ROWS = 8192


class PairTargetGate:
    """Score interpolated rows by how far their target is from what their parents imply.

    Parameters
    ----------
    tolerance : float, default=0.5
        A row passes when its discrepancy is at most ``tolerance`` times its
        bin's threshold (see ``quantile``).
    quantile : float in (0, 1], default=0.95
        Quantile of the real rows' absolute cross-fitted residuals (in the
        bin and its two neighbours) that sets the bin's threshold.
    cv : int, default=5
        Folds of the cross-fitted residuals.
    max_components : int, default=32
        Wider rows are projected on this many principal components before
        the model is fitted.
    max_rows : int, default=MAX_FIT_ROWS
        Fit on a uniform sample of at most this many real rows.
    random_state : int, numpy.random.Generator or None, default=None

    Attributes
    ----------
    residual_ : ndarray of shape (n_samples,)
        Cross-fitted residual ``y - f_oof(x)`` of every real row.
    thresholds_ : ndarray of shape (n_groups,)
        Discrepancy at which a row of each bin is rejected (score 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.policy.target_gate import PairTargetGate
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, (600, 2)); y = X[:, 0] ** 2
    >>> groups = np.minimum((y * 2).astype(int), 7)
    >>> gate = PairTargetGate(random_state=0).fit(X, y, groups, n_groups=8)
    >>> i, j = np.argmax(X[:, 0] * (y > 3)), np.argmin(X[:, 0] + 9 * (y < 3))  # x0 = +-1.9
    >>> mid = 0.5 * (X[[i]] + X[[j]])  # x0 near 0, target still near 3.6
    >>> pairs = (np.array([i]), np.array([j]), np.array([0.5]))
    >>> bool(gate.score(mid, 0.5 * (y[[i]] + y[[j]]), pairs, groups[[i]])[0] > 1)
    True
    """

    def __init__(self, tolerance=0.5, quantile=0.95, cv=DEFAULT_CV, max_components=32,
                 max_rows=MAX_FIT_ROWS, random_state=None):
        self.tolerance = tolerance
        self.quantile = quantile
        self.cv = cv
        self.max_components = max_components
        self.max_rows = max_rows
        self.random_state = random_state

    def fit(self, X, y, groups, n_groups=None):
        """Fit the model and the per-bin thresholds on the real rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Continuous targets.
        groups : array-like of int, shape (n_samples,)
            DIR bin of every row.
        n_groups : int, default=None
            Number of bins; defaults to ``groups.max() + 1``.

        Returns
        -------
        self : PairTargetGate
        """
        X, y = np.asarray(X), np.asarray(y, dtype=np.float64)
        groups = np.asarray(groups, dtype=np.int64)
        if X.ndim != 2 or y.shape != (X.shape[0],) or groups.shape != y.shape:
            raise ValueError(f"PairTargetGate.fit takes X of shape (n, d), y and groups of shape "
                             f"(n,); got {X.shape}, {y.shape} and {groups.shape}.")
        if X.shape[0] < 2 * self.cv:
            raise ValueError(f"PairTargetGate needs at least {2 * self.cv} rows "
                             f"(cv={self.cv} folds); got {X.shape[0]}.")
        rng = check_random_state(self.random_state)
        n = X.shape[0]
        fit_rows = random_subset(rng, n, self.max_rows)
        X_fit = np.asarray(X[fit_rows], dtype=np.float64)
        self._pca = None
        if X.shape[1] > self.max_components:
            self._pca = PCA(self.max_components, random_state=int(rng.integers(2**31)))
            X_fit = self._pca.fit_transform(X_fit)
        model = HistGradientBoostingRegressor(random_state=int(rng.integers(2**31)))
        folds = KFold(self.cv, shuffle=True, random_state=int(rng.integers(2**31)))
        oof = cross_val_predict(model, X_fit, y[fit_rows], cv=folds)
        self._model = model.fit(X_fit, y[fit_rows])
        residual = np.empty(n)
        residual[fit_rows] = y[fit_rows] - oof
        if fit_rows.size < n:  # rows the model never saw: out of sample as they are
            rest = np.setdiff1d(np.arange(n), fit_rows)
            residual[rest] = y[rest] - self._predict(X, rest)
        self.residual_ = residual
        n_groups = int(groups.max(initial=-1) + 1 if n_groups is None else n_groups)
        size = np.abs(residual)
        q = float(self.quantile)
        overall = np.quantile(size, q)
        thresholds = np.full(n_groups, overall)
        for g in range(n_groups):
            near = size[np.abs(groups - g) <= 1]
            if near.size >= MIN_THRESHOLD_ROWS:
                thresholds[g] = np.quantile(near, q)
        floor = 1e-6 * max(float(y.std()), np.finfo(np.float64).tiny)
        self.thresholds_ = float(self.tolerance) * np.maximum(thresholds, floor)
        return self

    def _predict(self, X, rows=None):
        """Model predictions for ``X[rows]`` (all rows by default), projected, block by block."""
        rows = np.arange(X.shape[0]) if rows is None else rows
        out = np.empty(rows.size)
        for chunk in batches(rows.size, _BLOCK_ROWS):
            block = np.asarray(X[rows[chunk]], dtype=np.float64)
            if self._pca is not None:
                block = self._pca.transform(block)
            out[chunk] = self._model.predict(block)
        return out

    def score(self, rows, targets, pairs, groups):
        """Discrepancy over the bin's threshold of every row (accept when <= 1).

        Parameters
        ----------
        rows : array-like of shape (m, n_features)
            Synthetic rows (as they are output).
        targets : array-like of shape (m,)
            Their targets.
        pairs : tuple of (first, second, lam)
            Indices of each row's two real parents and its interpolation weight
            (:func:`skltsynth.resamplers._smoter.interpolate_in_pools` with
            ``return_pairs=True``).
        groups : array-like of int, shape (m,)
            The bin each row was made for.

        Returns
        -------
        ratio : ndarray of shape (m,)
        """
        first, second, lam = (np.asarray(a) for a in pairs)
        expected = (1.0 - lam) * self.residual_[first] + lam * self.residual_[second]
        rows = np.asarray(rows)
        discrepancy = np.abs(np.asarray(targets, np.float64) - self._predict(rows) - expected)
        return discrepancy / self.thresholds_[np.asarray(groups, dtype=np.int64)]
