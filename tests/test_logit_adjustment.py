"""Tests of skltsynth.LogitAdjustedClassifier."""

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skltsynth import LogitAdjustedClassifier, ResampledEstimator


def _long_tailed(n=400, random_state=0):
    return make_classification(n, 6, n_informative=4, n_classes=3, weights=[0.8, 0.15, 0.05],
                               class_sep=0.8, random_state=random_state)


def _expected_failures(estimator):
    if isinstance(estimator.estimator, GaussianNB):
        # GaussianNB's own log-probabilities far in the tail (around -350) differ by ~0.08
        # between weighted and repeated rows; its predict_proba hides that by underflowing
        # to 0, our adjusted scores are computed from predict_log_proba and show it.
        return {"check_sample_weight_equivalence_on_dense_data":
                "GaussianNB.predict_log_proba is not weight-equivalent far in the tail"}
    return {}


@parametrize_with_checks([LogitAdjustedClassifier(LogisticRegression()),
                          LogitAdjustedClassifier(GaussianNB(), scores="predict_proba")],
                         expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_adjusted_scores_are_scores_minus_tau_log_prior():
    X, y = _long_tailed()
    clf = LogitAdjustedClassifier(LogisticRegression(), tau=1.5).fit(X, y)
    counts = np.bincount(y) / len(y)
    assert np.allclose(clf.prior_, counts)
    raw = clf.estimator_.decision_function(X)
    assert np.allclose(clf.decision_function(X), raw - 1.5 * np.log(counts))
    assert np.array_equal(clf.predict(X), np.argmax(raw - 1.5 * np.log(counts), axis=1))
    assert np.allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    assert np.allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))


def test_adjustment_moves_predictions_to_rare_classes():
    X, y = _long_tailed()
    plain = LogisticRegression().fit(X, y)
    adjusted = LogitAdjustedClassifier(LogisticRegression()).fit(X, y)
    assert (adjusted.predict(X) == 2).sum() > (plain.predict(X) == 2).sum()
    zero = LogitAdjustedClassifier(LogisticRegression(), tau=0.0).fit(X, y)
    assert np.array_equal(zero.predict(X), plain.predict(X))


def test_prior_comes_from_the_real_rows_when_the_estimator_resamples():
    X, y = _long_tailed()
    inner = ResampledEstimator(RandomOverSampler(random_state=0), LogisticRegression())
    clf = LogitAdjustedClassifier(inner).fit(X, y)
    assert np.allclose(clf.prior_, np.bincount(y) / len(y))
    assert not np.allclose(clf.prior_, 1 / 3)


def test_probabilities_and_binary_decision_function():
    X, y = make_classification(200, 5, weights=[0.85, 0.15], random_state=0)
    knn = LogitAdjustedClassifier(KNeighborsClassifier(5)).fit(X, y)  # zero probabilities
    assert np.all(np.isfinite(knn.predict_proba(X)))
    svc = LogitAdjustedClassifier(LinearSVC()).fit(X, y)
    df = svc.decision_function(X)
    assert df.shape == (200,)
    prior = np.bincount(y) / len(y)
    shift = np.log(prior[1]) - np.log(prior[0])
    assert np.allclose(df, svc.estimator_.decision_function(X) - shift)
    assert np.array_equal(svc.predict(X), (df > 0).astype(int))


def test_tau_is_tunable_and_bad_settings_are_refused():
    X, y = _long_tailed()
    grid = GridSearchCV(LogitAdjustedClassifier(LogisticRegression()), {"tau": [0.0, 1.0]},
                        cv=3, scoring="balanced_accuracy").fit(X, y)
    assert grid.best_params_["tau"] in (0.0, 1.0)
    with pytest.raises(ValueError, match="tau"):
        LogitAdjustedClassifier(LogisticRegression(), tau=-1).fit(X, y)
    with pytest.raises(ValueError, match="decision_function"):
        LogitAdjustedClassifier(KNeighborsClassifier(), scores="decision_function").fit(X, y)
    with pytest.raises(AttributeError):
        LogitAdjustedClassifier(object()).predict
