"""Tests of the Mahalanobis quality gate."""

import numpy as np
import pytest

from skltsynth.policy.quality import MahalanobisGate


def _data(n_per, d, n_groups, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d)) / np.sqrt(d)
    groups = np.repeat(np.arange(n_groups), n_per)
    X = rng.standard_normal((groups.size, d)) @ A + groups[:, None] * 0.5
    return X, groups, A, rng


@pytest.mark.parametrize("n, d", [(15, 64), (300, 32), (40, 200)])
def test_fresh_rows_pass_at_about_the_quantile(n, d):
    X, groups, A, rng = _data(n, d, 1)
    gate = MahalanobisGate(quantile=0.9, random_state=0).fit(X, groups)
    fresh = rng.standard_normal((4000, d)) @ A
    rate = gate.accept(fresh, np.zeros(4000, dtype=int)).mean()
    assert 0.75 <= rate <= 1.0


def test_far_point_rejected_and_near_point_accepted():
    X, groups, _, _ = _data(30, 16, 3)
    gate = MahalanobisGate(random_state=0).fit(X, groups, ordered=True)
    centre = X[groups == 1].mean(axis=0)
    mask = gate.accept(np.vstack([centre, centre + 100.0]), np.array([1, 1]))
    assert mask.tolist() == [True, False]
    assert np.all(np.isfinite(gate.thresholds_))


def test_small_bins_pool_neighbours_and_empty_far_bins_reject():
    rng = np.random.default_rng(1)
    groups = np.array([0] * 30 + [1] * 2 + [2] * 30)
    X = rng.standard_normal((62, 8))
    gate = MahalanobisGate(min_rows=10, random_state=0).fit(X, groups, n_groups=6, ordered=True)
    assert np.isfinite(gate.thresholds_[1])  # 2 rows, pooled with neighbours
    assert np.isfinite(gate.thresholds_[3])  # empty but next to bin 2
    assert np.isnan(gate.thresholds_[5])  # empty and far from data
    assert not gate.accept(X[:1], np.array([5]))[0]


def test_small_classes_use_pooled_covariance():
    X, groups, _, _ = _data(40, 10, 3)
    X = np.vstack([X, X[:3] + 5.0])
    groups = np.concatenate([groups, [3, 3, 3]])
    gate = MahalanobisGate(min_rows=10, random_state=0).fit(X, groups)
    score = gate.score(np.vstack([X[-3:].mean(0), X[-3:].mean(0) + 30]), np.array([3, 3]))
    assert score[0] < 1.0 < score[1]


def test_score_is_vectorised_and_deterministic():
    X, groups, _, _ = _data(50, 12, 2)
    a = MahalanobisGate(random_state=3).fit(X, groups).score(X, groups)
    b = MahalanobisGate(random_state=3).fit(X, groups).score(X, groups)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (100,)


@pytest.mark.parametrize("kwargs", [{"quantile": 0.0}, {"quantile": 1.5}, {"min_rows": 1}, {"cv": 1}])
def test_bad_parameters(kwargs):
    X, groups, _, _ = _data(20, 4, 2)
    with pytest.raises(ValueError):
        MahalanobisGate(**kwargs).fit(X, groups)


@pytest.mark.parametrize("n, d", [(10, 300), (40, 41), (200, 64)])
def test_gram_shrinkage_matches_sklearn(n, d):
    from sklearn.covariance import ledoit_wolf_shrinkage

    from skltsynth.policy.quality import _lw_shrinkage

    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, d)) @ rng.standard_normal((d, d))
    X -= X.mean(axis=0)
    assert _lw_shrinkage(X) == pytest.approx(ledoit_wolf_shrinkage(X, assume_centered=True), rel=1e-9)


def test_max_radius_leaves_far_isolated_bins_without_a_model():
    rng = np.random.default_rng(2)
    groups = np.array([0] * 40 + [1] * 30 + [5])  # bin 5: one row, nothing next door
    X = rng.standard_normal((groups.size, 6))
    near = MahalanobisGate(min_rows=10, max_radius=1, random_state=0).fit(
        X, groups, n_groups=6, ordered=True)
    assert np.isnan(near.thresholds_[5]) and not near.accept(X[-1:], np.array([5]))[0]
    far = MahalanobisGate(min_rows=10, random_state=0).fit(X, groups, n_groups=6, ordered=True)
    assert np.isfinite(far.thresholds_[5])  # borrowed rows of bins 0 and 1: a different target
    with pytest.raises(ValueError, match="max_radius"):
        MahalanobisGate(max_radius=-1).fit(X, groups)
