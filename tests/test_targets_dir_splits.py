"""Tests of the real tabular DIR tasks and their balanced splits."""

import numpy as np
import pytest

from skltsynth.datasets import load_fair_dir, make_dir_splits


def test_make_dir_splits_balanced_evaluation_long_tailed_train():
    rng = np.random.default_rng(0)
    y = rng.exponential(0.5, 4000)
    X = np.column_stack([y, rng.standard_normal(4000)]) * 3 + 1
    d = make_dir_splits(X, y, per_bin=30, random_state=0)
    assert d.X_train.shape[0] + d.X_val.shape[0] + d.X_test.shape[0] == 4000
    counts = np.histogram(y, d.bin_edges)[0]
    test = np.histogram(d.y_test, d.bin_edges)[0]
    np.testing.assert_array_equal(test, np.minimum(30, counts // 3))
    np.testing.assert_array_equal(np.histogram(d.y_val, d.bin_edges)[0], test)
    train = np.histogram(d.y_train, d.bin_edges)[0]
    assert train[0] > 10 * max(train[-3:].max(), 1)  # the tail stays rare in train
    np.testing.assert_allclose(d.X_train.mean(0), 0, atol=1e-9)
    again = make_dir_splits(X, y, per_bin=30, random_state=0)
    np.testing.assert_array_equal(again.y_test, d.y_test)
    with pytest.raises(ValueError, match="per_bin"):
        make_dir_splits(X, y, per_bin=0)


def test_load_fair_dir():
    d = load_fair_dir()
    assert d.X_train.shape[1] == 8 and len(d.feature_names) == 8
    assert d.X_train.shape[0] + d.X_val.shape[0] + d.X_test.shape[0] == 6366
    assert np.all(d.y_train >= 0) and "log1p(affairs)" in d.DESCR
