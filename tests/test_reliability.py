"""Reliability of every public skltsynth estimator.

Two families of checks, parametrised over ``tests/_estimators.py`` so that a
new estimator is covered as soon as it is listed there:

* **bad input gets a clear error** -- NaN/inf, sparse, wrong dimensions,
  mismatched lengths, empty input, a single class, a constant continuous
  target, string/object features, unknown option strings, out-of-range
  parameters (derived from each estimator's own ``_parameter_constraints``),
  dict ``sampling_strategy`` naming a class/bin that does not exist, and a GPU
  device on a machine without one.  Each must raise ``ValueError`` or
  ``TypeError`` whose message names the problem -- never a bare
  ``IndexError``/``RuntimeError``/torch error;
* **extremes are handled without NaN, inf or a crash** (resamplers) --
  duplicate rows, one-row classes and bins, constant features, ``d = 1`` and
  ``d = 2``, huge norms, float16 input, 200 tiny classes, heavy target ties and
  a 1 vs 100,000 imbalance.
"""

from __future__ import annotations

import numbers
import re
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, StrOptions, make_constraint

from skltsynth.resamplers.base import BaseEmbeddingResampler
from skltsynth.policy.targets import assign_bins

from ._estimators import ESTIMATORS
from ._toy import JitterResampler

# ----------------------------------------------------------------- estimators


def _extra_estimators():
    """Public estimators that are not resamplers (not in ESTIMATORS), tiny settings."""
    import skltsynth

    return [
        skltsynth.EpistemicHeadClassifier(random_state=0, max_epochs=2, head_max_epochs=1,
                                          n_heads=2, batch_size=16),
        skltsynth.ResampledEstimator(resampler=JitterResampler(random_state=0),
                                     estimator=LogisticRegression(max_iter=200)),
    ]


RESAMPLERS = [e for e in ESTIMATORS if hasattr(e, "fit_resample")]
ALL = RESAMPLERS + _extra_estimators()


def _name(est):
    return type(est).__name__


def _is_resampler(est):
    return hasattr(est, "fit_resample")


def _fit(est, X, y):
    """fit_resample for resamplers, fit for everything else."""
    if _is_resampler(est):
        return est.fit_resample(X, y)
    return est.fit(X, y)


def _options(est, param):
    """The string options allowed for ``param`` (empty set when none)."""
    opts = set()
    for c in getattr(est, "_parameter_constraints", {}).get(param, []):
        if isinstance(c, StrOptions):
            opts |= set(c.options)
    return opts


def _supports_regression(est):
    return isinstance(est, BaseEmbeddingResampler) and "regression" in _options(est, "target_type")


def _is_slow(est):
    """Diffusion-style resamplers (trained networks) are slow on huge row counts."""
    params = est.get_params(deep=False)
    return any(k in params for k in ("train_steps", "sampling_steps"))


# ----------------------------------------------------------------------- data


def _class_data(n_per_class=(20, 8, 5), d=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = np.concatenate(
        [rng.normal(loc=3.0 * c, size=(n, d)) for c, n in enumerate(n_per_class)]
    ).astype(dtype)
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    return X, y


def _reg_data(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X[:, 0] + 0.1 * rng.normal(size=n)
    # a long tail: a few large targets
    y[:5] += 4.0
    return X, y


def _raises(est, X, y, pattern):
    """Assert a ValueError/TypeError naming the problem (regex, case-insensitive)."""
    with pytest.raises((ValueError, TypeError)) as info:
        _fit(est, X, y)
    msg = str(info.value)
    assert re.search(pattern, msg, flags=re.IGNORECASE), (
        f"{_name(est)} raised {type(info.value).__name__} without naming the problem "
        f"(expected /{pattern}/): {msg!r}"
    )
    return info.value


BAD = pytest.mark.parametrize("estimator", ALL, ids=_name)
RES = pytest.mark.parametrize("estimator", RESAMPLERS, ids=_name)

# ============================================================= bad input


@BAD
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_X(estimator, value):
    X, y = _class_data()
    X[3, 1] = value
    _raises(clone(estimator), X, y, r"nan|inf|finite")


@BAD
@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_y(estimator, value):
    X, y = _class_data()
    y = y.astype(np.float64)
    y[2] = value
    _raises(clone(estimator), X, y, r"nan|inf|finite")


@BAD
def test_sparse_X(estimator):
    X, y = _class_data()
    _raises(clone(estimator), sp.csr_matrix(X), y, r"sparse|dense")


@BAD
@pytest.mark.parametrize("shape", ["1d", "3d"])
def test_wrong_X_dimensions(estimator, shape):
    X, y = _class_data()
    X = X[:, 0] if shape == "1d" else X[:, :, None].repeat(2, axis=2)
    _raises(clone(estimator), X, y, r"2D|2-D|1D|1-D|3D|3-D|dim|shape|reshape")


@BAD
def test_inconsistent_lengths(estimator):
    X, y = _class_data()
    _raises(clone(estimator), X, y[:-3], r"inconsistent|number of samples|length|same")


@BAD
def test_empty_X(estimator):
    X = np.empty((0, 4))
    y = np.empty((0,), dtype=np.int64)
    _raises(clone(estimator), X, y, r"0 sample|empty|minimum|at least")


@BAD
def test_single_class(estimator):
    X, _ = _class_data()
    y = np.zeros(len(X), dtype=np.int64)
    _raises(clone(estimator), X, y, r"class")


@BAD
def test_constant_continuous_target(estimator):
    X, _ = _class_data()
    y = np.full(len(X), 0.37)
    est = clone(estimator)
    # a constant float is "continuous" for type_of_target: regression if supported,
    # otherwise a clear "unknown label type"/"class" error.
    _raises(est, X, y, r"single|distinct|constant|one value|class|label|continuous")
    if _supports_regression(estimator):
        _raises(clone(estimator).set_params(target_type="regression"), X, y,
                r"single|distinct|constant|one value")


@BAD
@pytest.mark.parametrize("kind", ["str", "object"])
def test_string_or_object_features(estimator, kind):
    X, y = _class_data()
    if kind == "str":
        Xb = X.astype(str)
        Xb[0, 0] = "abc"
    else:
        Xb = X.astype(object)
        Xb[0, 0] = {"a": 1}
    _raises(clone(estimator), Xb, y, r"string|float|convert|dtype|numeric|object")


def _option_cases():
    cases = []
    for est in ALL:
        for param, constraints in getattr(est, "_parameter_constraints", {}).items():
            if any(isinstance(c, StrOptions) for c in constraints):
                cases.append(pytest.param(est, param, id=f"{_name(est)}-{param}"))
    return cases


@pytest.mark.parametrize("estimator, param", _option_cases())
def test_unknown_option_string(estimator, param):
    X, y = _class_data()
    est = clone(estimator).set_params(**{param: "no-such-option"})
    _raises(est, X, y, re.escape(param) + r"|no-such-option")


def _invalid_values(constraint):
    """Numbers just outside an Interval constraint."""
    vals = []
    is_int = constraint.type is numbers.Integral
    step = 1 if is_int else 0.5
    if constraint.left is not None:
        vals.append(constraint.left - step)
        if constraint.closed in ("right", "neither"):
            vals.append(constraint.left)
    if constraint.right is not None:
        vals.append(constraint.right + step)
        if constraint.closed in ("left", "neither"):
            vals.append(constraint.right)
    return vals


def _range_cases():
    cases = []
    for est in ALL:
        for param, constraints in getattr(est, "_parameter_constraints", {}).items():
            if not any(isinstance(c, Interval) for c in constraints):
                continue
            made = [make_constraint(c) for c in constraints]
            seen = set()
            for c in constraints:
                if not isinstance(c, Interval):
                    continue
                for value in _invalid_values(c):
                    # only values that no allowed form accepts (e.g. not "array-like")
                    if value in seen or any(m.is_satisfied_by(value) for m in made):
                        continue
                    seen.add(value)
                    cases.append(pytest.param(est, param, value, id=f"{_name(est)}-{param}={value}"))
    return cases


@pytest.mark.parametrize("estimator, param, value", _range_cases())
def test_out_of_range_parameter(estimator, param, value):
    X, y = _class_data()
    est = clone(estimator).set_params(**{param: value})
    _raises(est, X, y, re.escape(param))


def test_range_cases_cover_every_estimator_with_numeric_knobs():
    # guard: the derived cases must exist (a typo in the derivation would skip them silently)
    params = {(type(p.values[0]).__name__, p.values[1]) for p in _range_cases()}
    for est in RESAMPLERS:
        assert (_name(est), "bin_width") in params
        assert (_name(est), "n_bins") in params


@RES
def test_dict_strategy_unknown_class(estimator):
    X, y = _class_data()
    est = clone(estimator).set_params(sampling_strategy={7: 30})
    _raises(est, X, y, r"class|not present|exist|7")


@RES
def test_dict_strategy_unknown_bin(estimator):
    if not _supports_regression(estimator):
        pytest.skip(reason=f"{_name(estimator)} is classification-only")
    X, y = _reg_data()
    est = clone(estimator).set_params(sampling_strategy={999: 80}, n_bins=6)
    _raises(est, X, y, r"bin|exist|999")


@BAD
def test_gpu_requested_without_gpu(estimator):
    if "device" not in estimator.get_params(deep=False):
        pytest.skip(reason=f"{_name(estimator)} has no device parameter")
    if torch.cuda.is_available():
        pytest.skip(reason="this machine has a GPU")
    X, y = _class_data()
    _raises(clone(estimator).set_params(device="cuda"), X, y, r"cuda|gpu|device")


@BAD
def test_unknown_device_string(estimator):
    if "device" not in estimator.get_params(deep=False):
        pytest.skip(reason=f"{_name(estimator)} has no device parameter")
    X, y = _class_data()
    _raises(clone(estimator).set_params(device="tpu9"), X, y, r"device|tpu9")


# ============================================================== extremes


def _check_output(est, X, y, X_res, y_res, task="classification"):
    """Finite output, originals first and unchanged, consistent lengths and counts."""
    X_res = np.asarray(X_res)
    y_res = np.asarray(y_res)
    n = len(X)
    assert X_res.ndim == 2 and X_res.shape[1] == X.shape[1]
    assert len(y_res) == len(X_res)
    assert np.all(np.isfinite(X_res)), f"{_name(est)} produced NaN/inf rows"
    np.testing.assert_array_equal(X_res[:n], np.asarray(X, dtype=X_res.dtype))
    np.testing.assert_array_equal(y_res[:n], y)
    m = len(X_res) - n
    assert est.is_synthetic_.shape == (len(X_res),) and est.is_synthetic_.sum() == m
    assert est.sample_weight_.shape == (len(X_res),)
    assert np.all(np.isfinite(est.sample_weight_)) and np.all(est.sample_weight_ >= 0)
    assert m == sum(est.sampling_strategy_.values())
    if task == "classification":
        got = Counter(y_res[n:].tolist())
        want = {k: v for k, v in est.sampling_strategy_.items() if v > 0}
        assert dict(got) == want
    else:
        assert np.all(np.isfinite(y_res))
        edges = est.bin_edges_
        assert np.all((y_res[n:] >= edges[0]) & (y_res[n:] <= edges[-1]))
    return X_res, y_res


@RES
@pytest.mark.filterwarnings("ignore:.*passed the quality gate:UserWarning")  # tiny engine
def test_duplicate_rows(estimator):
    # every row of the minority class identical: zero neighbour distance
    X, y = _class_data((20, 6))
    X[20:] = X[20]
    est = clone(estimator)
    X_res, _ = _check_output(est, X, y, *est.fit_resample(X, y))
    # whole data set duplicated
    X2, y2 = np.vstack([X, X]), np.concatenate([y, y])
    est = clone(estimator)
    _check_output(est, X2, y2, *est.fit_resample(X2, y2))


@RES
def test_class_with_one_row(estimator):
    X, y = _class_data((20, 5, 1))
    est = clone(estimator)
    with pytest.warns(UserWarning, match=r"single row.*class 2: 19 synthetic rows"):
        out = est.fit_resample(X, y)
    _check_output(est, X, y, *out)


@RES
def test_bin_with_one_row(estimator):
    if not _supports_regression(estimator):
        pytest.skip(reason=f"{_name(estimator)} is classification-only")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(41, 3))
    y = np.r_[rng.uniform(0.0, 1.0, 40), 4.9]  # the last bin holds a single row
    est = clone(estimator).set_params(n_bins=5)
    _, y_res = _check_output(est, X, y, *est.fit_resample(X, y), task="regression")
    counts = np.bincount(assign_bins(y, est.bin_edges_), minlength=5)
    assert counts[-1] == 1


@RES
@pytest.mark.parametrize("where", ["one-column", "all-columns-in-class"])
def test_constant_features(estimator, where):
    X, y = _class_data((20, 6, 4))
    if where == "one-column":
        X[:, 1] = 2.5
    else:
        X[26:] = 1.0  # class 2: every feature constant (and rows duplicated)
    est = clone(estimator)
    _check_output(est, X, y, *est.fit_resample(X, y))


@RES
@pytest.mark.parametrize("d", [1, 2])
def test_low_dimension(estimator, d):
    X, y = _class_data((20, 6, 3), d=d)
    est = clone(estimator)
    _check_output(est, X, y, *est.fit_resample(X, y))
    if _supports_regression(estimator):
        Xr, yr = _reg_data(d=d)
        est = clone(estimator)
        _check_output(est, Xr, yr, *est.fit_resample(Xr, yr), task="regression")


@RES
def test_large_norms(estimator):
    X, y = _class_data((20, 6, 3), d=5)
    X = X * 1e6
    est = clone(estimator)
    X_res, _ = _check_output(est, X, y, *est.fit_resample(X, y))
    # synthetic rows stay on the data's scale (no blow-up, no collapse to 0)
    norms = np.linalg.norm(X_res[len(X):], axis=1)
    assert norms.max() < 1e3 * np.linalg.norm(X, axis=1).max()
    if _supports_regression(estimator):
        Xr, yr = _reg_data()
        Xr = Xr * 1e6
        est = clone(estimator)
        _check_output(est, Xr, yr, *est.fit_resample(Xr, yr), task="regression")


@RES
def test_float16_input(estimator):
    X, y = _class_data((20, 6, 3), dtype=np.float16)
    est = clone(estimator)
    X_res, _ = est.fit_resample(X, y)
    assert np.asarray(X_res).dtype in (np.float16, np.float32)
    _check_output(est, X.astype(np.float32), y, X_res, _)


@RES
def test_many_tiny_classes(estimator):
    rng = np.random.default_rng(3)
    counts = [4] + [2] * 199
    y = np.repeat(np.arange(200), counts)
    X = rng.normal(size=(len(y), 3)) + y[:, None] * 0.05
    est = clone(estimator)
    X_res, y_res = _check_output(est, X, y, *est.fit_resample(X, y))
    # every class to 4 rows; LatentDiff's gate may drop rows it cannot place,
    # and then says so in n_synthetic_ / sampling_strategy_
    assert len(X_res) == len(y) + est.n_synthetic_ == len(y) + sum(est.sampling_strategy_.values())
    assert est.n_synthetic_ == 200 * 4 - len(y) or est.n_synthetic_ >= 0.5 * (200 * 4 - len(y))


@RES
def test_heavy_target_ties(estimator):
    if not _supports_regression(estimator):
        pytest.skip(reason=f"{_name(estimator)} is classification-only")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 4))
    y = np.r_[np.full(60, 1.0), np.full(15, 2.0), np.full(4, 3.0), 5.0]
    est = clone(estimator).set_params(target_type="regression")
    _check_output(est, X, y, *est.fit_resample(X, y), task="regression")


@RES
def test_classification_ties_integer_labels_as_regression(estimator):
    # integer-valued targets forced to regression (counts, ages) with heavy ties
    if not _supports_regression(estimator):
        pytest.skip(reason=f"{_name(estimator)} is classification-only")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 3))
    y = np.r_[np.zeros(40, dtype=int), np.ones(8, dtype=int), [5, 5]]
    est = clone(estimator).set_params(target_type="regression", bin_width=1.0)
    _check_output(est, X, y.astype(float), *est.fit_resample(X, y), task="regression")


@RES
def test_extreme_imbalance_modest_request(estimator):
    # 1 row vs 100,000: ask for a modest number of minority rows (cheap for any method)
    rng = np.random.default_rng(6)
    X = rng.normal(size=(100_001, 3)).astype(np.float32)
    y = np.zeros(100_001, dtype=np.int64)
    y[-1] = 1
    est = clone(estimator).set_params(sampling_strategy={1: 201})
    with pytest.warns(UserWarning, match="single row"):
        out = est.fit_resample(X, y)
    X_res, y_res = _check_output(est, X, y, *out)
    assert (y_res == 1).sum() == 201


@RES
def test_extreme_imbalance_default_strategy(estimator):
    if _is_slow(estimator):
        pytest.skip(reason=f"{_name(estimator)}: 100k synthetic rows from a trained sampler is "
                    "too slow for a unit test (see test_extreme_imbalance_modest_request)")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(100_001, 2)).astype(np.float32)
    y = np.zeros(100_001, dtype=np.int64)
    y[-1] = 1
    est = clone(estimator)
    with pytest.warns(UserWarning, match="single row"):
        out = est.fit_resample(X, y)
    X_res, y_res = _check_output(est, X, y, *out)
    assert (y_res == 1).sum() == 100_000
