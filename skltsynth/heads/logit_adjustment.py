"""Post-hoc logit adjustment: subtract ``tau * log(prior)`` from a classifier's scores.

A classifier fitted on long-tailed data learns the training prior into its
scores; predicting ``argmax_y score_y(x) - tau * log(prior_y)`` instead
removes it (Menon et al. 2021, "Long-tail learning via logit adjustment",
ICLR; ``tau = 1`` is the Bayes-optimal rule for the balanced error when the
scores are calibrated log-probabilities).  It costs no resampling and no
refit.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    assert_all_finite,
    check_is_fitted,
    column_or_1d,
)

__all__ = ["LogitAdjustedClassifier"]

#: Probabilities are clipped here before the log (a kNN or forest gives zeros).
_TINY = np.finfo(np.float64).tiny
_LOG_TINY = float(np.log(_TINY))


def _has_scores(self):
    """The (fitted or unfitted) estimator has decision_function or predict_proba."""
    est = getattr(self, "estimator_", self.estimator)
    if not (hasattr(est, "decision_function") or hasattr(est, "predict_proba")):
        raise AttributeError(
            f"{type(est).__name__} has neither decision_function nor predict_proba."
        )
    return True


class LogitAdjustedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit a classifier, then predict with its scores shifted by ``-tau * log(prior)``.

    ``fit(X, y)`` fits a clone of ``estimator`` and takes the class prior
    from ``y`` -- the real training rows, also when ``estimator`` resamples
    inside (a :class:`~skltsynth.ResampledEstimator` or an imbalanced-learn
    pipeline with a sampler): the prior is what the rows passed to ``fit``
    say, never the resampled one.  Predictions are the argmax of the adjusted
    scores ``s(x) - tau * log(prior_)``, where ``s`` is
    ``decision_function`` or ``log(predict_proba)`` (``predict_log_proba`` when
    the estimator has one; log-probabilities are clipped at ``log`` of the
    smallest positive float, so a zero probability stays finite).

    Use it for heads that learn a bias from the class frequencies and expose
    scores: linear models (``LogisticRegression``, ``LinearSVC``) and
    ``MLPClassifier``.  A neighbour or forest head has coarse, often zero
    probabilities; it gets more from resampling (see the benchmark page).

    Parameters
    ----------
    estimator : classifier
        Has ``fit`` and ``decision_function`` and/or ``predict_proba``.
    tau : float, default=1.0
        Strength of the adjustment (``0``: the plain estimator).  ``1`` suits
        scores that are log-probabilities up to a per-row constant
        (``LogisticRegression``, ``MLPClassifier``); margins such as
        ``LinearSVC``'s are on a smaller scale and need a smaller ``tau``.
        Tune it with :class:`~sklearn.model_selection.GridSearchCV` (``tau``).
    scores : {"auto", "decision_function", "predict_proba"}, default="auto"
        The scores to adjust: ``"auto"`` takes ``decision_function`` when the
        estimator has one, else ``log(predict_proba)``.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the order of ``estimator_.classes_``.
    prior_ : ndarray of shape (n_classes,)
        Class frequencies of the ``y`` given to :meth:`fit` (weighted by
        ``sample_weight`` when given), aligned with ``classes_``.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skltsynth import LogitAdjustedClassifier
    >>> X, y = make_classification(300, weights=[0.9, 0.1], random_state=0)
    >>> clf = LogitAdjustedClassifier(LogisticRegression(), tau=1.0).fit(X, y)
    >>> clf.prior_.round(2).tolist()
    [0.89, 0.11]
    >>> bool((clf.predict(X) == 1).sum() >= (clf.estimator_.predict(X) == 1).sum())
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "tau": [Interval(Real, 0, None, closed="left")],
        "scores": [StrOptions({"auto", "decision_function", "predict_proba"})],
    }

    def __init__(self, estimator, tau=1.0, scores="auto"):
        self.estimator = estimator
        self.tau = tau
        self.scores = scores

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the estimator and take the class prior from ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels of the real rows (they give ``prior_``).
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to ``estimator.fit`` and used for the prior.
        **fit_params : dict
            Passed to ``estimator.fit``.

        Returns
        -------
        self : LogitAdjustedClassifier
        """
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None.")
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            y_arr = column_or_1d(y_arr, warn=True)
        if y_arr.dtype.kind == "f":
            # type_of_target casts to int before its own finiteness check (RuntimeWarning)
            assert_all_finite(y_arr, input_name="y")
        check_classification_targets(y_arr)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, np.empty((len(y_arr), 0)))
            fit_params["sample_weight"] = sample_weight
        self.estimator_ = clone(self.estimator).fit(X, y_arr, **fit_params)
        if self.scores == "decision_function" and not hasattr(self.estimator_,
                                                             "decision_function"):
            raise ValueError(
                f"scores='decision_function' but {type(self.estimator_).__name__} has none."
            )
        if self.scores == "predict_proba" and not hasattr(self.estimator_, "predict_proba"):
            raise ValueError(
                f"scores='predict_proba' but {type(self.estimator_).__name__} has none."
            )
        if not hasattr(self.estimator_, "classes_"):
            raise TypeError(f"{type(self.estimator_).__name__} is not a classifier "
                            "(no classes_ after fit).")
        self.classes_ = np.asarray(self.estimator_.classes_)
        weight = np.ones(len(y_arr)) if sample_weight is None else sample_weight
        idx = np.searchsorted(self.classes_, y_arr)
        mass = np.bincount(idx, weights=weight, minlength=len(self.classes_))
        if np.any(mass <= 0):
            raise ValueError("Every class of the estimator needs a positive weight in y.")
        self.prior_ = mass / mass.sum()
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))
        return self

    def _raw_scores(self, X):
        """Per-class scores of the fitted estimator, shape (n_samples, n_classes)."""
        use_df = self.scores == "decision_function" or (
            self.scores == "auto" and hasattr(self.estimator_, "decision_function"))
        if use_df:
            s = np.asarray(self.estimator_.decision_function(X), dtype=np.float64)
            if s.ndim == 1:  # binary: the score of the positive class against 0
                s = np.column_stack([np.zeros_like(s), s])
            return s
        if hasattr(self.estimator_, "predict_log_proba"):
            with np.errstate(divide="ignore"):
                log_proba = np.asarray(self.estimator_.predict_log_proba(X), dtype=np.float64)
            return np.maximum(log_proba, _LOG_TINY)
        proba = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        return np.log(np.maximum(proba, _TINY))

    def _adjusted(self, X):
        check_is_fitted(self)
        return self._raw_scores(X) - self.tau * np.log(self.prior_)

    @available_if(_has_scores)
    def decision_function(self, X):
        """Adjusted scores ``s(x) - tau * log(prior_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes), or (n_samples,) for
            two classes (the positive class's score minus the negative's).
        """
        a = self._adjusted(X)
        return a[:, 1] - a[:, 0] if a.shape[1] == 2 else a

    @available_if(_has_scores)
    def predict(self, X):
        """Class of the largest adjusted score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        adjusted = self._adjusted(X)
        return self.classes_[np.argmax(adjusted, axis=1)]

    @available_if(_has_scores)
    def predict_proba(self, X):
        """Softmax of the adjusted scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._adjusted(X), axis=1)

    @available_if(_has_scores)
    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._adjusted(X), axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        est = get_tags(self.estimator)
        tags.input_tags = est.input_tags
        tags.non_deterministic = est.non_deterministic
        return tags
