"""Tests of skltsynth.policy.levels (discrete tabular columns)."""

import numpy as np

from skltsynth.policy.levels import DiscreteLevels


def _table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    banded = np.round(rng.normal(size=n), 1) + 0.05 * rng.integers(0, 2, n)  # ~100 levels
    return np.column_stack([banded, rng.integers(0, 2, n), rng.normal(size=n)])


def test_a_column_of_many_levels_with_many_rows_each_is_discrete():
    X = _table()
    levels = DiscreteLevels().fit(X)
    assert np.unique(X[:, 0]).size > 32  # more levels than the former limit
    assert levels.columns_.tolist() == [0, 1]  # the continuous column is not taken
    assert DiscreteLevels(max_levels=32).fit(X).columns_.tolist() == [1]


def test_float32_rounding_of_a_level_is_put_back_on_it():
    X = _table()
    levels = DiscreteLevels().fit(X)
    rounded = X[:50].astype(np.float32).astype(np.float64)
    assert not np.array_equal(rounded[:, 0], X[:50, 0])  # rounding moved some values
    np.testing.assert_array_equal(levels.transform(rounded)[:, :2], X[:50, :2])
    np.testing.assert_array_equal(levels.transform(rounded)[:, 2], rounded[:, 2])


def test_a_small_sample_keeps_its_continuous_columns():
    rng = np.random.default_rng(1)
    X = np.round(rng.normal(size=(60, 2)), 1)  # ~40 values in 60 rows: too few rows per level
    assert DiscreteLevels().fit(X).columns_.size == 0
