"""The ``skltsynth`` command line: demo, resample, benchmark, methods, --help."""

import json
import subprocess
import sys

import numpy as np
import pytest

from skltsynth import cli


def _toy(n_major=40, n_minor=8, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_major + 2 * n_minor, d)).astype(np.float32)
    y = np.r_[np.zeros(n_major, int), np.ones(n_minor, int), np.full(n_minor, 2)]
    X[y == 1] += 2.0
    X[y == 2] -= 2.0
    return X, y


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "resample", "benchmark", "methods"):
        assert command in out


@pytest.mark.parametrize("command", ["demo", "resample", "benchmark"])
def test_subcommand_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--methods" in out or "--method" in out
    if command == "resample":
        assert ".npz" in out and ".parquet" in out and "--y-column" in out


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "skltsynth", "--version"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout.startswith("skltsynth ")


def test_parse_params():
    assert cli.parse_params(["a=1", "b=0.5", "c=moment", "d=None", "e=[1, 2]", "f=true"]) == {
        "a": 1, "b": 0.5, "c": "moment", "d": None, "e": [1, 2], "f": True}
    with pytest.raises(cli.CLIError, match="name=value"):
        cli.parse_params(["oops"])


def test_resample_npz_round_trip(tmp_path, capsys):
    X, y = _toy()
    src, dst = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(src, X=X, y=y)
    rc = cli.main(["resample", str(src), str(dst), "--method", "vmf_kde",
                   "--random-state", "0", "--param", "bandwidth=2.0"])
    assert rc == 0
    assert "synthetic rows added" in capsys.readouterr().out
    with np.load(dst) as out:
        assert set(out.files) == {"X", "y", "is_synthetic", "sample_weight"}
        n = len(y)
        np.testing.assert_array_equal(out["X"][:n], X)      # originals first, unchanged
        np.testing.assert_array_equal(out["y"][:n], y)
        assert out["X"].dtype == np.float32
        assert not out["is_synthetic"][:n].any() and out["is_synthetic"][n:].all()
        assert np.bincount(out["y"]).tolist() == [40, 40, 40]
        assert out["sample_weight"].shape == out["y"].shape
    # same seed -> same file content
    dst2 = tmp_path / "out2.npz"
    cli.main(["resample", str(src), str(dst2), "--method", "vmf_kde", "--random-state", "0",
              "--param", "bandwidth=2.0"])
    with np.load(dst) as a, np.load(dst2) as b:
        np.testing.assert_array_equal(a["X"], b["X"])


def test_resample_npy_structured(tmp_path):
    X, y = _toy()
    arr = np.empty(len(y), dtype=[("X", "f4", (X.shape[1],)), ("y", "i8")])
    arr["X"], arr["y"] = X, y
    src, dst = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(src, arr)
    assert cli.main(["resample", str(src), str(dst), "--method", "smote",
                     "--random-state", "0"]) == 0
    out = np.load(dst)
    assert set(out.dtype.names) == {"X", "y", "is_synthetic", "sample_weight"}
    np.testing.assert_array_equal(out["X"][: len(y)], X)
    assert out["is_synthetic"].sum() == len(out) - len(y) == 64


def test_resample_parquet_wide_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X, y = _toy()
    frame = pd.DataFrame(X, columns=[f"e{i}" for i in range(X.shape[1])])
    frame["intent"] = np.array(["a", "b", "c"])[y]
    frame["row_id"] = np.arange(len(y))
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    frame.to_parquet(src)
    assert cli.main(["resample", str(src), str(dst), "--method", "vmf_kde",
                     "--y-column", "intent", "--random-state", "0"]) == 0
    out = pd.read_parquet(dst)
    n = len(frame)
    assert list(out.columns) == list(frame.columns) + ["is_synthetic", "sample_weight"]
    pd.testing.assert_frame_equal(out.iloc[:n][frame.columns].reset_index(drop=True),
                                  frame, check_dtype=False)
    assert out["e0"].dtype == np.float32
    assert out["intent"].value_counts().to_dict() == {"a": 40, "b": 40, "c": 40}
    assert out["is_synthetic"].sum() == len(out) - n
    assert out["row_id"].iloc[n:].isna().all()  # an id is not a feature


def test_resample_parquet_list_column_regression(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 5))
    y = rng.gamma(2.0, size=120)
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pd.DataFrame({"embedding": list(X), "score": y}).to_parquet(src)
    assert cli.main(["resample", str(src), str(dst), "--method", "vmf_kde",
                     "--y-column", "score", "--random-state", "0"]) == 0
    out = pd.read_parquet(dst)
    assert len(out) > 120 and out["is_synthetic"].sum() == len(out) - 120
    emb = np.stack(out["embedding"].to_numpy())
    assert emb.shape == (len(out), 5)
    np.testing.assert_allclose(emb[:120], X)
    assert out["score"].dtype == np.float64


def test_unknown_method_lists_known_ones(tmp_path, capsys):
    X, y = _toy()
    src = tmp_path / "in.npz"
    np.savez(src, X=X, y=y)
    rc = cli.main(["resample", str(src), str(tmp_path / "o.npz"), "--method", "nope"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "Unknown method" in err and "'nope'" in err
    assert "smote" in err and "vmf_kde" in err
    rc = cli.main(["demo", "--methods", "none", "bogus"])
    assert rc == 2
    assert "bogus" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.npz", "o.npz", "--method", "smote"], "does not exist"),
        (["in.npz", "o.npy", "--method", "smote"], "same format"),
        (["in.npz", "o.csv", "--method", "smote"], "Unsupported file type"),
        (["in.npz", "o.npz", "--method", "smote", "--param", "nope=1"], "no parameter"),
        (["in.npz", "o.npz", "--method", "class_weight"], "does not resample"),
        (["bad.npz", "o.npz", "--method", "smote"], "must hold arrays 'X' and 'y'"),
    ],
)
def test_resample_errors_are_clear(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    X, y = _toy()
    np.savez("in.npz", X=X, y=y)
    np.savez("bad.npz", features=X)
    rc = cli.main(["resample", *args])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("skltsynth: error:") and message in err


def test_methods_command(capsys):
    assert cli.main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "smote" in out and "vmf_kde" in out


def test_demo_methods_default_includes_baselines_and_ours():
    names = cli.demo_methods()
    assert names[:4] == ["none", "class_weight", "ros", "smote"]
    assert "vmf_kde" in names


def test_demo_baselines_one_seed(tmp_path, capsys):
    plot = tmp_path / "demo.png"
    rc = cli.main(["demo", "--methods", "none", "class_weight", "--seeds", "0", "--quiet",
                   "--plot", str(plot)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "| none |" in out and "| class_weight |" in out
    assert "Few" in out and "Resample (s)" in out and "Peak MB" in out
    assert plot.exists() and plot.stat().st_size > 0


def test_benchmark_on_a_file(tmp_path, capsys):
    X, y = _toy(n_major=60, n_minor=12)
    data = tmp_path / "toy.npz"
    np.savez(data, X=X, y=y)
    out_dir = tmp_path / "bench"
    rc = cli.main(["benchmark", "--datasets", str(data), "--methods", "none", "smote",
                   "vmf_kde", "--seeds", "0", "1", "--heads", "lr", "knn", "--out", str(out_dir),
                   "--quiet"])
    assert rc == 0
    results = json.loads((out_dir / "results.json").read_text())
    assert "device" in results and set(results["results"]) == {"lr", "knn"}
    assert "--heads lr knn" in results["command"]
    rows = results["results"]["lr"]
    assert {r["method"] for r in rows} == {"none", "smote", "vmf_kde"}
    assert {r["seed"] for r in rows} == {0, 1}
    assert all(r["status"] == "ok" for r in rows)
    md = (out_dir / "results.md").read_text()
    assert "Device:" in md and "| smote |" in md and "Time / smote" in md


def test_benchmark_unknown_dataset(capsys, tmp_path):
    rc = cli.main(["benchmark", "--datasets", "nonesuch", "--out", str(tmp_path)])
    assert rc == 2
    assert "Unknown dataset 'nonesuch'" in capsys.readouterr().err


def test_methods_marks_the_baselines_resample_refuses(capsys):
    assert cli.main(["methods"]) == 0
    out = capsys.readouterr().out
    resampling, _, baselines = out.partition("Baselines that add no rows")
    assert baselines, out
    for name in ("none", "class_weight", "lds"):
        assert f"  {name} " in baselines and f"  {name} " not in resampling
    for name in ("ros", "smote", "vmf_kde", "memory_ddpm"):
        assert f"  {name} " in resampling


@pytest.mark.parametrize("command", [["--help"], ["methods"]])
def test_help_and_methods_do_not_import_torch_or_sklearn(command):
    code = ("import sys, contextlib, io\n"
            "from skltsynth import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            f"    cli.main({command!r})\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'imblearn') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "[]"


def test_import_skltsynth_is_lazy_and_complete():
    code = ("import sys, skltsynth\n"
            "print('torch' in sys.modules, 'sklearn' in sys.modules)\n"
            "print(all(n in dir(skltsynth) for n in skltsynth.__all__))\n"
            "from skltsynth import VMFKDEResampler, ResampledEstimator\n"
            "print(VMFKDEResampler.__name__, ResampledEstimator.__module__)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.split("\n")[:3] == ["False False", "True",
                                           "VMFKDEResampler skltsynth.heads.meta"]
    import skltsynth

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        skltsynth.Nope  # noqa: B018


@pytest.mark.parametrize("suffix", [".npz", ".npy", ".parquet"])
@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_input_gives_one_line_error(tmp_path, capsys, suffix, damage):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow", reason="parquet files need pyarrow")
    X, y = _toy()
    good = tmp_path / f"good{suffix}"
    if suffix == ".npz":
        np.savez(good, X=X, y=y)
    elif suffix == ".npy":
        arr = np.empty(len(y), dtype=[("X", "f4", (X.shape[1],)), ("y", "i8")])
        arr["X"], arr["y"] = X, y
        np.save(good, arr)
    else:
        import pandas as pd

        pd.DataFrame({"emb": list(X), "y": y}).to_parquet(good)
    data = good.read_bytes()
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes({"truncated": data[: len(data) * 2 // 3], "garbage": b"not a file" * 20,
                     "empty": b""}[damage])
    rc = cli.main(["resample", str(bad), str(tmp_path / f"out{suffix}"), "--method", "ros"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skltsynth: error:"), err
    assert "bad" + suffix in err


def test_resample_keeps_float32_and_refusals_name_resampling_methods(tmp_path, capsys):
    X, y = _toy()
    src, dst = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(src, X=X, y=y)
    assert cli.main(["resample", str(src), str(dst), "--method", "ros_shrink",
                     "--random-state", "0"]) == 0
    with np.load(dst) as out:
        assert out["X"].dtype == np.float32 and len(out["y"]) > len(y)
    capsys.readouterr()
    for method in ("smoter", "lds"):
        assert cli.main(["resample", str(src), str(dst), "--method", method]) == 2
        err = capsys.readouterr().err
        assert "does not support classification" in err
        suggested = err.partition("Resampling methods for classification:")[2]
        assert "smote" in suggested
        assert "none" not in suggested and "class_weight" not in suggested


def test_resample_fast_and_verbose_reach_the_resampler():
    from skltsynth import benchmark

    y = np.r_[np.zeros(20, int), np.ones(6, int)]
    fast = benchmark.get_method("memory_ddpm").fast_params
    assert fast
    made = cli.make_resampler("memory_ddpm", y, fast=True, verbose=1)
    params = made.get_params()
    assert {k: params[k] for k in fast} == fast and params["verbose"] == 1
    default = cli.make_resampler("memory_ddpm", y, {"train_steps": 7}, fast=True)
    assert default.get_params()["train_steps"] == 7 and default.get_params()["verbose"] is False


def test_resample_progress_on_stderr_unless_quiet(tmp_path, capsys):
    X, y = _toy()
    src, dst = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(src, X=X, y=y)
    assert cli.main(["resample", str(src), str(dst), "--method", "smote"]) == 0
    captured = capsys.readouterr()
    assert "resampling 56 rows" in captured.err and "synthetic rows added" in captured.out
    assert cli.main(["resample", str(src), str(dst), "--method", "smote", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "synthetic rows added" in captured.out
