"""Tests of MemoryDDPMResampler (tiny engine settings)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression, Ridge

from skltsynth import MemoryDDPMResampler, ResampledEstimator

TINY = dict(train_steps=30, sampling_steps=5, hidden_dim=32, n_layers=1, batch_size=32)


def _data(seed=0, d=6):
    rng = np.random.default_rng(seed)
    counts = [40, 12, 6]
    y = np.repeat(np.arange(3), counts)
    centres = rng.normal(scale=3, size=(3, d))
    X = centres[y] + rng.normal(size=(len(y), d))
    return X, y


def test_counts_and_weights():
    X, y = _data()
    res = MemoryDDPMResampler(random_state=0, **TINY)
    X_res, y_res = res.fit_resample(X, y)
    assert np.array_equal(np.bincount(y_res), [40, 40, 40])
    assert np.array_equal(X_res[: len(X)], X)
    n = len(y)
    w = res.sample_weight_
    assert np.all(w[:n] == 1.0)
    assert np.all((w[n:] > 0) & (w[n:] <= 1.0))
    assert res.is_synthetic_.sum() == 28 + 34
    # the rarest class has the largest class cost: its rows weigh more at equal confidence
    syn_y = y_res[n:]
    gamma_ratio = w[n:][syn_y == 2].max() / w[n:][syn_y == 1].max()
    assert gamma_ratio > 1.2
    assert res.confidence_.shape == (62,)
    assert res.condition_values_.tolist() == [0, 1, 2]


@pytest.mark.parametrize("confidence", ["entropy", None])
def test_confidence_options(confidence):
    X, y = _data()
    res = MemoryDDPMResampler(random_state=0, confidence=confidence, **TINY)
    res.fit_resample(X, y)
    w = res.sample_weight_[len(y):]
    assert np.all((w > 0) & (w <= 1))
    if confidence is None:
        assert set(np.round(w, 6)) == {0.5, 1.0}  # class cost only: 6/12 and 6/6
    res.set_params(class_cost=None, confidence=None).fit_resample(X, y)
    assert np.all(res.sample_weight_ == 1.0)


def test_reproducible_and_seed_dependent():
    X, y = _data()
    a = MemoryDDPMResampler(random_state=3, **TINY).fit_resample(X, y)[0]
    b = MemoryDDPMResampler(random_state=3, **TINY).fit_resample(X, y)[0]
    c = MemoryDDPMResampler(random_state=4, **TINY).fit_resample(X, y)[0]
    assert np.array_equal(a, b)
    assert not np.allclose(a[len(y):], c[len(y):])


@pytest.mark.parametrize("sampler,strength", [("ddpm", 1.0), ("ddim", 0.5)])
def test_samplers_and_sdedit(sampler, strength):
    X, y = _data()
    res = MemoryDDPMResampler(random_state=0, sampler=sampler, strength=strength, **TINY)
    X_res, y_res = res.fit_resample(X, y)
    assert X_res.shape == (120, X.shape[1]) and np.all(np.isfinite(X_res))


def test_partial_fit_streams_bounded_memory_then_fit_resample():
    X, y = _data()
    res = MemoryDDPMResampler(random_state=0, memory_size=8, **TINY)
    rng = np.random.default_rng(1)
    for _ in range(20):  # a stream 20x the data, memory stays bounded
        idx = rng.permutation(len(y))[:25]
        res.partial_fit(X[idx], y[idx])
    assert len(res.stream_memory_) <= 8 * 3
    assert sum(res.stream_memory_.n_seen_.values()) == 500
    n_before = len(res.stream_memory_)
    X_res, y_res = res.fit_resample(X[:46], y[:46])  # classes 0 and 1 only
    assert len(res.stream_memory_) == n_before  # the streamed bank is not changed
    assert len(res.memory_) <= 8 * 3
    assert res.condition_values_.tolist() == [0, 1, 2]  # class 2 known from the stream
    assert np.array_equal(np.bincount(y_res), [40, 40])
    with pytest.raises(ValueError, match="features"):
        res.partial_fit(X[:, :-1], y)
    with pytest.raises(ValueError, match="features"):
        res.fit_resample(X[:, :-1], y)


@pytest.mark.parametrize("memory", ["reservoir", "ema"])
def test_memory_kinds(memory):
    X, y = _data()
    res = MemoryDDPMResampler(random_state=0, memory=memory, memory_size=10, **TINY)
    res.fit_resample(X, y)
    _, keys = res.memory_.rows()
    assert np.array_equal(np.bincount(keys), [10, 10, 6])


def test_regression_through_bins_and_streaming():
    rng = np.random.default_rng(0)
    y = np.r_[rng.uniform(0, 1, 80), rng.uniform(1, 2, 10)]
    X = np.c_[y, y**2] + 0.05 * rng.normal(size=(90, 2))
    res = MemoryDDPMResampler(random_state=0, n_bins=4, **TINY)
    X_res, y_res = res.fit_resample(X, y)
    assert res.target_type_ == "regression" and len(y_res) > len(y)
    assert np.all((y_res[90:] >= 0) & (y_res[90:] <= 2))
    assert np.all(res.sample_weight_[90:] > 0)
    with pytest.raises(ValueError, match="bin_width"):
        MemoryDDPMResampler(**TINY).partial_fit(X, y)
    stream = MemoryDDPMResampler(random_state=0, bin_width=0.5, **TINY)
    stream.partial_fit(X[:45], y[:45]).partial_fit(X[45:], y[45:])
    assert stream.fit_resample(X, y)[0].shape[0] > 90


def test_pipeline_pandas_float32_pickle():
    X, y = _data()
    df = pd.DataFrame(X.astype(np.float32), columns=[f"f{i}" for i in range(X.shape[1])])
    res = MemoryDDPMResampler(random_state=0, **TINY)
    X_res, y_res = res.fit_resample(df, pd.Series(y, name="t"))
    assert isinstance(X_res, pd.DataFrame) and list(X_res.columns) == list(df.columns)
    assert (X_res.dtypes == np.float32).all() and y_res.name == "t"
    pipe = make_pipeline(MemoryDDPMResampler(random_state=0, **TINY), LogisticRegression())
    assert pipe.fit(X, y).predict(X).shape == y.shape
    model = ResampledEstimator(MemoryDDPMResampler(random_state=0, **TINY), LogisticRegression())
    model.fit(X, y)
    assert np.array_equal(model.estimator_.classes_, [0, 1, 2])
    assert np.all(model.sample_weight_[len(y):] < 1.0 + 1e-12)
    restored = pickle.loads(pickle.dumps(res))
    assert str(next(restored.engine_.model_.parameters()).device) == "cpu"
    assert np.array_equal(restored.sample_weight_, res.sample_weight_)


def test_guidance_callable_is_used():
    X, y = _data()
    calls = []

    def signal(x0, cond):
        calls.append(x0.shape[0])
        return x0[:, 0]

    res = MemoryDDPMResampler(random_state=0, guidance=signal, guidance_scale=0.5, **TINY)
    res.fit_resample(X, y)
    assert calls and sum(calls) >= 62


def test_parameter_errors():
    X, y = _data()
    with pytest.raises(ValueError, match="memory"):
        MemoryDDPMResampler(memory="fifo", **TINY).fit_resample(X, y)
    with pytest.raises(ValueError, match="sampler"):
        MemoryDDPMResampler(sampler="euler", **TINY).fit_resample(X, y)
    with pytest.raises(ValueError, match="strength"):
        MemoryDDPMResampler(strength=0.0, **TINY).fit_resample(X, y)


def test_ridge_in_resampled_estimator_regression():
    rng = np.random.default_rng(0)
    y = np.r_[rng.uniform(0, 1, 60), rng.uniform(1, 2, 8)]
    X = np.c_[y, -y] + 0.05 * rng.normal(size=(68, 2))
    model = ResampledEstimator(MemoryDDPMResampler(random_state=0, n_bins=4, **TINY), Ridge())
    assert model.fit(X, y).predict(X).shape == (68,)


def test_evaluate_synthetic_report():
    from skltsynth.tooling.evaluation import evaluate_synthetic

    X, y = _data()
    res = MemoryDDPMResampler(random_state=0, **TINY)
    X_res, y_res = res.fit_resample(X, y)
    syn = res.is_synthetic_
    rep = evaluate_synthetic(X, y, X_res[syn], y_res[syn], X, y,
                             sample_weight_syn=res.sample_weight_[syn], many=30, few=10)
    per_class = rep["per_class"]
    assert per_class["group"].tolist() == [1, 2]
    assert per_class["shot"].tolist() == ["medium", "few"]
    assert per_class["label_agreement"].between(0, 1).all()
    for col in ("mmd2", "precision", "recall", "diversity_synthetic", "f1_real", "f1_with_syn"):
        assert col in per_class
    assert np.allclose(per_class["f1_gain"], per_class["f1_with_syn"] - per_class["f1_real"])
    assert list(rep["f1_by_shot"].index) == ["many", "medium", "few", "all"]
    with pytest.raises(ValueError, match="one weight per synthetic row"):
        evaluate_synthetic(X, y, X_res[syn], y_res[syn], X, y, sample_weight_syn=[1.0])


def test_class_cost_reaches_real_rows():
    X, y = _data()
    res = MemoryDDPMResampler(cost_real_rows=True, random_state=0, **TINY)
    X_res, y_res = res.fit_resample(X, y)
    w = res.sample_weight_[: len(y)]
    # inverse class cost normalised so that the rarest class (6 rows) weighs 1
    np.testing.assert_allclose(w[y == 2], 1.0)
    np.testing.assert_allclose(w[y == 0], 6 / 40)
    np.testing.assert_allclose(w[y == 1], 6 / 12)
    off = MemoryDDPMResampler(cost_real_rows=True, class_cost=None, random_state=0, **TINY)
    off.fit_resample(X, y)
    assert np.all(off.sample_weight_[: len(y)] == 1.0)
    # ResampledEstimator passes them on: a head trained with them differs from one without
    plain = ResampledEstimator(MemoryDDPMResampler(random_state=0, **TINY),
                               LogisticRegression(max_iter=500)).fit(X, y)
    costed = ResampledEstimator(res, LogisticRegression(max_iter=500)).fit(X, y)
    assert not np.allclose(plain.estimator_.coef_, costed.estimator_.coef_)


def test_paper_options_are_reachable():
    X, y = _data()
    ema = MemoryDDPMResampler(memory="ema", memory_size=4, memory_alpha=0.5, random_state=0,
                              **TINY).fit_resample(X, y)
    assert ema[0].shape[0] == 120
    res = MemoryDDPMResampler(denoiser="transformer", loss_weighting="none", prediction="epsilon",
                              schedule="linear", random_state=0, **{**TINY, "hidden_dim": 32})
    res.fit_resample(X, y)
    cfg = res.engine_.config_
    assert cfg.use_transformer and cfg.min_snr_gamma is None
    assert cfg.prediction_type == "epsilon" and cfg.schedule == "linear"
    with pytest.raises(ValueError, match="memory_alpha"):
        MemoryDDPMResampler(memory_alpha=0.0).fit_resample(X, y)
