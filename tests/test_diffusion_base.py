"""The shared base of the diffusion resamplers."""

import numpy as np
import pytest

from skltsynth import LatentDiffusionResampler, MemoryDDPMResampler
from skltsynth.engines.diffusion.sizing import engine_size
from skltsynth.resamplers import BaseDiffusionResampler

CLASSES = (LatentDiffusionResampler, MemoryDDPMResampler)
#: 20 training steps: the gate would rightly drop most rows (and warn); sizing is the point here
_NO_GATE = {LatentDiffusionResampler: {"gate_quantile": None}}


def _data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [50, 15, 6])
    return rng.standard_normal((y.size, 5)) + 2.0 * y[:, None], y


@pytest.mark.parametrize("cls", CLASSES)
def test_auto_engine_size_follows_the_data_and_explicit_values_win(cls):
    X, y = _data()
    auto = cls(train_steps=20, sampling_steps=3, random_state=0, **_NO_GATE.get(cls, {}))
    auto.fit_resample(X, y)
    expected = engine_size(X.shape[0], X.shape[1], 3)
    assert auto.engine_size_ == {**expected, "train_steps": 20}
    cfg = auto.engine_.config_
    assert (cfg.hidden_dim, cfg.n_layers, cfg.batch_size) == (
        expected["hidden_dim"], expected["n_layers"], expected["batch_size"])
    fixed = cls(train_steps=20, sampling_steps=3, hidden_dim=16, n_layers=1, batch_size=8,
                random_state=0, **_NO_GATE.get(cls, {}))
    fixed.fit_resample(X, y)
    assert fixed.engine_size_ == {"hidden_dim": 16, "n_layers": 1, "batch_size": 8,
                                  "train_steps": 20}


def test_both_resamplers_share_the_base_parameters():
    shared = set(BaseDiffusionResampler._parameter_constraints)
    for cls in CLASSES:
        assert issubclass(cls, BaseDiffusionResampler)
        params = set(cls().get_params())
        assert shared <= params
        for name in shared:  # one constraint definition for each shared parameter
            assert cls._parameter_constraints[name] is BaseDiffusionResampler._parameter_constraints[name]
    ld, md = LatentDiffusionResampler(), MemoryDDPMResampler()
    # same defaults; strength="auto" resolves per task and resampler: LatentDiff starts
    # from interpolated rows of the bin (0.3), both start near interpolated class rows (0.2)
    assert {k: ld.get_params()[k] for k in shared} == {k: md.get_params()[k] for k in shared}
    assert (ld._strength("regression"), md._strength("regression")) == (0.3, 1.0)
    assert ld._strength("classification") == md._strength("classification") < 0.5
    assert ld.set_params(strength=0.7)._strength("classification") == 0.7


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("bad", [{"sampling_steps": 1001}, {"train_steps": "many"},
                                 {"denoiser": "cnn"}, {"guidance_scale": -1.0}])
def test_shared_constraints_refuse_bad_values(cls, bad):
    X, y = _data()
    with pytest.raises(ValueError, match=next(iter(bad))):
        cls(**bad).fit_resample(X, y)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("strength", ["auto", 1.0])
def test_engine_trains_the_timesteps_of_the_resamplers_strength(cls, strength):
    X, y = _data()
    res = cls(train_steps=10, sampling_steps=5, strength=strength, random_state=0,
              **_NO_GATE.get(cls, {}))
    res.fit_resample(X, y)
    assert res.engine_.config_.train_strength == res._strength("classification")
    assert res.engine_.config_.train_strength == (0.2 if strength == "auto" else 1.0)


def test_narrow_denoisers_run_on_one_cpu_thread_and_restore_the_setting(monkeypatch):
    import torch

    from skltsynth.engines.diffusion import FeatureDiffusion, model, threads
    from skltsynth.resamplers.latent_diffusion import LatentDiffusionResampler

    seen, widths = [], []
    fit, sample = FeatureDiffusion.fit, FeatureDiffusion.sample

    def outer(original):  # the width of the engine being run
        def wrapped(self, *args, **kwargs):
            widths.append(self.config.hidden_dim)
            return original(self, *args, **kwargs)
        return wrapped

    def inner(original, phase):  # the threads while its training / sampling runs
        def wrapped(*args, **kwargs):
            seen.append((phase, widths[-1], torch.get_num_threads()))
            return original(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(FeatureDiffusion, "fit", outer(fit))
    monkeypatch.setattr(FeatureDiffusion, "sample", outer(sample))
    monkeypatch.setattr(model, "train_denoiser", inner(model.train_denoiser, "fit"))
    monkeypatch.setattr(model, "sample_rows", inner(model.sample_rows, "sample"))
    rng = np.random.default_rng(0)
    y = np.r_[rng.normal(0, 1, 60), rng.normal(3, 0.2, 8)]
    X = np.c_[y, rng.normal(size=68)]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        narrow = threads.SINGLE_THREAD_MAX_WIDTH
        for width in (narrow, 2 * narrow):
            LatentDiffusionResampler(train_steps=3, sampling_steps=2, hidden_dim=width,
                                     n_layers=1, synthetic_ratio=0.1,
                                     random_state=0).fit_resample(X, y)
            assert torch.get_num_threads() == 2  # restored after every call
    finally:
        torch.set_num_threads(before)
    assert {(phase, w, n) for phase, w, n in seen} == {
        ("fit", narrow, 1), ("sample", narrow, 1), ("fit", 2 * narrow, 2),
        ("sample", 2 * narrow, 2)}
