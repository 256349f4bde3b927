import os
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import convolve1d, gaussian_filter1d
from scipy.signal.windows import triang

from skltsynth.policy import plan as P
from skltsynth.policy import targets as T

SHARED = Path(os.environ.get("SKLTSYNTH_DATA", Path(__file__).resolve().parents[2] / "shared" / "datasets"))


def _reference_window(kernel, ks, sigma):
    # verbatim logic of get_lds_kernel_window in the DIR reference code (Yang et al. 2021)
    half_ks = (ks - 1) // 2
    if kernel == "gaussian":
        base_kernel = [0.0] * half_ks + [1.0] + [0.0] * half_ks
        return gaussian_filter1d(base_kernel, sigma=sigma) / max(gaussian_filter1d(base_kernel, sigma=sigma))
    if kernel == "triang":
        return triang(ks)
    laplace = lambda x: np.exp(-abs(x) / sigma) / (2.0 * sigma)  # noqa: E731
    vals = list(map(laplace, np.arange(-half_ks, half_ks + 1)))
    return np.asarray(vals) / max(vals)


def _reference_weights(labels, reweight, max_target=51, kernel="gaussian", ks=5, sigma=2):
    # verbatim logic of STS-B-DIR's _prepare_weights (lds=True), bins of width 0.1
    value_dict = {x: 0 for x in range(max_target)}
    for label in labels:
        value_dict[min(max_target - 1, int(label * 10))] += 1
    if reweight == "sqrt_inv":
        value_dict = {k: np.sqrt(v) for k, v in value_dict.items()}
    elif reweight == "inverse":
        value_dict = {k: np.clip(v, 5, 1000) for k, v in value_dict.items()}
    window = _reference_window(kernel, ks, sigma)
    # the reference convolves an *integer* array for "inverse", which truncates the smoothed
    # counts; skltsynth smooths in floating point (documented), so the test does too
    counts = np.asarray([v for _, v in value_dict.items()], dtype=np.float64)
    smoothed = convolve1d(counts, weights=window, mode="constant")
    num_per_label = [smoothed[min(max_target - 1, int(label * 10))] for label in labels]
    weights = [np.float32(1 / x) for x in num_per_label]
    scaling = len(weights) / np.sum(weights)
    return np.asarray([scaling * x for x in weights])


def test_gaussian_window_reflect_mode():
    np.testing.assert_allclose(T.lds_kernel_window("gaussian", 5, 2), [0.858, 0.946, 1, 0.946, 0.858], atol=5e-4)


@pytest.mark.parametrize("kernel", ["gaussian", "triang", "laplace"])
@pytest.mark.parametrize("reweight", ["sqrt_inv", "inverse"])
def test_lds_matches_reference_on_synthetic_scores(kernel, reweight):
    rng = np.random.default_rng(0)
    y = np.round(np.clip(rng.gamma(2.0, 0.8, size=2000), 0, 5), 2)
    # the reference always uses the 51 bins of [0, 5.1); "inverse" clips empty bins to 5
    ours = T.lds_weights(y, np.arange(0, 52) / 10.0, kernel=kernel, reweight=reweight)
    ref = _reference_weights(y, reweight, kernel=kernel)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


@pytest.mark.slow
def test_lds_matches_reference_on_stsb_dir():
    path = SHARED / "stsb_dir_minilm.npz"
    if not path.exists():
        pytest.skip(reason="shared benchmark file stsb_dir_minilm.npz absent (not shipped)")
    y = np.load(path)["y_train"].astype(np.float64)
    edges = np.arange(0, 52) / 10.0  # 0.0 .. 5.1: the reference's 51 bins
    ours = T.lds_weights(y, edges)
    np.testing.assert_allclose(ours, _reference_weights(y, "sqrt_inv"), rtol=1e-5)
    np.testing.assert_allclose(T.lds_weights(y, T.bin_edges(y, width=0.1)), ours, rtol=1e-12)


def test_bin_edges_rules():
    y = np.linspace(0, 5, 101)
    assert len(T.bin_edges(y, n_bins=50)) == 51
    e = T.bin_edges(y, width=0.1)
    assert e[0] == 0 and np.isclose(e[-1], 5.1)
    auto = T.bin_edges(np.random.default_rng(0).normal(size=5000))
    assert 5 <= len(auto) - 1 <= 100
    with pytest.raises(ValueError, match="single distinct"):
        T.bin_edges(np.ones(5))
    with pytest.raises(ValueError, match="not both"):
        T.bin_edges(y, n_bins=3, width=0.1)


def test_assign_bins_floating_point_edges():
    y = np.array([0.3, 0.7, 1.0, 5.0])
    idx = T.assign_bins(y, T.bin_edges(np.r_[0.0, y], width=0.1))
    assert idx.tolist() == [3, 7, 10, 50]


def test_shot_groups():
    y_train = np.r_[np.full(150, 0.1), np.full(50, 0.5), np.full(3, 0.9)]
    g = T.shot_groups(y_train, [0.15, 0.55, 0.95], [0.0, 0.3, 0.7, 1.0])
    assert g.tolist() == ["many", "medium", "few"]


def test_flat_allocation_flattens_nonempty_bins():
    counts = np.array([50, 10, 0, 5])
    n_new = T.flat_allocation(counts, counts)
    assert n_new.tolist() == [0, 40, 0, 45]


def test_priority_allocation_lambda():
    counts = np.array([100, 50, 5, 0])
    errors = np.array([0.1, 0.9, 0.2, np.nan])
    pure_count = T.priority_allocation(counts, errors, 100, lam=0.0)
    assert pure_count.sum() == 100 and pure_count[0] == 0 and pure_count[3] == 0
    assert pure_count[2] > pure_count[1]
    err = T.priority_allocation(counts, errors, 100, lam=1.0)
    assert err[1] > err[2]


def test_plan_regression_auto_and_seed_pool():
    rng = np.random.default_rng(0)
    y = np.r_[rng.normal(0, 1, 500), [6.0]]
    plan, strategy = P.make_plan(y, "regression", n_bins=20)
    assert plan.n_synthetic == sum(strategy.values()) > 0
    pools = plan.seed_pool(min_rows=2)
    last = plan.groups[-1]
    assert last in pools and len(pools[last]) >= 2
    assert set(pools) == set(plan.n_new)
    assert (plan.group_counts == np.bincount(plan.groups, minlength=plan.n_groups)).all()
    targets = plan.synthetic_targets(plan.new_groups(), rng)
    assert targets.shape == (plan.n_synthetic,)


def test_plan_classification_keys():
    y = np.array(["a"] * 10 + ["b"] * 3 + ["c"] * 5)
    plan, strategy = P.make_plan(y, "classification")
    assert dict(strategy) == {"b": 7, "c": 5}
    assert plan.group_values[list(plan.n_new)].tolist() == ["b", "c"]
    assert plan.synthetic_targets(plan.new_groups(), None).tolist() == ["b"] * 7 + ["c"] * 5


def test_capped_allocation_respects_caps_and_redistributes():
    from skltsynth.policy.targets import capped_allocation

    out = capped_allocation([0.0, 1.0, 1.0, 8.0], [5, 10, 10, 3], 12)
    assert out.tolist()[0] == 0 and out[3] == 3 and out.sum() == 12
    assert np.all(out <= [5, 10, 10, 3])
    short = capped_allocation([1.0, 1.0], [2, 1], 10)  # not enough room: sums to the caps
    assert short.tolist() == [2, 1]


def test_neighbourhood_counts_and_priority_shares():
    from skltsynth.policy.targets import neighbourhood_counts, priority_allocation, priority_shares

    assert neighbourhood_counts([1, 0, 0, 4], radius=0).tolist() == [1, 0, 0, 4]
    assert neighbourhood_counts([1, 0, 0, 4], radius=2).tolist() == [1, 5, 5, 4]
    with pytest.raises(ValueError, match="radius"):
        neighbourhood_counts([1, 2], radius=-1)
    shares = priority_shares([50, 5, 0], [0.2, 0.8, np.nan], lam=0.9)
    assert shares[2] == 0 and shares[1] > shares[0]
    assert priority_allocation([50, 5, 0], [0.2, 0.8, np.nan], 10).sum() == 10
