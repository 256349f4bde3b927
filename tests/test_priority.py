"""Tests of the per-bin priority policy."""

import numpy as np
import pytest

from skltsynth.policy.priority import bin_errors
from skltsynth.policy.targets import priority_allocation


def _data(seed=0):
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.normal(0, 0.5, 300), rng.uniform(2, 4, 30)])
    X = np.column_stack([np.tanh(y), rng.standard_normal((330, 6))]) + 0.05 * rng.standard_normal((330, 7))
    groups = np.clip(np.floor(y + 2).astype(int), 0, 5)
    return X, y, groups


def test_bin_errors_shape_nan_and_tail_harder():
    X, y, groups = _data()
    err = bin_errors(X, y, groups, n_groups=7, random_state=0)
    assert err.shape == (7,)
    assert np.isnan(err[6])  # no rows
    assert err[5] > err[2]  # the saturated tail is harder than the bulk
    np.testing.assert_array_equal(err, bin_errors(X, y, groups, n_groups=7, random_state=0))


def test_mse_metric_is_larger_spread():
    X, y, groups = _data()
    mae = bin_errors(X, y, groups, random_state=0)
    mse = bin_errors(X, y, groups, metric="mse", random_state=0)
    assert np.all(mse[np.isfinite(mse)] >= 0) and not np.allclose(mae, mse)


def test_priority_allocation_lambda():
    counts = np.array([200, 50, 10, 10])
    errors = np.array([0.1, 0.1, 0.2, 0.9])
    flat = priority_allocation(counts, errors, 100, lam=0.0)
    assert flat.sum() == 100 and flat[2] == flat[3]
    tilted = priority_allocation(counts, errors, 100, lam=0.9)
    assert tilted.sum() == 100 and tilted[3] > flat[3]


@pytest.mark.parametrize("kwargs", [{"metric": "bad"}, {"cv": 1}])
def test_bad_parameters(kwargs):
    X, y, groups = _data()
    with pytest.raises(ValueError):
        bin_errors(X, y, groups, **kwargs)
