"""Print the README's benchmark tables, one per head, from benchmark ``results.json`` files.

Run from the project root after ``skltsynth benchmark ... --out docs/benchmark``::

    python tools/benchmark_summary.py [--plots DIR] [docs/benchmark/results.json ...]

Several files (e.g. one run per head) are merged: each file is summarised on its own
(time ratios compare methods of the same run) and a method is taken from the last
file that has it.  For every head: one row
per method (baselines first, then skltsynth's resamplers), columns CLINC150-LT
accuracy overall and few-shot and the resample time as a ratio to SMOTE's,
STS-B-DIR MSE overall and few-shot and the time ratio to SMOTER's (mean ± std
over seeds, from the same run).  The best baseline of each score column is
in bold; a skltsynth resampler "wins" on a head only where it is above that.
Files written before the head axis (``results`` a plain list) count as the
default heads.  ``--plots DIR`` also draws the merged matrix of every head, one
figure per dataset and head (``DIR/<dataset>_<head>.png``, see
:func:`skltsynth.benchmark.plots.plot_results`).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from skltsynth.benchmark import best_baselines, head_names, is_ours, summarise  # noqa: E402

#: Dataset -> (label, score columns); the reference of the time ratio is the task's.
DATASETS = {
    "clinc150": ("CLINC150-LT", ("accuracy", "few_accuracy"), "classification"),
    "stsb": ("STS-B-DIR", ("mse", "few_mse"), "regression"),
}
LABELS = {"accuracy": "acc", "few_accuracy": "few-shot acc", "mse": "MSE",
          "few_mse": "few-shot MSE"}


def load_runs(paths):
    """``(rows, payload)`` per file; rows carry their ``head`` (legacy: the default head)."""
    runs = []
    for path in paths:
        payload = json.loads(Path(path).read_text())
        results = payload["results"]
        if isinstance(results, list):  # before the head axis: the default heads
            rows = [{**row, "head": row.get("head") or head_names(row.get("task",
                                                                           "classification"))[0]}
                    for row in results]
        else:
            rows = [{**row, "head": row.get("head", head)} for head, part in results.items()
                    for row in part]
        runs.append((rows, payload))
    return runs


def merged_summary(runs, dataset, head):
    """One summary of (dataset, head): each method from the last file that has it.

    Each file is summarised on its own, so a time ratio always compares two
    methods of the same run.
    """
    import pandas as pd

    parts = []
    for rows, _ in runs:
        part = [r for r in rows if r.get("dataset") == dataset and r["head"] == head]
        if part:
            parts.append(summarise(part))
    if not parts:
        return None
    merged = pd.concat(parts)
    merged = merged[~merged.index.duplicated(keep="last")]
    merged.attrs = dict(parts[-1].attrs)
    return merged


def _cell(summary, method, key, best, digits=3):
    if summary is None or method not in summary.index or key not in summary:
        return "-"
    value = summary.loc[method, key]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{value:.{digits}f}"
    if key in best and best[key][0] == method:
        text = f"**{text}**"
    std = summary.loc[method].get(f"{key}_std")
    if std is not None and not math.isnan(std) and summary.loc[method, "n_seeds"] > 1:
        text += f" ± {std:.{digits}f}"
    return text


def _ratio(summary, method):
    if summary is None or method not in summary.index or "time_ratio" not in summary:
        return "-"
    row = summary.loc[method]
    if row["resample_seconds"] == 0 and row["n_synthetic"] == 0:
        return "-"  # no resampling call
    value = row["time_ratio"]
    return "-" if math.isnan(value) else (f"{value:.0f}" if value >= 10 else f"{value:.2f}")


def head_table(runs, head):
    """The Markdown table of one head (datasets as column groups)."""
    summaries = {name: merged_summary(runs, name, head) for name in DATASETS}
    present = {n: s for n, s in summaries.items() if s is not None}
    methods = []
    for s in present.values():
        methods += [m for m in s.index if m not in methods]
    methods.sort(key=is_ours)  # baselines first, order kept otherwise
    header, align = ["method"], ["---"]
    for name, s in present.items():
        label, keys, _ = DATASETS[name]
        header += [f"{label} {LABELS[k]}" for k in keys] + [f"{label} time / "
                                                            f"{s.attrs['reference']}"]
        align += ["---:"] * (len(keys) + 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    bests = {n: best_baselines(s, list(DATASETS[n][1])) for n, s in present.items()}
    for method in methods:
        cells = [f"`{method}`" if is_ours(method) else method]
        for name, s in present.items():
            cells += [_cell(s, method, k, bests[name]) for k in DATASETS[name][1]]
            cells.append(_ratio(s, method))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_plots(runs, heads, folder):
    """One figure per (dataset, head) of the merged summaries; the paths written."""
    from skltsynth.benchmark.plots import plot_results

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (label, _, _) in DATASETS.items():
        for head in heads:
            summary = merged_summary(runs, name, head)
            if summary is not None:
                written.append(plot_results(summary, folder / f"{name}_{head}.png",
                                            title=f"{label}, head {head}"))
    return written


def main(*args):
    args = list(args)
    plots = None
    if "--plots" in args:
        i = args.index("--plots")
        plots = args[i + 1]
        del args[i:i + 2]
    paths = args or ("docs/benchmark/results.json",)
    runs = load_runs(paths)
    heads = list(dict.fromkeys(r["head"] for rows, _ in runs for r in rows))
    if plots is not None:
        write_plots(runs, heads, plots)
    for head in heads:
        print(f"Head `{head}` (bold: the best baseline of the column):\n")
        print(head_table(runs, head))
        print()
    for _, payload in runs:
        print(f"Command: `{payload.get('command')}`; device: {payload.get('device')}; "
              f"wall time {payload.get('wall_seconds', 0) / 60:.0f} min.")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
