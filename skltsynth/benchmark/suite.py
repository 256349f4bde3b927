"""A benchmark run on files: datasets x heads x methods x seeds -> JSON, Markdown, figures."""

from __future__ import annotations

import importlib
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

from .data import load_task
from .heads import HEADS, head_names, head_text
from .plots import plot_results
from .registry import get_method
from .report import format_table, split_by_head, summarise
from .runner import run_comparison

__all__ = ["device_text", "run_benchmark"]


def device_text(device):
    """The device as people read it: ``"cpu (x86_64, 1 torch thread)"``, ``"cuda:0 (H200)"``.

    Examples
    --------
    >>> from skltsynth.benchmark import device_text
    >>> device_text("cpu").startswith("cpu")
    True
    """
    try:
        import torch

        from .._torch_utils import resolve_device

        dev = resolve_device(device)
        if dev.type == "cuda":
            return f"{dev} ({torch.cuda.get_device_name(dev)})"
        threads = torch.get_num_threads()
        return (f"cpu ({platform.processor() or platform.machine()}, {threads} torch "
                f"thread{'s' if threads != 1 else ''})")
    except Exception:  # pragma: no cover - informational only
        return str(device)


def _jsonable(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _versions():
    names = {"numpy": "numpy", "scikit-learn": "sklearn", "imbalanced-learn": "imblearn",
             "torch": "torch"}
    out = [f"Python {platform.python_version()}"]
    for label, module in names.items():
        mod = sys.modules.get(module)
        if mod is None:
            try:
                mod = importlib.import_module(module)
            except ImportError:
                continue
        out.append(f"{label} {getattr(mod, '__version__', '?')}")
    return ", ".join(out)


def _settings_text(methods, fast):
    """What the methods of a run were: engine settings (fast or not) and descriptions."""
    lines = []
    tuned = [m for m in methods if get_method(m).fast_params] if fast else []
    if tuned:
        groups = {}
        for m in tuned:
            key = ", ".join(f"{k}={v!r}" for k, v in get_method(m).fast_params.items())
            groups.setdefault(key, []).append(m)
        lines += ["Engine settings: **fast** (`--fast`); every other method at its defaults.", ""]
        lines += [f"- {', '.join(names)}: `{key}`" for key, names in groups.items()] + [""]
    elif fast:
        lines += ["Engine settings: fast (`--fast`), which changes none of these methods.", ""]
    else:
        lines += ["Engine settings: every method at its defaults.", ""]
    lines += ["Methods:", ""] + [f"- `{m}`: {get_method(m).description}" for m in methods]
    return "\n".join(lines) + "\n"


def _heads_of(task, heads):
    return head_names(task) if heads is None else [h for h in heads if h in head_names(task)]


def run_benchmark(datasets, methods=None, seeds=(0, 1, 2), device="auto", out=".",
                  fast=False, verbose=True, command=None, heads=None):
    """Run :func:`run_comparison` on several datasets and heads and write the results.

    Parameters
    ----------
    datasets : list of str
        Names in ``DATASETS`` and/or ``.npz`` files.
    methods : list of str, default=None
        Methods (default: all available for each dataset's task); methods
        that do not fit a dataset's task are left out for it.
    seeds : sequence of int, default=(0, 1, 2)
        Seeds of every method (and head); the tables give mean and standard
        deviation over them.
    device : str, default="auto"
        Device of the resamplers with a ``device`` parameter; named in the
        tables.
    out : str or path-like, default="."
        Output folder.
    fast : bool, default=False
        Fast settings for slow resamplers (each method's ``fast_params``,
        listed in ``results.md``).
    verbose : bool, default=True
        Progress lines on stderr.
    command : str, default=None
        The command line that produced the run, recorded in ``results.md``
        and ``results.json``.
    heads : list of str, default=None
        Head names (:data:`~skltsynth.benchmark.heads.HEADS`); default: every
        head of each dataset's task.  Names of the other task's heads are
        left out for a dataset (``knn`` and ``mlp`` exist for both).

    Returns
    -------
    written : list of pathlib.Path
        ``results.json`` (``results`` keyed by head), ``results.md`` (one
        table per dataset and head) and one ``<dataset>_<head>.png`` per
        dataset and head (when matplotlib is installed).
    """
    known = {h for task_heads in HEADS.values() for h in task_heads}
    unknown = [h for h in (heads or ()) if h not in known]
    if unknown:
        raise ValueError(f"Unknown head(s) {', '.join(map(repr, unknown))}; known heads: "
                         + "; ".join(f"{t}: {', '.join(h)}" for t, h in HEADS.items()) + ".")
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    by_head, sections, written, used, head_lines = {}, [], [], [], {}
    dev_text = device_text(device)
    for name in datasets:
        data = load_task(name)
        task = data["task"]
        chosen = None if methods is None else [m for m in methods if task in get_method(m).tasks]
        names = _heads_of(task, heads)
        if not names:
            continue
        results = run_comparison(name, methods=chosen, seeds=seeds, device=device, fast=fast,
                                 verbose=verbose, heads=names)
        for row in results:
            by_head.setdefault(row["head"], []).append(row)
        used += [m for m in dict.fromkeys(r["method"] for r in results) if m not in used]
        stem = Path(str(name)).stem
        sections.append(f"## {data['title']}\n")
        for head, summary in split_by_head(summarise(results)).items():
            head_lines.setdefault(f"`{head}`: `{head_text(task, head)}`", None)
            section = f"### {data['title']}, head `{head}`\n\n{format_table(summary)}\n"
            try:
                path = plot_results(summary, out / f"{stem}_{head}.png",
                                    title=f"{data['title']}, head {head_text(task, head)}")
            except ImportError:
                pass
            else:
                written.append(path)
                section += f"\n![{data['title']}, {head}]({path.name})\n"
            sections.append(section)
    elapsed = time.perf_counter() - start
    header = ["# skltsynth benchmark", ""]
    if command:
        header += [f"Command: `{command}`", ""]
    header += [
        f"Device: {dev_text}. Seeds: {', '.join(map(str, seeds))} (mean ± std over seeds). "
        f"Total wall time: {elapsed / 60:.1f} min. {_versions()}.",
        "",
        "Heads (the same split and seeds for every method; regression predictions clipped "
        "to the training target range):",
        "",
        *[f"- {line}" for line in head_lines],
        "",
        "A method wins on a head only where it beats the best baseline of that head (in "
        "bold in each table, a red dotted line in each figure).",
        "",
        _settings_text(used, fast),
    ]
    md = out / "results.md"
    md.write_text("\n".join(header) + "\n" + "\n".join(sections))
    js = out / "results.json"
    payload = {
        "command": command, "device": dev_text, "seeds": list(seeds), "fast": fast,
        "fast_params": {m: get_method(m).fast_params for m in used
                        if fast and get_method(m).fast_params},
        "versions": _versions(), "wall_seconds": elapsed,
        "results": {head: [{k: _jsonable(v) for k, v in row.items()} for row in rows]
                    for head, rows in by_head.items()},
    }
    js.write_text(json.dumps(payload, indent=1))
    return [js, md, *written]
