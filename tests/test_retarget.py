"""LinearRetarget: targets of moved rows follow a ridge model of the real rows."""

import numpy as np
import pytest

from skltsynth.policy.retarget import LinearRetarget


def _linear(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)) * [1.0, 10.0, 0.1, 1.0]
    y = X @ [2.0, 0.3, -5.0, 0.0] + 0.01 * rng.standard_normal(n)
    return X, y


def test_shift_is_the_ridge_slope_times_the_move_on_raw_features():
    X, y = _linear()
    r = LinearRetarget().fit(X, y)
    # slopes on the original scales, whatever the column scales
    np.testing.assert_allclose(r.coef_, [2.0, 0.3, -5.0, 0.0], atol=0.02)
    x0, t = X[:5], y[:5]
    moved = x0 + np.random.default_rng(1).normal(0, 0.05, x0.shape)
    np.testing.assert_allclose(r.transform(x0, moved, t), t + (moved - x0) @ r.coef_)
    # the moved row keeps the start's residual under the model
    np.testing.assert_allclose(moved @ r.coef_ - r.transform(x0, moved, t), x0 @ r.coef_ - t,
                               atol=1e-9)
    assert np.array_equal(r.transform(x0, x0, t), t)


def test_moved_targets_stay_in_the_real_range():
    X, y = _linear()
    r = LinearRetarget().fit(X, y)
    far = X[:3] + 100.0 * np.sign(r.coef_)
    out = r.transform(X[:3], far, y[:3])
    assert np.all(out == y.max()) and r.target_range_ == (y.min(), y.max())


def test_large_inputs_fit_on_a_reproducible_sample():
    X, y = _linear(n=500)
    a = LinearRetarget(max_rows=100, random_state=0).fit(X, y)
    b = LinearRetarget(max_rows=100, random_state=0).fit(X, y)
    full = LinearRetarget().fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, full.coef_)
    np.testing.assert_allclose(a.coef_, full.coef_, atol=0.05)


def test_bad_shapes_are_named():
    X, y = _linear()
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        LinearRetarget().fit(X, y[:-1])


def test_float32_rows_give_the_float64_shift():
    X, y = _linear()
    r = LinearRetarget().fit(X.astype(np.float32), y)
    x0 = X[:20].astype(np.float32)
    moved = x0 + np.float32(0.01)
    out = r.transform(x0, moved, y[:20])
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, y[:20] + (moved.astype(np.float64) - x0) @ r.coef_, rtol=1e-5)
