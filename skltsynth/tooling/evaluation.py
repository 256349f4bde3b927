"""Evaluate synthetic rows of a classification resampler, per shot group.

:func:`evaluate_synthetic` puts together, for every class that received
synthetic rows and averaged per shot group (many / medium / few):

* the distribution-quality metrics of :func:`skltsynth.tooling.metrics.synthetic_quality_report`
  (diversity of real and synthetic rows, MMD^2, k-NN precision / recall,
  density / coverage, distance to the nearest real row);
* **label agreement**: the fraction of synthetic rows of a class that a
  classifier trained on the real rows only assigns to that class;
* **class-wise F1 on held-out rows** of a classifier trained without and with
  the synthetic rows (optionally with their weights), and the difference.

The metric computations live in :mod:`skltsynth.tooling.metrics`; this module only
combines them with the two classifier-based measures.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.metrics import f1_score

from .._defaults import CLASS_SHOTS
from .metrics import SHOT_GROUPS, classification_shot_groups, synthetic_quality_report

__all__ = ["evaluate_synthetic"]


def evaluate_synthetic(
    X_real,
    y_real,
    X_syn,
    y_syn,
    X_test=None,
    y_test=None,
    *,
    classifier=None,
    sample_weight_syn=None,
    k=5,
    many=CLASS_SHOTS["many"],
    few=CLASS_SHOTS["few"],
):
    """Quality and usefulness of synthetic rows, per class and per shot group.

    Parameters
    ----------
    X_real, y_real : array-like
        The real training rows and class labels (they define the shot groups).
    X_syn, y_syn : array-like
        The synthetic rows and their class labels.
    X_test, y_test : array-like, default=None
        Held-out rows for the F1 comparison; without them the F1 columns are
        left out.
    classifier : estimator, default=None
        Classifier for label agreement and F1 (cloned); default
        ``LogisticRegression(max_iter=1000)``.
    sample_weight_syn : array-like of shape (n_synthetic,), default=None
        Weights of the synthetic rows for the "with synthetic" classifier
        (real rows weigh 1), e.g. ``resampler.sample_weight_[resampler.is_synthetic_]``.
    k : int, default=5
        Neighbourhood size of the k-NN metrics.
    many, few : int, default=50, 15
        Shot-group thresholds (many ``>= many``, few ``< few``).

    Returns
    -------
    report : dict
        ``"per_class"``: :class:`pandas.DataFrame`, one row per class with
        synthetic rows (``group``, ``shot``, the quality metrics,
        ``label_agreement`` and, with test rows, ``f1_real``, ``f1_with_syn``,
        ``f1_gain``); ``"per_shot"``: the mean of the metric columns per shot
        group and overall (``"all"``); ``"f1_by_shot"``: with test rows, the
        mean class F1 without / with synthetic rows over *all* classes of each
        shot group (classes without synthetic rows included).

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.tooling.evaluation import evaluate_synthetic
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], [60, 10])
    >>> X = rng.normal(size=(70, 4)) + 3 * y[:, None]
    >>> Xs = X[60:].repeat(5, 0) + 0.3 * rng.normal(size=(50, 4))
    >>> rep = evaluate_synthetic(X, y, Xs, np.ones(50, int), X, y)
    >>> float(rep["per_shot"].loc["few", "label_agreement"])
    1.0
    >>> sorted(rep["f1_by_shot"].columns)
    ['f1_gain', 'f1_real', 'f1_with_syn']
    """
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    X_real = np.asarray(X_real)
    y_real = np.asarray(y_real)
    X_syn = np.asarray(X_syn)
    y_syn = np.asarray(y_syn)
    quality = synthetic_quality_report(X_real, y_real, X_syn, y_syn, k=k, many=many, few=few)
    per_class = quality["per_group"]
    if per_class.empty:
        raise ValueError("There are no synthetic rows to evaluate.")
    base = LogisticRegression(max_iter=1000) if classifier is None else classifier
    clf_real = clone(base).fit(X_real, y_real)
    agree = clf_real.predict(X_syn) == y_syn
    agreement = pd.Series(agree.astype(float)).groupby(y_syn).mean()
    per_class["label_agreement"] = per_class["group"].map(agreement).to_numpy()
    out = {"per_class": per_class}
    f1_by_shot = None
    if X_test is not None and y_test is not None:
        y_test = np.asarray(y_test)
        X_both = np.concatenate([X_real, X_syn.astype(X_real.dtype, copy=False)])
        y_both = np.concatenate([y_real, y_syn])
        fit_params = {}
        if sample_weight_syn is not None:
            w = np.asarray(sample_weight_syn, dtype=np.float64)
            if w.shape != (len(y_syn),):
                raise ValueError("sample_weight_syn must have one weight per synthetic row.")
            fit_params["sample_weight"] = np.concatenate([np.ones(len(y_real)), w])
        clf_both = clone(base).fit(X_both, y_both, **fit_params)
        labels = np.unique(np.concatenate([y_real, y_test]))
        f1_real = f1_score(y_test, clf_real.predict(X_test), labels=labels, average=None,
                           zero_division=0)
        f1_syn = f1_score(y_test, clf_both.predict(X_test), labels=labels, average=None,
                          zero_division=0)
        table = pd.DataFrame({"f1_real": f1_real, "f1_with_syn": f1_syn}, index=labels)
        table["f1_gain"] = table["f1_with_syn"] - table["f1_real"]
        for col in table.columns:
            per_class[col] = per_class["group"].map(table[col]).to_numpy()
        shots = classification_shot_groups(y_real, labels, many, few)
        f1_by_shot = table.groupby(shots).mean()
        f1_by_shot.loc["all"] = table.mean()
        f1_by_shot = f1_by_shot.loc[[s for s in (*SHOT_GROUPS, "all") if s in f1_by_shot.index]]
        out["f1_by_shot"] = f1_by_shot
    metric_cols = [c for c in per_class.columns if c not in ("group", "shot")]
    per_shot = per_class.groupby("shot")[metric_cols].mean()
    per_shot.loc["all"] = per_class[metric_cols].mean()
    out["per_shot"] = per_shot.loc[[s for s in (*SHOT_GROUPS, "all") if s in per_shot.index]]
    return out
