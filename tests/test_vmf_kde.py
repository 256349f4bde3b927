"""Tests of VMFKDEResampler."""

from collections import Counter

import numpy as np
import pytest
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skltsynth.resamplers.vmf_kde import VMFKDEResampler, local_kappa
from skltsynth.policy.targets import assign_bins


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _clusters(counts, d=32, spread=0.6, seed=0, normalise=True):
    """Gaussian clusters around random centres, one per class."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(counts), d)) * 2.0
    X = np.concatenate([c + spread * rng.standard_normal((n, d)) for c, n in zip(centres, counts)])
    y = np.repeat(np.arange(len(counts)), counts)
    return (_unit(X) if normalise else X), y


def test_counts_originals_first_and_unit_norm():
    X, y = _clusters([40, 12, 5, 2])
    sampler = VMFKDEResampler(random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert dict(sampler.sampling_strategy_) == {1: 28, 2: 35, 3: 38}
    assert Counter(y_res.tolist()) == {0: 40, 1: 40, 2: 40, 3: 40}
    np.testing.assert_array_equal(X_res[: len(X)], X)
    np.testing.assert_array_equal(y_res[: len(y)], y)
    assert sampler.is_synthetic_.sum() == 160 - len(X)
    new = X_res[len(X):]
    np.testing.assert_allclose(np.linalg.norm(new, axis=1), 1.0, atol=1e-10)
    # synthetic rows are new points, not copies
    assert np.min(np.abs(new[:, None, :] - X[None]).sum(-1)) > 1e-6
    # and they stay near their own class: nearest real row is of the same class
    nearest = np.argmax(new @ X.T, axis=1)
    assert np.mean(y[nearest] == y_res[len(X):]) > 0.95


def test_reproducible_with_random_state():
    X, y = _clusters([30, 6, 3])
    a = VMFKDEResampler(random_state=7).fit_resample(X, y)[0]
    b = VMFKDEResampler(random_state=7).fit_resample(X, y)[0]
    c = VMFKDEResampler(random_state=8).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_moment_matching_places_rows_at_neighbour_distance():
    # two rows at cosine 0.5 in d = 256: a draw sits at cosine ~0.5 from its seed
    d = 256
    X = np.zeros((102, d))
    X[:100] = _unit(np.random.default_rng(1).standard_normal((100, d)))
    X[100, 0] = 1.0
    X[101, 0], X[101, 1] = 0.5, np.sqrt(0.75)
    y = np.r_[np.zeros(100, int), np.ones(2, int)]
    kw = dict(kernel="vmf", random_state=0, transfer_fraction=0)  # the kernel rows alone
    X_res, _ = VMFKDEResampler(**kw).fit_resample(X, y)
    new = X_res[102:]
    seed_cos = np.max(new @ X[100:].T, axis=1)
    assert seed_cos.mean() == pytest.approx(0.5, abs=0.03)
    # banerjee is more concentrated; a larger bandwidth less
    ban = VMFKDEResampler(kappa="banerjee", **kw).fit_resample(X, y)[0][102:]
    wide = VMFKDEResampler(bandwidth=4.0, **kw).fit_resample(X, y)[0][102:]
    assert np.max(ban @ X[100:].T, axis=1).mean() > seed_cos.mean() + 0.1
    assert np.max(wide @ X[100:].T, axis=1).mean() < seed_cos.mean() - 0.1


def test_n_neighbors_averages_the_k_nearest_cosines():
    from skltsynth.engines.vmf import kappa_from_cosine, nearest_neighbor_cosine

    X, y = _clusters([40, 8, 3], d=32)
    one = VMFKDEResampler(kernel="vmf", random_state=0, n_neighbors=1, kappa_min=None)
    three = VMFKDEResampler(kernel="vmf", random_state=0, n_neighbors=3, kappa_min=None)
    X1 = one.fit_resample(X, y)[0]
    X3 = three.fit_resample(X, y)[0]
    minority = y > 0
    # kappa_i from the mean cosine to the 3 nearest (2 in the 3-row class)
    cos3 = nearest_neighbor_cosine(X[minority], y[minority], n_neighbors=3)
    np.testing.assert_allclose(three.kappa_[minority], kappa_from_cosine(cos3, 32))
    # farther neighbours: lower kappa, wider kernels, synthetic rows farther from the seeds
    assert np.all(three.kappa_[minority] <= one.kappa_[minority] + 1e-9)
    assert np.all(np.isnan(three.kappa_[~minority]))

    def seed_cos(X_res):
        return np.max(X_res[len(X):] @ X[minority].T, axis=1).mean()

    assert seed_cos(X3) < seed_cos(X1)


def test_kappa_min_group_median_bounds_the_widest_kernels():
    X, y = _clusters([40, 9, 6], d=32)
    far = np.random.default_rng(5).standard_normal(32)
    X[-1] = far / np.linalg.norm(far)  # an isolated row of class 2
    plain = VMFKDEResampler(random_state=0, kappa_min=None)
    robust = VMFKDEResampler(random_state=0)  # default: "group_median"
    plain.fit_resample(X, y)
    X_res, y_res = robust.fit_resample(X, y)
    for c in (1, 2):
        k0, k1 = plain.kappa_[y == c], robust.kappa_[y == c]
        median = np.median(k0)
        np.testing.assert_allclose(k1, np.maximum(k0, median))
        assert k1.min() == pytest.approx(median)
    # the isolated row had the widest kernel; now it has the class median one
    assert plain.kappa_[-1] == np.nanmin(plain.kappa_)
    assert robust.kappa_[-1] == pytest.approx(np.median(plain.kappa_[y == 2]))
    assert np.all(np.isfinite(X_res)) and Counter(y_res.tolist()) == {0: 40, 1: 40, 2: 40}


def test_kappa_min_float_and_validation():
    X, y = _clusters([30, 6], d=16)
    s = VMFKDEResampler(random_state=0, kappa_min=1e4)
    s.fit_resample(X, y)
    np.testing.assert_allclose(s.kappa_[y == 1], 1e4)
    with pytest.raises(ValueError, match="kappa_min"):
        VMFKDEResampler(kappa_min=10.0, kappa_max=5.0).fit_resample(X, y)
    # a fixed kappa is unchanged by the group floor
    f = VMFKDEResampler(kappa=40.0, random_state=0)
    f.fit_resample(X, y)
    np.testing.assert_allclose(f.kappa_[y == 1], 40.0)


def test_fixed_kappa_and_cap():
    X, y = _clusters([30, 4], d=16)
    s = VMFKDEResampler(kappa=50.0, bandwidth=2.0, random_state=0)
    s.fit_resample(X, y)
    minority = y == 1
    np.testing.assert_allclose(s.kappa_[minority], 25.0)
    assert np.all(np.isnan(s.kappa_[~minority]))  # majority rows are never seeds
    capped = VMFKDEResampler(kappa=1e9, kappa_max=300.0, random_state=0)
    capped.fit_resample(X, y)
    np.testing.assert_allclose(capped.kappa_[minority], 300.0)


def test_singleton_classes_and_duplicates():
    X, y = _clusters([20, 6, 1, 1], d=24)
    X[20:23] = X[20]  # three duplicate rows in class 1
    sampler = VMFKDEResampler(random_state=0)
    with pytest.warns(UserWarning, match=r"2 class\(es\) have a single row"):
        X_res, y_res = sampler.fit_resample(X, y)
    assert np.all(np.isfinite(X_res))
    assert Counter(y_res.tolist()) == {0: 20, 1: 20, 2: 20, 3: 20}
    k = sampler.kappa_
    assert k[20] == sampler.kappa_max  # duplicates are capped
    median = np.median(k[20:26])
    assert k[26] == pytest.approx(median) and k[27] == pytest.approx(median)
    singles = X_res[len(X):][y_res[len(X):] == 2]
    assert np.all(singles @ X[26] < 1 - 1e-9) and np.all(singles @ X[26] > 0)


def test_local_kappa_all_singletons_uses_global_median():
    X = _unit(np.random.default_rng(0).standard_normal((5, 8)))
    k = local_kappa(X, np.arange(5))
    assert np.all(np.isfinite(k)) and np.unique(k).size == 1 and k[0] > 0


def test_unnormalised_rows_keep_seed_norms():
    X, y = _clusters([30, 5], normalise=False)
    X[30:] *= np.arange(1, 6)[:, None]  # distinct norms in the minority class
    X_res, y_res = VMFKDEResampler(random_state=0).fit_resample(X, y)
    norms_new = np.linalg.norm(X_res[len(X):], axis=1)
    norms_seed = np.linalg.norm(X[30:], axis=1)
    assert np.all(np.min(np.abs(norms_new[:, None] - norms_seed[None]), axis=1) < 1e-9)
    assert np.unique(norms_new.round(6)).size > 1


def test_zero_seed_row_gives_zero_rows():
    X, y = _clusters([10, 2], d=8)
    X[10:] = 0.0
    X_res, _ = VMFKDEResampler(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X_res[12:], 0.0)


def test_regression_targets_come_from_seeds():
    rng = np.random.default_rng(0)
    n, d = 200, 16
    y = np.concatenate([rng.uniform(0, 1, 170), rng.uniform(1, 3, 27), [2.95, 4.5, 5.0]])
    X = _unit(np.c_[np.cos(y), np.sin(y), 0.05 * rng.standard_normal((n, d - 2))])
    sampler = VMFKDEResampler(kernel="vmf", kappa=1e5, random_state=0, n_bins=10)
    X_res, y_res = sampler.fit_resample(X, y)
    assert sampler.target_type_ == "regression"
    new_X, new_y = X_res[n:], y_res[n:]
    assert len(new_y) > 0
    # with very concentrated kernels the nearest real row is the seed itself
    nearest = np.argmax(new_X @ X.T, axis=1)
    edges = sampler.bin_edges_
    asked = assign_bins(new_y, edges)
    own = assign_bins(y[nearest], edges) == asked  # seed lies in the bin asked for
    assert own.mean() > 0.5
    np.testing.assert_array_equal(y[nearest][own], new_y[own])  # copies the seed's target
    # the sparse top bins (one row each) borrow seeds from their neighbours; those
    # rows take the centre of the bin asked for, not the neighbour's target
    assert (~own).any()
    centres = (edges[:-1] + edges[1:]) / 2
    np.testing.assert_allclose(new_y[~own], centres[asked[~own]])
    assert np.any(new_y >= 4.5)
    # per-bin counts are those of sampling_strategy_
    got = Counter(asked.tolist())
    assert got == {b: k for b, k in sampler.sampling_strategy_.items() if k > 0}


@pytest.mark.parametrize("synthetic_target", ["centre", "uniform"])
def test_regression_borrowed_seeds_stay_in_their_bin(synthetic_target):
    # bin 2 has one row, bin 3 none: their seeds come from bins 1 and 4
    rng = np.random.default_rng(3)
    y = np.r_[rng.uniform(0, 1, 30), rng.uniform(1, 2, 10), [2.5], rng.uniform(4, 5, 6)]
    X = _unit(rng.standard_normal((len(y), 8)))
    strategy = {0: 30, 1: 30, 2: 30, 3: 30, 4: 30}
    sampler = VMFKDEResampler(random_state=0, n_bins=np.arange(6.0),
                              sampling_strategy=strategy, synthetic_target=synthetic_target)
    X_res, y_res = sampler.fit_resample(X, y)
    new_y = y_res[len(y):]
    got = Counter(assign_bins(new_y, sampler.bin_edges_).tolist())
    assert got == {b: k for b, k in sampler.sampling_strategy_.items() if k > 0}
    in_bin3 = new_y[(new_y >= 3) & (new_y < 4)]
    assert in_bin3.size == sampler.sampling_strategy_[3]
    if synthetic_target == "centre":
        np.testing.assert_allclose(in_bin3, 3.5)
    else:
        assert np.unique(in_bin3).size > 1
    # rows of bin 1 (10 rows) keep their seeds' targets
    in_bin1 = new_y[(new_y >= 1) & (new_y < 2)]
    assert np.all(np.isin(in_bin1, y))


def test_local_kappa_global_fallback_is_bounded(monkeypatch):
    # one requested row alone in its group: the global fallback runs on at most
    # FALLBACK_ROWS rows (a random subsample), reproducibly
    from skltsynth.engines import vmf_kernels as vmf_kde

    rng = np.random.default_rng(0)
    n = 3 * vmf_kde.FALLBACK_ROWS
    X = _unit(rng.standard_normal((n, 6)))
    groups = np.zeros(n, dtype=np.int64)
    groups[-1] = 1
    sizes = []
    real = vmf_kde.nearest_neighbor_cosine

    def spy(Xs, g, **kwargs):
        sizes.append(len(Xs))
        return real(Xs, g, **kwargs)

    monkeypatch.setattr(vmf_kde, "nearest_neighbor_cosine", spy)
    a = local_kappa(X, groups, rows=[n - 1], random_state=0)
    b = local_kappa(X, groups, rows=[n - 1], random_state=0)
    c = local_kappa(X, groups, rows=[n - 1], random_state=1)
    assert max(sizes) == vmf_kde.FALLBACK_ROWS
    assert np.isfinite(a[-1]) and a[-1] > 0 and np.all(np.isnan(a[:-1]))
    assert a[-1] == b[-1] and a[-1] != c[-1]
    # close to the full-data fallback computed on a subsample of the same size
    assert c[-1] == pytest.approx(a[-1], rel=0.2)
    # small data: no subsample, no randomness
    small = local_kappa(X[:100], np.arange(100), random_state=0)
    assert np.array_equal(small, local_kappa(X[:100], np.arange(100), random_state=1))


def test_one_row_minority_among_many_is_fast_and_reproducible():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(50_001, 3)).astype(np.float32)
    y = np.zeros(50_001, dtype=np.int64)
    y[-1] = 1
    with pytest.warns(UserWarning, match="single row"):
        a = VMFKDEResampler(sampling_strategy={1: 51}, random_state=0).fit_resample(X, y)[0]
    with pytest.warns(UserWarning, match="single row"):
        b = VMFKDEResampler(sampling_strategy={1: 51}, random_state=0).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    assert a.shape == (50_051, 3) and np.all(np.isfinite(a))


def test_pipeline_and_grid_search():
    X, y = _clusters([60, 15, 6], d=16, spread=1.2)
    pipe = make_pipeline(VMFKDEResampler(random_state=0), LogisticRegression(max_iter=500))
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9
    grid = GridSearchCV(pipe, {"vmfkderesampler__bandwidth": [0.5, 1.0, 2.0]}, cv=3)
    grid.fit(X, y)
    assert grid.best_params_["vmfkderesampler__bandwidth"] in (0.5, 1.0, 2.0)
    assert len(grid.cv_results_["mean_test_score"]) == 3


def test_pandas_and_float32_round_trip():
    pd = pytest.importorskip("pandas")
    X, y = _clusters([20, 5], d=6)
    df = pd.DataFrame(X.astype(np.float32), columns=[f"e{i}" for i in range(6)])
    ys = pd.Series(y, name="label")
    X_res, y_res = VMFKDEResampler(random_state=0).fit_resample(df, ys)
    assert isinstance(X_res, pd.DataFrame) and list(X_res.columns) == list(df.columns)
    assert (X_res.dtypes == np.float32).all()
    assert isinstance(y_res, pd.Series) and y_res.name == "label"
    assert len(X_res) == 40
    X32, y32 = VMFKDEResampler(random_state=0).fit_resample(X.astype(np.float32), y)
    assert X32.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X32[25:], axis=1), 1.0, atol=1e-5)


def test_small_batches_and_verbose_match_statistics():
    X, y = _clusters([50, 3], d=12)
    a = VMFKDEResampler(random_state=0, batch_size=5, verbose=True).fit_resample(X, y)[0]
    assert a.shape == (100, 12) and np.all(np.isfinite(a))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"kappa": "median"}, "kappa"),
        ({"kappa": -1.0}, "kappa"),
        ({"kappa_max": 0}, "kappa_max"),
        ({"batch_size": 0}, "batch_size"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"kappa_min": "mean"}, "kappa_min"),
        ({"kappa_min": -1.0}, "kappa_min"),
        ({"n_neighbors": 1.5}, "n_neighbors"),
    ],
)
def test_invalid_parameters(params, match):
    X, y = _clusters([10, 3], d=4)
    with pytest.raises(ValueError, match=match):
        VMFKDEResampler(**params).fit_resample(X, y)


def test_each_class_draws_from_its_own_stream():
    # the kernel rows of a class depend only on that class's rows and the seed:
    # changing another class leaves them unchanged, and the per-class method
    # called with only the class's rows gives the same rows (transfer rows, which
    # borrow other classes' offsets, are off here; see test_vmf_transfer.py)
    X, y = _clusters([40, 8, 6], d=12)
    a = VMFKDEResampler(random_state=3, transfer_fraction=0)
    Xa, ya = a.fit_resample(X, y)
    X2 = X.copy()
    X2[48:] = _unit(np.random.default_rng(9).standard_normal((6, 12)))
    Xb, yb = VMFKDEResampler(random_state=3, transfer_fraction=0).fit_resample(X2, y)
    new_a, new_b = Xa[len(X):], Xb[len(X):]
    np.testing.assert_array_equal(new_a[ya[len(X):] == 1], new_b[yb[len(X):] == 1])
    assert not np.array_equal(new_a[ya[len(X):] == 2], new_b[yb[len(X):] == 2])
    plan, _ = a._plan(X, y, "classification")
    rows = np.flatnonzero(y == 1)
    X1, y1 = a._generate_group(1, X[rows], y[rows], plan.groups[rows],
                               a._group_kappa(X[rows]), None, plan)
    np.testing.assert_array_equal(X1, new_a[ya[len(X):] == 1])
    np.testing.assert_array_equal(y1, 1)


def test_seed_blocks_do_not_depend_on_which_blocks_are_drawn_together():
    X, y = _clusters([40, 5], d=6)
    s = VMFKDEResampler(random_state=0, batch_size=7)
    X_res, _ = s.fit_resample(X, y)
    plan, _ = s._plan(X, y, "classification")
    rows = np.flatnonzero(y == 1)
    args = (X[rows], y[rows], plan.groups[rows], s.kappa_[rows], None, plan)
    table = s._transfer_table({b: s._class_summary(b, X[y == b]) for b in (0, 1)}, plan)
    parts = [s._generate_group(1, *args, blocks=[b], transfer=table[1])[0] for b in range(5)]
    np.testing.assert_array_equal(np.concatenate(parts), X_res[len(X):])


def _low_rank_class(n=5, d=64, rank=3, seed=0):
    """A majority class and an ``n``-row class whose rows span only ``rank + 1`` dims."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, rank + 1)))[0].T  # orthonormal rows
    coef = np.c_[np.full(n, 2.0), rng.standard_normal((n, rank))]
    minority = _unit(coef @ basis)
    majority = _unit(rng.standard_normal((60, d)))
    X = np.r_[majority, minority]
    y = np.r_[np.zeros(60, int), np.ones(n, int)]
    return X, y, basis


def _outside_span(rows, basis):
    """Norm of each row's component outside the row space of ``basis``."""
    return np.linalg.norm(rows - (rows @ basis.T) @ basis, axis=1)


def test_span_kernel_stays_in_the_span_of_the_class_rows():
    # isotropic vMF noise at the same distance from the seeds leaves the span;
    # the default span kernel does not (up to rounding)
    X, y, basis = _low_rank_class()
    # the kernels alone (transfer rows borrow other classes' offsets: test_vmf_transfer.py)
    span = VMFKDEResampler(random_state=0, transfer_fraction=0).fit_resample(X, y)[0][len(X):]
    iso = VMFKDEResampler(kernel="vmf", random_state=0,
                          transfer_fraction=0).fit_resample(X, y)[0][len(X):]
    assert np.all(_outside_span(span, basis) < 1e-10)
    assert np.mean(_outside_span(iso, basis)) > 0.3
    # both move rows off their seeds, by comparable amounts
    real = X[y == 1]
    cos_span = np.max(span @ real.T, axis=1)
    cos_iso = np.max(iso @ real.T, axis=1)
    assert np.all(cos_span < 1 - 1e-6) and np.all(cos_iso < 1 - 1e-6)
    # span rows lie closer to the unseen directions of the class: a fresh draw
    # from the same low-rank class is nearer the span rows than the vMF rows
    fresh = _unit(np.c_[np.full(200, 2.0), np.random.default_rng(1).standard_normal((200, 3))]
                  @ basis)
    assert np.mean(np.max(fresh @ span.T, axis=1)) > np.mean(np.max(fresh @ iso.T, axis=1))
    np.testing.assert_allclose(np.linalg.norm(span, axis=1), 1.0, atol=1e-12)


def test_span_scale_and_neighbours():
    X, y, _ = _low_rank_class(n=12)
    real = X[y == 1]

    def seed_cos(**params):
        new = VMFKDEResampler(random_state=0, transfer_fraction=0,
                              **params).fit_resample(X, y)[0][len(X):]
        return np.max(new @ real.T, axis=1).mean()

    assert seed_cos(span_scale=1.5) < seed_cos(span_scale=0.5) < seed_cos(span_scale=0.1)
    # two rows: every draw lies on their great circle (their 2-d span)
    X2 = np.r_[X[:60], real[:2]]
    y2 = np.r_[np.zeros(60, int), np.ones(2, int)]
    new = VMFKDEResampler(random_state=0, transfer_fraction=0).fit_resample(X2, y2)[0][62:]
    plane = np.linalg.qr(real[:2].T)[0].T
    assert np.all(_outside_span(new, plane) < 1e-10)
    assert np.unique(new.round(8), axis=0).shape[0] == new.shape[0]  # no copies


def test_span_interpolation_centres_draws_between_rows():
    # with a tiny span_scale the draws are (almost) SMOTE points: on the segment
    # between a seed and a neighbour, not at the seed; "auto" interpolates for classes
    X, y, _ = _low_rank_class(n=2, d=16)
    real = X[y == 1]
    kw = dict(span_scale=1e-6, random_state=0, transfer_fraction=0)
    auto = VMFKDEResampler(**kw).fit_resample(X, y)[0][len(X):]
    off = VMFKDEResampler(span_interpolation=False, **kw).fit_resample(X, y)[0][len(X):]
    assert np.all(np.max(off @ real.T, axis=1) > 1 - 1e-9)  # at the seeds
    assert np.mean(np.max(auto @ real.T, axis=1)) < 1 - 1e-4  # in between
    # every interpolated row is a positive combination of the two real rows
    coef = np.linalg.lstsq(real.T, auto.T, rcond=None)[0]
    assert np.all(coef > -1e-6)
    np.testing.assert_allclose(real.T @ coef, auto.T, atol=1e-6)


def test_span_interpolation_auto_is_off_for_a_continuous_target():
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 1, 80)
    X = _unit(rng.standard_normal((80, 8)))
    kw = dict(n_bins=4, sampling_strategy="auto", random_state=0)
    a = VMFKDEResampler(**kw).fit_resample(X, y)[0]
    b = VMFKDEResampler(span_interpolation=False, **kw).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)


def test_pooled_span_rows_stay_in_their_pool_span():
    from skltsynth.engines.neighbour_span import pooled_span_rows

    X, y, basis = _low_rank_class(n=5)
    pools = {0: np.flatnonzero(y == 0), 1: np.flatnonzero(y == 1), 2: np.array([3])}
    groups = np.r_[np.ones(40, int), np.full(3, 2)]
    rows = pooled_span_rows(X, groups, pools, np.random.default_rng(0))
    assert np.all(_outside_span(rows[:40], basis) < 1e-10)
    np.testing.assert_allclose(np.linalg.norm(rows[:40], axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(rows[40:], np.repeat(X[3:4], 3, axis=0))  # one-row pool


def test_span_kernel_on_unnormalised_float32_rows_keeps_seed_norms():
    X, y = _clusters([30, 5], normalise=False)
    X[30:] *= np.arange(1, 6)[:, None]
    X32 = X.astype(np.float32)
    X_res, _ = VMFKDEResampler(random_state=0).fit_resample(X32, y)
    assert X_res.dtype == np.float32
    norms_new = np.linalg.norm(X_res[35:].astype(np.float64), axis=1)
    norms_seed = np.linalg.norm(X32[30:].astype(np.float64), axis=1)
    assert np.all(np.min(np.abs(norms_new[:, None] - norms_seed[None]), axis=1) < 1e-4)


def test_pool_neighbours_matches_brute_force_in_blocks(monkeypatch):
    from skltsynth import neighbour_span

    U = _unit(np.random.default_rng(2).standard_normal((37, 9)))
    sim = U @ U.T
    np.fill_diagonal(sim, -np.inf)
    expected = np.argsort(-sim, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(neighbour_span.pool_neighbours(U, 5), expected)
    monkeypatch.setattr(neighbour_span, "_BLOCK_ELEMENTS", 40)  # one row per block
    np.testing.assert_array_equal(neighbour_span.pool_neighbours(U, 5), expected)
    assert neighbour_span.pool_neighbours(U, 100).shape == (37, 36)
    assert neighbour_span.pool_neighbours(U[:1], 5).shape == (1, 0)


@pytest.mark.parametrize(
    "params, match",
    [({"kernel": "gauss"}, "kernel"), ({"span_neighbors": 0}, "span_neighbors"),
     ({"span_scale": 0.0}, "span_scale"), ({"span_interpolation": "yes"}, "span_interpolation")],
)
def test_invalid_span_parameters(params, match):
    X, y = _clusters([10, 3], d=4)
    with pytest.raises(ValueError, match=match):
        VMFKDEResampler(**params).fit_resample(X, y)
