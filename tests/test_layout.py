"""The layer folders, and the old module paths that still import."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import skltsynth
from skltsynth._aliases import MOVED, new_name

PACKAGE = Path(skltsynth.__file__).parent


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_is_the_new_module(old):
    moved = importlib.import_module(f"skltsynth.{old}")
    assert moved is importlib.import_module(f"skltsynth.{MOVED[old]}")
    assert moved.__name__ == f"skltsynth.{MOVED[old]}"


def test_old_submodule_paths_resolve_to_one_module():
    from skltsynth.diffusion.sampling import sample_rows
    from skltsynth.engines.diffusion import sampling

    assert importlib.import_module("skltsynth.diffusion.sampling") is sampling
    assert sample_rows is sampling.sample_rows


def test_new_name_leaves_unmoved_modules_alone():
    assert new_name("skltsynth.resamplers.vmf_kde") is None
    assert new_name("skltsynth.targets.x") == "skltsynth.policy.targets.x"
    assert new_name("numpy.linalg") is None


def test_no_old_module_file_left_at_the_top():
    for old in MOVED:
        assert not (PACKAGE / f"{old}.py").exists(), old
        assert not (PACKAGE / old / "__init__.py").exists(), old


def test_modules_stay_small():
    sizes = {p.relative_to(PACKAGE): sum(1 for _ in p.open()) for p in PACKAGE.rglob("*.py")}
    assert {p: n for p, n in sizes.items() if n > 650} == {}


def test_importing_the_package_or_an_old_path_loads_no_torch():
    code = "import skltsynth, skltsynth.targets, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
