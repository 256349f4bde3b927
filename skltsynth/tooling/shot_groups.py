"""Task metrics split by *shot group*: how many training rows a class or target bin has.

* :func:`shot_group_report` -- classification: accuracy and macro-F1,
  overall and for many / medium / few-shot classes;
* :func:`regression_shot_report` -- deep imbalanced regression: MSE, MAE and
  GM (geometric mean of absolute errors), overall and per shot group;
* :func:`classification_shot_groups` -- the group of each class.

The thresholds default to the one definition in :mod:`skltsynth._defaults`.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.metrics import f1_score

from .._defaults import BIN_SHOTS, CLASS_SHOTS

__all__ = ["SHOT_GROUPS", "classification_shot_groups", "regression_shot_report", "shot_group_report"]

SHOT_GROUPS = ("many", "medium", "few")


def _check_thresholds(many, few):
    for name, value in (("many", many), ("few", few)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}.")
    if few > many:
        raise ValueError(f"few ({few}) must not exceed many ({many}).")


def classification_shot_groups(y_train, y_eval, many=CLASS_SHOTS["many"],
                               few=CLASS_SHOTS["few"]):
    """Shot group of every evaluation row by its class's training count.

    Parameters
    ----------
    y_train : array-like of shape (n_train,)
        Training labels (define the counts).
    y_eval : array-like of shape (n_eval,)
        Labels of the rows to group.
    many : int, default=50
        A class with at least ``many`` training rows is "many".
    few : int, default=15
        A class with fewer than ``few`` training rows is "few" (a class absent
        from training counts 0); otherwise "medium".

    Returns
    -------
    groups : ndarray of shape (n_eval,), dtype object
        ``"many"``, ``"medium"`` or ``"few"``.

    Examples
    --------
    >>> from skltsynth.tooling.metrics import classification_shot_groups
    >>> classification_shot_groups([0] * 60 + [1] * 20 + [2] * 3, [0, 1, 2]).tolist()
    ['many', 'medium', 'few']
    """
    _check_thresholds(many, few)
    classes, counts = np.unique(np.asarray(y_train), return_counts=True)
    lookup = dict(zip(classes.tolist(), counts.tolist()))
    y_eval = np.asarray(y_eval)
    if y_eval.ndim != 1:
        raise ValueError(f"y_eval must be 1-D, got an array of shape {y_eval.shape}.")
    uniq, inverse = np.unique(y_eval, return_inverse=True)
    per_row = np.array([lookup.get(c, 0) for c in uniq.tolist()], dtype=np.int64)[inverse]
    out = np.full(y_eval.shape[0], "medium", dtype=object)
    out[per_row >= many] = "many"
    out[per_row < few] = "few"
    return out


def _regression_groups(y_train, y_eval, bins, many, few):
    from ..policy.targets import shot_groups

    return shot_groups(y_train, y_eval, bins, many=many, few=few)


def shot_group_report(y_true, y_pred, y_train, many=CLASS_SHOTS["many"],
                      few=CLASS_SHOTS["few"]):
    """Accuracy and macro-F1, overall and per shot group (classification).

    Test rows are grouped by the training count of their true class: many
    (``>= many``), medium, few (``< few``).  A group's macro-F1 is the mean
    of the per-class F1 scores (computed on the whole test set) over the
    classes of that group, so a many-shot class predicted for few-shot rows
    lowers the many-shot class's precision, as it should.

    Parameters
    ----------
    y_true : array-like of shape (n_test,)
        True labels.
    y_pred : array-like of shape (n_test,)
        Predicted labels.
    y_train : array-like of shape (n_train,)
        Training labels (before any resampling) that define the groups.
    many : int, default=50
        Threshold of the many-shot group.
    few : int, default=15
        Threshold of the few-shot group.

    Returns
    -------
    report : dict
        ``accuracy``, ``macro_f1``, and for ``g`` in many / medium / few:
        ``{g}_accuracy``, ``{g}_macro_f1`` (NaN for an empty group) and
        ``{g}_n`` (test rows in the group).

    Examples
    --------
    >>> from skltsynth.tooling.metrics import shot_group_report
    >>> y_train = [0] * 60 + [1] * 20 + [2] * 3
    >>> report = shot_group_report([0, 1, 2, 2], [0, 1, 2, 0], y_train)
    >>> report["accuracy"], report["few_accuracy"], report["many_n"]
    (0.75, 0.5, 1)
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D of the same length, got {y_true.shape} "
            f"and {y_pred.shape}."
        )
    groups = classification_shot_groups(y_train, y_true, many, few)
    labels = np.unique(y_true)
    f1 = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    label_group = classification_shot_groups(y_train, labels, many, few)
    correct = y_true == y_pred
    report = {"accuracy": float(correct.mean()), "macro_f1": float(f1.mean())}
    for g in SHOT_GROUPS:
        rows = groups == g
        in_group = label_group == g
        report[f"{g}_accuracy"] = float(correct[rows].mean()) if rows.any() else float("nan")
        report[f"{g}_macro_f1"] = float(f1[in_group].mean()) if in_group.any() else float("nan")
        report[f"{g}_n"] = int(rows.sum())
    return report


def _regression_errors(y_true, y_pred):
    err = np.abs(y_true - y_pred)
    gm_err = np.where(err == 0, 1e-10, err)
    return {
        "mse": float(np.mean(err**2)),
        "mae": float(np.mean(err)),
        "gm": float(np.exp(np.mean(np.log(gm_err)))),
    }


def regression_shot_report(y_true, y_pred, y_train, bins, many=BIN_SHOTS["many"],
                           few=BIN_SHOTS["few"]):
    """MSE, MAE and GM overall and per shot group (deep imbalanced regression).

    Test rows are grouped by the training count of the DIR bin their true
    target falls in: many (``> many``), medium, few (``< few``), as in Yang
    et al. (2021); see :func:`skltsynth.policy.targets.shot_groups`.  GM is the
    geometric mean of absolute errors, ``exp(mean(log|e|))``, with exact
    zeros replaced by ``1e-10``.

    Parameters
    ----------
    y_true : array-like of shape (n_test,)
        True targets.
    y_pred : array-like of shape (n_test,)
        Predictions.
    y_train : array-like of shape (n_train,)
        Training targets (before resampling) that define the bin counts.
    bins : int or array-like
        Number of equal-width bins over ``y_train``, or bin edges.
    many : int, default=100
        A bin with more than ``many`` training rows is "many".
    few : int, default=20
        A bin with fewer than ``few`` training rows is "few".

    Returns
    -------
    report : dict
        ``mse``, ``mae``, ``gm`` and for ``g`` in many / medium / few
        ``{g}_mse``, ``{g}_mae``, ``{g}_gm`` (NaN for an empty group) and
        ``{g}_n``.

    Examples
    --------
    >>> from skltsynth.tooling.metrics import regression_shot_report
    >>> y_train = [0.1] * 150 + [0.6] * 5
    >>> r = regression_shot_report([0.2, 0.7], [0.2, 0.9], y_train, [0.0, 0.5, 1.0])
    >>> round(r["mae"], 3), round(r["few_mae"], 3), r["many_gm"] < 1e-9
    (0.1, 0.2, True)
    """
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {y_true.shape} and "
            f"{y_pred.shape}."
        )
    if not np.all(np.isfinite(y_pred)):
        raise ValueError("y_pred contains NaN or infinity.")
    _check_thresholds(many, few)
    groups = _regression_groups(y_train, y_true, bins, many, few)
    report = _regression_errors(y_true, y_pred)
    for g in SHOT_GROUPS:
        rows = groups == g
        if rows.any():
            part = _regression_errors(y_true[rows], y_pred[rows])
        else:
            part = dict.fromkeys(("mse", "mae", "gm"), float("nan"))
        report.update({f"{g}_{k}": v for k, v in part.items()})
        report[f"{g}_n"] = int(rows.sum())
    return report
