"""Meta-estimator: resample, then fit an estimator with the synthetic-row weights.

imbalanced-learn's :class:`~imblearn.pipeline.Pipeline` passes exactly two
outputs ``(X_res, y_res)`` from a sampler to the next step, and never resamples
metadata such as ``sample_weight``.  :class:`ResampledEstimator` is the
supported way to train on synthetic rows *with* their weights
(``resampler.sample_weight_``, e.g. the confidence weights of
:class:`~skltsynth.MemoryDDPMResampler`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
)

__all__ = ["ResampledEstimator", "resampled_weights"]


def _estimator_has(attr):
    """The fitted estimator (or, before fit, the unfitted one) has ``attr``."""

    def check(self):
        est = getattr(self, "estimator_", self.estimator)
        getattr(est, attr)
        return True

    return check


def resampled_weights(resampler, n, n_res, sample_weight=None):
    """Per-row weights of resampled data: the resampler's times the real rows' weights.

    The one rule of :class:`ResampledEstimator` (also used by the benchmark):
    ``resampler.sample_weight_`` when present (else 1 per row), with the
    real rows' ``sample_weight`` multiplied in -- real rows are found with the
    resampler's ``sample_indices_`` when it has one (under-samplers) and
    otherwise are the first ``n`` resampled rows.

    Parameters
    ----------
    resampler : object or None
        The fitted resampler (``None``: no resampling, ``n_res == n``).
    n : int
        Number of real rows given to ``fit_resample``.
    n_res : int
        Number of rows it returned.
    sample_weight : array-like of shape (n,), default=None
        Weights of the real rows.

    Returns
    -------
    weights : ndarray of shape (n_res,)

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.heads.meta import resampled_weights
    >>> resampled_weights(None, 3, 3, np.array([1.0, 2.0, 3.0])).tolist()
    [1.0, 2.0, 3.0]
    """
    w = getattr(resampler, "sample_weight_", None)
    w = np.ones(n_res) if w is None else np.asarray(w, dtype=np.float64).copy()
    if w.shape != (n_res,):
        raise ValueError(
            f"The resampler's sample_weight_ has shape {w.shape}, but it returned "
            f"{n_res} rows."
        )
    if sample_weight is None:
        return w
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    indices = getattr(resampler, "sample_indices_", None)
    if indices is not None:
        w *= sample_weight[np.asarray(indices)]
    elif n_res >= n:
        w[:n] *= sample_weight
    else:
        raise ValueError(
            "A sample_weight was given, but the resampler returned fewer rows than it "
            "received and exposes no sample_indices_: the real rows cannot be matched."
        )
    return w


class ResampledEstimator(MetaEstimatorMixin, BaseEstimator):
    """Resample the training data, then fit an estimator with per-row weights.

    ``fit(X, y)`` fits a clone of ``resampler`` with ``fit_resample`` and then
    a clone of ``estimator`` on the resampled rows with
    ``sample_weight=resampler_.sample_weight_`` (1.0 for real rows, the
    resampler's weight for synthetic rows).  Prediction methods delegate to
    the fitted estimator; the meta-estimator is a classifier or a regressor as
    ``estimator`` is.

    Parameters
    ----------
    resampler : object
        A sampler with ``fit_resample`` (any skltsynth resampler, or an
        imbalanced-learn sampler).  Its weights are read from
        ``sample_weight_`` when present; otherwise every row weighs 1.
    estimator : object
        A scikit-learn estimator whose ``fit`` accepts ``sample_weight``.

    Attributes
    ----------
    resampler_ : object
        The fitted clone of ``resampler``.
    estimator_ : object
        The fitted clone of ``estimator``.
    sample_weight_ : ndarray of shape (n_resampled,)
        The weights the estimator was fitted with.
    classes_ : ndarray of shape (n_classes,)
        Class labels (classifiers only).
    n_features_in_ : int
        Number of features seen during fit.

    Notes
    -----
    A user ``sample_weight`` passed to :meth:`fit` weights the *real* rows:
    real row ``i`` gets ``sample_weight[i]`` (times the resampler's weight of
    that row, which is 1 for skltsynth resamplers) and synthetic rows keep the
    resampler's weights.  Real rows are found with the resampler's
    ``sample_indices_`` when it has one (under-samplers) and otherwise are the
    first ``n_samples`` resampled rows, which holds for skltsynth resamplers
    and imbalanced-learn's over-samplers.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> from skltsynth import ResampledEstimator
    >>> X, y = make_classification(weights=[0.9, 0.1], random_state=0)
    >>> model = ResampledEstimator(RandomOverSampler(random_state=0), LogisticRegression())
    >>> model.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> model.get_params()["estimator__C"]
    1.0
    """

    def __init__(self, resampler, estimator):
        self.resampler = resampler
        self.estimator = estimator

    def fit(self, X, y, sample_weight=None, **fit_params):
        """Resample ``X, y`` and fit the estimator with the row weights.

        Parameters
        ----------
        X : {array-like, dataframe} of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the real rows (see Notes of the class).
        **fit_params : dict
            Passed to ``estimator.fit``.

        Returns
        -------
        self : ResampledEstimator
        """
        if not hasattr(self.resampler, "fit_resample"):
            raise TypeError(
                f"resampler must have a fit_resample method; got {type(self.resampler).__name__}."
            )
        if not has_fit_parameter(self.estimator, "sample_weight"):
            raise TypeError(
                f"{type(self.estimator).__name__}.fit does not accept sample_weight, which "
                "ResampledEstimator needs to pass the synthetic-row weights on. Use an "
                "imblearn Pipeline instead if the weights are not wanted."
            )
        n = len(X) if hasattr(X, "__len__") else np.asarray(X).shape[0]
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, np.empty((n, 0)))
        y_shape = np.asarray(y).shape if not hasattr(y, "shape") else y.shape
        if len(y_shape) == 2 and y_shape[1] == 1:
            y = column_or_1d(np.asarray(y), warn=True)  # a column vector, as sklearn estimators warn
        self.resampler_ = clone(self.resampler)
        X_res, y_res = self.resampler_.fit_resample(X, y)
        self.sample_weight_ = resampled_weights(self.resampler_, n, len(y_res), sample_weight)
        self.estimator_ = clone(self.estimator)
        self.estimator_.fit(X_res, y_res, sample_weight=self.sample_weight_, **fit_params)
        for attr in ("n_features_in_", "feature_names_in_"):
            value = getattr(self.estimator_, attr, getattr(self.resampler_, attr, None))
            if value is not None:
                setattr(self, attr, value)
        return self

    @property
    def classes_(self):
        """Class labels of the fitted classifier."""
        check_is_fitted(self)
        return self.estimator_.classes_

    @available_if(_estimator_has("predict"))
    def predict(self, X, **params):
        """Predict with the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        **params : dict
            Passed to ``estimator_.predict``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.estimator_.predict(X, **params)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities of the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the fitted estimator on ``X, y`` (its own ``score``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        est = get_tags(self.estimator)
        res = get_tags(self.resampler)
        tags.estimator_type = est.estimator_type
        tags.classifier_tags = est.classifier_tags
        tags.regressor_tags = est.regressor_tags
        tags.target_tags.required = True
        tags.input_tags.sparse = est.input_tags.sparse and res.input_tags.sparse
        tags.input_tags.allow_nan = est.input_tags.allow_nan and res.input_tags.allow_nan
        tags.non_deterministic = est.non_deterministic or res.non_deterministic
        return tags
