"""Tests of the comparison runner (skltsynth.benchmark) and the SMOTER baselines."""

import json

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skltsynth import LogitAdjustedClassifier
from skltsynth import benchmark as bench
from skltsynth._defaults import DIFFUSION_FAST_PARAMS
from skltsynth.resamplers._smoter import SMOTER, RandomBinOverSampler
from skltsynth.benchmark.baselines import _SMOGNSampler, _SmoteVariantsSampler
from skltsynth.benchmark.guided import skltsynth_variant
from skltsynth.benchmark.heads import is_deterministic


@pytest.fixture(scope="module")
def cls_data():
    X, y = make_classification(
        n_samples=420, n_features=8, n_informative=5, n_classes=3, n_clusters_per_class=1,
        weights=[0.75, 0.2, 0.05], random_state=0,
    )
    return X[:300], y[:300], X[300:], y[300:]


@pytest.fixture(scope="module")
def reg_data():
    rng = np.random.default_rng(0)
    y = np.r_[rng.uniform(0, 1, 200), rng.uniform(1, 2, 40), rng.uniform(2, 3, 10)]
    X = np.c_[y, y**2, rng.normal(size=(y.size, 4))] + 0.1 * rng.normal(size=(y.size, 6))
    test = rng.permutation(y.size)[:60]
    train = np.setdiff1d(np.arange(y.size), test)
    return X[train], y[train], X[test], y[test]


def test_classification_summary_rows_columns_and_ratios(cls_data):
    methods = ["none", "class_weight", "ros", "smote"]
    results = bench.run_comparison(*cls_data, methods=methods, seeds=(0, 1))
    assert len(results) == 8 and all(r["status"] == "ok" for r in results)
    summary = bench.summarise(results)
    assert list(summary.index) == methods
    for col in ("accuracy", "accuracy_std", "few_accuracy", "many_macro_f1", "n_synthetic",
                "resample_seconds", "peak_bytes", "time_ratio", "memory_ratio", "n_seeds"):
        assert col in summary.columns, col
    assert summary.loc["smote", "time_ratio"] == 1.0
    assert summary.loc["smote", "memory_ratio"] == 1.0
    assert summary.loc["none", "n_synthetic"] == 0 and summary.loc["ros", "n_synthetic"] > 0
    assert (summary["n_seeds"] == 2).all()
    # ROS / SMOTE balance the classes: 3 x majority rows in the fit set.
    majority = np.bincount(cls_data[1]).max()
    assert summary.loc["smote", "n_synthetic"] == 3 * majority - len(cls_data[1])
    table = bench.format_table(summary)
    lines = table.splitlines()
    assert lines[0].startswith("| Method | Acc | Many | Medium | Few")
    assert sum(line.startswith("| smote |") for line in lines) == 1
    assert "±" in table and "Time / smote" in lines[0]


def test_class_weight_changes_the_head(cls_data):
    results = bench.run_comparison(*cls_data, methods=["none", "class_weight"])
    a, b = results
    assert a["few_accuracy"] != b["few_accuracy"] or a["macro_f1"] != b["macro_f1"]


def test_regression_runner_smoter_reference(reg_data):
    results = bench.run_comparison(
        *reg_data, methods=["none", "lds", "ros", "smoter"], seeds=(0,), bins=[0, 1, 2, 3]
    )
    assert all(r["status"] == "ok" for r in results), results
    summary = bench.summarise(results)
    assert summary.attrs["task"] == "regression" and summary.attrs["reference"] == "smoter"
    assert summary.loc["smoter", "time_ratio"] == 1.0
    for col in ("mse", "mae", "gm", "few_mse", "many_gm"):
        assert col in summary
    assert summary.loc["lds", "mse"] != summary.loc["none", "mse"]
    assert "| Method | MSE |" in bench.format_table(summary)


def test_no_reference_drops_ratio_columns(cls_data):
    summary = bench.summarise(bench.run_comparison(*cls_data, methods=["none"]))
    assert "time_ratio" not in summary and "Time /" not in bench.format_table(summary)


def test_skipped_error_and_unknown_methods(cls_data):
    bench.register_method(
        "broken_example", lambda task, rs: RandomOverSampler(sampling_strategy={0: 1}),
        task="classification", overwrite=True,
    )
    results = bench.run_comparison(*cls_data, methods=["smoter", "broken_example", "none"])
    status = {r["method"]: r["status"] for r in results}
    assert status == {"smoter": "skipped", "broken_example": "error", "none": "ok"}
    summary = bench.summarise(results)
    table = bench.format_table(summary)
    assert "- broken_example: error" in table and "does not support classification" in table
    with pytest.raises(KeyError, match="Unknown method"):
        bench.run_comparison(*cls_data, methods=["no_such_method"])


def test_registry_extension_point_and_lazy_factories(cls_data):
    with pytest.raises(ValueError, match="already registered"):
        bench.register_method("smote", lambda task, rs: None)
    with pytest.raises(TypeError, match="factory"):
        bench.register_method("bad_example", 42, overwrite=True)
    bench.register_method(
        "lazy_example", "imblearn.over_sampling:RandomOverSampler", task="classification",
        fast_params={"shrinkage": 0.1}, overwrite=True,
    )
    sampler = bench.make_sampler("lazy_example", random_state=3, fast=True)
    assert isinstance(sampler, RandomOverSampler)
    assert sampler.random_state == 3 and sampler.shrinkage == 0.1
    bench.register_method("missing_example", "no_such_pkg.mod:Cls", overwrite=True)
    assert "missing_example" not in bench.available_methods()
    assert "unavailable" in bench.describe_method("missing_example")
    assert bench.make_sampler("class_weight") is None
    assert "smoter" in bench.available_methods("regression")
    assert "smote" not in bench.available_methods("regression")


def test_k_neighbors_capped_to_smallest_class():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], [40, 10, 3])
    X = rng.normal(size=(y.size, 4)) + y[:, None]
    results = bench.run_comparison(X, y, X, y, methods=["smote"])
    assert results[0]["status"] == "ok" and results[0]["n_synthetic"] == 120 - 53


def test_custom_head_and_dataset_file(tmp_path, cls_data):
    X_tr, y_tr, X_te, y_te = cls_data
    path = tmp_path / "emb.npz"
    np.savez(path, X=np.r_[X_tr, X_te], y=np.r_[y_tr, y_te])
    task = bench.load_task(path)
    assert task["task"] == "classification" and len(task["y_test"]) == 84
    head = LogisticRegression(C=0.5, max_iter=500)
    results = bench.run_comparison(str(path), methods=["none", "smote"], head=head)
    assert [r["dataset"] for r in results] == [str(path)] * 2
    assert {r["head"] for r in results} == {"LogisticRegression"}
    written = bench.run_benchmark([str(path)], methods=["none", "smote", "smoter"], seeds=(0,),
                                  out=tmp_path / "out", verbose=False, heads=["lr", "knn", "ridge"])
    names = {p.name for p in written}
    assert {"results.json", "results.md", "emb_lr.png", "emb_knn.png"} <= names
    assert "emb_ridge.png" not in names  # a regression head: left out for classes
    payload = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(payload["results"]) == {"lr", "knn"}
    assert {r["method"] for r in payload["results"]["knn"]} == {"none", "smote"}
    md = (tmp_path / "out" / "results.md").read_text()
    assert md.count("| smote |") == 2 and "head `knn`" in md
    with pytest.raises(ValueError, match="Unknown head"):
        bench.run_benchmark([str(path)], heads=["no_such_head"], out=tmp_path / "out")


def test_plot_results(tmp_path, cls_data):
    pytest.importorskip("matplotlib")
    summary = bench.summarise(bench.run_comparison(*cls_data, methods=["none", "ros"], seeds=(0, 1)))
    path = bench.plot_results(summary, tmp_path / "plot.png")
    assert path.stat().st_size > 5000


# ------------------------------------------------------------------ head axis


def test_head_axis_resamples_once_and_skips_what_a_head_cannot_take(cls_data):
    results = bench.run_comparison(*cls_data, methods=["none", "class_weight", "logit_adjust",
                                                       "smote"], heads=["lr", "knn"], seeds=(0, 1))
    rows = {(r["head"], r["method"], r["seed"]): r for r in results}
    assert len(rows) == 16
    knn_cw = rows[("knn", "class_weight", 0)]
    assert knn_cw["status"] == "skipped" and "sample_weight" in knn_cw["note"]
    for seed in (0, 1):  # one resampling call feeds both heads
        assert rows[("lr", "smote", seed)]["resample_seconds"] == \
            rows[("knn", "smote", seed)]["resample_seconds"]
    assert rows[("knn", "smote", 0)]["accuracy"] != rows[("lr", "smote", 0)]["accuracy"]
    summary = bench.summarise(results)
    assert summary.index.names == ["head", "method"]
    assert summary.loc[("knn", "smote"), "time_ratio"] == 1.0
    parts = bench.split_by_head(summary)
    assert list(parts) == ["lr", "knn"] and list(parts["knn"].index)[-1] == "smote"
    table = bench.format_table(summary)
    assert "### Head `lr`" in table and "### Head `knn`" in table


def test_logit_adjust_baseline_is_the_public_meta_estimator(cls_data):
    X_tr, y_tr, X_te, y_te = cls_data
    row = bench.run_comparison(*cls_data, methods=["logit_adjust"])[0]
    pred = LogitAdjustedClassifier(LogisticRegression(C=10, max_iter=2000)).fit(X_tr, y_tr)
    assert row["accuracy"] == pytest.approx(np.mean(pred.predict(X_te) == y_te))
    plain = bench.run_comparison(*cls_data, methods=["none"])[0]
    assert row["accuracy"] != plain["accuracy"] or row["macro_f1"] != plain["macro_f1"]


def test_best_baseline_is_marked_and_ours_above_it(cls_data):
    import pandas as pd

    summary = pd.DataFrame(
        {"task": "classification", "head": "lr", "n_seeds": 1, "accuracy": [0.8, 0.9, 0.95],
         "few_accuracy": [0.5, 0.7, 0.6], "n_synthetic": 0, "resample_seconds": 0.0,
         "peak_bytes": 0, "status": "ok", "note": ""},
        index=pd.Index(["none", "smote", "vmf_kde"], name="method"))
    summary.attrs["task"] = "classification"
    best = bench.best_baselines(summary)
    assert best == {"accuracy": ("smote", 0.9), "few_accuracy": ("smote", 0.7)}
    table = bench.format_table(summary)
    vmf = next(line for line in table.splitlines() if line.startswith("| vmf_kde"))
    smote = next(line for line in table.splitlines() if line.startswith("| smote"))
    assert "0.950 ▲" in vmf and "0.600 ▲" not in vmf and "**0.900**" in smote
    assert "best baseline, few_accuracy: smote (0.700)" in table


def test_head_weights_follow_the_meta_estimator_rule(cls_data):
    from sklearn.utils.class_weight import compute_sample_weight

    from skltsynth.benchmark.steps import _head_weights

    class Weighted:
        sample_weight_ = np.r_[np.ones(300), np.full(20, 0.5)]

    method = bench.get_method("class_weight")
    w = _head_weights(method, Weighted(), cls_data[1], 320, None)
    np.testing.assert_allclose(w[:300], compute_sample_weight("balanced", cls_data[1]))
    np.testing.assert_allclose(w[300:], 0.5)
    assert _head_weights(bench.get_method("none"), None, cls_data[1], 300, None) is None


def test_smote_variants_extra(cls_data):
    pytest.importorskip("smote_variants")
    X, y = cls_data[0], cls_data[1]
    X_res, y_res = bench.make_sampler("sv_prowsyn", random_state=0).fit_resample(X, y)
    assert np.array_equal(X_res[:300], X) and np.array_equal(y_res[:300], y)
    assert np.bincount(y_res).min() == np.bincount(y).max()
    with pytest.raises(bench.MethodSkipped, match="time budget"):
        from skltsynth.benchmark import baselines

        old = baselines.SMOTE_VARIANTS_MAX_CELLS
        baselines.SMOTE_VARIANTS_MAX_CELLS = 10
        try:
            _SmoteVariantsSampler("ProWSyn").fit_resample(X, y)
        finally:
            baselines.SMOTE_VARIANTS_MAX_CELLS = old


# ------------------------------------------- skltsynth resamplers and options

_TINY = {"train_steps": 3, "sampling_steps": 2, "hidden_dim": 16, "n_layers": 1,
         "device": "cpu"}


def test_every_skltsynth_resampler_and_option_is_registered():
    cls = bench.available_methods("classification")
    reg = bench.available_methods("regression")
    for name in ("vmf_kde", "latent_diffusion", "memory_ddpm", "latent_diffusion_coral",
                 "memory_ddpm_coral", "memory_ddpm_unweighted"):
        assert name in cls and name in reg, name
    for name in ("latent_diffusion_guided", "memory_ddpm_guided", "memory_ddpm_mined"):
        assert name in cls and name not in reg, name
    assert bench.make_sampler("memory_ddpm_coral", random_state=1).contrastive_weight == 0.05
    plain = bench.make_sampler("memory_ddpm_unweighted")
    assert plain.confidence is None and plain.class_cost is None
    fast = bench.make_sampler("latent_diffusion", random_state=0, fast=True)
    assert {k: fast.get_params()[k] for k in DIFFUSION_FAST_PARAMS} == DIFFUSION_FAST_PARAMS
    assert bench.get_method("vmf_kde").ours and bench.get_method("memory_ddpm_guided").ours
    assert not bench.get_method("smote").ours and not bench.get_method("logit_adjust").ours
    assert bench.get_method("memory_ddpm").uses_torch and not bench.get_method("vmf_kde").uses_torch
    from skltsynth.cli import demo_methods

    ours = demo_methods()[4:]
    assert ours == ["vmf_kde", "latent_diffusion", "memory_ddpm"]  # variants: benchmark only


def test_guided_wrapper_routes_parameters_and_fits_a_head(cls_data):
    guided = bench.make_sampler("memory_ddpm_guided", random_state=0, fast=True)
    params = guided.get_params()
    assert params["guidance_scale"] == bench.GUIDANCE_SCALE and "guidance" not in params
    assert params["head_max_epochs_base"] == bench.GUIDANCE_FAST_PARAMS["head_max_epochs_base"]
    guided.set_params(**_TINY, head_max_epochs_base=1, head_max_epochs_heads=1)
    assert guided.resampler.train_steps == 3 and guided.head_max_epochs_base == 1
    before = guided.resampler.get_params(deep=False)
    X, y = cls_data[0].astype(np.float32), cls_data[1]
    X_res, y_res = guided.fit_resample(X, y)
    assert X_res.shape[0] == len(guided.sample_weight_) == len(guided.is_synthetic_)
    # The call configures a fresh clone; the wrapped resampler is left as it was.
    assert guided.resampler.get_params(deep=False) == before
    assert guided.resampler_ is not guided.resampler
    assert type(guided.resampler_.guidance).__name__ == "LongtailGuidance"
    assert guided.resampler.guidance is None
    with pytest.raises(AttributeError):
        guided.not_an_attribute_


def test_mined_wrapper_runs_the_mining_loop_on_one_resampling_budget(cls_data):
    mined = bench.make_sampler("memory_ddpm_mined", random_state=0, fast=True)
    assert mined.get_params()["rounds"] == 3 and mined.guidance_scale == bench.GUIDANCE_SCALE
    mined.set_params(**_TINY, head_max_epochs_base=1, head_max_epochs_heads=1, rounds=2)
    X, y = cls_data[0].astype(np.float32), cls_data[1]
    X_res, y_res = mined.fit_resample(X, y)
    plain = bench.make_sampler("memory_ddpm", random_state=0).set_params(**_TINY)
    n_plain = len(plain.fit_resample(X, y)[1])
    assert len(y_res) == n_plain  # the rounds share the rows of one resampling
    np.testing.assert_array_equal(X_res[: len(y)], X)
    assert mined.is_synthetic_.sum() == len(y_res) - len(y)
    assert mined.sample_weight_.shape == (len(y_res),)
    assert [h["round"] for h in mined.mining_.history] == [0, 1]
    assert mined.resampler.guidance is None  # the wrapped resampler is left as it was


def test_diffusion_methods_run_in_the_comparison(cls_data):
    for name in ("latent_diffusion", "memory_ddpm"):
        ref = ("skltsynth.resamplers:LatentDiffusionResampler" if name == "latent_diffusion"
               else "skltsynth.resamplers:MemoryDDPMResampler")
        bench.register_method(f"{name}_tiny_example", skltsynth_variant(ref, **_TINY),
                              overwrite=True)
    results = bench.run_comparison(
        *cls_data, methods=["smote", "latent_diffusion_tiny_example",
                            "memory_ddpm_tiny_example"], device="cpu")
    assert all(r["status"] == "ok" for r in results), results
    assert all(r["n_synthetic"] > 0 and r["peak_bytes"] > 0 for r in results)
    summary = bench.summarise(results)
    assert summary.loc["memory_ddpm_tiny_example", "time_ratio"] > 0


def test_run_benchmark_records_command_device_and_settings(tmp_path, cls_data):
    X_tr, y_tr, X_te, y_te = cls_data
    path = tmp_path / "emb.npz"
    np.savez(path, X_train=X_tr, y_train=y_tr, X_test=X_te, y_test=y_te)
    bench.register_method(
        "ros_fast_example", "imblearn.over_sampling:RandomOverSampler", task="classification",
        fast_params={"shrinkage": 0.1}, description="an example", overwrite=True,
    )
    bench.run_benchmark([str(path)], methods=["none", "smote", "ros_fast_example"], seeds=(0,),
                        out=tmp_path / "out", verbose=False, fast=True, device="cpu",
                        command="skltsynth benchmark --example")
    md = (tmp_path / "out" / "results.md").read_text()
    assert "Command: `skltsynth benchmark --example`" in md and "Device: cpu" in md
    assert "Engine settings: **fast**" in md and "ros_fast_example: `shrinkage=0.1`" in md
    assert "- `ros_fast_example`: an example" in md and "Total wall time" in md
    payload = json.loads((tmp_path / "out" / "results.json").read_text())
    assert payload["command"] == "skltsynth benchmark --example"
    assert payload["fast_params"] == {"ros_fast_example": {"shrinkage": 0.1}}


# ------------------------------------------------------------------ SMOTER


def test_smoter_interpolates_rows_and_targets():
    rng = np.random.default_rng(0)
    y = np.r_[rng.uniform(0, 1, 60), rng.uniform(1, 2, 6)]
    X = np.c_[y, 3 * y, rng.normal(size=y.size)]
    sampler = SMOTER(n_bins=np.array([0.0, 1.0, 2.0]), k_neighbors=3, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    X_new, y_new = X_res[66:], y_res[66:]
    assert len(y_new) > 0 and np.array_equal(X_res[:66], X)
    # Column 0 equals the target in real rows; the same weight moves both.
    np.testing.assert_allclose(X_new[:, 0], y_new, atol=1e-12)
    np.testing.assert_allclose(X_new[:, 1], 3 * y_new, atol=1e-12)
    assert np.all((y_new >= 1) & (y_new < 2))
    again = SMOTER(n_bins=np.array([0.0, 1.0, 2.0]), k_neighbors=3, random_state=0)
    np.testing.assert_array_equal(again.fit_resample(X, y)[0], X_res)


def test_random_bin_oversampler_copies_rows():
    y = np.r_[np.linspace(0, 0.9, 40), [1.2, 1.5, 1.8]]
    X = np.c_[y, -y]
    X_res, y_res = RandomBinOverSampler(n_bins=2, random_state=0).fit_resample(X, y)
    new = X_res[43:]
    assert len(new) > 0
    assert all(any(np.array_equal(r, x) for x in X) for r in new)
    np.testing.assert_array_equal(new[:, 0], y_res[43:])


def test_smogn_wrapper(reg_data):
    sampler = _SMOGNSampler(random_state=0, max_cells=10)
    with pytest.raises(bench.MethodSkipped, match="time budget"):
        sampler.fit_resample(*reg_data[:2])
    pytest.importorskip("smogn")
    X, y = reg_data[0][:120], reg_data[1][:120]
    try:
        a = _SMOGNSampler(random_state=0).fit_resample(X, y)
    except bench.MethodSkipped as exc:  # smogn 0.1.2 predates numpy 2
        assert "numpy" in str(exc)
        return
    b = _SMOGNSampler(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].shape[1] == X.shape[1]


def test_weighting_only_baselines_reuse_deterministic_fit(cls_data):
    from sklearn.linear_model import Ridge, SGDClassifier

    results = bench.run_comparison(*cls_data, methods=["none"], seeds=(0, 1, 2))
    assert [r["seed"] for r in results] == [0, 1, 2]
    assert len({r["accuracy"] for r in results}) == 1
    assert is_deterministic(LogisticRegression()) and is_deterministic(Ridge())
    assert not is_deterministic(SGDClassifier())
    assert not is_deterministic(LogisticRegression(solver="saga"))


def test_quality_columns(cls_data):
    results = bench.run_comparison(*cls_data, methods=["none", "ros", "smote"], quality=True)
    by = {r["method"]: r for r in results}
    assert "q_precision" not in by["none"]
    assert by["ros"]["q_copy_fraction"] == 1.0 and by["smote"]["q_copy_fraction"] < 0.5
    assert 0 <= by["smote"]["q_coverage"] <= 1
    table = bench.format_table(bench.summarise(results))
    assert "Coverage" in table.splitlines()[0] and "Copies" in table.splitlines()[0]


def _shared(filename):
    from skltsynth.datasets import find_data_file

    try:
        find_data_file(filename)
    except FileNotFoundError:
        pytest.skip(reason=f"shared benchmark file {filename} absent")


@pytest.mark.slow
def test_reference_figures_stsb_dir():
    """README reference: Ridge(alpha=10) MSE 0.605 (few 0.582); LDS 0.597 (few 0.550)."""
    _shared("stsb_dir_minilm.npz")
    summary = bench.summarise(bench.run_comparison("stsb", methods=["none", "lds"]))
    assert summary.loc["none", "mse"] == pytest.approx(0.605, abs=6e-4)
    assert summary.loc["none", "few_mse"] == pytest.approx(0.582, abs=6e-4)
    assert summary.loc["lds", "mse"] == pytest.approx(0.597, abs=6e-4)
    assert summary.loc["lds", "few_mse"] == pytest.approx(0.550, abs=6e-4)


@pytest.mark.slow
def test_reference_figures_clinc150_lt():
    """README reference: no resampling acc 0.874 / few 0.734 (LogisticRegression C=10)."""
    _shared("clinc150_minilm.npz")
    summary = bench.summarise(bench.run_comparison("clinc150", methods=["none"]))
    assert summary.loc["none", "accuracy"] == pytest.approx(0.874, abs=6e-4)
    assert summary.loc["none", "few_accuracy"] == pytest.approx(0.734, abs=6e-4)


@pytest.mark.slow
def test_demo_end_to_end_with_baselines():
    results = bench.run_comparison("demo", methods=["none", "smote"])
    summary = bench.summarise(results)
    assert (summary["n_seeds"] == 1).all()
    assert summary.loc["smote", "few_accuracy"] > summary.loc["none", "few_accuracy"]
    assert summary.loc["smote", "time_ratio"] == 1.0
    assert len(bench.format_table(summary).splitlines()) >= 4


def _summary_tool():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / "benchmark_summary.py"
    spec = importlib.util.spec_from_file_location("benchmark_summary", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(head, method, seed, acc, few, seconds):
    return {"dataset": "clinc150", "task": "classification", "head": head, "method": method,
            "seed": seed, "status": "ok", "note": "", "n_train": 10,
            "n_synthetic": 0 if method == "none" else 5, "resample_seconds": seconds,
            "peak_bytes": 0 if method == "none" else 100, "fit_seconds": 1.0,
            "accuracy": acc, "few_accuracy": few}


def test_summary_tool_tables_per_head_and_same_run_ratios(tmp_path, capsys):
    tool = _summary_tool()
    new = {"command": "new", "results": {
        "lr": [_row("lr", "none", 0, 0.8, 0.5, 0.0), _row("lr", "smote", 0, 0.9, 0.7, 2.0),
               _row("lr", "vmf_kde", 0, 0.95, 0.6, 1.0)],
        "knn": [_row("knn", "none", 0, 0.7, 0.4, 0.0), _row("knn", "smote", 0, 0.75, 0.6, 2.0)]}}
    old = {"command": "old", "results": [  # before the head axis: the default head
        {k: v for k, v in _row("lr", "smote", 0, 0.5, 0.5, 10.0).items() if k != "head"},
        {k: v for k, v in _row("lr", "ros", 0, 0.6, 0.6, 1.0).items() if k != "head"}]}
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert tool.main(str(tmp_path / "old.json"), str(tmp_path / "new.json")) == 0
    out = capsys.readouterr().out
    assert "Head `lr`" in out and "Head `knn`" in out
    lr = out.split("Head `knn`")[0]
    # smote from the newer file wins; ros comes from the old run with the old run's ratio.
    assert "| smote | **0.900** | **0.700** | 1.00 |" in lr
    assert "| ros | 0.600 | 0.600 | 0.10 |" in lr
    assert "| `vmf_kde` | 0.950 | 0.600 | 0.50 |" in lr


def test_summary_tool_plots_the_merged_matrix_per_head(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    tool = _summary_tool()
    a = {"command": "a", "results": {"lr": [_row("lr", "smote", 0, 0.9, 0.7, 2.0)],
                                     "knn": [_row("knn", "smote", 0, 0.75, 0.6, 2.0)]}}
    b = {"command": "b", "results": {"lr": [_row("lr", "smote", 0, 0.9, 0.7, 2.0),
                                            _row("lr", "vmf_kde", 0, 0.95, 0.6, 1.0)]}}
    for name, payload in (("a", a), ("b", b)):
        (tmp_path / f"{name}.json").write_text(json.dumps(payload))
    figs = tmp_path / "figs"
    assert tool.main("--plots", str(figs), str(tmp_path / "a.json"), str(tmp_path / "b.json")) == 0
    assert sorted(p.name for p in figs.iterdir()) == ["clinc150_knn.png", "clinc150_lr.png"]
    assert "--plots" not in capsys.readouterr().out
