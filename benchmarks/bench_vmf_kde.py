"""VMFKDEResampler against the usual baselines on long-tailed CLINC150.

Protocol (``shared/datasets/README.md``): L2-normalised MiniLM embeddings,
long-tailed training split (n_max=100, IR=20, seeds 0 1 2), balanced test.
Every method feeds the default head (:func:`skltsynth._defaults.default_head`); reported:
accuracy overall and per shot group (many >= 50, medium 15-49, few < 15
training rows), resample wall time (minimum over ``--repeats`` calls), the
ratio of that time to SMOTE's, and the peak extra resident memory during the
first resampling call (RSS polled every millisecond above the level just
before the call; freed pages reused from earlier calls make it a lower bound).

Two modes::

    # choose a VMF-KDE setting on the *validation* split
    python benchmarks/bench_vmf_kde.py --select --seeds 0 1 2 --sampler-seeds 3 \\
        --settings '' kappa_min=None n_neighbors=2 --repeats 1
    # the table on the test split, with the defaults and the chosen setting
    python benchmarks/bench_vmf_kde.py --seeds 0 1 2 --tuned kappa_min=None \\
        --out benchmarks/results/vmf_kde_clinc150.md

``--settings``/``--tuned`` take ``name=value`` pairs separated by commas
(``None``, ints, floats or strings); ``''`` is the defaults.

All work runs on one thread (``--threads``) so timings compare like with like
on a shared machine.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import threading
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imblearn.over_sampling import SMOTE, RandomOverSampler  # noqa: E402
from skltsynth._defaults import default_head, default_head_text  # noqa: E402

from skltsynth.datasets import load_clinc150_lt  # noqa: E402
from skltsynth.tooling.metrics import shot_group_report  # noqa: E402
from skltsynth.resamplers.vmf_kde import VMFKDEResampler  # noqa: E402

GROUPS = ("many", "medium", "few")


def _rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


class PeakRSS:
    """Context manager: peak resident memory above the starting level (bytes)."""

    def __enter__(self):
        self.base = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(0.001)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())
        self.extra = self.peak - self.base
        return False


def _parse_setting(text):
    """``"bandwidth=0.5,n_neighbors=3"`` -> dict (``None``, ints, floats, then strings)."""
    out = {}
    for part in filter(None, text.split(",")):
        key, value = part.split("=")
        if value == "None":
            out[key] = None
            continue
        for cast in (int, float, str):
            try:
                out[key] = cast(value)
                break
            except ValueError:
                continue
    return out


def _label(params):
    if not params:
        return "VMFKDE (defaults)"
    return "VMFKDE(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"


def methods(seed, vmf_settings):
    """(name, resampler or None, LogisticRegression kwargs)."""
    out = [
        ("none", None, {}),
        ('class_weight="balanced"', None, {"class_weight": "balanced"}),
        ("RandomOverSampler", RandomOverSampler(random_state=seed), {}),
        ("SMOTE(k=4)", SMOTE(k_neighbors=4, random_state=seed), {}),
    ]
    for params in vmf_settings:
        out.append((_label(params), VMFKDEResampler(random_state=seed, **params), {}))
    return out


def run_one(name, sampler, lr_kwargs, X, y, X_eval, y_eval, repeats=1):
    if sampler is None:
        X_res, y_res, seconds, extra = X, y, 0.0, 0
    else:
        with PeakRSS() as mem:
            start = time.perf_counter()
            X_res, y_res = sampler.fit_resample(X, y)
            seconds = time.perf_counter() - start
        extra = mem.extra
        for _ in range(repeats - 1):  # timing only: the minimum over repeats
            start = time.perf_counter()
            sampler.fit_resample(X, y)
            seconds = min(seconds, time.perf_counter() - start)
    clf = default_head().set_params(**lr_kwargs).fit(X_res, y_res)
    report = shot_group_report(y_eval, clf.predict(X_eval), y)
    row = {"method": name, "time_s": seconds, "mem_mib": extra / 2**20, "n_rows": len(y_res)}
    row["accuracy"] = report["accuracy"]
    for g in GROUPS:
        row[g] = report[f"{g}_accuracy"]
    print(
        f"  {name:42s} acc {row['accuracy']:.4f} many {row['many']:.4f} "
        f"medium {row['medium']:.4f} few {row['few']:.4f}  "
        f"resample {seconds:6.2f}s  +{row['mem_mib']:.0f} MiB",
        flush=True,
    )
    return row


def table(rows, seeds, split):
    names = list(dict.fromkeys(r["method"] for r in rows))
    per_seed = len(rows) // max(len(names) * len(seeds), 1)
    runs = f" x {per_seed} sampler seeds" if per_seed > 1 else ""
    smote = np.mean([r["time_s"] for r in rows if r["method"] == "SMOTE(k=4)"] or [np.nan])
    lines = [
        f"CLINC150-LT (n_max=100, IR=20), {split} split, {default_head_text()}; "
        f"mean (std) over seeds {', '.join(map(str, seeds))}{runs}.",
        "",
        "| method | accuracy | many | medium | few | resample s | time / SMOTE | peak extra MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        sub = [r for r in rows if r["method"] == name]

        def cell(key, digits=3):
            vals = np.array([r[key] for r in sub], dtype=float)
            if vals.size > 1:
                return f"{vals.mean():.{digits}f} ({vals.std():.{digits}f})"
            return f"{vals.mean():.{digits}f}"

        t = np.mean([r["time_s"] for r in sub])
        ratio = "-" if t == 0 or not np.isfinite(smote) else f"{t / smote:.2f}"
        lines.append(
            f"| {name} | {cell('accuracy')} | {cell('many')} | {cell('medium')} | {cell('few')} "
            f"| {cell('time_s', 2)} | {ratio} | {np.mean([r['mem_mib'] for r in sub]):.0f} |"
        )
    return "\n".join(lines)


def differences(rows, seeds, reference):
    """Per-seed accuracy and few-shot differences (points) of every method against ``reference``.

    Runs are paired by (data seed, sampler seed); a data seed's cell is the
    mean over its sampler seeds.
    """
    def key(r):
        return r["seed"], r.get("sampler_seed", r["seed"])

    ref = {key(r): r for r in rows if r["method"] == reference}
    if not ref:
        return ""
    names = [n for n in dict.fromkeys(r["method"] for r in rows) if n != reference]
    head = " | ".join(f"seed {s}" for s in seeds)
    n_runs = len({key(r) for r in rows}) // max(len(seeds), 1)
    note = f" (each the mean of {n_runs} sampler seeds)" if n_runs > 1 else ""
    lines = [
        f"Differences to {reference} in points (per data seed{note}, then mean):",
        "",
        f"| method | accuracy: {head} | mean | few: {head} | mean |",
        "|---|" + "---|" * (2 * len(seeds) + 2),
    ]
    for name in names:
        sub = {key(r): r for r in rows if r["method"] == name}
        cells = []
        for metric in ("accuracy", "few"):
            d = [np.mean([100 * (sub[k][metric] - ref[k][metric])
                          for k in sub if k[0] == s and k in ref]) for s in seeds]
            cells += [f"{v:+.2f}" for v in d] + [f"**{np.mean(d):+.2f}**"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--select", action="store_true",
                        help="grid over bandwidth x kappa on the validation split")
    parser.add_argument("--bandwidths", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--kappas", nargs="+", default=["moment", "banerjee"])
    parser.add_argument("--settings", nargs="+", default=None,
                        help="with --select: these VMF-KDE settings instead of the\n"
                             "bandwidth x kappa grid, e.g.\n"
                             "'' n_neighbors=2 'n_neighbors=3,bandwidth=0.5'\n"
                             "('' = the defaults)")
    parser.add_argument("--tuned", action="append", default=[],
                        help="extra VMF-KDE setting, e.g. bandwidth=2,kappa=moment")
    parser.add_argument("--sampler-seeds", type=int, default=1,
                        help="with --select: random states per data seed for the\n"
                             "VMF-KDE draws (seed + 1000 j, j < N): averages out the\n"
                             "sampling noise when comparing settings")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3,
                        help="resample time = minimum over this many calls")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="write the Markdown table")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="write every row as JSON")
    args = parser.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    rows = []
    with threadpool_limits(args.threads):
        for seed in args.seeds:
            data = load_clinc150_lt(random_state=seed)
            X, y = data.X_train, data.y_train
            if args.select:
                X_eval, y_eval, split = data.X_val, data.y_val, "validation"
                if args.settings is not None:
                    settings = [_parse_setting(t) for t in args.settings]
                else:
                    settings = [{"bandwidth": b, "kappa": k}
                                for k in args.kappas for b in args.bandwidths]
                todo = [(_label(p), VMFKDEResampler(random_state=seed + 1000 * j, **p), {}, j)
                        for j in range(args.sampler_seeds) for p in settings]
            else:
                X_eval, y_eval, split = data.X_test, data.y_test, "test"
                vmf = [{}] + [_parse_setting(t) for t in args.tuned]
                todo = [(*m, 0) for m in methods(seed, vmf)]
            print(f"seed {seed}: {len(y)} training rows, {split} split", flush=True)
            for name, sampler, lr_kwargs, j in todo:
                row = run_one(name, sampler, lr_kwargs, X, y, X_eval, y_eval, args.repeats)
                row["seed"] = seed
                row["sampler_seed"] = seed + 1000 * j
                rows.append(row)
    text = table(rows, args.seeds, split)
    # select: against the first setting listed; test split: against SMOTE
    reference = rows[0]["method"] if args.select else "SMOTE(k=4)"
    diff = differences(rows, args.seeds, reference)
    if diff:
        text += "\n\n" + diff
    print()
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        import shlex

        cmd = "python benchmarks/bench_vmf_kde.py " + shlex.join(
            argv if argv is not None else sys.argv[1:]
        )
        args.out.write_text(f"# VMFKDEResampler on CLINC150-LT\n\n{text}\n\nCommand: `{cmd}`\n")
    if args.json is not None:
        import json

        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
