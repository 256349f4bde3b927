"""Standardiser, denoiser, CORAL loss and the training loop (EMA, reproducibility)."""

import math

import pytest
import torch

@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    # tiny networks: one intra-op thread is as fast and avoids stalls on a busy machine
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


from skltsynth.engines.diffusion import (
    DiffusionConfig,
    NoiseScheduler,
    ProjectionHead,
    ResidualMLPDenoiser,
    Standardiser,
    supervised_contrastive_loss,
    time_weight,
    train_denoiser,
)
from skltsynth.engines.diffusion.denoiser import init_parameters_


def test_standardiser_roundtrip_and_floor():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(100, 4, generator=g, dtype=torch.float64) * torch.tensor([1.0, 10.0, 0.01, 1])
    X[:, 3] = 5.0  # constant column
    s = Standardiser(floor=1e-3).fit(X)
    Z = s.transform(X)
    assert torch.allclose(Z[:, :3].mean(0), torch.zeros(3, dtype=Z.dtype), atol=1e-10)
    assert torch.allclose(Z[:, :3].std(0, correction=0), torch.ones(3, dtype=Z.dtype))
    assert torch.all(Z[:, 3] == 0) and float(s.scale_[3]) > 0
    assert torch.allclose(s.inverse_transform(Z), X)
    with pytest.raises(ValueError, match="features"):
        s.transform(torch.zeros(2, 5, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardiser().transform(X)


def test_standardiser_weighted():
    X = torch.tensor([[0.0], [10.0]])
    s = Standardiser().fit(X, sample_weight=torch.tensor([3.0, 1.0]))
    assert float(s.mean_[0]) == pytest.approx(2.5)


@pytest.mark.parametrize("cond_type", ["class", "continuous", "none"])
@pytest.mark.parametrize("transformer", [False, True])
def test_denoiser_shapes_and_null_condition(cond_type, transformer):
    net = ResidualMLPDenoiser(6, hidden_dim=32, n_layers=2, cond_type=cond_type, n_classes=3,
                              use_transformer=transformer, n_tokens=4, n_heads=2)
    init_parameters_(net, torch.Generator().manual_seed(0))
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    t = torch.tensor([0, 10, 100, 500, 999])
    cond = None if cond_type == "none" else (
        torch.tensor([0, 1, 2, 0, 1]) if cond_type == "class" else torch.linspace(-1, 1, 5))
    out, hidden = net(x, t, cond, return_hidden=True)
    assert out.shape == (5, 6) and hidden.shape == (5, 32)
    if cond_type != "none":
        # drop_mask everywhere == no condition at all
        dropped = net(x, t, cond, drop_mask=torch.ones(5, dtype=torch.bool))
        assert torch.allclose(dropped, net(x, t, None))
        assert not torch.allclose(net(x, t, cond), dropped)


def test_init_parameters_reproducible():
    a = init_parameters_(ResidualMLPDenoiser(4, 16, 1, "class", 2), torch.Generator().manual_seed(5))
    b = init_parameters_(ResidualMLPDenoiser(4, 16, 1, "class", 2), torch.Generator().manual_seed(5))
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_supcon_loss_prefers_clustered_labels():
    g = torch.Generator().manual_seed(0)
    centres = torch.nn.functional.normalize(torch.randn(2, 8, generator=g), dim=1)
    labels = torch.tensor([0] * 10 + [1] * 10)
    z = torch.nn.functional.normalize(centres[labels] + 0.05 * torch.randn(20, 8, generator=g),
                                      dim=1)
    good = supervised_contrastive_loss(z, labels, 0.1)
    shuffled = supervised_contrastive_loss(z, labels[torch.randperm(20, generator=g)], 0.1)
    assert float(good) < float(shuffled)
    # no positives at all -> 0, still differentiable
    zz = z.clone().requires_grad_(True)
    none = supervised_contrastive_loss(zz, torch.arange(20))
    none.backward()
    assert float(none.detach()) == 0.0


def test_supcon_matches_reference_loop():
    g = torch.Generator().manual_seed(2)
    z = torch.nn.functional.normalize(torch.randn(7, 5, generator=g, dtype=torch.float64), dim=1)
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 3])
    tau = 0.1
    total, count = 0.0, 0
    for i in range(7):
        pos = [p for p in range(7) if p != i and labels[p] == labels[i]]
        if not pos:
            continue
        denom = sum(torch.exp(z[i] @ z[a] / tau) for a in range(7) if a != i)
        total += -sum(torch.log(torch.exp(z[i] @ z[p] / tau) / denom) for p in pos) / len(pos)
        count += 1
    assert float(supervised_contrastive_loss(z, labels, tau)) == pytest.approx(float(total / count))


def test_time_weight_endpoints_and_head():
    w = time_weight(torch.tensor([0, 1000]), 1000)
    assert float(w[1]) == pytest.approx(1.0) and float(w[0]) == pytest.approx(28.03, rel=1e-3)
    z = ProjectionHead(16, 128)(torch.randn(3, 16))
    assert torch.allclose(z.norm(dim=1), torch.ones(3))


def _train(seed, steps=60, n_rows=64, **kw):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n_rows, 4, generator=g)
    cond = (X[:, 0] > 0).long()
    net = init_parameters_(ResidualMLPDenoiser(4, 32, 1, "class", 2), g)
    kw = {"early_stopping": False, **kw}
    cfg = DiffusionConfig(train_steps=steps, batch_size=32, hidden_dim=32, n_layers=1,
                          warmup_steps=5, **kw)
    return train_denoiser(net, NoiseScheduler(), X, cond, cfg, generator=g,
                          labels=cond if cfg.contrastive_weight else None)


def test_training_reproducible_and_ema_differs():
    a, b = _train(0), _train(0)
    assert a.losses == b.losses and a.n_steps == 60
    for pa, pb in zip(a.ema_model.parameters(), b.ema_model.parameters()):
        assert torch.equal(pa, pb)
    diffs = [float((pe - pr).detach().abs().max())
             for pe, pr in zip(a.ema_model.parameters(), a.model.parameters())]
    assert max(diffs) > 1e-4
    assert not a.ema_model.training


def test_training_with_coral_returns_head_and_requires_labels():
    res = _train(1, steps=20, contrastive_weight=0.05)
    assert res.projection_head is not None
    with pytest.raises(ValueError, match="labels"):
        g = torch.Generator().manual_seed(0)
        train_denoiser(ResidualMLPDenoiser(4, 8, 1), NoiseScheduler(), torch.randn(10, 4), None,
                       DiffusionConfig(cond_type="none", contrastive_weight=0.1, train_steps=2),
                       generator=g)


def test_early_stopping_stops_on_validation_plateau_and_keeps_best_weights():
    res = _train(2, steps=2000, n_rows=300, early_stopping=True, validation_interval=20,
                 n_iter_no_change=2, tol=0.5, learning_rate=1e-4)
    assert res.stopped_early and res.n_steps < 2000
    assert res.n_validation_rows == 30  # 10% of the 300 rows
    steps, _ = zip(*res.validation_losses)
    # tol=0.5: no later evaluation improves on the first by half, so its weights are kept
    assert steps[-1] == res.n_steps and res.best_step == steps[0] < res.n_steps


def test_validation_rows_are_held_out_of_training_and_drawn_from_frequent_rows():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(400, 4, generator=g)
    cond = torch.cat([torch.zeros(380), torch.ones(20)]).long()  # class 1 is rare
    weight = 1.0 / torch.bincount(cond)[cond].double()
    cfg = DiffusionConfig(train_steps=40, batch_size=64, hidden_dim=16, n_layers=1,
                          warmup_steps=5, validation_interval=20, n_iter_no_change=100)
    from skltsynth.engines.diffusion.training import _hold_out

    idx = _hold_out(weight, cfg, torch.Generator().manual_seed(1))
    assert idx.numel() == 40 and idx.unique().numel() == 40
    assert int((cond[idx] == 1).sum()) <= 1  # the rare class keeps its rows
    res = train_denoiser(ResidualMLPDenoiser(4, 16, 1, "class", 2), NoiseScheduler(), X, cond,
                         cfg, sample_weight=weight, generator=g)
    assert res.n_validation_rows == 40 and len(res.validation_losses) == 2
    assert all(math.isfinite(v) for _, v in res.validation_losses)
    # too few rows for a validation subset: no early stopping, every step runs
    small = _train(3, steps=30, early_stopping=True)
    assert small.n_validation_rows == 0 and small.n_steps == 30 and not small.validation_losses


def test_config_validation():
    with pytest.raises(ValueError, match="prediction_type"):
        DiffusionConfig(prediction_type="score")
    with pytest.raises(ValueError, match="train_steps"):
        DiffusionConfig(train_steps=0)
    with pytest.raises(TypeError, match="batch_size"):
        DiffusionConfig(batch_size=2.5)
    with pytest.raises(ValueError, match="cond_drop_prob"):
        DiffusionConfig(cond_drop_prob=1.0)


def test_scalar_timestep_is_embedded_once_with_the_same_output():
    g = torch.Generator().manual_seed(3)
    net = init_parameters_(ResidualMLPDenoiser(5, hidden_dim=16, n_layers=1, cond_type="class",
                                               n_classes=2), g)
    x = torch.randn(7, 5, generator=g)
    c = torch.tensor([0, 1, 0, 1, 1, 0, 0])
    with torch.no_grad():
        per_row = net(x, torch.full((7,), 123), c)
        once = net(x, 123, c)
    torch.testing.assert_close(once, per_row)
    assert once.shape == (7, 5)


def _ema_pair(decay, updates):
    """A per-step EMA (ema_multi_avg_fn) and a StridedEMA updated at ``updates``."""
    from torch.optim.swa_utils import AveragedModel

    from skltsynth.engines.diffusion.training import StridedEMA, ema_multi_avg_fn

    net = torch.nn.Linear(3, 2)
    per_step = AveragedModel(net, multi_avg_fn=ema_multi_avg_fn(decay))
    fn = StridedEMA(decay)
    strided = AveragedModel(net, multi_avg_fn=fn)
    gen = torch.Generator().manual_seed(0)
    for step in range(1, 41):
        if step - 1 in updates or step == 1:  # new weights held until the next update
            with torch.no_grad():
                for p in net.parameters():
                    p.add_(torch.randn(p.shape, generator=gen))
        per_step.update_parameters(net)
        if step in updates:
            fn.update(strided, net, step)
    return per_step.module, strided.module


@pytest.mark.parametrize("decay", [0.9, 0.999, 0.0])
def test_strided_ema_matches_a_per_step_ema(decay):
    # every step: the same average as the per-step EMA
    every, strided = _ema_pair(decay, set(range(1, 41)))
    for a, b in zip(every.parameters(), strided.parameters()):
        torch.testing.assert_close(a, b)
    # every 5 steps (weights constant over each gap): still the same average
    every, strided = _ema_pair(decay, {1, *range(5, 41, 5)})
    for a, b in zip(every.parameters(), strided.parameters()):
        torch.testing.assert_close(a, b)


def test_strided_ema_is_not_a_plain_copy():
    # the strided EMA weights are an average: not the last weights (decay 0.9)
    from torch.optim.swa_utils import AveragedModel

    from skltsynth.engines.diffusion.training import StridedEMA

    net = torch.nn.Linear(3, 2)
    fn = StridedEMA(0.9)
    ema = AveragedModel(net, multi_avg_fn=fn)
    for step in range(1, 201):
        with torch.no_grad():
            net.weight.add_(0.01)
        if step % 5 == 0 or step == 1:
            fn.update(ema, net, step)
    lag = float((net.weight - ema.module.weight).mean())
    assert 0.05 < lag < 0.15  # ~0.01 * decay / (1 - decay) = 0.09 behind the weights


class _RecordingScheduler(NoiseScheduler):
    """NoiseScheduler that records every timestep it noises rows to."""

    seen = None

    def add_noise(self, x0, noise, t):
        self.seen = t if self.seen is None else torch.cat([self.seen, t.reshape(-1)])
        return super().add_noise(x0, noise, t)


@pytest.mark.parametrize("strength", [1.0, 0.2, 0.5])
def test_training_draws_only_the_timesteps_sampling_visits(strength):
    from skltsynth.engines.diffusion.training import trained_timesteps

    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 4, generator=g)
    cfg = DiffusionConfig(cond_type="none", train_steps=40, batch_size=32, hidden_dim=16,
                          n_layers=1, warmup_steps=2, train_strength=strength,
                          validation_interval=20)
    sched = _RecordingScheduler()
    train_denoiser(init_parameters_(ResidualMLPDenoiser(4, 16, 1), g), sched, X, None, cfg,
                   generator=g)
    first = int(sched.timesteps(cfg.sampling_steps, strength)[0])
    assert trained_timesteps(sched, cfg) == (1000 if strength == 1.0 else first + 1)
    assert int(sched.seen.max()) <= first  # never beyond the sampler's first timestep
    assert int(sched.seen.max()) > 0.8 * first  # ... and the whole range up to it


def test_sampling_beyond_the_trained_strength_is_refused():
    from skltsynth.engines.diffusion import FeatureDiffusion

    g = torch.Generator().manual_seed(0)
    X = torch.randn(100, 4, generator=g)
    fd = FeatureDiffusion(cond_type="none", train_steps=5, batch_size=16, hidden_dim=16,
                          n_layers=1, warmup_steps=1, train_strength=0.2).fit(X, generator=g)
    assert fd.sample(x_start=X[:3], strength=0.2, generator=g).shape == (3, 4)
    with pytest.raises(ValueError, match="train_strength"):
        fd.sample(x_start=X[:3], strength=0.5, generator=g)
    with pytest.raises(ValueError, match="train_strength"):
        fd.sample(n=3, generator=g)
