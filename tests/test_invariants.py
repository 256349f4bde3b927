"""Property-based invariants of every resampler (hypothesis, small random problems).

For random small classification and continuous-target problems:

* the output starts with the input rows, unchanged and in order;
* synthetic rows per class / DIR bin equal ``sampling_strategy_``;
* synthetic labels are valid classes (or lie within the bin range);
* ``is_synthetic_`` and ``sample_weight_`` have the output length (real rows
  weigh 1, synthetic weights are finite and non-negative);
* the same ``random_state`` and device give identical output;
* a fitted resampler survives pickling, and ``fit_resample`` on the loaded copy
  reproduces the output.
"""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from skltsynth.resamplers.base import BaseEmbeddingResampler
from skltsynth.policy.targets import assign_bins

from ._estimators import ESTIMATORS

RESAMPLERS = [e for e in ESTIMATORS if hasattr(e, "fit_resample")]
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _supports_regression(est):
    from sklearn.utils._param_validation import StrOptions

    opts = set()
    for c in getattr(est, "_parameter_constraints", {}).get("target_type", []):
        if isinstance(c, StrOptions):
            opts |= set(c.options)
    return isinstance(est, BaseEmbeddingResampler) and "regression" in opts


@st.composite
def class_problems(draw):
    """Small long-tailed classification problems (labels may be non-contiguous ints)."""
    n_classes = draw(st.integers(2, 4))
    counts = draw(st.lists(st.integers(2, 12), min_size=n_classes, max_size=n_classes))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**16))
    label_kind = draw(st.sampled_from(["int", "str"]))
    rng = np.random.default_rng(seed)
    labels = np.sort(rng.choice(50, size=n_classes, replace=False))
    if label_kind == "str":
        labels = np.array([f"c{v}" for v in labels])
    y = np.repeat(labels, counts)
    perm = rng.permutation(len(y))
    y = y[perm]
    X = rng.normal(size=(len(y), d)) * draw(st.sampled_from([0.1, 1.0, 10.0]))
    X = X.astype(draw(st.sampled_from([np.float32, np.float64])))
    strategy = draw(st.sampled_from(["auto", "all", "dict"]))
    if strategy == "dict":
        cls, n = np.unique(y, return_counts=True)
        strategy = {c.item(): int(k) + draw(st.integers(0, 5)) for c, k in zip(cls, n)}
    return X, y, strategy


@st.composite
def regression_problems(draw):
    n = draw(st.integers(20, 60))
    d = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    shape = draw(st.sampled_from(["normal", "skewed", "ties"]))
    if shape == "normal":
        y = X[:, 0] + 0.3 * rng.normal(size=n)
    elif shape == "skewed":
        y = rng.exponential(size=n)
    else:
        y = rng.choice([0.0, 0.5, 1.0, 3.0], size=n, p=[0.6, 0.25, 0.1, 0.05])
        y[0] = 3.0
        y[1] = 0.0
    n_bins = draw(st.sampled_from([None, 4, 8]))
    synthetic_target = draw(st.sampled_from(["centre", "uniform"]))
    return X, y, n_bins, synthetic_target


def _assert_invariants(est, X, y, X_res, y_res, task, check_bins=True):
    X_res, y_res = np.asarray(X_res), np.asarray(y_res)
    n = len(X)
    m = len(X_res) - n
    assert m >= 0
    # originals first, unchanged and in order
    np.testing.assert_array_equal(X_res[:n], X.astype(X_res.dtype))
    np.testing.assert_array_equal(y_res[:n], y)
    assert X_res.dtype == X.dtype
    assert np.all(np.isfinite(X_res))
    # fitted attributes have the output length
    assert est.is_synthetic_.shape == (n + m,)
    assert not est.is_synthetic_[:n].any() and est.is_synthetic_[n:].all()
    assert est.sample_weight_.shape == (n + m,)
    np.testing.assert_array_equal(est.sample_weight_[:n], 1.0)
    assert np.all(np.isfinite(est.sample_weight_)) and np.all(est.sample_weight_ >= 0)
    # counts per group equal sampling_strategy_
    want = {k: int(v) for k, v in est.sampling_strategy_.items() if int(v) > 0}
    assert m == sum(want.values())
    y_new = y_res[n:]
    if task == "classification":
        assert set(y_new.tolist()) <= set(np.unique(y).tolist())
        assert dict(Counter(y_new.tolist())) == want
    else:
        edges = est.bin_edges_
        assert np.all(np.isfinite(y_new))
        assert np.all((y_new >= edges[0]) & (y_new <= edges[-1]))
        if check_bins:
            got = Counter(assign_bins(y_new, edges).tolist()) if m else Counter()
            assert dict(got) == want


def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a[0]), np.asarray(b[0]))
    np.testing.assert_array_equal(np.asarray(a[1]), np.asarray(b[1]))


def _run_all(estimator, X, y, task, check_bins=True, **params):
    est = clone(estimator).set_params(random_state=0, device="cpu", **params)
    out = est.fit_resample(X, y)
    _assert_invariants(est, X, y, *out, task, check_bins=check_bins)
    # same random_state and device -> identical output (rows, targets and weights)
    twin = clone(est)
    _same(out, twin.fit_resample(X, y))
    np.testing.assert_array_equal(twin.sample_weight_, est.sample_weight_)
    # pickling a fitted resampler; refitting the loaded copy reproduces the output
    loaded = pickle.loads(pickle.dumps(est))
    assert sorted(loaded.get_params(deep=False)) == sorted(est.get_params(deep=False))
    np.testing.assert_array_equal(loaded.is_synthetic_, est.is_synthetic_)
    np.testing.assert_array_equal(loaded.sample_weight_, est.sample_weight_)
    _same(out, loaded.fit_resample(X, y))
    np.testing.assert_array_equal(loaded.sample_weight_, est.sample_weight_)


@pytest.mark.parametrize("estimator", RESAMPLERS, ids=lambda e: type(e).__name__)
@SETTINGS
@given(problem=class_problems())
def test_classification_invariants(estimator, problem):
    X, y, strategy = problem
    _run_all(estimator, X, y, "classification", sampling_strategy=strategy)


@pytest.mark.parametrize("estimator", RESAMPLERS, ids=lambda e: type(e).__name__)
@SETTINGS
@given(problem=regression_problems())
def test_regression_invariants(estimator, problem):
    if not _supports_regression(estimator):
        pytest.skip(reason=f"{type(estimator).__name__} is classification-only")
    X, y, n_bins, synthetic_target = problem
    # per-bin counts are checked separately (test_regression_bin_counts)
    _run_all(estimator, X, y, "regression", check_bins=False, n_bins=n_bins,
             synthetic_target=synthetic_target)


@pytest.mark.parametrize("estimator", RESAMPLERS, ids=lambda est: type(est).__name__)
@SETTINGS
@given(problem=regression_problems())
def test_regression_bin_counts(estimator, problem):
    """Synthetic rows per DIR bin equal sampling_strategy_ (targets in the bin asked for)."""
    if not _supports_regression(estimator):
        pytest.skip(reason=f"{type(estimator).__name__} is classification-only")
    X, y, n_bins, synthetic_target = problem
    est = clone(estimator).set_params(
        random_state=0, device="cpu", n_bins=n_bins, synthetic_target=synthetic_target
    )
    X_res, y_res = est.fit_resample(X, y)
    _assert_invariants(est, X, y, X_res, y_res, "regression", check_bins=True)
