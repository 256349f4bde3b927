"""Every example of the gallery runs (fast settings, Agg backend), so none can rot."""

import importlib.util
import pathlib
import re
import runpy

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))

_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w, ]+)|import\s+([\w.]+))", re.M)


def _missing_dependency(path):
    """Name of a module or name the example imports that is not importable yet, or None."""
    for match in _IMPORT.finditer(path.read_text()):
        module = match.group(1) or match.group(3)
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except ModuleNotFoundError:
            return module
        if match.group(2) and module.startswith("skltsynth"):
            mod = importlib.import_module(module)
            for name in (n.strip() for n in match.group(2).split(",")):
                if name and not hasattr(mod, name) and importlib.util.find_spec(
                        f"{module}.{name}") is None:
                    return f"{module}.{name}"
    return None


def test_examples_exist():
    names = {p.stem for p in EXAMPLES}
    assert len(EXAMPLES) >= 5
    assert {"plot_smote_drop_in", "plot_grid_search", "plot_dir_regression",
            "plot_confidence_weights", "plot_longtail_guidance", "plot_logit_adjustment",
            "plot_longtail_mining", "plot_real_vs_synthetic"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, monkeypatch, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    missing = _missing_dependency(path)
    if missing:
        pytest.skip(reason=f"{path.name} needs {missing}, which is not importable yet")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("SKLTSYNTH_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    plt.close("all")
    namespace = runpy.run_path(str(path), run_name="__main__")
    if "SKLTSYNTH_FAST" in path.read_text():
        assert namespace.get("FAST") is True, f"{path.name} ignores SKLTSYNTH_FAST=1"
    figures = [plt.figure(n) for n in plt.get_fignums()]
    assert figures, f"{path.name} drew no figure"
    assert all(ax.has_data() for fig in figures for ax in fig.axes), f"{path.name}: empty axes"
    plt.close("all")
