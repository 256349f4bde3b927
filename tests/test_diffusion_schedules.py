"""Schedule properties: monotone abar, prediction conversions, min-SNR weights, DDIM step."""

import math

import pytest
import torch

from skltsynth.engines.diffusion.schedules import (
    NoiseScheduler,
    cosine_alphas_cumprod,
    linear_betas,
)


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_abar_strictly_decreasing_in_unit_interval(schedule):
    sched = NoiseScheduler(1000, schedule=schedule)
    abar = sched.alphas_cumprod
    assert abar.dtype == torch.float64
    assert abar.shape == (1000,)
    assert bool((abar[1:] < abar[:-1]).all())
    assert 0.0 < float(abar[-1]) < 1e-3
    assert float(abar[0]) > 0.999


def test_cosine_matches_closed_form():
    T = 1000
    abar = cosine_alphas_cumprod(T)
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
    for t in [0, 10, 250, 500, 900]:
        assert abs(float(abar[t]) - f((t + 1) / T) / f(0)) < 1e-10


def test_linear_betas_endpoints():
    b = linear_betas(1000)
    assert abs(float(b[0]) - 1e-4) < 1e-12 and abs(float(b[-1]) - 0.02) < 1e-12


@pytest.mark.parametrize("pred", ["epsilon", "v", "x0"])
def test_conversions_invert(pred):
    sched = NoiseScheduler(1000, prediction_type=pred)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(64, 5, generator=g, dtype=torch.float64)
    eps = torch.randn(64, 5, generator=g, dtype=torch.float64)
    t = torch.randint(0, 990, (64,), generator=g)
    xt = sched.add_noise(x0, eps, t)
    out = sched.target(x0, eps, t)
    x0_hat, eps_hat = sched.split(out, xt, t)
    assert torch.allclose(x0_hat, x0, atol=1e-6)
    assert torch.allclose(eps_hat, eps, atol=1e-6)
    assert torch.allclose(sched.x0_from_eps(eps, xt, t), x0, atol=1e-6)


def test_v_target_formula():
    sched = NoiseScheduler(1000, prediction_type="v")
    x0 = torch.ones(1, 2, dtype=torch.float64)
    eps = 2 * torch.ones(1, 2, dtype=torch.float64)
    t = torch.tensor([300])
    a = float(sched.alphas_cumprod[300])
    expected = math.sqrt(a) * 2 - math.sqrt(1 - a) * 1
    assert abs(float(sched.target(x0, eps, t)[0, 0]) - expected) < 1e-12


def test_min_snr_weights():
    t = torch.arange(0, 1000, 37)
    s_eps = NoiseScheduler(prediction_type="epsilon")
    snr = s_eps.snr(t)
    w_eps = s_eps.loss_weight(t, gamma=5)
    w_v = NoiseScheduler(prediction_type="v").loss_weight(t, gamma=5)
    w_x0 = NoiseScheduler(prediction_type="x0").loss_weight(t, gamma=5)
    assert torch.allclose(w_eps, torch.clamp(snr, max=5) / snr)
    assert torch.allclose(w_v, torch.clamp(snr, max=5) / (snr + 1))
    assert torch.allclose(w_x0, torch.clamp(snr, max=5))
    # low noise (high SNR) is down-weighted; high noise eps weight is 1
    assert float(w_eps[0]) < 0.01 and float(w_eps[-1]) == pytest.approx(1.0)
    # all three weight the implied x0 error the same: w_eps*snr == w_v*(snr+1) == w_x0
    assert torch.allclose(w_eps * snr, w_x0) and torch.allclose(w_v * (snr + 1), w_x0)
    assert torch.all(s_eps.loss_weight(t, gamma=None) == 1)


def test_timesteps_trailing_and_strength():
    sched = NoiseScheduler(1000)
    ts = sched.timesteps(50)
    assert len(ts) == 50 and int(ts[0]) == 999 and int(ts[-1]) == 19
    assert bool((ts[1:] < ts[:-1]).all())
    half = sched.timesteps(50, strength=0.5)
    assert len(half) == 25 and torch.equal(half, ts[25:])
    assert len(sched.timesteps(1000)) == 1000
    with pytest.raises(ValueError, match="strength"):
        sched.timesteps(50, strength=0.0)
    with pytest.raises(ValueError, match="sampling_steps"):
        sched.timesteps(0)


def test_ddim_step_with_exact_output_recovers_x0_at_end():
    sched = NoiseScheduler(1000, prediction_type="v")
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(8, 3, generator=g, dtype=torch.float64)
    eps = torch.randn(8, 3, generator=g, dtype=torch.float64)
    ts = sched.timesteps(10)
    x = sched.add_noise(x0, eps, ts[:1].expand(8))
    for i, t in enumerate(ts.tolist()):
        out = sched.target(x0, eps, torch.full((8,), t))
        x0_hat, eps_hat = sched.split(out, x, t)
        x = sched.step_from_estimates(x0_hat, eps_hat, t, sched.previous_timestep(ts, i), eta=0.0)
        assert torch.allclose(x0_hat, x0, atol=1e-6)
    assert torch.allclose(x, x0, atol=1e-6)


def test_eta_one_needs_generator_and_is_reproducible():
    sched = NoiseScheduler(1000)
    x = torch.zeros(4, 3)
    out = torch.zeros(4, 3)
    x0_hat, eps_hat = sched.split(out, x, 500)

    def step(eta, generator=None):
        return sched.step_from_estimates(x0_hat, eps_hat, 500, 499, eta, generator)

    a = step(1.0, torch.Generator().manual_seed(3))
    b = step(1.0, torch.Generator().manual_seed(3))
    c = step(0.0)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_bad_arguments():
    with pytest.raises(ValueError, match="prediction_type"):
        NoiseScheduler(prediction_type="score")
    with pytest.raises(ValueError, match="schedule"):
        NoiseScheduler(schedule="sigmoid")
