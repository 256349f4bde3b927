"""Targets of denoised rows: keep the interpolation's residual under a linear model.

LatentDiff starts a row of a continuous target as a SMOTER interpolation
``x0 = x_i + lam (x_j - x_i)`` with the interpolated target
``t = y_i + lam (y_j - y_i)``; the denoiser, conditioned on ``t``, then moves
``x0`` by some ``d`` (SDEdit).  For the features the move is a correction
towards the data of that target, but it is learnt from a few thousand rows
and it does not keep what the target says about the features: on the
new-user case of issue 14 (``make_regression`` features, ``y = exp(z / sd)``,
where ``log y`` is linear in the features) a linear fit on the real rows
predicts their own ``log y`` to 0.018, the interpolated starts to 0.070 and
the denoised rows to 0.335 (mean absolute error).  To a linear head that part
of ``d`` is noise in the features, which flattens its slope (errors in
variables): the ridge head then under-predicts the top of the range more than
without any synthetic rows (top-decile MAE 1.03-1.15x plain at seeds 0-2).

:class:`LinearRetarget` fits one ridge model ``w`` on the real rows and moves
each target by the change it predicts for the move, ``t + w . d``, clipped to
the real targets' range: the denoised row keeps the start's residual under
that model (``w . (x0 + d) - (t + w . d) = w . x0 - t``).  Measured on the
validation splits (seed 0, ratios to no resampling): fair and randhie within
0.02 of the former rows with every head, most cells lower; STS-B-DIR's top
decile lower for Ridge and kNN (1.053 -> 1.025, 1.078 -> 1.044), the MLP's
few-shot error, which moves by 0.14 between seeds, higher (0.95 -> 1.15; on
the test split, seeds 0-2, it went from 1.06 to 0.95).  On the new-user
case's test split, seeds 0-2, the ridge head's top-decile MAE went from
1.03-1.15x to 0.99-1.00x of plain and HistGradientBoosting's from
0.85-1.08x to 0.77-0.93x.  Removing the component of ``d`` along ``w``
instead (the target kept, the row moved) was worse on fair's kNN and on the
MLP of randhie and STS-B-DIR (numbers in the LatentDiff user guide).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler

from .._random import random_subset

__all__ = ["MAX_FIT_ROWS", "RIDGE_ALPHAS", "LinearRetarget"]

#: Most real rows the ridge model is fitted on (a uniform sample beyond): its
#: coefficients, not its fit, are what is used, and they are stable long before.
MAX_FIT_ROWS = 20_000
#: Penalties (on standardised features) among which ``RidgeCV``'s leave-one-out
#: error chooses.
RIDGE_ALPHAS = np.logspace(-2, 4, 13)


class LinearRetarget:
    """Move the targets of moved rows by what a ridge model of the real rows predicts.

    Parameters
    ----------
    max_rows : int, default=MAX_FIT_ROWS
        Fit on a uniform sample of at most this many real rows.
    random_state : int, numpy.random.Generator or None, default=None
        Draws that sample.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The ridge model's slope on the original (unstandardised) features.
    alpha_ : float
        The penalty ``RidgeCV`` chose.
    target_range_ : tuple of float
        ``(min, max)`` of the real targets; moved targets are clipped to it.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.policy.retarget import LinearRetarget
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = X @ [2.0, 0.0, -1.0]
    >>> r = LinearRetarget(random_state=0).fit(X, y)
    >>> x0, t = X[:2], y[:2]
    >>> moved = x0 + [[0.1, 0.0, 0.0], [0.0, 0.0, 0.1]]
    >>> np.round(r.transform(x0, moved, t) - t, 2)
    array([ 0.2, -0.1])
    """

    def __init__(self, max_rows=MAX_FIT_ROWS, random_state=None):
        self.max_rows = max_rows
        self.random_state = random_state

    def fit(self, X, y):
        """Fit the ridge model on (a sample of) the real rows ``X``, ``y``."""
        X, y = np.asarray(X), np.asarray(y, dtype=np.float64)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(f"LinearRetarget.fit takes X of shape (n, d) and y of shape (n,); "
                             f"got {X.shape} and {y.shape}.")
        if X.shape[0] > self.max_rows:  # sample before the float64 copy: memory stays bounded
            rows = random_subset(self.random_state, X.shape[0], self.max_rows)
            X, y = X[rows], y[rows]
        X = X.astype(np.float64, copy=False)
        scaler = StandardScaler().fit(X)
        ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(scaler.transform(X), y)
        self.coef_ = ridge.coef_ / scaler.scale_
        self.alpha_ = float(ridge.alpha_)
        self.target_range_ = (float(y.min()), float(y.max()))
        return self

    def transform(self, x_start, x_moved, targets):
        """Targets of the moved rows: ``targets + coef_ . (x_moved - x_start)``, clipped.

        Parameters
        ----------
        x_start : array-like of shape (n_rows, n_features)
            Rows before the move (the SDEdit starts).
        x_moved : array-like of shape (n_rows, n_features)
            The same rows after it (denoised, on their discrete levels).
        targets : array-like of shape (n_rows,)
            Targets of the starts.

        Returns
        -------
        ndarray of shape (n_rows,)
        """
        move = np.asarray(x_moved) - np.asarray(x_start)  # in the rows' dtype: no float64 copy
        shift = move @ self.coef_.astype(move.dtype if move.dtype.kind == "f" else np.float64)
        return np.clip(np.asarray(targets, np.float64) + shift, *self.target_range_)
