"""Tests of the per-class bounded memory bank."""

import numpy as np
import pytest
from scipy import stats

from skltsynth.engines.memory import ClassMemoryBank


def _stream(bank, n_batches, batch, d=3, seed=0, n_keys=2):
    rng = np.random.default_rng(seed)
    for i in range(n_batches):
        X = rng.normal(size=(batch, d))
        keys = rng.integers(0, n_keys, batch)
        bank.update(X, keys, rng)
    return bank


@pytest.mark.parametrize("kind", ["reservoir", "ema"])
def test_bounded_whatever_the_stream_length(kind):
    bank = ClassMemoryBank(kind=kind, size=7)
    for n_batches in (1, 10, 50):
        _stream(bank, n_batches, 33, seed=n_batches)
        X, keys = bank.rows()
        assert X.shape[0] <= 7 * 2
        assert np.all(np.bincount(keys) <= 7)
    assert sum(bank.n_seen_.values()) == 33 * 61
    assert len(bank) == 14


def test_first_rows_kept_then_reservoir():
    bank = ClassMemoryBank(size=5)
    X = np.arange(12, dtype=float).reshape(4, 3)
    bank.update(X, np.zeros(4, int), np.random.default_rng(0))
    assert np.array_equal(bank.rows()[0], X)


def test_reservoir_is_uniform_over_the_stream():
    # Every stream position must be in memory with probability size / n.
    size, n, reps = 4, 40, 2000
    hits = np.zeros(n)
    rng = np.random.default_rng(1)
    for _ in range(reps):
        bank = ClassMemoryBank(size=size)
        ids = np.arange(n, dtype=float)[:, None]
        for chunk in np.array_split(np.arange(n), 5):  # batches of 8
            bank.update(ids[chunk], np.zeros(len(chunk), int), rng)
        hits[bank.rows()[0][:, 0].astype(int)] += 1
    assert hits.sum() == size * reps
    expected = np.full(n, size * reps / n)
    assert stats.chisquare(hits, expected).pvalue > 1e-3


def test_reservoir_reproducible_and_payload_follows_rows():
    banks = [_stream(ClassMemoryBank(size=5), 4, 20, seed=3) for _ in range(2)]
    assert np.array_equal(banks[0].rows()[0], banks[1].rows()[0])
    bank = ClassMemoryBank(size=3)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    bank.update(X, np.zeros(50, int), rng, payload=X[:, 0] * 10)
    Xm, _, pay = bank.rows(with_payload=True)
    assert np.allclose(pay, Xm[:, 0] * 10)


def test_ema_single_prototype_matches_sequential_update():
    a = 0.2
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    bank = ClassMemoryBank(kind="ema", size=1, alpha=a)
    bank.update(X[:10], np.zeros(10, int), rng)
    bank.update(X[10:], np.zeros(20, int), rng)
    M = X[0].copy()
    for f in X[1:]:
        M = (1 - a) * M + a * f
    assert np.allclose(bank.rows()[0][0], M)
    assert np.allclose(bank.class_means()[0], X.mean(0))


def test_validation_errors():
    with pytest.raises(ValueError, match="memory must be"):
        ClassMemoryBank(kind="fifo")
    with pytest.raises(ValueError, match="memory_size"):
        ClassMemoryBank(size=0)
    bank = ClassMemoryBank()
    bank.update(np.ones((2, 3)), [0, 1], np.random.default_rng(0))
    with pytest.raises(ValueError, match="features"):
        bank.update(np.ones((2, 4)), [0, 1], np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        bank.update(np.ones((2, 3)), [0, 1], 0)
    with pytest.raises(ValueError, match="empty"):
        ClassMemoryBank().rows()
