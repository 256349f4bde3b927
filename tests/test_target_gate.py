"""PairTargetGate: the target of an interpolated row against what its parents imply."""

import numpy as np
import pytest

from skltsynth import LatentDiffusionResampler
from skltsynth.policy.target_gate import PairTargetGate
from skltsynth.resamplers._smoter import interpolate_in_pools

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _two_branches(n=600, d=6, seed=0):
    """``y = z ** 2``: every bin above the bottom holds rows of ``z > 0`` and of ``z < 0``."""
    rng = np.random.default_rng(seed)
    w = np.r_[1.0, 0.5, np.zeros(d - 2)]
    X = rng.standard_normal((n, d))
    scale = (X @ w).std()
    truth = lambda A: ((A @ w) / scale) ** 2
    y = truth(X) + 0.05 * rng.standard_normal(n)
    groups = np.minimum((y / y.max() * 8).astype(int), 7)
    return X, y, groups, truth, (X @ w) / scale


def test_interpolate_in_pools_returns_the_parents_of_every_row():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    groups = np.repeat([0, 1], [7, 5])
    pools = {0: np.arange(20), 1: np.arange(20, 40)}
    rows, targets, (first, second, lam) = interpolate_in_pools(
        X, y, groups, pools, np.random.default_rng(1), return_pairs=True)
    np.testing.assert_allclose(rows, X[first] + lam[:, None] * (X[second] - X[first]))
    np.testing.assert_allclose(targets, y[first] + lam * (y[second] - y[first]))
    assert np.all(first[:7] < 20) and np.all(second[7:] >= 20)
    same = interpolate_in_pools(X, y, groups, pools, np.random.default_rng(1))
    np.testing.assert_array_equal(same[0], rows)
    np.testing.assert_array_equal(same[1], targets)


def test_gate_rejects_rows_between_two_branches_and_keeps_rows_of_one():
    X, y, groups, truth, z = _two_branches()
    gate = PairTargetGate(random_state=0).fit(X, y, groups, n_groups=8)
    rng = np.random.default_rng(1)
    top = np.flatnonzero(y > 2)
    pos, neg = top[z[top] > 0], top[z[top] < 0]
    i, lam = rng.choice(pos, 200), rng.uniform(0.3, 0.7, 200)
    passed = {}
    for name, j in (("one branch", rng.choice(pos, 200)), ("two branches", rng.choice(neg, 200))):
        rows = X[i] + lam[:, None] * (X[j] - X[i])
        targets = y[i] + lam * (y[j] - y[i])
        passed[name] = float(np.mean(gate.score(rows, targets, (i, j, lam), groups[i]) <= 1.0))
    assert passed["one branch"] >= 0.7
    assert passed["two branches"] <= 0.05
    assert gate.residual_.shape == y.shape and np.all(gate.thresholds_ > 0)


def test_latent_diffusion_target_gate_cuts_the_error_of_synthetic_targets():
    X, y, _, truth, _ = _two_branches()
    tiny = dict(train_steps=150, sampling_steps=5, hidden_dim=64, n_layers=1, batch_size=64)
    def run(target_gate):
        res = LatentDiffusionResampler(random_state=0, target_gate=target_gate, **tiny)
        X_res, y_res = res.fit_resample(X, y)
        np.testing.assert_array_equal(X_res[: len(y)], X)
        return float(np.mean((y_res[len(y):] - truth(X_res[len(y):])) ** 2)), res

    # most rows of an engine this small fail, and the user is told
    with pytest.warns(UserWarning, match="target_rejection_rate_"):
        err_on, on = run(0.5)
    err_off, off = run(None)
    assert err_on < 0.5 * err_off
    assert on.n_synthetic_ < off.n_synthetic_
    assert 0.0 < on.target_rejection_rate_ <= on.rejection_rate_ <= 1.0
    assert off.target_rejection_rate_ == 0.0
    assert sum(on.sampling_strategy_.values()) == on.n_synthetic_


def test_wide_rows_are_projected_and_large_inputs_sampled():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 80)).astype(np.float32)
    y = X[:, :3].sum(axis=1) + 0.1 * rng.standard_normal(300)
    groups = np.digitize(y, np.quantile(y, [0.25, 0.5, 0.75]))
    gate = PairTargetGate(max_components=8, max_rows=200, random_state=0).fit(X, y, groups)
    assert gate._pca is not None and gate._pca.n_components_ == 8
    assert gate.residual_.shape == (300,) and np.all(np.isfinite(gate.residual_))
    pairs = (np.array([0, 1]), np.array([2, 3]), np.array([0.5, 0.5]))
    rows = 0.5 * (X[[0, 1]] + X[[2, 3]])
    score = gate.score(rows, 0.5 * (y[[0, 1]] + y[[2, 3]]), pairs, groups[[0, 1]])
    assert score.shape == (2,) and np.all(np.isfinite(score))


def test_gate_refuses_too_few_rows_and_mismatched_shapes():
    X = np.zeros((6, 2))
    with pytest.raises(ValueError, match="at least 10 rows"):
        PairTargetGate().fit(X, np.arange(6.0), np.zeros(6, int))
    with pytest.raises(ValueError, match="shape"):
        PairTargetGate().fit(np.zeros((20, 2)), np.arange(19.0), np.zeros(20, int))


def test_a_gate_that_rejects_nothing_leaves_the_rows_as_without_it():
    X, y, _, _, _ = _two_branches(n=300)
    tiny = dict(train_steps=30, sampling_steps=3, hidden_dim=16, n_layers=1, batch_size=64)
    loose = LatentDiffusionResampler(random_state=0, target_gate=1e12, **tiny)
    X_a, y_a = loose.fit_resample(X, y)
    X_b, y_b = LatentDiffusionResampler(random_state=0, target_gate=None, **tiny).fit_resample(X, y)
    assert loose.target_rejection_rate_ == 0.0
    np.testing.assert_array_equal(X_a, X_b)
    np.testing.assert_array_equal(y_a, y_b)
