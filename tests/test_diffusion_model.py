"""End-to-end behaviour of the FeatureDiffusion facade on tiny problems."""

import pickle

import numpy as np
import pytest
import torch

@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    # tiny networks: one intra-op thread is as fast and avoids stalls on a busy machine
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


from skltsynth.engines.diffusion import DiffusionConfig, FeatureDiffusion
from skltsynth.policy.guidance import LongtailGuidance

SMALL = dict(hidden_dim=64, n_layers=2, train_steps=400, batch_size=128, warmup_steps=20,
             early_stopping=False, sampling_steps=20)


def _two_class(seed=0, n=400, d=8):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    means = torch.zeros(2, d)
    means[0, :2] = torch.tensor([2.0, 1.0])
    means[1, :2] = torch.tensor([-2.0, -1.0])
    X = means[y] + 0.5 * torch.randn(n, d, generator=g)
    return X * 0.1 + 3.0, y  # off-scale on purpose: the standardiser must undo it


@pytest.fixture(scope="module")
def fitted():
    X, y = _two_class()
    fd = FeatureDiffusion(DiffusionConfig(cond_type="class", **SMALL))
    fd.fit(X, y, generator=torch.Generator().manual_seed(1))
    return fd, X, y


def _class_means(Z, c):
    return torch.stack([Z[c == k].mean(0) for k in (0, 1)])


def test_conditional_samples_match_class_means(fitted):
    fd, X, y = fitted
    c = torch.arange(600) % 2
    Z = fd.sample(c, generator=torch.Generator().manual_seed(2))
    assert Z.shape == (600, 8) and Z.dtype == torch.float32
    real, gen = _class_means(X, y), _class_means(Z, c)
    gap = float((real[0] - real[1]).norm())
    err = (real - gen).norm(dim=1)
    assert float(err.max()) < 0.15 * gap, (err, gap)
    # spread is in the right ballpark too (std of real rows is 0.05 per dim)
    assert 0.5 < float(Z[c == 0].std(0).mean() / X[y == 0].std(0).mean()) < 1.6


def test_cfg_scale_separates_classes_more(fitted):
    fd, X, y = fitted
    c = torch.arange(400) % 2
    sep = {}
    for s in (1.0, 3.0):
        Z = fd.sample(c, generator=torch.Generator().manual_seed(3), cfg_scale=s)
        m = _class_means(Z, c)
        sep[s] = float((m[0] - m[1]).norm())
    assert sep[3.0] > sep[1.0] * 1.05, sep


def test_ddim_eta0_deterministic_given_generator(fitted):
    fd, X, y = fitted
    c = torch.tensor([0, 1, 0, 1])
    a = fd.sample(c, generator=torch.Generator().manual_seed(7), eta=0.0)
    b = fd.sample(c, generator=torch.Generator().manual_seed(7), eta=0.0)
    d = fd.sample(c, generator=torch.Generator().manual_seed(8), eta=0.0)
    e1 = fd.sample(c, generator=torch.Generator().manual_seed(7), eta=1.0)
    e2 = fd.sample(c, generator=torch.Generator().manual_seed(7), eta=1.0)
    assert torch.equal(a, b) and not torch.equal(a, d)
    assert torch.equal(e1, e2) and not torch.equal(a, e1)


def test_batching_does_not_change_rows(fitted):
    fd, X, y = fitted
    c = torch.arange(10) % 2
    # one chunk vs chunks of 3 draw the same noise in the same order
    a = fd.sample(c, generator=torch.Generator().manual_seed(4), batch_size=100)
    b = fd.sample(c, generator=torch.Generator().manual_seed(4), batch_size=3)
    assert torch.allclose(a, b, atol=1e-5)


def test_sdedit_strength_stays_closer_to_start(fitted):
    fd, X, y = fitted
    xs, c = X[:100], y[:100]
    dist = {}
    for s in (0.3, 1.0):
        Z = fd.sample(c, x_start=xs, strength=s, generator=torch.Generator().manual_seed(5))
        dist[s] = float((Z - xs).norm(dim=1).mean())
    assert dist[0.3] < 0.7 * dist[1.0], dist
    with pytest.raises(ValueError, match="x_start"):
        fd.sample(c, strength=0.5, generator=torch.Generator())


@pytest.mark.parametrize("jacobian", [True, False])
def test_guidance_increases_signal(fitted, jacobian):
    fd, X, y = fitted
    c = torch.arange(300) % 2
    seen = []

    def signal(x0, cond):
        seen.append((x0.shape, cond.shape))
        return x0[:, 0]

    base = fd.sample(c, generator=torch.Generator().manual_seed(6))
    guided = fd.sample(c, generator=torch.Generator().manual_seed(6),
                       guidance=LongtailGuidance(signal, scale=2.0, jacobian=jacobian))
    shift = float(guided[:, 0].mean() - base[:, 0].mean())
    assert shift > 0.02, shift  # real class spread along x0 is ~0.05, gap 0.4
    assert shift < 1.0  # bounded: no blow-up at the first (t = T - 1) step
    assert all(s == ((300, 8), (300,)) for s in seen) and len(seen) == 20
    assert torch.isfinite(guided).all()


def test_return_x0_trajectory(fitted):
    fd, X, y = fitted
    c = torch.tensor([0, 1, 1])
    rows, traj = fd.sample(c, generator=torch.Generator().manual_seed(1), return_x0=True,
                           sampling_steps=5)
    assert traj.shape == (5, 3, 8)
    assert torch.allclose(traj[-1], rows, atol=1e-5)  # last step's estimate is the output


def test_reproducible_fit_and_sample():
    X, y = _two_class(seed=3, n=100)
    cfg = DiffusionConfig(cond_type="class", **{**SMALL, "train_steps": 30})
    out = []
    for _ in range(2):
        g = torch.Generator().manual_seed(11)
        fd = FeatureDiffusion(cfg).fit(X, y, generator=g)
        out.append(fd.sample(y[:20], generator=g))
    assert torch.equal(out[0], out[1])


def test_continuous_conditioning_tracks_target():
    g = torch.Generator().manual_seed(0)
    target = torch.rand(500, generator=g) * 10.0 + 20.0  # caller's units
    X = torch.stack([(target - 25.0) / 3.0, -(target - 25.0) / 3.0], 1)
    X = torch.cat([X, 0.3 * torch.randn(500, 4, generator=g)], 1) + 0.1 * torch.randn(500, 6,
                                                                                      generator=g)
    fd = FeatureDiffusion(cond_type="continuous", **SMALL).fit(X, target, generator=g)
    cond = torch.linspace(21.0, 29.0, 300)
    Z = fd.sample(cond, generator=torch.Generator().manual_seed(1))
    corr = float(np.corrcoef(cond.numpy(), Z[:, 0].numpy())[0, 1])
    assert corr > 0.8, corr
    assert fd.cond_mean_ == pytest.approx(float(target.mean()), rel=1e-6)


def _silhouette(Z, labels):
    from sklearn.metrics import silhouette_score

    return silhouette_score(Z.numpy(), labels.numpy(), metric="cosine")


def test_coral_raises_bottleneck_silhouette():
    g = torch.Generator().manual_seed(0)
    n, d = 300, 8
    labels = torch.arange(n) % 3
    centres = torch.randn(3, d, generator=g) * 0.8
    X = centres[labels] + torch.randn(n, d, generator=g)
    sil = {}
    for w in (0.0, 0.5):
        fd = FeatureDiffusion(cond_type="none", contrastive_weight=w, **SMALL)
        fd.fit(X, labels_for_contrastive=labels if w else None,
               generator=torch.Generator().manual_seed(1))
        sil[w] = (_silhouette(fd.embed(X, project=False), labels),
                  _silhouette(fd.embed(X), labels))
        assert (fd.projection_head_ is not None) == (w > 0)
    # CORAL's projection, and the bottleneck itself, separate the classes better
    assert sil[0.5][1] > sil[0.0][0] + 0.05, sil
    assert sil[0.5][0] > sil[0.0][0], sil


def test_pickle_and_to_cpu(fitted):
    fd, X, y = fitted
    clone = pickle.loads(pickle.dumps(fd.to_cpu_state()))
    c = torch.tensor([0, 1])
    a = fd.sample(c, generator=torch.Generator().manual_seed(9))
    b = clone.sample(c, generator=torch.Generator().manual_seed(9))
    assert torch.equal(a, b) and clone.device_ == torch.device("cpu")


def test_input_errors(fitted):
    fd, X, y = fitted
    with pytest.raises(ValueError, match="out of range"):
        fd.sample(torch.tensor([0, 2]), generator=torch.Generator())
    with pytest.raises(TypeError, match="generator"):
        fd.sample(torch.tensor([0]), generator=None)
    with pytest.raises(ValueError, match="rows"):
        fd.sample(generator=torch.Generator())
    with pytest.raises(RuntimeError, match="not fitted"):
        FeatureDiffusion().sample(n=3, generator=torch.Generator())
    with pytest.raises(ValueError, match="cond"):
        FeatureDiffusion(cond_type="class").fit(X, None, generator=torch.Generator())
    with pytest.raises(ValueError, match="NaN"):
        FeatureDiffusion(cond_type="none").fit(torch.full((4, 2), float("nan")),
                                               generator=torch.Generator())
    with pytest.raises(ValueError, match="shape \\(n,\\)"):
        fd.sample(torch.tensor([0, 1]), generator=torch.Generator(),
                  guidance=LongtailGuidance(lambda x0, c: x0))
    with pytest.raises(TypeError, match="scale"):  # the engine takes guidance objects only
        fd.sample(torch.tensor([0, 1]), generator=torch.Generator(), guidance=lambda x0, c: x0[:, 0])


def test_max_strength_bounds_training_timesteps_and_sampling(monkeypatch):
    from skltsynth.engines.diffusion.schedules import NoiseScheduler
    from skltsynth.engines.diffusion.training import trained_timesteps

    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.standard_normal((64, 3)), dtype=torch.float32)
    cfg = DiffusionConfig(cond_type="continuous", hidden_dim=16, n_layers=1, train_steps=5,
                          batch_size=16, max_strength=0.25)
    seen, add_noise = [], NoiseScheduler.add_noise

    def spy(self, x0, noise, t):  # every timestep training and validation noise rows at
        seen.append(t.clone())
        return add_noise(self, x0, noise, t)

    monkeypatch.setattr(NoiseScheduler, "add_noise", spy)
    engine = FeatureDiffusion(cfg).fit(X, torch.linspace(0, 1, 64, dtype=torch.float64),
                                       generator=torch.Generator().manual_seed(0))
    monkeypatch.undo()
    assert trained_timesteps(engine.scheduler_, cfg) == 250
    assert seen and int(torch.cat(seen).max()) < 250
    cond = torch.zeros(4, dtype=torch.float64)
    rows = engine.sample(cond, generator=torch.Generator().manual_seed(1), strength=0.25,
                         x_start=X[:4])
    assert rows.shape == (4, 3)
    with pytest.raises(ValueError, match="max_strength"):
        engine.sample(cond, generator=torch.Generator().manual_seed(1), strength=0.5,
                      x_start=X[:4])
    with pytest.raises(ValueError, match="max_strength"):
        DiffusionConfig(max_strength=0.0)
