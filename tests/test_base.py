import pickle

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import make_pipeline
from scipy import sparse
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV

from ._toy import JitterResampler


@pytest.fixture
def clf_data():
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=3,
        weights=[0.7, 0.2, 0.1], random_state=0,
    )
    return X, y


@pytest.fixture
def reg_data():
    X, y = make_regression(n_samples=300, n_features=6, random_state=0)
    return X, y


def test_output_starts_with_inputs_and_counts_match(clf_data):
    X, y = clf_data
    res = JitterResampler(random_state=0)
    Xr, yr = res.fit_resample(X, y)
    n = len(X)
    np.testing.assert_array_equal(Xr[:n], X)
    np.testing.assert_array_equal(yr[:n], y)
    counts = np.bincount(yr)
    assert counts.tolist() == [counts.max()] * 3
    assert res.is_synthetic_.sum() == len(Xr) - n and not res.is_synthetic_[:n].any()
    assert res.sample_weight_.shape == (len(Xr),)
    assert dict(res.sampling_strategy_) == {1: counts.max() - (y == 1).sum(), 2: counts.max() - (y == 2).sum()}
    assert not hasattr(res, "sample_indices_")


def test_reproducible_and_seed_sensitive(clf_data):
    X, y = clf_data
    a = JitterResampler(random_state=3).fit_resample(X, y)[0]
    b = JitterResampler(random_state=3).fit_resample(X, y)[0]
    c = JitterResampler(random_state=4).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "strategy", ["minority", "not majority", {2: 200}, lambda y: {1: int((y == 1).sum()) + 10}]
)
def test_class_strategies(clf_data, strategy):
    X, y = clf_data
    res = JitterResampler(sampling_strategy=strategy, random_state=0)
    Xr, yr = res.fit_resample(X, y)
    made = np.bincount(yr[len(y):], minlength=3)
    for cls, n in res.sampling_strategy_.items():
        assert made[cls] == n


def test_float_strategy_binary():
    X, y = make_classification(n_samples=200, weights=[0.8, 0.2], random_state=0)
    res = JitterResampler(sampling_strategy=0.5, random_state=0)
    _, yr = res.fit_resample(X, y)
    assert (yr == 1).sum() == int(0.5 * (y == 0).sum())


def test_float32_and_pandas_round_trip(clf_data):
    X, y = clf_data
    Xr, _ = JitterResampler(random_state=0).fit_resample(X.astype(np.float32), y)
    assert Xr.dtype == np.float32
    df = pd.DataFrame(X.astype(np.float32), columns=[f"e{i}" for i in range(X.shape[1])])
    ys = pd.Series(y, name="label")
    Xd, yd = JitterResampler(random_state=0).fit_resample(df, ys)
    assert isinstance(Xd, pd.DataFrame) and list(Xd.columns) == list(df.columns)
    assert (Xd.dtypes == np.float32).all()
    assert isinstance(yd, pd.Series) and yd.name == "label"
    np.testing.assert_array_equal(Xd.to_numpy()[: len(df)], df.to_numpy())


def test_float16_is_accepted(clf_data):
    X, y = clf_data
    Xr, _ = JitterResampler(random_state=0).fit_resample(X.astype(np.float16), y)
    assert Xr.dtype == np.float32


def test_regression_bins_and_targets(reg_data):
    X, y = reg_data
    res = JitterResampler(random_state=0, n_bins=10)
    Xr, yr = res.fit_resample(X, y)
    assert res.target_type_ == "regression"
    assert len(res.bin_edges_) == 11
    y_new = yr[len(y):]
    centres = (res.bin_edges_[:-1] + res.bin_edges_[1:]) / 2
    assert np.isin(y_new, centres).all()
    assert y_new.min() >= y.min() and y_new.max() <= y.max()
    res_u = JitterResampler(random_state=0, n_bins=10, synthetic_target="uniform")
    yu = res_u.fit_resample(X, y)[1][len(y):]
    assert not np.isin(yu, centres).all()
    assert yu.min() >= res_u.bin_edges_[0] and yu.max() <= res_u.bin_edges_[-1]


def test_regression_forced_on_integer_target():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = rng.poisson(3, size=200) + 1
    res = JitterResampler(target_type="regression", n_bins=5, random_state=0)
    res.fit_resample(X, y)
    assert res.target_type_ == "regression"
    assert JitterResampler(random_state=0).fit(X, y).target_type_ == "classification"


def test_regression_dict_strategy_unknown_bin(reg_data):
    X, y = reg_data
    with pytest.raises(ValueError, match="does not exist"):
        JitterResampler(n_bins=5, sampling_strategy={7: 10}).fit_resample(X, y)
    res = JitterResampler(n_bins=5, sampling_strategy={0: 1000}, random_state=0)
    Xr, yr = res.fit_resample(X, y)
    assert (res.fit(X, y).bin_edges_ is not None) and len(Xr) == len(X) + 1000 - np.sum(
        (y < res.bin_edges_[1])
    )
    with pytest.raises(ValueError, match="at least"):
        JitterResampler(n_bins=5, sampling_strategy={0: 0}).fit_resample(X, y)


@pytest.mark.parametrize(
    "X_bad, y_bad, match",
    [
        (np.array([[np.nan, 1.0], [1.0, 2.0]] * 5), [0, 1] * 5, "NaN"),
        (np.array([[np.inf, 1.0], [1.0, 2.0]] * 5), [0, 1] * 5, "infinity"),
        (np.ones(10), [0, 1] * 5, "2D"),
        (np.ones((10, 2, 2)), [0, 1] * 5, "dim 3"),
        (np.ones((10, 2)), [0, 1] * 4, "inconsistent"),
        (np.ones((10, 2)), [0] * 10, "two classes"),
        (np.ones((10, 2)), np.full(10, 0.5), "single distinct value"),
        (np.ones((10, 2)), [0.5, np.nan] * 5, "NaN"),
        (np.array([["a", "b"]] * 10), [0, 1] * 5, "string|convert"),
    ],
)
def test_bad_input_errors(X_bad, y_bad, match):
    with pytest.raises(ValueError, match=match):
        JitterResampler(target_type="regression" if np.asarray(y_bad).dtype.kind == "f" else "auto").fit_resample(X_bad, y_bad)


def test_sparse_rejected(clf_data):
    X, y = clf_data
    with pytest.raises(TypeError, match="[Ss]parse"):
        JitterResampler().fit_resample(sparse.csr_matrix(X), y)


def test_unknown_options():
    X, y = np.ones((10, 2)), np.r_[np.zeros(7), np.ones(3)]
    with pytest.raises(ValueError, match="target_type"):
        JitterResampler(target_type="ordinal").fit_resample(X, y)
    with pytest.raises(ValueError, match="[Dd]evice"):
        JitterResampler(device="tpu").fit_resample(X, y)


def test_cuda_request_without_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip(reason="a GPU is present; this test is for CPU-only machines")
    X, y = np.ones((10, 2)), np.r_[np.zeros(7), np.ones(3)]
    with pytest.raises(ValueError, match="no CUDA GPU"):
        JitterResampler(device="cuda").fit_resample(X, y)


def test_pipeline_gridsearch_and_pickle(clf_data):
    X, y = clf_data
    pipe = make_pipeline(JitterResampler(random_state=0), LogisticRegression(max_iter=500))
    grid = GridSearchCV(pipe, {"jitterresampler__scale": [0.01, 0.1]}, cv=3).fit(X, y)
    assert grid.best_score_ > 0.5
    res = JitterResampler(random_state=1)
    out = res.fit_resample(X, y)[0]
    clone = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(clone.fit_resample(X, y)[0], out)


def test_regression_pipeline(reg_data):
    X, y = reg_data
    pipe = make_pipeline(JitterResampler(random_state=0, n_bins=8), Ridge())
    assert pipe.fit(X, y).score(X, y) > 0.5
