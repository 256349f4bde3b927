"""The natural-test cost of a plan's target shift (skltsynth.policy.prior_shift)."""
import warnings

import numpy as np
import pytest

from skltsynth import LatentDiffusionResampler
from skltsynth.policy.prior_shift import NATURAL_SHIFT_WARNING, natural_mse_ratio

TINY = dict(train_steps=40, sampling_steps=5, hidden_dim=32, n_layers=1, batch_size=32)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _skewed(n=2000, seed=0):
    y = np.random.default_rng(seed).exponential(size=n)
    edges = np.linspace(0.0, y.max(), 9)
    counts = np.histogram(y, edges)[0]
    return y, edges, counts.max() - counts


def test_no_rows_or_exact_features_cost_nothing():
    y, edges, flatten = _skewed()
    noise = y - y.mean()
    assert natural_mse_ratio(y, noise, edges, np.zeros_like(flatten)) == 1.0
    assert natural_mse_ratio(y, np.zeros_like(y), edges, flatten) == 1.0
    exact = 1e-3 * np.random.default_rng(1).standard_normal(y.size)
    assert natural_mse_ratio(y, exact, edges, flatten, random_state=0) < 1.001


def test_cost_grows_with_the_shift_and_the_uncertainty():
    y, edges, flatten = _skewed()
    rng = np.random.default_rng(2)
    noise = y - y.mean()
    ratios = [natural_mse_ratio(y, noise, edges, k * flatten, random_state=0)
              for k in (0.1, 0.5, 1.0)]
    assert ratios[0] < ratios[1] < ratios[2] and ratios[2] > 2.0
    # residuals of a quarter of the target's spread cost less than none explained
    partial = 0.25 * y.std() * rng.standard_normal(y.size)
    assert 1.0 < natural_mse_ratio(y, partial, edges, flatten, random_state=0) < ratios[2]


def test_bad_shapes_are_named():
    y, edges, flatten = _skewed(100)
    with pytest.raises(ValueError, match="n_new of shape"):
        natural_mse_ratio(y, y, edges, flatten[:-1])
    with pytest.raises(ValueError, match="residual of shape"):
        natural_mse_ratio(y, y[:-1], edges, flatten)


def _fit(X, y, **kw):
    res = LatentDiffusionResampler(random_state=0, **TINY, **kw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res.fit_resample(X, y)
    return res, [str(w.message) for w in caught if "natural_mse_ratio_" in str(w.message)]


def test_latent_diffusion_warns_when_features_leave_the_target_open():
    # a skewed target the features say nothing about: the flattening plan pulls
    # every prediction towards the rare range; a smaller bin_cap shifts less
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((400, 4)), rng.exponential(size=400)
    res, warned = _fit(X, y)
    assert res.natural_mse_ratio_ > NATURAL_SHIFT_WARNING and len(warned) == 1
    assert f"{res.natural_mse_ratio_:.2f}x" in warned[0] and "bin_cap" in warned[0]
    capped, warned_capped = _fit(X, y, bin_cap=1)
    assert capped.natural_mse_ratio_ < res.natural_mse_ratio_


def test_latent_diffusion_quiet_when_features_determine_the_target():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((800, 4))
    y = np.exp(0.6 * X @ np.array([1.0, 0.5, 0.0, 0.0]) + 0.01 * rng.standard_normal(800))
    res, warned = _fit(X, y)
    assert res.natural_mse_ratio_ < NATURAL_SHIFT_WARNING and not warned


def test_no_estimate_without_the_target_gate_or_for_classes():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((200, 3)), rng.exponential(size=200)
    res, warned = _fit(X, y, target_gate=None)
    assert res.natural_mse_ratio_ is None and not warned
    labels = np.repeat([0, 1, 2], [120, 50, 30])
    res, _ = _fit(X, labels)
    assert res.natural_mse_ratio_ is None
