"""Tests of ResampledEstimator (resample, then fit with the synthetic-row weights)."""

import pickle

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from skltsynth.resamplers.base import BaseEmbeddingResampler, SyntheticRows
from skltsynth.heads.meta import ResampledEstimator

from ._toy import JitterResampler

EXPECTED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "repeating a row changes the class counts the resampler sees, hence the synthetic "
        "rows it makes: weights cannot be equivalent to repeated rows"
    ),
}


@parametrize_with_checks(
    [ResampledEstimator(JitterResampler(random_state=0), LogisticRegression())],
    expected_failed_checks=lambda est: EXPECTED,
)
def test_sklearn_checks(estimator, check):
    check(estimator)


class HalfWeightResampler(JitterResampler):
    """Synthetic rows weigh 0.5 (to see the weights reach the estimator)."""

    def _generate(self, X, y, plan):
        rows = super()._generate(X, y, plan)
        return SyntheticRows(rows.X, rows.y, np.full(len(rows.y), 0.5))


class RecordingLR(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        self.seen_weight_ = sample_weight
        return super().fit(X, y, sample_weight=sample_weight)


def _data(n_major=40, n_minor=8, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array([0] * n_major + [1] * n_minor + [2] * n_minor)
    X = rng.normal(size=(len(y), 4)) + 2 * y[:, None]
    return X, y


def test_weights_reach_the_estimator_and_user_weights_scale_real_rows():
    X, y = _data()
    model = ResampledEstimator(HalfWeightResampler(random_state=0), RecordingLR())
    model.fit(X, y)
    w = model.estimator_.seen_weight_
    n = len(y)
    assert np.all(w[:n] == 1.0) and np.all(w[n:] == 0.5)
    assert len(w) == n + 2 * 32
    user = np.linspace(0.5, 2, n)
    model.fit(X, y, sample_weight=user)
    w = model.estimator_.seen_weight_
    assert np.allclose(w[:n], user) and np.all(w[n:] == 0.5)
    assert np.array_equal(model.sample_weight_, w)


def test_user_weights_follow_undersampler_indices():
    X, y = _data()
    user = np.arange(len(y), dtype=float) + 1
    model = ResampledEstimator(RandomUnderSampler(random_state=0), RecordingLR())
    model.fit(X, y, sample_weight=user)
    idx = model.resampler_.sample_indices_
    assert np.array_equal(model.estimator_.seen_weight_, user[idx])


def test_delegation_params_and_tags():
    X, y = _data()
    model = ResampledEstimator(JitterResampler(random_state=0), LogisticRegression())
    assert is_classifier(model)
    assert not hasattr(ResampledEstimator(JitterResampler(), Ridge()), "predict_proba")
    model.fit(X, y)
    assert np.array_equal(model.classes_, [0, 1, 2])
    assert model.predict_proba(X).shape == (len(y), 3)
    assert model.decision_function(X).shape == (len(y), 3)
    assert 0.5 < model.score(X, y) <= 1.0
    assert model.n_features_in_ == 4
    params = model.get_params()
    assert params["resampler__scale"] == 0.01 and params["estimator__C"] == 1.0
    model.set_params(resampler__scale=0.1, estimator__C=3.0)
    assert model.resampler.scale == 0.1 and model.estimator.C == 3.0
    cloned = clone(model)
    assert cloned.estimator.C == 3.0 and not hasattr(cloned, "estimator_")
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(restored.predict(X), model.predict(X))


def test_regressor_with_dir_resampler():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] ** 3 + 0.1 * rng.normal(size=120)
    model = ResampledEstimator(JitterResampler(random_state=0, n_bins=6), Ridge())
    assert is_regressor(model)
    model.fit(X, y)
    assert model.resampler_.target_type_ == "regression"
    assert model.predict(X).shape == (120,)
    assert not hasattr(model, "classes_") or pytest.raises(AttributeError)


def test_grid_search_over_nested_params():
    X, y = _data()
    model = ResampledEstimator(RandomOverSampler(random_state=0), LogisticRegression())
    grid = GridSearchCV(model, {"estimator__C": [0.1, 10.0]}, cv=3).fit(X, y)
    assert grid.best_params_["estimator__C"] in (0.1, 10.0)
    assert grid.predict(X).shape == y.shape


def test_clear_errors():
    X, y = _data()
    with pytest.raises(TypeError, match="sample_weight"):
        ResampledEstimator(JitterResampler(), KNeighborsClassifier()).fit(X, y)
    with pytest.raises(TypeError, match="fit_resample"):
        ResampledEstimator(LogisticRegression(), LogisticRegression()).fit(X, y)
    assert isinstance(JitterResampler(), BaseEmbeddingResampler)
