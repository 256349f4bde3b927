"""scale="auto": a diffusion resampler picks the guidance weight by the in-distribution rule."""

import numpy as np
import pytest
import torch

from skltsynth import LatentDiffusionResampler, LongtailGuidance, MemoryDDPMResampler
from skltsynth.engines.diffusion import FeatureDiffusion
from skltsynth.heads.epistemic import EpistemicHeadRegressor
from skltsynth.policy.guidance_scale import (
    CLASS_RATIO,
    MIN_SIGNAL_RATIO,
    probe_rows,
    scale_search,
    signal_ratio,
)

from ._toy import three_class_guidance_problem

SMALL = dict(train_steps=150, sampling_steps=10, hidden_dim=32, n_layers=1, batch_size=32)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def problem():
    return three_class_guidance_problem(2.0, max_epochs=40, head_max_epochs=10)


def _kw(cls):
    # LatentDiff's gate drops rows: keep every row so runs compare row by row
    return {**SMALL, "gate_quantile": None} if cls is LatentDiffusionResampler else SMALL


def _row(probe, scale):
    return next(r for r in probe if r["scale"] == scale)


@pytest.mark.parametrize("cls", [LatentDiffusionResampler, MemoryDDPMResampler])
def test_auto_picks_a_scale_that_meets_the_rule_where_one_does_not(problem, cls):
    X, y, head = problem
    res = cls(guidance=LongtailGuidance(head, signal="entropy"), random_state=0, **_kw(cls))
    assert res.guidance.scale == "auto"  # the guidance object's default
    X_res, _ = res.fit_resample(X, y)
    probe = res.guidance_probe_
    assert probe[0]["scale"] == 0.0 and probe[0]["p_ratio"] == 1.0  # the unguided row
    assert res.guidance_scale_ > 0
    chosen = _row(probe, res.guidance_scale_)
    assert chosen["accepted"]
    assert chosen["signal_ratio"] > MIN_SIGNAL_RATIO and CLASS_RATIO <= chosen["p_ratio"] < 1.0
    assert chosen["signal_ratio"] == max(r["signal_ratio"] for r in probe[1:] if r["accepted"])
    assert not _row(probe, 1.0)["accepted"]  # the old default scale does nothing here
    # the rows returned are guided with the chosen scale: as if it had been given as a number
    fixed = cls(guidance=LongtailGuidance(head, signal="entropy", scale=res.guidance_scale_),
                random_state=0, **_kw(cls))
    np.testing.assert_array_equal(X_res, fixed.fit_resample(X, y)[0])
    assert fixed.guidance_probe_ is None  # a numeric scale: no probe
    plain = cls(random_state=0, **_kw(cls)).fit_resample(X, y)[0][len(y):]
    guided = X_res[len(y):]
    assert (head.longtail_score(guided, "entropy").mean()
            > head.longtail_score(plain, "entropy").mean())


def test_auto_is_reproducible_and_overrides_bypass_the_probe(problem):
    X, y, head = problem
    runs = [MemoryDDPMResampler(guidance=LongtailGuidance(head, signal="entropy"),
                                random_state=3, **SMALL) for _ in range(2)]
    out = [r.fit_resample(X, y)[0] for r in runs]
    np.testing.assert_array_equal(out[0], out[1])
    assert runs[0].guidance_probe_ == runs[1].guidance_probe_
    over = MemoryDDPMResampler(guidance=LongtailGuidance(head, signal="entropy"),
                               guidance_scale=5.0, random_state=3, **SMALL)
    over.fit_resample(X, y)
    assert over.guidance_scale_ == 5.0 and over.guidance_probe_ is None
    none = MemoryDDPMResampler(random_state=3, **SMALL)
    none.fit_resample(X, y)
    assert none.guidance_scale_ is None and none.guidance_probe_ is None


class _FlatModel:
    """A classifier whose longtail signal no guidance can raise."""

    classes_ = np.array([0, 1, 2])

    def predict_proba(self, X):
        return np.full((len(X), 3), 1.0 / 3)

    def torch_signal(self, signal):
        return lambda x: x[:, 0] * 0.0 + 1.0


@pytest.mark.parametrize("cls", [LatentDiffusionResampler, MemoryDDPMResampler])
def test_no_scale_passes_warns_and_samples_unguided(problem, cls):
    X, y, _ = problem
    res = cls(guidance=LongtailGuidance(_FlatModel()), random_state=0, **_kw(cls))
    with pytest.warns(UserWarning, match=r"no scale met .*signal x1\.00, P\(class\) x1\.00"):
        X_res, _ = res.fit_resample(X, y)
    assert res.guidance_scale_ == 0.0 and res.n_projected_ == 0
    assert not any(r.get("accepted") for r in res.guidance_probe_)
    plain = cls(random_state=0, **_kw(cls)).fit_resample(X, y)[0]
    np.testing.assert_array_equal(X_res, plain)  # the probe leaves the draw as unguided


@pytest.mark.parametrize("cls", [LatentDiffusionResampler, MemoryDDPMResampler])
def test_auto_on_a_continuous_target_uses_the_signal_rise(cls):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    y = 2.0 * X[:, 0] + 0.1 * rng.standard_normal(120)
    head = EpistemicHeadRegressor(max_epochs=30, head_max_epochs=10, device="cpu",
                                  random_state=0).fit(X, y)
    res = cls(guidance=LongtailGuidance(head), random_state=0, n_bins=4, **_kw(cls))
    res.fit_resample(X, y)
    probe = res.guidance_probe_
    assert all("p_class" not in r for r in probe)  # no class probability for a target
    assert res.guidance_scale_ > 0
    accepted = [r["scale"] for r in probe[1:] if r["accepted"]]
    assert accepted == [res.guidance_scale_]  # the smallest scale that raises the signal
    assert all(r["signal_ratio"] <= MIN_SIGNAL_RATIO for r in probe[1:-1])
    assert probe[-1]["signal_ratio"] > MIN_SIGNAL_RATIO


def test_scale_search_rules_and_probe_rows():
    def rising(s):  # signal rises, P(class) falls with the scale
        return {"signal": 1.0 + s, "p_class": 0.9 / (1.0 + s)}

    sel = scale_search(rising, scales=(0.05, 0.5, 2.0, 5.0))
    assert sel.rule == "class" and sel.scale == 0.5
    assert [r["scale"] for r in sel.table] == [0.05, 0.5, 2.0]  # stops below the floor
    sel = scale_search(lambda s: {"signal": 1.0 + s}, scales=(0.05, 0.5, 2.0))
    assert sel.rule == "signal" and sel.scale == 0.5 and len(sel.table) == 2
    sel = scale_search(lambda s: {"signal": 1.0, "p_class": 0.5}, scales=(1.0, 2.0))
    assert sel.scale == 0.0
    assert signal_ratio(-1.0, -2.0) > 1.0 > signal_ratio(-3.0, -2.0)  # energy: rises to 0
    with pytest.raises(ValueError, match="target_ratio"):
        scale_search(rising, target_ratio=1.0)
    with pytest.raises(ValueError, match="scales"):
        scale_search(rising, scales=(0.0, 1.0))
    groups = np.repeat([0, 1, 2], [200, 20, 2])
    idx = probe_rows(groups, 30, np.random.default_rng(0))
    assert np.bincount(groups[idx]).tolist() == [14, 14, 2]  # rare groups first in turn
    assert np.array_equal(idx, probe_rows(groups, 30, np.random.default_rng(0)))
    assert probe_rows(groups[:10], 30, np.random.default_rng(0)).tolist() == list(range(10))


def test_the_engine_needs_a_number():
    X = torch.randn(40, 3)
    fd = FeatureDiffusion(cond_type="none", train_steps=5, hidden_dim=8, n_layers=1,
                          sampling_steps=2).fit(X, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="with_scale"):
        fd.sample(n=4, generator=torch.Generator(), guidance=LongtailGuidance(lambda x: x[:, 0]))
    rows = fd.sample(n=4, generator=torch.Generator(),
                     guidance=LongtailGuidance(lambda x: x[:, 0]).with_scale(1.0))
    assert rows.shape == (4, 3)


def test_the_dask_path_refuses_guidance_clearly(problem):
    from skltsynth.distributed._diffusion import check_diffusion

    _, _, head = problem
    res = MemoryDDPMResampler(guidance=LongtailGuidance(head), strength=1.0)
    with pytest.raises(ValueError, match="with guidance; set guidance=None"):
        check_diffusion(res, "classification")
