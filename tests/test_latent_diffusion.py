"""Tests of LatentDiffusionResampler (tiny engine settings)."""

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV

from skltsynth.resamplers.latent_diffusion import LatentDiffusionResampler

TINY = dict(train_steps=40, sampling_steps=5, hidden_dim=32, n_layers=1, batch_size=32)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _regression(seed=0, n_bulk=150, n_tail=12):
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.normal(0, 0.6, n_bulk), rng.uniform(2.0, 3.0, n_tail)])
    X = np.column_stack([y, np.sin(y), rng.standard_normal((y.size, 2))]) \
        + 0.05 * rng.standard_normal((y.size, 4))
    return X, y


def _classification(seed=0):
    rng = np.random.default_rng(seed)
    y = np.array([0] * 80 + [1] * 20 + [2] * 8)
    X = rng.standard_normal((y.size, 5)) + 2.0 * y[:, None]
    return X, y


def test_regression_round_trip_counts_and_attributes():
    X, y = _regression()
    # without the target gate (tests/test_target_gate.py), which drops many rows of
    # an engine this small
    res = LatentDiffusionResampler(synthetic_ratio=0.3, target_gate=None, random_state=0, **TINY)
    X_res, y_res = res.fit_resample(X, y)
    m = int(round(0.3 * X.shape[0]))
    assert X_res.shape == (X.shape[0] + m, X.shape[1]) and y_res.shape == (X.shape[0] + m,)
    np.testing.assert_array_equal(X_res[: X.shape[0]], X)
    assert sum(res.sampling_strategy_.values()) == m
    assert 0.0 <= res.rejection_rate_ <= 1.0 and res.target_rejection_rate_ == 0.0
    assert res.is_synthetic_.sum() == m and np.all(res.sample_weight_ == 1.0)
    assert next(res.engine_.model_.parameters()).device.type == "cpu"
    # start="interpolate" (the default): targets interpolated between real rows
    y_new = y_res[X.shape[0]:]
    assert np.all((y_new >= y.min()) & (y_new <= y.max())) and np.unique(y_new).size > 13
    # start="real": synthetic targets are bin centres of the bins they were made for
    res = LatentDiffusionResampler(synthetic_ratio=0.3, start="real", random_state=0, **TINY)
    y_new = res.fit_resample(X, y)[1][X.shape[0]:]
    centres = (res.bin_edges_[:-1] + res.bin_edges_[1:]) / 2
    assert np.all(np.isin(np.round(y_new, 9), np.round(centres, 9)))


def test_classification_round_trip_balances():
    X, y = _classification()
    # 150 steps: with 40 the tiny model has barely learnt the class condition
    res = LatentDiffusionResampler(random_state=0, **{**TINY, "train_steps": 150})
    X_res, y_res = res.fit_resample(X, y)
    np.testing.assert_array_equal(np.bincount(y_res), [80, 80, 80])
    # synthetic rows follow their class: class 2 is centred at 4, the data at 0.67
    syn = X_res[X.shape[0]:]
    assert syn[y_res[X.shape[0]:] == 2].mean() > 2.0


def _class_starts(cls_name, monkeypatch, transfer=None):
    """SDEdit starts of a 6-row class whose rows lie in a 2-d plane of 6 dimensions."""
    import skltsynth
    from skltsynth.resamplers import _diffusion_base

    rng = np.random.default_rng(0)
    plane = np.linalg.qr(rng.standard_normal((6, 2)))[0].T
    X = np.r_[rng.standard_normal((60, 6)), (np.c_[np.full(6, 3.0), rng.standard_normal(6)]
                                             @ plane)]
    y = np.r_[np.zeros(60, int), np.ones(6, int)]
    cls = getattr(skltsynth, cls_name)
    starts = []
    real = cls._start_rows

    def spy(self, X_, groups, pools, plan):
        out = real(self, X_, groups, pools, plan)
        starts.append(out)
        return out

    monkeypatch.setattr(cls, "_start_rows", spy)
    if transfer is not None:
        monkeypatch.setattr(_diffusion_base, "TRANSFER_FRACTION", transfer)
    res = cls(random_state=0, **TINY)
    res.fit_resample(X, y)
    assert res._strength("classification") < 1.0 and starts and starts[0] is not None
    x0 = starts[0].numpy().astype(np.float64)
    assert x0.shape == (54, 6)
    return x0, X, plane


@pytest.mark.parametrize("cls_name", ["LatentDiffusionResampler", "MemoryDDPMResampler"])
def test_class_sdedit_starts_interpolate_inside_the_class(cls_name, monkeypatch):
    # strength="auto" is below 1 for classes, and the SDEdit starts are span draws
    # between rows of the class (not copies of its rows): a class whose rows lie in
    # a 2-d plane of 6 dimensions gets starts in that plane, off its rows (transfer
    # rows off: they borrow another class's offsets)
    x0, X, plane = _class_starts(cls_name, monkeypatch, transfer=0.0)
    outside = np.linalg.norm(x0 - (x0 @ plane.T) @ plane, axis=1)
    assert np.all(outside < 1e-4)
    nearest = np.min(np.linalg.norm(x0[:, None] - X[60:][None], axis=2), axis=1)
    assert np.mean(nearest > 1e-3) > 0.9  # not copies of the real rows


@pytest.mark.parametrize("cls_name", ["LatentDiffusionResampler", "MemoryDDPMResampler"])
def test_class_sdedit_starts_include_transfer_rows(cls_name, monkeypatch):
    # by default a share of the starts are head-to-tail transfer rows: the class's
    # mean direction plus offsets of the other class, so they leave the plane, at
    # the seeds' norms
    x0, X, plane = _class_starts(cls_name, monkeypatch)
    outside = np.linalg.norm(x0 - (x0 @ plane.T) @ plane, axis=1) > 1e-4
    assert 0 < outside.sum() < 0.5 * len(x0)  # about 20% of 54 rows
    centre = X[60:] / np.linalg.norm(X[60:], axis=1, keepdims=True)
    centre = centre.mean(axis=0) / np.linalg.norm(centre.mean(axis=0))
    cos = x0[outside] @ centre / np.linalg.norm(x0[outside], axis=1)
    assert np.all(cos > 0.8)
    norms = np.linalg.norm(X[60:], axis=1)
    assert np.all((np.linalg.norm(x0, axis=1) >= norms.min() - 1e-4)
                  & (np.linalg.norm(x0, axis=1) <= norms.max() + 1e-4))


def test_gate_redraws_continue_the_transfer_stream(monkeypatch):
    # the quality gate's redraws call _start_rows again: they draw their transfer
    # rows from where the first draw left the fit's transfer stream, not from a
    # fresh copy of it (which would repeat the first draw's choices), and the
    # class summaries are built once per fit
    from skltsynth.engines import class_transfer
    from skltsynth.resamplers import _diffusion_base

    states, summaries = [], []
    real_replace, real_summaries = (_diffusion_base.replace_with_transfer_rows,
                                    class_transfer.class_summaries)

    def replace_spy(rows, groups, table, fraction, scale, rng):
        states.append(rng.bit_generator.state["state"]["state"])
        return real_replace(rows, groups, table, fraction, scale, rng)

    def summaries_spy(*args, **kwargs):
        summaries.append(1)
        return real_summaries(*args, **kwargs)

    monkeypatch.setattr(_diffusion_base, "replace_with_transfer_rows", replace_spy)
    monkeypatch.setattr(_diffusion_base, "class_summaries", summaries_spy)
    X, y = _classification()
    res = LatentDiffusionResampler(gate_quantile=0.3, max_retries=2, random_state=0, **TINY)
    res.fit_resample(X, y)
    assert res.rejection_rate_ > 0 and len(states) >= 2  # the gate redrew
    assert len(set(states)) == len(states)
    assert len(summaries) == 1
    assert res._transfer_cache is None  # dropped at the end of the fit


def test_classification_synthetic_ratio_rescales_plan():
    X, y = _classification()
    res = LatentDiffusionResampler(synthetic_ratio=0.5, random_state=0, **TINY)
    res.fit(X, y)
    planned = dict(res.sampling_strategy_)
    assert sum(planned.values()) == 54
    assert 0 not in planned and planned[2] > planned[1]  # base plan's proportions (60 vs 72)
    _, y_res = res.fit_resample(X, y)
    assert res.n_planned_ == 54 and y_res.size - y.size == res.n_synthetic_ <= 54
    new = np.bincount(y_res[y.size:], minlength=3)
    assert new.tolist() == [res.sampling_strategy_.get(c, 0) for c in range(3)]


def test_gate_rejects_far_rows_and_keeps_quota():
    X, y = _regression()
    res = LatentDiffusionResampler(synthetic_ratio=0.2, gate_quantile=0.5, max_retries=1,
                                   random_state=0, **TINY)
    res.fit_resample(X, y)
    assert 0.0 < res.rejection_rate_ <= 1.0
    off = LatentDiffusionResampler(synthetic_ratio=0.2, gate_quantile=None, target_gate=None,
                                   random_state=0, **TINY)
    off.fit_resample(X, y)
    assert off.rejection_rate_ == 0.0


def test_priority_lambda_shifts_rows_to_high_error_bins():
    X, y = _regression()
    # make the tail hard for a linear model: its features are pure noise
    rng = np.random.default_rng(5)
    X[y > 1.5] = rng.standard_normal((int((y > 1.5).sum()), X.shape[1]))
    # a loose cap, so the tail bins have room for what priority sends them
    common = dict(synthetic_ratio=0.5, bin_cap=10.0, gate_quantile=None, random_state=0, **TINY)
    count_based = LatentDiffusionResampler(priority_lambda=0.0, **common)
    count_based.fit(X, y)
    from skltsynth.policy.targets import capped_allocation, neighbourhood_counts, priority_shares

    counts = np.bincount(count_based._plan(X, y, "regression")[0].groups,
                         minlength=len(count_based.bin_edges_) - 1)
    caps = np.where(neighbourhood_counts(counts) >= 5, 10 * counts, 0)
    expected = capped_allocation(priority_shares(counts, np.zeros(counts.size), lam=0.0), caps, 81)
    assert expected.sum() == 81
    got = np.zeros(counts.size, dtype=int)
    for b, k in count_based.sampling_strategy_.items():
        got[b] = k
    np.testing.assert_array_equal(got, expected)
    assert count_based.bin_errors_ is None
    tilted = LatentDiffusionResampler(priority_lambda=0.9, **common).fit(X, y)
    tail = [b for b in range(counts.size) if (tilted.bin_edges_[b] >= 1.5)]
    share = lambda s: sum(k for b, k in s.items() if b in tail)
    assert share(tilted.sampling_strategy_) > share(count_based.sampling_strategy_)
    assert np.nanargmax(tilted.bin_errors_) in tail


def test_strength_below_one_stays_closer_to_real_rows():
    X, y = _regression()
    dist = {}
    for s in (1.0, 0.1):
        res = LatentDiffusionResampler(strength=s, synthetic_ratio=0.3, gate_quantile=None,
                                       start="real", random_state=0, **TINY)
        X_res, _ = res.fit_resample(X, y)
        syn = X_res[X.shape[0]:]
        d = np.sqrt(((syn[:, None, :] - X[None]) ** 2).sum(-1)).min(1)
        dist[s] = np.median(d)
    assert dist[0.1] < dist[1.0]


def test_reproducible_and_seed_sensitive():
    X, y = _regression()
    a = LatentDiffusionResampler(synthetic_ratio=0.2, random_state=3, **TINY).fit_resample(X, y)[0]
    b = LatentDiffusionResampler(synthetic_ratio=0.2, random_state=3, **TINY).fit_resample(X, y)[0]
    c = LatentDiffusionResampler(synthetic_ratio=0.2, random_state=4, **TINY).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_guidance_callable_is_wrapped_and_bad_guidance_refused():
    X, y = _regression()
    kw = dict(synthetic_ratio=0.3, gate_quantile=None, random_state=0, **TINY)
    plain = LatentDiffusionResampler(**kw).fit_resample(X, y)[0][X.shape[0]:]
    # a plain callable signal is wrapped into LongtailGuidance (scale 1 unless overridden)
    pushed = LatentDiffusionResampler(guidance=lambda x0, cond: x0[:, 1], guidance_scale=5.0, **kw)
    pushed = pushed.fit_resample(X, y)[0][X.shape[0]:]
    assert pushed[:, 1].mean() > plain[:, 1].mean()
    with pytest.raises(TypeError, match="guidance"):
        LatentDiffusionResampler(guidance=3, **kw).fit_resample(X, y)


@pytest.mark.filterwarnings("ignore:.*passed the quality gate:UserWarning")  # tiny engine
def test_pipeline_gridsearch_pandas_float32():
    X, y = _classification()
    pipe = make_pipeline(LatentDiffusionResampler(random_state=0, **TINY),
                         LogisticRegression(max_iter=500))
    grid = GridSearchCV(pipe, {"latentdiffusionresampler__strength": [1.0, 0.5]}, cv=2)
    grid.fit(X, y)
    assert grid.best_score_ > 0.5
    Xr, yr = _regression()
    df = pd.DataFrame(Xr.astype(np.float32), columns=list("abcd"))
    X_res, y_res = LatentDiffusionResampler(synthetic_ratio=0.2, random_state=0, **TINY) \
        .fit_resample(df, pd.Series(yr, name="t"))
    assert list(X_res.columns) == list("abcd") and (X_res.dtypes == np.float32).all()
    assert y_res.name == "t"
    reg = make_pipeline(LatentDiffusionResampler(synthetic_ratio=0.2, random_state=0, **TINY), Ridge())
    assert reg.fit(Xr, yr).score(Xr, yr) > 0.5


def test_explicit_strategy_conflicts_with_ratio():
    X, y = _regression()
    res = LatentDiffusionResampler(sampling_strategy={0: 50}, synthetic_ratio=0.5, **TINY)
    with pytest.raises(ValueError, match="synthetic_ratio"):
        res.fit_resample(X, y)


def test_skewed_target_new_user_case_does_not_harm():
    """exp of a linear target (issue 14): the old plan sent most rows to one-row bins at
    the top of the range and multiplied a ridge head's test error by 25."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=400, n_features=12, n_informative=6, noise=5,
                           random_state=3)
    y = np.exp(y / y.std())
    X_tr, y_tr, X_te, y_te = X[:300], y[:300], X[300:], y[300:]
    res = LatentDiffusionResampler(random_state=0, **{**TINY, "train_steps": 150,
                                                      "hidden_dim": 64})
    X_res, y_res = res.fit_resample(X_tr, y_tr)
    counts = np.bincount(np.searchsorted(res.bin_edges_, y_tr, side="right").clip(1, None) - 1,
                         minlength=len(res.bin_edges_) - 1)
    # rows are counted in the bin of their (interpolated) target: a bin holds its own
    # capped rows plus rows interpolated towards it from its neighbours' plans
    for b, k in res.sampling_strategy_.items():
        near = counts[max(0, b - 1): b + 2].sum()
        assert 0 < k <= np.ceil(res.bin_cap * near) and near >= 1
    assert res.n_synthetic_ == sum(res.sampling_strategy_.values()) == X_res.shape[0] - 300
    mse = lambda Xf, yf: float(((Ridge(1.0).fit(Xf, yf).predict(X_te) - y_te) ** 2).mean())
    assert mse(X_res, y_res) <= 1.1 * mse(X_tr, y_tr)


def test_retarget_keeps_a_linear_head_from_flattening_on_the_rare_range():
    """The denoiser moves interpolated starts by what the target does not explain; to a
    ridge head that is noise in the features, which flattens its slope: on issue 14's
    new-user case the top decile got worse than without resampling.  ``retarget``
    moves the target with the row (same rows, other targets)."""
    from sklearn.datasets import make_regression

    from skltsynth.policy.retarget import LinearRetarget

    X, y = make_regression(n_samples=400, n_features=12, n_informative=6, noise=5,
                           random_state=3)
    y = np.exp(y / y.std())
    X_tr, y_tr, X_te, y_te = X[:300], y[:300], X[300:], y[300:]
    top = y_te >= np.quantile(y_te, 0.9)
    top_mae = lambda Xf, yf: float(np.abs(Ridge(1.0).fit(Xf, yf).predict(X_te) - y_te)[top].mean())
    out = {}
    for retarget in ("ridge", None):
        res = LatentDiffusionResampler(random_state=0, retarget=retarget, target_gate=None,
                                       **{**TINY, "train_steps": 150, "hidden_dim": 64})
        out[retarget] = res.fit_resample(X_tr, y_tr)
    (X_a, y_a), (X_b, y_b) = out["ridge"], out[None]
    np.testing.assert_array_equal(X_a, X_b)
    assert not np.allclose(y_a[300:], y_b[300:])
    coef = LinearRetarget().fit(X_tr, y_tr).coef_
    spread = lambda Xf, yf: float(np.std(Xf[300:] @ coef - yf[300:]))
    assert spread(X_a, y_a) < 0.85 * spread(X_b, y_b)
    assert top_mae(X_a, y_a) < min(top_mae(X_tr, y_tr), top_mae(X_b, y_b))
    assert y_tr.min() <= y_a[300:].min() and y_a[300:].max() <= y_tr.max()


def test_gate_drops_rows_it_rejects_and_reports_them():
    X, y = _regression()
    res = LatentDiffusionResampler(synthetic_ratio=0.3, gate_quantile=0.05, max_retries=0,
                                   random_state=0, **TINY)
    with pytest.warns(UserWarning, match="passed the quality gate"):
        X_res, y_res = res.fit_resample(X, y)
    assert res.n_synthetic_ < res.n_planned_ == int(round(0.3 * X.shape[0]))
    assert sum(res.sampling_strategy_.values()) == res.n_synthetic_ == X_res.shape[0] - X.shape[0]
    assert res.rejection_rate_ > 0.5


def test_request_beyond_caps_warns():
    X, y = _regression()
    with pytest.warns(UserWarning, match="the data supports"):
        res = LatentDiffusionResampler(synthetic_ratio=15.0, random_state=0, **TINY).fit(X, y)
    assert sum(res.sampling_strategy_.values()) <= res.bin_cap * X.shape[0]


def test_quantile_scores_rank_and_clip():
    from skltsynth.resamplers.latent_diffusion import quantile_scores

    ref = np.exp(np.linspace(0, 8, 101))
    s = quantile_scores(ref, [ref[0] - 1, ref[50], ref[-1] * 10])
    assert s[1] == pytest.approx(0.0, abs=1e-12) and s[0] == pytest.approx(-s[2]) and s[2] < 3


def test_interpolated_starts_keep_targets_consistent_with_rows():
    """start="interpolate": a synthetic row's target is what the real data says for
    the row (a ridge model of the real rows predicts it about as well as it predicts
    real rows); with start="real" and bin-centre targets it does not.  (A small
    strength -- one step of 50 -- so that the tiny denoiser barely moves the start rows.)"""
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.normal(0, 1, 240), rng.uniform(2.0, 4.0, 40)])
    X = np.column_stack([y, 2 * y, rng.standard_normal((y.size, 2))]) \
        + 0.05 * rng.standard_normal((y.size, 4))
    ridge = Ridge(1e-3).fit(X, y)
    real_err = np.abs(ridge.predict(X) - y).mean()
    errs = {}
    for start in ("interpolate", "real"):
        res = LatentDiffusionResampler(start=start, strength=0.02, synthetic_ratio=0.5,
                                       random_state=0, **{**TINY, "sampling_steps": 50})
        X_res, y_res = res.fit_resample(X, y)
        X_new, y_new = X_res[y.size:], y_res[y.size:]
        errs[start] = np.abs(ridge.predict(X_new) - y_new).mean()
    assert errs["interpolate"] < min(4 * real_err, 0.6 * errs["real"])


def test_discrete_columns_stay_on_their_levels():
    rng = np.random.default_rng(2)
    y = np.concatenate([rng.normal(0, 1, 300), rng.normal(3, 0.3, 30)])
    flag = (y + 0.3 * rng.standard_normal(y.size) > 0.5).astype(float)
    X = np.column_stack([y + 0.1 * rng.standard_normal(y.size), flag,
                         rng.integers(0, 4, y.size)])
    res = LatentDiffusionResampler(synthetic_ratio=0.3, random_state=0, **TINY)
    X_new = res.fit_resample(X, y)[0][y.size:]
    assert set(np.unique(X_new[:, 1])) <= {0.0, 1.0}
    assert set(np.unique(X_new[:, 2])) <= {0.0, 1.0, 2.0, 3.0}
    assert np.unique(X_new[:, 0]).size > 20  # the continuous column is not snapped
    off = LatentDiffusionResampler(synthetic_ratio=0.3, snap_discrete=False, random_state=0,
                                   **TINY).fit_resample(X, y)[0][y.size:]
    assert not set(np.unique(off[:, 1])) <= {0.0, 1.0}


def test_regression_engine_trains_only_the_timesteps_sdedit_samples_at():
    from skltsynth.engines.diffusion.training import trained_timesteps

    X, y = _regression()
    res = LatentDiffusionResampler(synthetic_ratio=0.2, random_state=0, **TINY).fit(X, y)
    X_res, y_res = res.fit_resample(X, y)
    cfg = res.engine_.config_
    assert cfg.train_strength == res._strength("regression") < 1.0
    first = int(res.engine_.scheduler_.timesteps(cfg.sampling_steps, cfg.train_strength)[0])
    assert trained_timesteps(res.engine_.scheduler_, cfg) == first + 1 < 1000
    # the per-bin counts still describe the rows returned
    new = np.digitize(y_res[X.shape[0]:], res.bin_edges_[1:-1])
    assert dict(res.sampling_strategy_) == {
        int(b): int(k) for b, k in enumerate(np.bincount(new)) if k > 0}
    # a larger strength cannot reuse that engine: warm_start retrains it
    warm = LatentDiffusionResampler(warm_start=True, random_state=0, **TINY)
    warm.fit_resample(X, y)
    first = warm.engine_
    warm.set_params(strength=0.6).fit_resample(X, y)
    assert warm.engine_ is not first and warm.engine_.config_.train_strength == 0.6
    # classes: the same rule at their own strength (pure noise at strength 1)
    Xc, yc = _classification()
    res = LatentDiffusionResampler(strength=1.0, random_state=0, **TINY).fit(Xc, yc)
    res.fit_resample(Xc, yc)
    assert res.engine_.config_.train_strength == 1.0
