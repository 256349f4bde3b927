"""Deep imbalanced regression (DIR) splits of real tabular data shipped by statsmodels.

Two tables with skewed, long-tailed continuous targets, installed with
``statsmodels`` (no download at run time):

* :func:`load_randhie_dir` -- the RAND Health Insurance Experiment
  (``statsmodels.datasets.randhie``, 20,190 people): number of outpatient
  visits to a medical doctor (``mdvis``) from 9 covariates;
* :func:`load_fair_dir` -- Fair's affairs data (``statsmodels.datasets.fair``,
  6,366 women): time spent in extramarital affairs (``affairs``) from 8
  covariates.

The DIR protocol follows the one of STS-B-DIR (Yang et al., ICML 2021): the
training split is long-tailed, validation and test are *balanced* over the
target range.  Concretely (:func:`make_dir_splits`):

1. the target is ``log1p`` of the count/time (a skewed, zero-inflated
   quantity becomes a target a regressor can fit; the tail stays rare);
2. DIR bins of width ``bin_width`` (0.25) on the target;
3. in every bin, ``min(per_bin, n_b // 3)`` rows (drawn at random, fixed
   ``random_state``) go to test and as many to validation; the rest is the
   training split, so the training distribution keeps the long tail and the
   evaluation splits weigh every populated bin the same;
4. features are standardised with the training mean and standard deviation.

Shot groups, as in STS-B-DIR: a bin with more than 100 training rows is
"many", fewer than 20 "few" (:func:`skltsynth.tooling.metrics.regression_shot_report`).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import Bunch

from .._random import check_random_state
from ..policy.targets import assign_bins, bin_edges

__all__ = ["load_fair_dir", "load_randhie_dir", "make_dir_splits"]


def make_dir_splits(X, y, bin_width=0.25, per_bin=100, random_state=0):
    """Long-tailed train, balanced validation and test splits of a continuous target.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,)
        Continuous target (already transformed).
    bin_width : float, default=0.25
        DIR bin width (see :func:`skltsynth.policy.targets.bin_edges`).
    per_bin : int, default=100
        Most rows per bin in each of validation and test.
    random_state : int, Generator or None, default=0
        Which rows go to the evaluation splits.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X_train, y_train, X_val, y_val, X_test, y_test`` (features
        standardised with the training statistics, float64) and
        ``bin_edges``.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.datasets import make_dir_splits
    >>> rng = np.random.default_rng(0)
    >>> y = rng.exponential(1.0, 3000)
    >>> d = make_dir_splits(rng.standard_normal((3000, 3)), y, per_bin=20)
    >>> d.X_train.shape[0] + d.X_val.shape[0] + d.X_test.shape[0]
    3000
    >>> bool(np.ptp(np.histogram(d.y_test, d.bin_edges)[0][:4]) == 0)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError("X must be 2-D and y 1-D with one entry per row of X.")
    if not isinstance(per_bin, numbers.Integral) or per_bin < 1:
        raise ValueError(f"per_bin must be a positive integer, got {per_bin!r}.")
    rng = check_random_state(random_state)
    edges = bin_edges(y, width=bin_width)
    bins = assign_bins(y, edges)
    split = np.zeros(y.size, dtype=np.int64)  # 0 train, 1 val, 2 test
    for b in np.unique(bins):
        rows = rng.permutation(np.flatnonzero(bins == b))
        k = min(int(per_bin), rows.size // 3)
        split[rows[:k]] = 2
        split[rows[k: 2 * k]] = 1
    train = split == 0
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    std[std == 0] = 1.0
    Z = (X - mean) / std
    out = Bunch(bin_edges=edges)
    for name, code in (("train", 0), ("val", 1), ("test", 2)):
        out[f"X_{name}"], out[f"y_{name}"] = Z[split == code], y[split == code]
    return out


def _load(module, target, descr, per_bin, random_state):
    import importlib

    try:
        source = importlib.import_module(f"statsmodels.datasets.{module}")
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "The tabular DIR data sets ship with statsmodels: pip install statsmodels "
            "(or skltsynth[benchmark])."
        ) from exc
    data = source.load_pandas().data
    X = data.drop(columns=[target]).to_numpy(dtype=np.float64)
    out = make_dir_splits(X, np.log1p(data[target].to_numpy(dtype=np.float64)),
                          per_bin=per_bin, random_state=random_state)
    out["feature_names"] = [c for c in data.columns if c != target]
    out["DESCR"] = (descr + f" Target log1p({target}); DIR bins of width 0.25; validation "
                    f"and test balanced (at most {per_bin} rows per bin each, a third of a "
                    "bin at most); features standardised on train.")
    return out


def load_randhie_dir(per_bin=100, random_state=0):
    """RAND Health Insurance Experiment as a DIR task (target ``log1p(mdvis)``).

    20,190 rows of ``statsmodels.datasets.randhie`` (public domain), 9
    covariates (coinsurance, deductible, income, health status ...); the
    target, doctor visits, is zero for 31% of people and reaches 77.  Splits
    by :func:`make_dir_splits` (see the module docstring for the protocol).

    Parameters
    ----------
    per_bin : int, default=100
        Most rows per bin in each of validation and test.
    random_state : int, default=0
        Split seed (fixed by default, as STS-B-DIR's split is).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X_train, y_train, X_val, y_val, X_test, y_test``, ``bin_edges``,
        ``feature_names``, ``DESCR``.

    Examples
    --------
    >>> from skltsynth.datasets import load_randhie_dir
    >>> d = load_randhie_dir()
    >>> d.X_train.shape[1], len(d.bin_edges) - 1
    (9, 18)
    """
    return _load("randhie", "mdvis", "RAND Health Insurance Experiment (statsmodels).",
                 per_bin, random_state)


def load_fair_dir(per_bin=100, random_state=0):
    """Fair's extramarital affairs data as a DIR task (target ``log1p(affairs)``).

    6,366 rows of ``statsmodels.datasets.fair`` (Fair 1978, public
    domain), 8 covariates (marriage rating, age, years married, children,
    religiousness, education, occupations); the target is zero for 68% of
    rows.  Splits by :func:`make_dir_splits` (see the module docstring).

    Parameters
    ----------
    per_bin : int, default=100
        Most rows per bin in each of validation and test.
    random_state : int, default=0
        Split seed.

    Returns
    -------
    data : sklearn.utils.Bunch
        As :func:`load_randhie_dir`.

    Examples
    --------
    >>> from skltsynth.datasets import load_fair_dir
    >>> d = load_fair_dir()
    >>> d.X_train.shape[1]
    8
    """
    return _load("fair", "affairs", "Fair's affairs data (statsmodels).", per_bin, random_state)
