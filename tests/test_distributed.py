"""Tests of skltsynth.distributed (DaskResampler) on a two-worker LocalCluster."""

import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
from sklearn.base import clone  # noqa: E402

from skltsynth import MemoryDDPMResampler, VMFKDEResampler  # noqa: E402
from skltsynth.distributed import DaskResampler  # noqa: E402
from skltsynth.distributed._partitions import merge_samples  # noqa: E402
from skltsynth.policy.targets import assign_bins  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, memory_limit="1GiB")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _data(counts=(60, 14, 6, 3), d=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(counts), d)) * 2
    X = np.concatenate([c + 0.6 * rng.standard_normal((n, d)) for c, n in zip(centres, counts)])
    y = np.repeat(np.arange(len(counts)), counts)
    order = rng.permutation(len(y))  # classes spread over all chunks
    return _unit(X[order]), y[order]


def _dask(X, y, rows):
    return da.from_array(X, chunks=(rows, X.shape[1])), da.from_array(y, chunks=rows)


@pytest.mark.parametrize("rows", [17, 200])
def test_array_input_is_the_in_memory_result(client, rows):
    X, y = _data()
    ref = VMFKDEResampler(random_state=3)
    X_mem, y_mem = ref.fit_resample(X, y)
    dr = DaskResampler(VMFKDEResampler(random_state=3))
    X_res, y_res = dr.fit_resample(*_dask(X, y, rows))
    assert isinstance(X_res, da.Array) and isinstance(y_res, da.Array)
    X_out, y_out = dask.compute(X_res, y_res)
    np.testing.assert_array_equal(X_out[: len(X)], X)  # originals unchanged, in order
    np.testing.assert_array_equal(y_out[: len(y)], y)
    assert dict(dr.sampling_strategy_) == dict(ref.sampling_strategy_)
    new = Counter(y_out[len(y):].tolist())
    assert new == {k: v for k, v in dr.sampling_strategy_.items() if v > 0}
    np.testing.assert_array_equal(X_out, X_mem)
    np.testing.assert_array_equal(y_out, y_mem)


def test_dataframe_input_gives_dataframe_output(client):
    X, y = _data(d=6)
    X = X.astype(np.float32)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    series = pd.Series(y, name="label")
    X_mem, y_mem = VMFKDEResampler(random_state=0).fit_resample(frame, series)
    Xd, yd = dd.from_pandas(frame, npartitions=3), dd.from_pandas(series, npartitions=3)
    X_res, y_res = DaskResampler(VMFKDEResampler(random_state=0)).fit_resample(Xd, yd)
    assert isinstance(X_res, dd.DataFrame) and isinstance(y_res, dd.Series)
    X_out, y_out = dask.compute(X_res, y_res)
    assert list(X_out.columns) == list(frame.columns) and y_out.name == "label"
    assert (X_out.dtypes == np.float32).all()
    np.testing.assert_array_equal(X_out.to_numpy(), X_mem.to_numpy())
    np.testing.assert_array_equal(y_out.to_numpy(), y_mem.to_numpy())


def test_regression_borrowed_bins_and_singletons_match_in_memory(client):
    rng = np.random.default_rng(3)
    y = np.r_[rng.uniform(0, 1, 30), rng.uniform(1, 2, 10), [2.5], rng.uniform(4, 5, 6)]
    X = _unit(rng.standard_normal((len(y), 8)))
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    for params in [dict(n_bins=np.arange(6.0), synthetic_target="uniform",
                        sampling_strategy={0: 30, 1: 30, 2: 30, 3: 30, 4: 30}),
                   dict(n_bins=5), dict(bin_width=0.5), dict()]:
        X_mem, y_mem = VMFKDEResampler(random_state=1, **params).fit_resample(X, y)
        dr = DaskResampler(VMFKDEResampler(random_state=1, **params))
        X_out, y_out = dask.compute(*dr.fit_resample(*_dask(X, y, 11)))
        assert dr.target_type_ == "regression"
        np.testing.assert_array_equal(X_out, X_mem)
        np.testing.assert_array_equal(y_out, y_mem)
        got = Counter(assign_bins(y_out[len(y):], dr.bin_edges_).tolist())
        assert got == {b: k for b, k in dr.sampling_strategy_.items() if k > 0}


def test_singleton_classes_use_the_same_fallbacks(client):
    X, y = _data(counts=(40, 6, 1, 1))
    for strategy in ["auto", {2: 5, 3: 5}]:  # median of other classes; global subsample
        with pytest.warns(UserWarning, match="single row"):
            X_mem, _ = VMFKDEResampler(random_state=0,
                                       sampling_strategy=strategy).fit_resample(X, y)
        with pytest.warns(UserWarning, match="single row"):
            X_res, _ = DaskResampler(VMFKDEResampler(random_state=0, sampling_strategy=strategy)
                                     ).fit_resample(*_dask(X, y, 13))
        np.testing.assert_array_equal(X_res.compute(), X_mem)


def test_large_class_is_split_into_seed_blocks(client):
    X, y = _data(counts=(200, 30))
    r = VMFKDEResampler(random_state=0, batch_size=16)
    X_mem, _ = r.fit_resample(X, y)
    X_res, _ = DaskResampler(VMFKDEResampler(random_state=0, batch_size=16),
                             rows_per_task=40).fit_resample(*_dask(X, y, 64))
    tasks = X_res.numblocks[0] - 4  # 4 chunks of originals, then the generation tasks
    assert tasks == -(-170 // 32)  # 40 rows a task = two 16-row seed blocks
    np.testing.assert_array_equal(X_res.compute(), X_mem)


def test_local_scheduler_without_client():
    X, y = _data()
    X_mem, _ = VMFKDEResampler(random_state=2).fit_resample(X, y)
    with dask.config.set(scheduler="threads"):
        X_res, _ = DaskResampler(VMFKDEResampler(random_state=2)).fit_resample(*_dask(X, y, 40))
        np.testing.assert_array_equal(X_res.compute(), X_mem)


def _slow(block):
    time.sleep(0.15)
    return block


def test_worker_restarted_mid_run_gives_the_complete_result(client):
    X, y = _data(counts=(300, 60, 30))
    X_mem, y_mem = VMFKDEResampler(random_state=5).fit_resample(X, y)
    Xd, yd = _dask(X, y, 20)
    Xd = Xd.map_blocks(_slow, dtype=Xd.dtype)  # 20 chunks: the graph runs for seconds
    X_res, y_res = DaskResampler(VMFKDEResampler(random_state=5)).fit_resample(Xd, yd)
    futures = client.compute([X_res, y_res])
    time.sleep(0.8)
    assert not all(f.done() for f in futures)
    victim = sorted(client.scheduler_info()["workers"])[0]
    client.restart_workers([victim])  # its results so far are lost and recomputed
    X_out, y_out = client.gather(futures)
    np.testing.assert_array_equal(X_out, X_mem)
    np.testing.assert_array_equal(y_out, y_mem)


@pytest.mark.parametrize(
    "change, when, match",
    [
        ("nan_x", "compute", "Input X contains NaN"),
        ("nan_y", "fit", "Input y contains NaN"),
        ("one_class", "fit", "at least two classes"),
        ("short_y", "fit", "inconsistent numbers of samples"),
        ("no_y", "fit", "requires y to be passed"),
        ("strings_x", "compute", "could not convert"),
    ],
)
def test_bad_input_gives_the_in_memory_error(client, change, when, match):
    X, y = _data()
    X = X.copy()
    y = y.astype(np.float64) if change == "nan_y" else y
    if change == "nan_x":
        X[70, 2] = np.nan
    elif change == "nan_y":
        y[70] = np.nan
    elif change == "one_class":
        y = np.zeros_like(y)
    Xd, yd = _dask(X, y, 25)
    if change == "short_y":
        y, yd = y[:-3], yd[:-3]
    elif change == "no_y":
        y = yd = None
    elif change == "strings_x":
        X = X.astype(object)
        X[70, 1] = "abc"
        Xd = da.from_array(X, chunks=(25, X.shape[1]))
    with pytest.raises((ValueError, TypeError), match=match) as in_memory:
        VMFKDEResampler(random_state=0).fit_resample(X, y)
    with pytest.raises(type(in_memory.value)) as distributed_error:
        out = DaskResampler(VMFKDEResampler(random_state=0)).fit_resample(Xd, yd)
        assert when == "compute"
        dask.compute(*out)
    assert str(distributed_error.value) == str(in_memory.value)


def test_bad_parameters_give_the_in_memory_error(client):
    X, y = _data()
    with pytest.raises(ValueError, match="bandwidth") as in_memory:
        VMFKDEResampler(bandwidth=0.0).fit_resample(X, y)
    with pytest.raises(ValueError) as dist:
        DaskResampler(VMFKDEResampler(bandwidth=0.0)).fit_resample(*_dask(X, y, 30))
    assert str(dist.value) == str(in_memory.value)
    with pytest.raises(ValueError, match="rows_per_task"):
        DaskResampler(VMFKDEResampler(), rows_per_task=0).fit_resample(*_dask(X, y, 30))


def test_a_class_too_large_for_a_worker_is_a_clear_error(client, monkeypatch):
    from skltsynth.distributed import resampler as module

    X, y = _data()
    monkeypatch.setattr(module, "_worker_memory_limit", lambda: 1000)
    with pytest.raises(MemoryError, match=r"Group 1 .* 14 rows of 8 features.*memory limit"):
        DaskResampler(VMFKDEResampler()).fit_resample(*_dask(X, y, 30))


def test_memory_ddpm_trains_once_and_generates_on_the_workers(client):
    X, y = _data(counts=(80, 20, 8), d=6)
    # strength=1: SDEdit starts (the class default, strength="auto") are not distributed
    r = MemoryDDPMResampler(random_state=0, train_steps=20, sampling_steps=3, hidden_dim=16,
                            n_layers=1, batch_size=32, memory_size=16, strength=1.0)
    with pytest.raises(ValueError, match="strength=1 only"):
        DaskResampler(r.set_params(strength="auto")).fit_resample(*_dask(X, y, 30))
    r.set_params(strength=1.0)
    dr = DaskResampler(r, rows_per_task=25)
    X_res, y_res = dr.fit_resample(*_dask(X, y, 30))
    X_out, y_out = dask.compute(X_res, y_res)
    np.testing.assert_array_equal(X_out[: len(X)], X)
    assert Counter(y_out.tolist()) == {0: 80, 1: 80, 2: 80}
    assert np.all(np.isfinite(X_out))
    # the same random_state and chunking give the same rows
    again = DaskResampler(r, rows_per_task=25).fit_resample(*_dask(X, y, 30))[0].compute()
    np.testing.assert_array_equal(again, X_out)


def test_latent_diffusion_regression_counts_as_planned(client):
    from skltsynth import LatentDiffusionResampler

    rng = np.random.default_rng(0)
    y = np.r_[rng.uniform(0, 1, 80), rng.uniform(1, 3, 12)]
    X = np.c_[np.cos(y), np.sin(y), 0.1 * rng.standard_normal((len(y), 4))]
    # the defaults (strength 0.3 from interpolated rows, synthetic_ratio="auto")
    r = LatentDiffusionResampler(random_state=0, train_steps=20, sampling_steps=3, hidden_dim=16,
                                 n_layers=1, batch_size=32, n_bins=6)
    dr = DaskResampler(r)
    X_res, y_res = dr.fit_resample(*_dask(X, y, 30))
    X_out, y_out = dask.compute(X_res, y_res)
    np.testing.assert_array_equal(X_out[: len(X)], X)
    # rows of a bin of one row interpolate towards its neighbours' rows (and targets)
    assert len(y_out) - len(y) == sum(dr.sampling_strategy_.values())
    assert np.all(np.isfinite(X_out)) and y.min() <= y_out[len(y):].min()
    assert y_out[len(y):].max() <= y.max()
    with pytest.warns(UserWarning, match="priority_lambda"):
        DaskResampler(r.set_params(strength=1.0, priority_lambda=0.9)).fit_resample(
            *_dask(X, y, 30))
    with pytest.raises(ValueError, match="strength=1 only"):
        DaskResampler(r.set_params(strength=0.5, start="real")).fit_resample(*_dask(X, y, 30))


def test_latent_diffusion_moves_targets_with_rows_as_in_memory(client):
    """retarget (a ridge model of the gathered sample) runs on the workers: same rows,
    targets that keep the interpolation's residual under that model."""
    from skltsynth import LatentDiffusionResampler
    from skltsynth.policy.retarget import LinearRetarget

    rng = np.random.default_rng(0)
    y = np.r_[rng.uniform(0, 1, 80), rng.uniform(1, 3, 12)]
    X = np.c_[y, np.sin(y), 0.1 * rng.standard_normal((len(y), 4))]
    r = LatentDiffusionResampler(random_state=0, train_steps=20, sampling_steps=3, hidden_dim=16,
                                 n_layers=1, batch_size=32, n_bins=6, gate_quantile=None)
    out = {}
    for retarget in ("ridge", None):
        X_res, y_res = DaskResampler(clone(r).set_params(retarget=retarget)).fit_resample(
            *_dask(X, y, 30))
        out[retarget] = dask.compute(X_res, y_res)
    (X_a, y_a), (X_b, y_b) = out["ridge"], out[None]
    np.testing.assert_array_equal(X_a, X_b)
    coef = LinearRetarget().fit(X, y).coef_
    spread = lambda Xf, yf: float(np.std(Xf[len(y):] @ coef - yf[len(y):]))
    assert spread(X_a, y_a) < spread(X_b, y_b)
    assert y.min() <= y_a[len(y):].min() and y_a[len(y):].max() <= y.max()


def test_merged_reservoirs_are_uniform_samples():
    # rows 0..n-1 split in two streams: every row ends in the merged sample with
    # probability size / n
    rng = np.random.default_rng(0)
    n_a, n_b, size, trials = 30, 10, 8, 4000
    hits = np.zeros(n_a + n_b)
    for _ in range(trials):
        a = rng.choice(n_a, size=size, replace=False)
        b = n_a + rng.choice(n_b, size=size, replace=False)
        merged = merge_samples({0: (a[:, None], a.astype(float), n_a)},
                               {0: (b[:, None], b.astype(float), n_b)}, size, rng)
        rows = merged[0][0][:, 0]
        assert len(rows) == size and len(set(rows.tolist())) == size
        hits[rows] += 1
    np.testing.assert_allclose(hits / trials, size / (n_a + n_b), atol=0.03)


def test_string_labels_and_numpy_input(client):
    X, y = _data(counts=(30, 8, 5))
    labels = np.array(["common", "rare", "rarest"])[y]
    X_mem, y_mem = VMFKDEResampler(random_state=4).fit_resample(X, labels)
    X_res, y_res = DaskResampler(VMFKDEResampler(random_state=4)).fit_resample(X, labels)
    X_out, y_out = dask.compute(X_res, y_res)
    np.testing.assert_array_equal(X_out, X_mem)
    assert y_out.tolist() == y_mem.tolist()


def test_latent_diffusion_plan_keeps_the_in_memory_caps(client):
    """LatentDiff caps a DIR bin at bin_cap x its real rows and skips bins without support;
    the distributed plan (from the bin counts) is the in-memory one, not the uncapped
    flattening plan (issue 14: hundreds of rows conditioned on one-row bins)."""
    from skltsynth import LatentDiffusionResampler
    from skltsynth.resamplers._smoter import SMOTER

    rng = np.random.default_rng(1)
    y = np.r_[rng.normal(0, 0.5, 200), np.exp(np.linspace(1.0, 2.5, 12))]
    X = np.c_[y, np.sin(y), 0.1 * rng.standard_normal((len(y), 3))]
    r = LatentDiffusionResampler(random_state=0, train_steps=20, sampling_steps=3, hidden_dim=16,
                                 n_layers=1, batch_size=32, n_bins=12, gate_quantile=None)
    fitted = clone(r).fit(X, y)  # fit computes the plan only
    in_memory = dict(fitted.sampling_strategy_)
    uncapped = dict(SMOTER(n_bins=12, random_state=0).fit(X, y).sampling_strategy_)
    counts = np.bincount(assign_bins(y, fitted.bin_edges_), minlength=12)
    over = lambda plan: [b for b, k in plan.items() if k > r.bin_cap * counts[b]]
    assert over(uncapped) and not over(in_memory)  # the case: the flat plan exceeds the caps
    dr = DaskResampler(r)
    X_res, y_res = dr.fit_resample(*_dask(X, y, 50))
    assert dict(dr.sampling_strategy_) == in_memory
    assert len(dask.compute(y_res)[0]) == len(y) + sum(in_memory.values())
