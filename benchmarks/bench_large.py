"""Large-input benchmark: peak memory and time of every resampler (not a test).

Resamples a synthetic long-tailed set of float32 embeddings (default 200,000 x
768, 1,000 classes) to a balanced set and checks that peak memory stays below
``BOUND`` x the size of the output array.  Each method runs in its own
subprocess (clean RSS), on CPU, with its default settings changed only through
documented knobs (``train_steps``, ``sampling_steps``, ``batch_size``,
``max_retries``).  The diffusion resamplers run at full size with a short
training and two DDIM steps (the denoising chain's length changes the time,
not the memory: each chunk of rows is denoised in place); ``--fraction``
keeps a share of the classes instead (same d, same per-class profile).

Also checks that MemoryDDPMResampler's memory bank keeps per-class memory
bounded whatever the stream length (``partial_fit`` over many batches).

Usage::

    python benchmarks/bench_large.py                       # everything, writes the table
    python benchmarks/bench_large.py --methods vmf smote   # a subset
    python benchmarks/bench_large.py --one vmf --fraction 1.0   # one run, JSON on stdout

Writes ``benchmarks/results/large_inputs.md``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BOUND = 2.5
COMMAND = (
    "BENCH_THREADS=2 python benchmarks/bench_large.py --methods vmf smote --no-bank; "
    "python benchmarks/bench_large.py --one latent_diffusion --save; "
    "python benchmarks/bench_large.py --one memory_ddpm --save; "
    "python benchmarks/bench_large.py --one bank --save; python benchmarks/bench_large.py --report"
)
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "large_inputs.md"
CACHE = HERE / "results" / "large_inputs.json"  # small: one row of numbers per method

# method -> (module, class, documented knob overrides, default fraction of classes)
METHODS = {
    "vmf": ("skltsynth.resamplers.vmf_kde", "VMFKDEResampler", {}, 1.0),
    "latent_diffusion": (
        "skltsynth.resamplers.latent_diffusion",
        "LatentDiffusionResampler",
        {"train_steps": 100, "sampling_steps": 2, "batch_size": 256, "max_retries": 0},
        1.0,
    ),
    "memory_ddpm": (
        "skltsynth.resamplers.memory_ddpm",
        "MemoryDDPMResampler",
        {"train_steps": 100, "sampling_steps": 2, "batch_size": 256},
        1.0,
    ),
    "smote": ("imblearn.over_sampling", "SMOTE", {}, 1.0),
}


def long_tailed_data(n_classes=1000, n_max=None, n_rows=200_000, d=768, seed=0, fraction=1.0):
    """Long-tailed float32 embeddings: exponential class profile, ~n_rows rows.

    The imbalance ratio is chosen so the profile sums to about ``n_rows``;
    ``fraction`` keeps that share of the classes, evenly spread over the ranks
    (so head, body and tail keep their proportions).  Rows are clustered unit
    vectors (a class mean plus noise, L2-normalised), like encoder embeddings.
    """
    from skltsynth.datasets import long_tailed_counts

    if n_max is None:  # head of 5x the mean class size (1,000 at full size)
        n_max = int(min(1000, max(10, 5 * n_rows // n_classes)))
    lo, hi = 1.0, 1e4
    for _ in range(60):  # bisection on the imbalance ratio
        mid = np.sqrt(lo * hi)
        if long_tailed_counts(n_classes, n_max, mid).sum() > n_rows:
            lo = mid
        else:
            hi = mid
    ratio = float(np.sqrt(lo * hi))
    counts = long_tailed_counts(n_classes, n_max, ratio)
    keep = np.unique(np.linspace(0, n_classes - 1, max(2, round(fraction * n_classes))).round())
    counts = counts[keep.astype(int)]
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((len(counts), d)).astype(np.float32)
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.empty((len(y), d), dtype=np.float32)
    for start in range(0, len(y), 20_000):  # bounded temporaries
        sl = slice(start, min(len(y), start + 20_000))
        block = means[y[sl]] + 0.7 * rng.standard_normal((sl.stop - sl.start, d), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        X[sl] = block
    return X, y, ratio


def _measure(fn):
    try:
        from skltsynth.tooling._profiling import measure_call
    except ImportError:  # fall back to a plain RSS high-water mark
        measure_call = None
    if measure_call is not None:
        m = measure_call(fn, use_tracemalloc=False)
        return m.result, m.seconds, m.peak_bytes
    import resource

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t0
    return out, secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base


def run_one(method, fraction, d, n_rows, n_classes):
    """Resample in this process; return a dict of numbers."""
    import torch

    # BENCH_THREADS (default 1): on a shared, oversubscribed machine OpenMP with
    # several threads can stall for minutes; one thread keeps numbers comparable.
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    module, name, knobs, _ = METHODS[method]
    cls = getattr(importlib.import_module(module), name)
    X, y, ratio = long_tailed_data(n_classes=n_classes, n_rows=n_rows, d=d, fraction=fraction)
    if method == "smote":
        est = cls(random_state=0)
    else:
        est = cls(random_state=0, device="cpu", **knobs)
    (X_res, y_res), secs, peak = _measure(lambda: est.fit_resample(X, y))
    out_bytes = X_res.nbytes
    counts = np.bincount(np.asarray(y_res))
    return {
        "method": name,
        "knobs": knobs,
        "fraction": fraction,
        "n_in": int(len(X)),
        "n_out": int(len(X_res)),
        "n_classes": int(len(counts)),
        "imbalance_ratio": round(ratio, 1),
        "balanced": bool(counts.min() == counts.max()),
        "out_dtype": str(X_res.dtype),
        "finite": bool(np.isfinite(X_res).all()),
        "seconds": secs,
        "peak_bytes": int(peak),
        "output_bytes": int(out_bytes),
        "peak_over_output": peak / out_bytes,
    }


def memory_bank_check(d=64, n_classes=20, batch=5000, n_batches=(10, 100), memory_size=64):
    """Stream ever longer streams through MemoryDDPMResampler.partial_fit.

    Returns rows held per class and the RSS growth for each stream length.
    """
    from skltsynth.tooling._profiling import measure_call
    from skltsynth.resamplers.memory_ddpm import MemoryDDPMResampler

    rng = np.random.default_rng(0)
    out = []
    for kind in ("reservoir", "ema"):
        for n in n_batches:
            est = MemoryDDPMResampler(memory=kind, memory_size=memory_size, random_state=0)

            def stream():
                for _ in range(n):
                    yb = rng.integers(0, n_classes, size=batch)
                    Xb = rng.standard_normal((batch, d)).astype(np.float32)
                    est.partial_fit(Xb, yb)
                return est

            m = measure_call(stream, use_tracemalloc=True)
            Xm, keys = est.stream_memory_.rows()
            per_class = np.bincount(keys.astype(int))
            out.append({
                "memory": kind, "stream_rows": n * batch, "max_rows_per_class": int(per_class.max()),
                "bank_bytes": int(Xm.nbytes), "peak_bytes": int(m.peak_bytes),
                "seconds": m.seconds,
            })
    return out


def _fmt_bytes(b):
    return f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.0f} MiB"


def write_report(rows, bank, command):
    lines = [
        "# Large inputs: peak memory and time",
        "",
        f"Command: `{command}`",
        "",
        "Machine: 2 CPU cores, 24 GiB RAM, CPU torch; each method in its own subprocess.",
        "Data: synthetic long-tailed unit-norm float32 embeddings, d = 768, 1,000 classes,",
        "exponential profile with head = 1,000 rows (imbalance ratio chosen so the input has",
        "~200,000 rows); balanced output = 1,000,000 x 768 float32 = 2.86 GiB.",
        f"Bound: peak memory above the start <= {BOUND} x output array size.",
        "Peak = RSS high-water mark above the start of `fit_resample` "
        "(`skltsynth.tooling._profiling.measure_call`, tracemalloc off).",
        "",
        "| method | knobs | fraction of classes | rows in | rows out | seconds | "
        "seconds extrapolated to full size | peak | output | peak / output | within bound |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    full_out = None
    for r in rows:
        if "error" not in r and r["fraction"] == 1.0:
            full_out = r["n_out"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['method']} | {r.get('knobs', '')} | {r.get('fraction', '')} | "
                         f"- | - | - | - | - | - | - | **failed**: {r['error']} |")
            continue
        extra = (r["seconds"] * (full_out or 1_000_000) / r["n_out"]) if r["fraction"] < 1 else r["seconds"]
        ok = r["peak_over_output"] <= BOUND
        lines.append(
            f"| {r['method']} | {r['knobs'] or 'defaults'} | {r['fraction']} | {r['n_in']:,} | "
            f"{r['n_out']:,} | {r['seconds']:.1f} | {extra:.0f} | {_fmt_bytes(r['peak_bytes'])} | "
            f"{_fmt_bytes(r['output_bytes'])} | {r['peak_over_output']:.2f} | "
            f"{'yes' if ok else '**NO**'} |"
        )
    if bank:
        lines += [
            "",
            "## MemoryDDPMResampler: memory bank over longer streams",
            "",
            "`partial_fit` in batches of 5,000 rows (d = 64, 20 classes, memory_size = 64).",
            "",
            "| memory | stream rows | max rows held per class | bank size | peak during stream |",
            "|---|---|---|---|---|",
        ]
        for b in bank:
            if "error" in b:
                lines.append(f"| {b.get('memory', '')} | - | - | - | failed: {b['error']} |")
                continue
            lines.append(
                f"| {b['memory']} | {b['stream_rows']:,} | {b['max_rows_per_class']} | "
                f"{_fmt_bytes(b['bank_bytes'])} | {_fmt_bytes(b['peak_bytes'])} |"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def _load():
    return json.loads(CACHE.read_text()) if CACHE.exists() else {}


def _save(key, value):
    """Keep every method's latest numbers, so methods can be (re)run separately."""
    cache = _load()
    cache[key] = value
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(json.dumps(cache, indent=1) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="*", default=list(METHODS))
    p.add_argument("--one", choices=list(METHODS) + ["bank"], help="run one method here, print JSON")
    p.add_argument("--fraction", type=float, default=None, help="share of classes to keep")
    p.add_argument("--d", type=int, default=768)
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--no-bank", action="store_true")
    p.add_argument("--save", action="store_true", help="with --one: keep the numbers in the cache")
    p.add_argument("--report", action="store_true", help="only rewrite the table from the cache")
    p.add_argument("--timeout", type=int, default=1800, help="seconds per method")
    args = p.parse_args(argv)
    if args.report:
        cache = _load()
        rows = [cache[k] for m in METHODS for k in sorted(cache) if k.split("@")[0] == m]
        print(write_report(rows, cache.get("bank", []), COMMAND))
        return 0
    if args.one == "bank":
        out = memory_bank_check()
        print(json.dumps(out))
        if args.save:
            _save("bank", out)
        return 0
    if args.one:
        frac = METHODS[args.one][3] if args.fraction is None else args.fraction
        out = run_one(args.one, frac, args.d, args.rows, args.classes)
        print(json.dumps(out))
        if args.save:  # a non-default fraction is kept beside the default one
            key = args.one if args.fraction is None else f"{args.one}@{frac}"
            _save(key, out)
        return 0
    rows = []
    for method in args.methods:
        frac = METHODS[method][3] if args.fraction is None else args.fraction
        cmd = [sys.executable, __file__, "--one", method, "--fraction", str(frac),
               "--d", str(args.d), "--rows", str(args.rows), "--classes", str(args.classes)]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            if res.returncode != 0:
                err = (res.stderr.strip().splitlines() or ["exit %d" % res.returncode])[-1]
                rows.append({"method": METHODS[method][1], "fraction": frac, "error": err[:200]})
            else:
                rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        except subprocess.TimeoutExpired:
            rows.append({"method": METHODS[method][1], "fraction": frac,
                         "error": f"timed out after {args.timeout} s"})
        print(json.dumps(rows[-1]), flush=True)
        _save(method, rows[-1])
    bank = []
    if not args.no_bank:
        res = subprocess.run([sys.executable, __file__, "--one", "bank"], capture_output=True,
                             text=True, timeout=args.timeout)
        if res.returncode == 0:
            bank = json.loads(res.stdout.strip().splitlines()[-1])
        else:
            bank = [{"error": (res.stderr.strip().splitlines() or ["?"])[-1][:200]}]
        print(json.dumps(bank), flush=True)
        _save("bank", bank)
    cache = _load()
    rows = [cache[m] for m in METHODS if m in cache]
    bank = cache.get("bank", [])
    print(write_report(rows, bank, COMMAND))
    return 0


if __name__ == "__main__":
    sys.exit(main())
