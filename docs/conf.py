"""Sphinx configuration of the skltsynth documentation.

Build with ``make -C docs html`` (or ``sphinx-build -W -b html docs docs/_build/html``).
Set ``SKLTSYNTH_DOCS_NO_GALLERY=1`` to skip running the example gallery.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import re
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("MPLBACKEND", "Agg")
# The gallery runs every example; they read this to use their fast settings.
os.environ.setdefault("SKLTSYNTH_FAST", "1")

import skltsynth  # noqa: E402

project = "skltsynth"
author = "skltsynth developers"
copyright = "skltsynth developers, BSD-3-Clause"
release = skltsynth.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext"}

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md",
                    "gen_modules/benchmark_results*", "benchmark", "sg_execution_times.rst"]
root_doc = "index"
suppress_warnings = ["config.cache"]

# ---------------------------------------------------------------- API listing
# The API page lists every public name the package exports, so it follows the
# code: a name exported from ``skltsynth/__init__.py`` (or a public module
# below) gets its page generated from its docstring.
PUBLIC_MODULES = [
    ("skltsynth", "Resamplers and estimators"),
    ("skltsynth.resamplers", "Resamplers"),
    ("skltsynth.policy.targets", "Targets: classes and DIR bins"),
    ("skltsynth.datasets", "Datasets"),
    ("skltsynth.tooling.metrics", "Metrics"),
    ("skltsynth.benchmark", "Benchmark"),
    ("skltsynth.engines.vmf", "von Mises-Fisher engine"),
    ("skltsynth.heads.epistemic", "Epistemic head"),
    ("skltsynth.policy.guidance", "Longtail guidance"),
    ("skltsynth.distributed", "Distributed (Dask)"),
]


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:  # a package without __all__: what its submodules define
        names = [n for n, obj in vars(module).items()
                 if getattr(obj, "__module__", "").startswith(module.__name__ + ".")]
    return [n for n in names if not n.startswith("_") and n != "__version__"]


def _write_api_list():
    lines = []
    seen = set()
    for modname, title in PUBLIC_MODULES:
        try:
            module = importlib.import_module(modname)
        except Exception:  # a module not written yet is simply not listed
            continue
        entries = []
        for name in _public_names(module):
            obj = getattr(module, name, None)
            if obj is None or not (callable(obj)):
                continue
            key = (getattr(obj, "__module__", ""), getattr(obj, "__qualname__", name))
            if key in seen:
                continue
            seen.add(key)
            entries.append(name)
        if not entries:
            continue
        lines += [title, "-" * len(title), "", f".. currentmodule:: {modname}", "",
                  ".. autosummary::", "   :toctree: .", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in entries]
        lines.append("")
    out = DOCS / "gen_modules" / "api.rst"
    out.parent.mkdir(exist_ok=True)
    header = ["API reference", "=============", "",
              "Generated from the docstrings of every public name the package exports.", ""]
    text = "\n".join(header + lines) + "\n"
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


_write_api_list()


# ------------------------------------------------------------ benchmark page
# ``skltsynth benchmark ... --out docs/benchmark`` writes results.md,
# results.json and one figure per dataset and head there; the page includes them.
def _write_if_changed(path, text):
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<file>[^)\s]+)\)\s*$")


def _write_benchmark_results():
    """Turn ``docs/benchmark/results.md`` into ``gen_modules/benchmark_results.rst``.

    The Markdown file has a title (``#``, dropped: the page has its own), a
    preamble and one ``##`` section per dataset with one ``###`` section per
    head, each with its table and figure (``![title](dataset_head.png)``).
    Every section becomes an rst subsection that includes its Markdown text
    (myst) and shows the figure.
    """
    folder = DOCS / "benchmark"
    gen = DOCS / "gen_modules"
    gen.mkdir(exist_ok=True)
    parts = []
    md = folder / "results.md"
    if not md.exists():
        text = (".. note::\n\n   No benchmark results in ``docs/benchmark`` yet: run\n"
                "   ``make -C docs benchmark``.\n")
        _write_if_changed(gen / "benchmark_results.rst", text)
        return
    chunks = [[None, [], False]]
    for line in md.read_text().splitlines():
        if line.startswith("# "):
            continue
        if line.startswith(("## ", "### ")):
            chunks.append([line.lstrip("#").strip(), [], line.startswith("### ")])
        else:
            chunks[-1][1].append(line)
    rst = []
    for i, (title, lines, sub) in enumerate(chunks):
        figures = []
        body = []
        for line in lines:
            match = _IMAGE.match(line)
            if match and (folder / match["file"]).exists():
                figures.append(match)
            else:
                body.append(line)
        if title:
            rst += [title, ("^" if sub else "~") * len(title), ""]
        if any(line.strip() for line in body):
            part = gen / f"benchmark_results_{i}.md"
            _write_if_changed(part, "\n".join(body).strip() + "\n")
            parts.append(part)
            rst += [f".. include:: /gen_modules/{part.name}", "   :parser: myst_parser.sphinx_", ""]
        for match in figures:
            rst += [f".. figure:: /benchmark/{match['file']}", "   :width: 100%",
                    f"   :alt: {match['alt']}", "",
                    f"   {match['alt']}: score per shot group (points; error bars: standard "
                    "deviation over seeds), resample time (log scale) and peak memory per "
                    "method, with their ratios to the reference method in brackets.", ""]
    _write_if_changed(gen / "benchmark_results.rst", "\n".join(rst))
    for stale in set(gen.glob("benchmark_results_*.md")) - set(parts):
        stale.unlink()


_write_benchmark_results()

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "imblearn": ("https://imbalanced-learn.org/stable/", None),
    "torch": ("https://pytorch.org/docs/stable/", None),
}
# No network on build machines: intersphinx is off unless asked for.
if not os.environ.get("SKLTSYNTH_DOCS_INTERSPHINX"):
    intersphinx_mapping = {}

# ------------------------------------------------------------------- gallery
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "plot_gallery": "False" if os.environ.get("SKLTSYNTH_DOCS_NO_GALLERY") else "True",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "capture_repr": ("_repr_html_", "__repr__"),
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skltsynth",),
    "reference_url": {"skltsynth": None},
}

# --------------------------------------------------------------------- output
html_theme = "pydata_sphinx_theme"
html_title = f"skltsynth {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing setters."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
