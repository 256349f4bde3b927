"""Print the README's benchmark summary table from ``docs/benchmark/results.json``.

Run from the project root after ``make -C docs benchmark``::

    python tools/benchmark_summary.py [docs/benchmark/results.json]

Rows: the reference baselines and skltsynth's resamplers at their defaults;
columns: CLINC150-LT accuracy overall and few-shot, STS-B-DIR MSE overall and
few-shot (mean ± std over seeds), and the resample time as a ratio to SMOTE's
(SMOTER's on STS-B-DIR) from the same run.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from skltsynth.benchmark import summarise  # noqa: E402

#: (label, CLINC150 method, STS-B method)
ROWS = [
    ("SMOTE (SMOTER on STS-B)", "smote", "smoter"),
    ("no resampling", "none", "none"),
    ("class weights (LDS weights on STS-B)", "class_weight", "lds"),
    ("`VMFKDEResampler`", "vmf_kde", "vmf_kde"),
    ("`LatentDiffusionResampler`", "latent_diffusion", "latent_diffusion"),
    ("`MemoryDDPMResampler` (+ confidence weights)", "memory_ddpm", "memory_ddpm"),
]


def _cell(summary, method, key, digits=3):
    if summary is None or method not in summary.index:
        return "-"
    value = summary.loc[method, key] if key in summary else math.nan
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    std = summary.loc[method].get(f"{key}_std")
    if std is not None and not math.isnan(std) and summary.loc[method, "n_seeds"] > 1:
        return f"{value:.{digits}f} ± {std:.{digits}f}"
    return f"{value:.{digits}f}"


def _ratio(summary, method):
    if summary is None or method not in summary.index or "time_ratio" not in summary:
        return "-"
    row = summary.loc[method]
    if row["resample_seconds"] == 0 and row["n_synthetic"] == 0:
        return "-"  # no resampling call
    value = row["time_ratio"]
    return "-" if math.isnan(value) else (f"{value:.0f}" if value >= 10 else f"{value:.2f}")


def main(path="docs/benchmark/results.json"):
    payload = json.loads(Path(path).read_text())
    rows = payload["results"]
    by_dataset = {}
    for name in ("clinc150", "stsb"):
        part = [r for r in rows if r["dataset"] == name]
        by_dataset[name] = summarise(part) if part else None
    clinc, stsb = by_dataset["clinc150"], by_dataset["stsb"]
    lines = [
        "| method | CLINC150-LT acc | CLINC150-LT few-shot acc | time / SMOTE | STS-B-DIR MSE "
        "| STS-B-DIR few-shot MSE | time / SMOTER |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, c_method, s_method in ROWS:
        lines.append(
            f"| {label} | {_cell(clinc, c_method, 'accuracy')} "
            f"| {_cell(clinc, c_method, 'few_accuracy')} | {_ratio(clinc, c_method)} "
            f"| {_cell(stsb, s_method, 'mse')} | {_cell(stsb, s_method, 'few_mse')} "
            f"| {_ratio(stsb, s_method)} |"
        )
    print("\n".join(lines))
    print()
    print(f"Command: `{payload.get('command')}`; device: {payload.get('device')}; "
          f"wall time {payload.get('wall_seconds', 0) / 60:.0f} min.")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
