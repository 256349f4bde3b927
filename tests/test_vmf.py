"""Tests of the von Mises-Fisher engine (skltsynth.engines.vmf)."""

import numpy as np
import pytest
import torch
from scipy import stats

from skltsynth.engines.vmf import (
    kappa_from_cosine,
    mean_resultant_length,
    nearest_neighbor_cosine,
    sample_vmf,
)


def _random_unit(n, d, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ------------------------------------------------------------ A_d(kappa)
def test_mean_resultant_length_closed_forms():
    kappa = np.array([0.5, 2.0, 10.0, 300.0])
    # d = 3: coth(k) - 1/k; d = 2: I1/I0.
    np.testing.assert_allclose(
        mean_resultant_length(kappa, 3), 1 / np.tanh(kappa) - 1 / kappa, rtol=1e-12
    )
    from scipy.special import i0e, i1e

    np.testing.assert_allclose(mean_resultant_length(kappa, 2), i1e(kappa) / i0e(kappa), rtol=1e-12)
    assert mean_resultant_length(0.0, 384) == 0.0


@pytest.mark.parametrize("d", [384, 768, 1024, 2048])
def test_mean_resultant_length_finite_monotone_high_dim(d):
    kappa = np.logspace(-4, 7, 200)
    a = mean_resultant_length(kappa, d)
    assert np.all(np.isfinite(a))
    assert np.all(np.diff(a) > 0)
    assert np.all((a > 0) & (a < 1))
    # small-kappa limit kappa / d and large-kappa limit 1 - (d - 1) / (2 kappa)
    np.testing.assert_allclose(a[0], kappa[0] / d, rtol=1e-6)
    np.testing.assert_allclose(1 - a[-1], (d - 1) / (2 * kappa[-1]), rtol=1e-3)


def test_mean_resultant_length_matches_mpmath_where_ive_underflows():
    mpmath = pytest.importorskip("mpmath")
    for d, k in [(1024, 3.0), (1024, 50.0), (2048, 100.0), (768, 20.0)]:
        exact = float(mpmath.besseli(d / 2, k) / mpmath.besseli(d / 2 - 1, k))
        assert mean_resultant_length(k, d) == pytest.approx(exact, rel=1e-9)


def test_mean_resultant_length_rejects_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        mean_resultant_length(-1.0, 3)
    with pytest.raises(ValueError, match="dimension"):
        mean_resultant_length(1.0, 0)


# ------------------------------------------------------------ kappa estimates
def test_kappa_from_cosine_moment_matches_a_d():
    d = 384
    c = np.array([0.3, 0.6, 0.8, 0.95])
    kappa = kappa_from_cosine(c, d)
    # Banerjee's approximation inverts A_d to within a few percent of 1 - c.
    np.testing.assert_allclose(mean_resultant_length(kappa, d), c, atol=0.01)
    ban = kappa_from_cosine(c, d, method="banerjee")
    assert np.all(ban > 2 * kappa)


def test_kappa_from_cosine_clips():
    kappa = kappa_from_cosine(np.array([-0.5, 0.0, 1.0, 1.0 + 1e-9]), 16)
    assert kappa[0] == 0.0 and kappa[1] == 0.0
    assert np.all(np.isfinite(kappa)) and kappa[2] == kappa[3] > 1e6
    with pytest.raises(ValueError, match="method"):
        kappa_from_cosine(0.5, 16, method="median")
    with pytest.raises(ValueError, match="NaN"):
        kappa_from_cosine(np.nan, 16)


# ------------------------------------------------------------ sampler
@pytest.mark.parametrize("d", [3, 384, 1024])
def test_sample_mean_cosine_matches_a_d(d):
    kappas = np.array([1.0, 10.0, 100.0, 1e3, 1e5])
    n_each = 4000
    mu = _random_unit(kappas.size, d, seed=d)
    mus = np.repeat(mu, n_each, axis=0)
    kap = np.repeat(kappas, n_each)  # mixed kappas in one batch
    x = sample_vmf(mus, kap, random_state=1)
    cos = np.einsum("ij,ij->i", x, mus).reshape(kappas.size, n_each)
    expected = mean_resultant_length(kappas, d)
    # standard error of the mean, with a floor of 1e-3 * (1 - A) for the near-deterministic cases
    se = cos.std(axis=1) / np.sqrt(n_each)
    np.testing.assert_array_less(np.abs(cos.mean(axis=1) - expected), 5 * se + 1e-12)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("d, kappa", [(3, 10.0), (384, 100.0), (1024, 1e3)])
def test_sample_matches_scipy_vonmises_fisher(d, kappa):
    mu = _random_unit(1, d, seed=7)[0]
    ref = stats.vonmises_fisher(mu, kappa).rvs(1500, random_state=0)
    ours = sample_vmf(np.tile(mu, (1500, 1)), kappa, random_state=0)
    ks = stats.ks_2samp(ref @ mu, ours @ mu)
    assert ks.pvalue > 1e-3
    # the tangent part is isotropic: mean of the sample is ~ A_d mu
    mean_dir = ours.mean(axis=0)
    assert np.linalg.norm(mean_dir - (ours @ mu).mean() * mu) < 5 / np.sqrt(1500)


def test_sample_extremes_are_finite():
    d = 2048
    mu = np.tile(_random_unit(1, d, seed=3), (300, 1))  # duplicate mus
    kap = np.r_[np.zeros(100), np.full(100, 1e-8), np.full(100, 1e6)]
    x = sample_vmf(mu, kap, random_state=0)
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-12)
    cos = np.einsum("ij,ij->i", x, mu)
    assert np.all(cos[200:] > 0.998)
    np.testing.assert_allclose(cos[200:].mean(), mean_resultant_length(1e6, d), atol=1e-5)
    assert abs(cos[:200].mean()) < 5 / np.sqrt(200 * d)


def test_kappa_zero_is_uniform_on_sphere():
    d = 3
    x = sample_vmf(np.tile([0.0, 0.0, 1.0], (6000, 1)), 0.0, random_state=0)
    # Archimedes: the z coordinate of a uniform point on S^2 is uniform on [-1, 1].
    assert stats.kstest(x[:, 2], stats.uniform(-1, 2).cdf).pvalue > 1e-3
    assert np.linalg.norm(x.mean(axis=0)) < 0.05


def test_sample_reproducible_and_seed_dependent():
    mu = _random_unit(50, 64)
    kap = np.linspace(1.0, 500.0, 50)
    a = sample_vmf(mu, kap, random_state=3)
    b = sample_vmf(mu, kap, random_state=np.random.default_rng(3))
    c = sample_vmf(mu, kap, random_state=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    np.testing.assert_array_equal(sample_vmf(mu, kap, generator=g1), sample_vmf(mu, kap, generator=g2))


def test_sample_batching_keeps_distribution_and_shape():
    mu = _random_unit(1000, 32)
    x = sample_vmf(mu, 50.0, random_state=0, batch_size=7)
    assert x.shape == mu.shape
    cos = np.einsum("ij,ij->i", x, mu)
    assert abs(cos.mean() - mean_resultant_length(50.0, 32)) < 5 * cos.std() / np.sqrt(1000)


def test_sample_dtypes_and_tensors():
    mu32 = _random_unit(20, 16).astype(np.float32)
    x = sample_vmf(mu32, 10.0, random_state=0)
    assert x.dtype == np.float32 and isinstance(x, np.ndarray)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    t = torch.from_numpy(mu32)
    xt = sample_vmf(t, torch.full((20,), 10.0), random_state=0)
    assert isinstance(xt, torch.Tensor) and xt.dtype == torch.float32
    np.testing.assert_array_equal(xt.numpy(), x)
    single = sample_vmf(np.array([3.0, 4.0]), 5.0, random_state=0)
    assert single.shape == (2,) and single.dtype == np.float64
    # d = 1: the sphere is {-1, +1}
    s = sample_vmf(np.ones((4000, 1)), 0.5, random_state=0)
    assert set(np.unique(s)) <= {-1.0, 1.0}
    assert abs((s == 1).mean() - 1 / (1 + np.exp(-1.0))) < 0.03


def test_sample_rejects_bad_input():
    with pytest.raises(ValueError, match="zero row"):
        sample_vmf(np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match="one value per row"):
        sample_vmf(np.eye(3), [1.0, 2.0])
    with pytest.raises(ValueError, match="non-negative"):
        sample_vmf(np.eye(3), -1.0)
    with pytest.raises(ValueError, match="non-negative"):
        sample_vmf(np.eye(3), np.inf)
    with pytest.raises(ValueError, match="finite"):
        sample_vmf(np.array([[1.0, np.nan]]), 1.0)
    with pytest.raises(TypeError, match="generator"):
        sample_vmf(np.eye(3), 1.0, generator=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_sample_on_cuda():
    mu = torch.from_numpy(_random_unit(2000, 384).astype(np.float32)).cuda()
    x = sample_vmf(mu, 300.0, random_state=0)
    assert x.is_cuda and x.dtype == torch.float32
    cos = (x * mu).sum(1).double().cpu().numpy()
    assert abs(cos.mean() - mean_resultant_length(300.0, 384)) < 5 * cos.std() / np.sqrt(2000)


# ------------------------------------------------------------ neighbour search
def test_nearest_neighbor_cosine_matches_brute_force():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 20))
    X[5] = X[6] * 3.0  # duplicate direction
    groups = rng.integers(0, 7, size=300)
    groups[299] = 99  # singleton group
    expected = np.full(300, np.nan)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = Xn @ Xn.T
    for i in range(300):
        mask = (groups == groups[i]) & (np.arange(300) != i)
        if mask.any():
            expected[i] = S[i, mask].max()
    for block in (None, 50, 1):  # tiny blocks exercise the chunking
        got = nearest_neighbor_cosine(X, groups, block_elements=block)
        np.testing.assert_allclose(got, expected, atol=1e-12, equal_nan=True)
    assert np.isnan(got[299])
    if groups[5] == groups[6]:
        assert got[5] == pytest.approx(1.0)


@pytest.mark.parametrize("k", [2, 3, 10])
def test_nearest_neighbor_cosine_k_mean_matches_brute_force(k):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 12))
    groups = rng.integers(0, 40, size=200)  # many groups smaller than k + 1
    groups[199] = 99  # singleton group
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = Xn @ Xn.T
    expected = np.full(200, np.nan)
    for i in range(200):
        mask = (groups == groups[i]) & (np.arange(200) != i)
        if mask.any():
            expected[i] = np.sort(S[i, mask])[::-1][:k].mean()
    for block in (None, 50, 1):
        got = nearest_neighbor_cosine(X, groups, n_neighbors=k, block_elements=block)
        np.testing.assert_allclose(got, expected, atol=1e-12, equal_nan=True)
    one = nearest_neighbor_cosine(X, groups)
    assert np.all(got[~np.isnan(got)] <= one[~np.isnan(one)] + 1e-12)


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_nearest_neighbor_cosine_rejects_bad_k(k):
    with pytest.raises(ValueError, match="n_neighbors"):
        nearest_neighbor_cosine(np.eye(3), [0, 0, 0], n_neighbors=k)


def test_circle_draws_match_von_mises_and_stay_unit():
    # d = 2: small tangent parts are common, their norms are recomputed from the vectors
    mu = np.tile([0.6, 0.8], (4000, 1))
    x = sample_vmf(mu, 2.0, random_state=0)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-12)
    angle = np.arctan2(x[:, 1], x[:, 0]) - np.arctan2(0.8, 0.6)
    angle = (angle + np.pi) % (2 * np.pi) - np.pi
    assert stats.kstest(angle, stats.vonmises(2.0).cdf).pvalue > 1e-3


def test_float16_and_unnormalised_mu_go_through_the_work_buffer():
    mu = (_random_unit(3000, 64) * 7.0).astype(np.float16)  # not unit rows, half precision
    x = sample_vmf(mu, 200.0, random_state=0, batch_size=1000)
    assert x.dtype == np.float16
    x32, mu32 = x.astype(np.float32), mu.astype(np.float32)
    mu32 /= np.linalg.norm(mu32, axis=1, keepdims=True)
    cos = np.einsum("ij,ij->i", x32, mu32)
    assert abs(cos.mean() - mean_resultant_length(200.0, 64)) < 5 * cos.std() / np.sqrt(3000) + 2e-3


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_draws_do_not_depend_on_threads_or_the_overlapped_blocks(dtype):
    # With two torch threads the blocks' statistics run on a worker thread while the
    # caller draws the next block; every random number is still drawn in order on the
    # caller, so the rows equal the inline (one-thread) run bit for bit.
    mu = (_random_unit(900, 24) * 3.0).astype(dtype)
    kap = np.geomspace(0.5, 5e4, 900)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        inline = sample_vmf(mu, kap, random_state=11, batch_size=64)
        torch.set_num_threads(2)
        overlapped = sample_vmf(mu, kap, random_state=11, batch_size=64)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(inline, overlapped)
    assert overlapped.dtype == dtype
    x, m = overlapped.astype(np.float64), mu.astype(np.float64)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=2e-3)
    cos = np.einsum("ij,ij->i", x, m)
    assert cos[kap > 5000].mean() > 0.99 and abs(cos[kap < 1].mean()) < 0.2


def test_a_bad_block_on_the_worker_thread_raises_the_clear_error():
    mu = _random_unit(300, 8)
    mu[250] = 0.0
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with pytest.raises(ValueError, match="zero row"):
            sample_vmf(mu, 10.0, random_state=0, batch_size=50)
    finally:
        torch.set_num_threads(before)
