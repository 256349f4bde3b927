"""Tests of skltsynth.tooling.metrics."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from skltsynth.tooling.metrics import (
    classification_shot_groups,
    coverage,
    density,
    diversity,
    knn_precision_recall,
    mmd_rbf,
    nearest_real_distance,
    regression_shot_report,
    shot_group_report,
    synthetic_quality_report,
)


def test_classification_shot_groups_thresholds():
    y_train = np.repeat([0, 1, 2, 3, 4], [50, 49, 15, 14, 1])
    groups = classification_shot_groups(y_train, [0, 1, 2, 3, 4, 9])
    assert groups.tolist() == ["many", "medium", "medium", "few", "few", "few"]
    groups = classification_shot_groups(y_train, [0, 1, 2, 3], many=49, few=15)
    assert groups.tolist() == ["many", "many", "medium", "few"]
    with pytest.raises(ValueError, match="few"):
        classification_shot_groups(y_train, [0], many=10, few=20)


def test_shot_group_report_values():
    y_train = np.repeat(["a", "b", "c"], [60, 20, 3])
    y_true = np.array(["a", "a", "b", "b", "c", "c"])
    y_pred = np.array(["a", "a", "b", "a", "c", "a"])
    r = shot_group_report(y_true, y_pred, y_train)
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["many_accuracy"] == 1.0 and r["medium_accuracy"] == 0.5 and r["few_accuracy"] == 0.5
    assert (r["many_n"], r["medium_n"], r["few_n"]) == (2, 2, 2)
    f1 = f1_score(y_true, y_pred, labels=["a", "b", "c"], average=None)
    assert r["macro_f1"] == pytest.approx(f1.mean())
    assert r["many_macro_f1"] == pytest.approx(f1[0]) and r["few_macro_f1"] == pytest.approx(f1[2])


def test_shot_group_report_empty_group_is_nan():
    r = shot_group_report([0, 1], [0, 1], [0] * 60 + [1] * 60)
    assert r["many_accuracy"] == 1.0 and np.isnan(r["few_accuracy"]) and r["few_n"] == 0
    with pytest.raises(ValueError, match="same length"):
        shot_group_report([0, 1], [0], [0, 1])


def test_regression_shot_report_values():
    edges = [0.0, 1.0, 2.0, 3.0]
    y_train = np.r_[np.full(150, 0.5), np.full(50, 1.5), np.full(5, 2.5)]
    y_true = np.array([0.5, 0.5, 1.5, 2.5])
    y_pred = np.array([0.5, 1.5, 1.0, 2.0])
    r = regression_shot_report(y_true, y_pred, y_train, edges)
    err = np.abs(y_true - y_pred)
    assert r["mae"] == pytest.approx(err.mean()) and r["mse"] == pytest.approx((err**2).mean())
    assert r["gm"] == pytest.approx(np.exp(np.mean(np.log(np.maximum(err, 1e-10)))))
    assert r["many_n"] == 2 and r["medium_n"] == 1 and r["few_n"] == 1
    assert r["many_mae"] == pytest.approx(0.5) and r["few_mse"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="NaN"):
        regression_shot_report(y_true, [np.nan] * 4, y_train, edges)


def test_mmd_rbf():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    same, shifted = mmd_rbf(a, b), mmd_rbf(a, b + 1.0)
    assert abs(same) < 0.01 and shifted > 0.1
    # Agrees with a direct dense computation.
    g = 0.3
    K = lambda x, y: np.exp(-g * ((x[:, None] - y[None]) ** 2).sum(-1))  # noqa: E731
    kxx, kyy, kxy = K(a, a), K(b, b), K(a, b)
    n = len(a)
    expected = (kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - n) / (n * (n - 1)) - 2 * kxy.mean()
    assert mmd_rbf(a, b, gamma=g) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError, match="at least 2"):
        mmd_rbf(a[:1], b)


def test_precision_recall_density_coverage():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(400, 3))
    good = rng.normal(size=(400, 3))
    collapsed = np.repeat(real[:3], 100, axis=0) + 1e-4
    far = good + 10
    p, r = knn_precision_recall(real, good)
    assert p > 0.8 and r > 0.8
    p, r = knn_precision_recall(real, collapsed)
    assert p == 1.0 and r < 0.1
    assert knn_precision_recall(real, far) == (0.0, 0.0)
    assert 0.7 < density(real, good) < 1.3 and density(real, far) == 0.0
    assert coverage(real, good) > 0.8 and coverage(real, collapsed) < 0.05
    with pytest.raises(ValueError, match="k must"):
        coverage(real, good, k=0)


def test_diversity_and_nearest_real_distance():
    X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert diversity(X) == pytest.approx((5 + 10 + 5) / 3)
    d = nearest_real_distance(X, np.array([[3.0, 4.0], [0.0, 1.0]]))
    np.testing.assert_allclose(d, [0.0, 1.0])


def test_synthetic_quality_report_classes_and_bins():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 5))
    y = np.repeat([0, 1, 2], [60, 20, 10])
    copies = X[80:90][rng.integers(0, 10, 30)]
    jitter = X[60:80][rng.integers(0, 20, 30)] + 0.1 * rng.normal(size=(30, 5))
    X_syn = np.r_[copies, jitter]
    y_syn = np.repeat([2, 1], 30)
    rep = synthetic_quality_report(X, y, X_syn, y_syn, k=3)
    per = rep["per_group"].set_index("group")
    assert per.loc[2, "shot"] == "few" and per.loc[1, "shot"] == "medium"
    assert per.loc[2, "copy_fraction"] == 1.0 and per.loc[1, "copy_fraction"] == 0.0
    assert per.loc[2, "nearest_real_ratio"] == 0.0 and per.loc[1, "nearest_real_ratio"] > 0
    assert list(rep["per_shot"].index) == ["medium", "few", "all"]
    # Regression: bins of a continuous target.
    t = np.r_[rng.uniform(0, 1, 150), rng.uniform(1, 2, 10)]
    Xr = rng.normal(size=(160, 4))
    rep = synthetic_quality_report(Xr, t, Xr[150:] + 0.01, t[150:], bins=[0.0, 1.0, 2.0])
    assert rep["per_group"]["group"].tolist() == [1]
    assert rep["per_group"]["shot"].tolist() == ["few"]
