"""VMFKDEResampler against the usual baselines on long-tailed CLINC150.

Protocol (``shared/datasets/README.md``): L2-normalised MiniLM embeddings,
long-tailed training split (n_max=100, IR=20, seeds 0 1 2), balanced test.
Every method feeds ``LogisticRegression(C=10, max_iter=2000)``; reported:
accuracy overall and per shot group (many >= 50, medium 15-49, few < 15
training rows), resample wall time (minimum over ``--repeats`` calls), the
ratio of that time to SMOTE's, and the peak extra resident memory during the
first resampling call (RSS polled every millisecond above the level just
before the call; freed pages reused from earlier calls make it a lower bound).

Two modes::

    # choose a VMF-KDE setting on the *validation* split (seed 0)
    python benchmarks/bench_vmf_kde.py --select --seeds 0
    # the table on the test split, with the defaults and the chosen setting
    python benchmarks/bench_vmf_kde.py --seeds 0 1 2 --tuned bandwidth=1.0,kappa=moment \\
        --out benchmarks/results/vmf_kde_clinc150.md

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
from sklearn.linear_model import LogisticRegression  # noqa: E402

from skltsynth.datasets import load_clinc150_lt  # noqa: E402
from skltsynth.metrics import shot_group_report  # noqa: E402
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
    out = {}
    for part in filter(None, text.split(",")):
        key, value = part.split("=")
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


def _label(params):
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
        name = "VMFKDE (defaults)" if not params else _label(params)
        out.append((name, VMFKDEResampler(random_state=seed, **params), {}))
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
    clf = LogisticRegression(C=10, max_iter=2000, **lr_kwargs).fit(X_res, y_res)
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
    smote = np.mean([r["time_s"] for r in rows if r["method"] == "SMOTE(k=4)"] or [np.nan])
    lines = [
        f"CLINC150-LT (n_max=100, IR=20), {split} split, LogisticRegression(C=10, max_iter=2000); "
        f"mean (std) over seeds {', '.join(map(str, seeds))}.",
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--select", action="store_true",
                        help="grid over bandwidth x kappa on the validation split")
    parser.add_argument("--bandwidths", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--kappas", nargs="+", default=["moment", "banerjee"])
    parser.add_argument("--tuned", action="append", default=[],
                        help="extra VMF-KDE setting, e.g. bandwidth=2,kappa=moment")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3,
                        help="resample time = minimum over this many calls")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="write the Markdown table")
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
                settings = [{"bandwidth": b, "kappa": k} for k in args.kappas for b in args.bandwidths]
                todo = [(_label(p), VMFKDEResampler(random_state=seed, **p), {}) for p in settings]
            else:
                X_eval, y_eval, split = data.X_test, data.y_test, "test"
                todo = methods(seed, [{}] + [_parse_setting(t) for t in args.tuned])
            print(f"seed {seed}: {len(y)} training rows, {split} split", flush=True)
            for name, sampler, lr_kwargs in todo:
                row = run_one(name, sampler, lr_kwargs, X, y, X_eval, y_eval, args.repeats)
                row["seed"] = seed
                rows.append(row)
    text = table(rows, args.seeds, split)
    print()
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        cmd = "python benchmarks/bench_vmf_kde.py " + " ".join(argv if argv is not None else sys.argv[1:])
        args.out.write_text(f"# VMFKDEResampler on CLINC150-LT\n\n{text}\n\nCommand: `{cmd}`\n")
    return rows


if __name__ == "__main__":
    main()
