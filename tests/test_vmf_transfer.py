"""Head-to-tail transfer rows of VMFKDEResampler and their engine."""

import numpy as np
import pytest

from skltsynth import VMFKDEResampler
from skltsynth.engines.class_transfer import class_summary, transfer_draws, transfer_table


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _classes(sizes, d=8, spread=0.2, seed=0):
    """Classes around distinct unit centres, rows L2-normalised."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.standard_normal((len(sizes), d)))
    X = np.concatenate([_unit(c + spread * rng.standard_normal((n, d)))
                        for c, n in zip(centres, sizes)])
    y = np.repeat(np.arange(len(sizes)), sizes)
    return X, y, centres


def test_class_summary_keeps_a_bounded_sample_of_offsets():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)) * 3.0
    centre, offsets, n = class_summary(X, np.random.default_rng(1), max_rows=16)
    U = _unit(X)
    np.testing.assert_allclose(centre, U.mean(axis=0))
    assert n == 200 and offsets.shape == (16, 5)
    # every offset is a real unit row minus the centre
    rows = offsets + centre
    assert np.all(np.min(np.linalg.norm(rows[:, None] - U[None], axis=2), axis=1) < 1e-12)
    with pytest.raises(ValueError, match="at least one row"):
        class_summary(np.empty((0, 5)), rng)


def test_transfer_table_borrows_from_the_nearest_head_classes():
    X, y, centres = _classes([60, 60, 60, 4], d=6, spread=0.05)
    # make class 3 a near copy of class 1's direction
    X[y == 3] = _unit(centres[1] + 0.05 * np.random.default_rng(2).standard_normal((4, 6)))
    summaries = {b: class_summary(X[y == b], np.random.default_rng(b)) for b in range(4)}
    table = transfer_table(summaries, [0, 3], n_donors=1, min_rows=50)
    # a head class keeps its own offsets; the tail class borrows its nearest head's
    np.testing.assert_array_equal(table[0][1], summaries[0][1])
    np.testing.assert_array_equal(table[3][1], summaries[1][1])
    np.testing.assert_array_equal(table[3][0], summaries[3][0])
    # fewer head classes than donors wanted: the largest classes serve
    small = transfer_table(summaries, [3], n_donors=2, min_rows=1000)
    assert small[3][1].shape[0] == 2 * summaries[0][1].shape[0]


def test_transfer_draws_are_unit_and_scale_zero_gives_the_centre_direction():
    rng = np.random.default_rng(0)
    centre = np.array([0.5, 0.5, 0.0])
    offsets = rng.standard_normal((10, 3)) * 0.1
    U = transfer_draws(centre, offsets, 50, 0.5, rng)
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0)
    U0 = transfer_draws(centre, offsets, 5, 0.0, rng)
    np.testing.assert_allclose(U0, np.tile(centre / np.linalg.norm(centre), (5, 1)))


def test_a_fraction_of_the_rows_are_transfer_rows_at_the_class_centre():
    X, y, _ = _classes([80, 80, 6], d=10)
    frac = 0.4
    r = VMFKDEResampler(transfer_fraction=frac, transfer_scale=0.0, random_state=0)
    X_res, y_res = r.fit_resample(X, y)
    np.testing.assert_array_equal(X_res[:len(X)], X)
    new, labels = X_res[len(X):], y_res[len(X):]
    minority = new[labels == 2]
    centre = _unit(X[y == 2].mean(axis=0, keepdims=True))[0]
    at_centre = np.isclose(minority @ centre, 1.0, atol=1e-9)
    # Binomial(74, 0.4): 29.6 expected, 4 sd = 17
    assert abs(at_centre.sum() - frac * len(minority)) < 17
    assert at_centre.sum() > 0 and not at_centre.all()
    # the rows keep their seeds' norms (unit here)
    np.testing.assert_allclose(np.linalg.norm(new, axis=1), 1.0)
    # off: no row at the centre, and the kernel rows of the two runs agree
    X_off = VMFKDEResampler(transfer_fraction=0, random_state=0).fit_resample(X, y)[0]
    off_minority = X_off[len(X):][labels == 2]
    assert not np.any(np.isclose(off_minority @ centre, 1.0, atol=1e-9))
    np.testing.assert_array_equal(minority[~at_centre], off_minority[~at_centre])


def test_transfer_rows_follow_the_donor_spread_and_are_reproducible():
    X, y, _ = _classes([120, 5], d=12, spread=0.3)
    kw = dict(transfer_fraction=0.5, transfer_scale=1.0)
    a = VMFKDEResampler(random_state=4, **kw).fit_resample(X, y)[0]
    b = VMFKDEResampler(random_state=4, **kw).fit_resample(X, y)[0]
    c = VMFKDEResampler(random_state=5, **kw).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_continuous_targets_refuse_a_transfer_fraction():
    rng = np.random.default_rng(0)
    X = _unit(rng.standard_normal((80, 6)))
    y = rng.gamma(1.0, size=80)
    with pytest.raises(ValueError, match="transfer_fraction=0.2 needs class labels"):
        VMFKDEResampler(transfer_fraction=0.2, random_state=0).fit_resample(X, y)
    auto = VMFKDEResampler(random_state=0).fit_resample(X, y)
    off = VMFKDEResampler(transfer_fraction=0, random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(auto[0], off[0])


@pytest.mark.parametrize("bad", [1.0, -0.1, "half"])
def test_invalid_transfer_fraction(bad):
    X, y, _ = _classes([20, 4])
    with pytest.raises(ValueError, match="transfer_fraction"):
        VMFKDEResampler(transfer_fraction=bad).fit_resample(X, y)
