"""The head axis of the benchmark: the estimators users put after a resampler.

Classification heads: ``lr`` (the default head,
:func:`skltsynth._defaults.default_head`), ``svm`` (``LinearSVC``), ``knn``
(10 neighbours, cosine, distance weights), ``rf`` (a 300-tree random
forest) and ``mlp`` (one hidden layer of 256).  Regression heads: ``ridge``
(the default), ``knn``, ``hgb`` (histogram gradient boosting) and ``mlp``.
"""

from __future__ import annotations

from .._defaults import default_head

__all__ = ["HEADS", "head_names", "head_text", "is_deterministic", "make_head",
           "takes_weights", "has_scores"]


def _svm():
    from sklearn.svm import LinearSVC

    # dual=False: what dual="auto" picks for more rows than features, without the
    # random coordinate order of the dual solver (the fit is then seed-independent).
    return LinearSVC(dual=False)


def _knn_classifier():
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(10, metric="cosine", weights="distance")


def _forest():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(300)


def _mlp_classifier():
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier((256,))


def _knn_regressor():
    from sklearn.neighbors import KNeighborsRegressor

    return KNeighborsRegressor(10)


def _hgb():
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor()


def _mlp_regressor():
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor((256,))


#: task -> head name -> factory of a new, unfitted head (the first is the default).
HEADS = {
    "classification": {
        "lr": lambda: default_head("classification"), "svm": _svm, "knn": _knn_classifier,
        "rf": _forest, "mlp": _mlp_classifier,
    },
    "regression": {
        "ridge": lambda: default_head("regression"), "knn": _knn_regressor, "hgb": _hgb,
        "mlp": _mlp_regressor,
    },
}


def head_names(task):
    """Names of the heads of a task, the default first.

    Examples
    --------
    >>> from skltsynth.benchmark import head_names
    >>> head_names("classification")
    ['lr', 'svm', 'knn', 'rf', 'mlp']
    """
    return list(HEADS[task])


def make_head(task, name):
    """A new head called ``name`` for ``task`` (``KeyError`` naming the known ones)."""
    try:
        return HEADS[task][name]()
    except KeyError:
        raise KeyError(f"Unknown {task} head {name!r}; known heads: "
                       f"{', '.join(HEADS[task])}.") from None


def head_text(task, name):
    """The head as text, e.g. ``"KNeighborsClassifier(metric='cosine', ...)"``."""
    return repr(make_head(task, name))


def takes_weights(head):
    """True when ``head.fit`` accepts ``sample_weight``."""
    from sklearn.utils.validation import has_fit_parameter

    return has_fit_parameter(head, "sample_weight")


def has_scores(head):
    """True when the head has ``decision_function`` or ``predict_proba`` (logit adjustment)."""
    return hasattr(head, "decision_function") or hasattr(head, "predict_proba")


def is_deterministic(head):
    """True for heads whose fit does not depend on ``random_state``."""
    params = head.get_params() if hasattr(head, "get_params") else {}
    if "random_state" not in params:
        return True
    name = type(head).__name__
    solver = params.get("solver")
    if name == "LogisticRegression":
        return solver in ("lbfgs", "newton-cg", "newton-cholesky")
    if name == "Ridge":
        return solver not in ("sag", "saga")
    if name == "LinearSVC":
        return params.get("dual") is False
    return False
