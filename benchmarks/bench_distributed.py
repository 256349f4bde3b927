"""Distributed benchmark: DaskResampler(VMFKDEResampler) on data larger than a worker (not a test).

Generates ``--rows`` x ``--dim`` float32 long-tailed embeddings (default
2,000,000 x 384 = 3.07 GB, 500 classes with Zipf(1) counts) lazily *on the
workers* (every chunk from its own seed; the driver never holds ``X``), on
a LocalCluster whose memory limit per worker is below the data size.  Every
class with fewer than ``--target`` rows is over-sampled up to it.  The
output (originals, then synthetic rows) is consumed on the workers by a sum
per column and a count per class, so it is generated in full but never
gathered.  Reports rows/s and the peak RSS of every worker process, for 2
workers and for 1.

Usage::

    python benchmarks/bench_distributed.py                    # both runs, writes the results
    python benchmarks/bench_distributed.py --rows 200000      # a smaller size

Writes ``docs/benchmark/distributed/results.md`` and ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "benchmark" / "distributed"


def chunk_counts(rows, chunk, n_classes):
    """Rows of every class in one chunk: Zipf(1) shares, the same in every chunk."""
    from skltsynth.policy.targets import largest_remainder

    return largest_remainder(1.0 / np.arange(1, n_classes + 1), chunk)


def make_chunk(i, chunk, dim, n_classes, seed):
    """Chunk ``i``: labels (shuffled) and unit rows near their class centre."""
    rng = np.random.default_rng([seed, i])
    y = np.repeat(np.arange(n_classes), chunk_counts(None, chunk, n_classes))
    rng.shuffle(y)
    centres = np.random.default_rng([seed, 10**6]).standard_normal((n_classes, dim),
                                                                     dtype=np.float32)
    X = centres[y] + rng.standard_normal((chunk, dim), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, y


def make_labels(i, chunk, n_classes, seed):
    return make_chunk(i, chunk, 1, n_classes, seed)[1]


def lazy_data(rows, chunk, dim, n_classes, seed):
    import dask
    import dask.array as da

    n_chunks = rows // chunk
    Xs, ys = [], []
    for i in range(n_chunks):
        Xs.append(da.from_delayed(dask.delayed(lambda j: make_chunk(j, chunk, dim, n_classes,
                                                                    seed)[0])(i),
                                  (chunk, dim), np.float32))
        ys.append(da.from_delayed(dask.delayed(make_labels)(i, chunk, n_classes, seed),
                                  (chunk,), np.int64))
    return da.concatenate(Xs), da.concatenate(ys)


def _peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def run(n_workers, args):
    import dask
    import distributed

    from skltsynth import VMFKDEResampler
    from skltsynth.distributed import DaskResampler

    limit = int(args.worker_gb * 2**30)
    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                       memory_limit=limit, dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        client.run(lambda: __import__("skltsynth.resamplers.vmf_kde"))  # imports, not timed
        base_rss = client.run(_peak_rss)
        per_chunk = chunk_counts(None, args.chunk, args.classes)
        counts = per_chunk * (args.rows // args.chunk)
        strategy = {int(c): int(args.target) for c in np.flatnonzero(counts < args.target)}
        X, y = lazy_data(args.rows, args.chunk, args.dim, args.classes, args.seed)
        start = time.perf_counter()
        dr = DaskResampler(VMFKDEResampler(random_state=0, sampling_strategy=strategy,
                                           device="cpu"))
        X_res, y_res = dr.fit_resample(X, y)
        planned = time.perf_counter() - start
        col_sum, class_counts = dask.compute(X_res.sum(axis=0, dtype=np.float64),
                                             da_bincount(y_res, args.classes))
        wall = time.perf_counter() - start
        peak = client.run(_peak_rss)
        expect = counts.copy()
        for c, k in strategy.items():
            expect[c] = k
        assert np.array_equal(class_counts, expect), "class counts differ from the plan"
        assert np.all(np.isfinite(col_sum))
        n_out = int(args.rows + dr.n_synthetic_)
        return {
            "workers": n_workers,
            "rows_in": int(args.rows),
            "rows_synthetic": int(dr.n_synthetic_),
            "rows_out": n_out,
            "dim": args.dim,
            "data_gb": args.rows * args.dim * 4 / 1e9,
            "worker_limit_gb": limit / 1e9,
            "plan_s": round(planned, 2),
            "wall_s": round(wall, 2),
            "rows_out_per_s": round(n_out / wall, 1),
            "synthetic_per_s": round(dr.n_synthetic_ / wall, 1),
            "peak_rss_gb": sorted(round(v / 1e9, 3) for v in peak.values()),
            "rss_after_import_gb": sorted(round(v / 1e9, 3) for v in base_rss.values()),
        }
    finally:
        client.close()
        cluster.close()


def da_bincount(y, n_classes):
    import dask.array as da

    return da.bincount(y, minlength=n_classes)


def report(results, args):
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"command": "python benchmarks/bench_distributed.py " + " ".join(args.argv),
            "machine": f"{platform.machine()}, shared 2-core host", "results": results}
    (OUT / "results.json").write_text(json.dumps(meta, indent=2) + "\n")
    r0 = results[0]
    lines = [
        "# DaskResampler: VMF-KDE on data larger than a worker's memory",
        "",
        f"{r0['rows_in']:,} x {r0['dim']} float32 long-tailed rows ({r0['data_gb']:.2f} GB, "
        f"{args.classes} classes, Zipf(1) counts) generated on the workers; every class under "
        f"{args.target:,} rows over-sampled to it ({r0['rows_synthetic']:,} synthetic rows). "
        f"LocalCluster, one thread per worker, memory limit {r0['worker_limit_gb']:.2f} GB per "
        "worker. The output is reduced on the workers (column sums, class counts), never "
        "gathered; the class counts are checked against the plan.",
        "",
        "| workers | wall (s) | output rows/s | synthetic rows/s | peak RSS per worker (GB) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(f"| {r['workers']} | {r['wall_s']} | {r['rows_out_per_s']:,.0f} | "
                     f"{r['synthetic_per_s']:,.0f} | {', '.join(map(str, r['peak_rss_gb']))} |")
    if len(results) == 2:
        lines += ["", f"Speed-up of 2 workers over 1: "
                      f"{results[1]['wall_s'] / results[0]['wall_s']:.2f}x (same host, same run)."]
    lines += ["", f"Reproduce: `{meta['command']}`. Wall times on a shared 2-core host are "
              "noisy; compare the two rows of one run.", ""]
    (OUT / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))


def main(argv=None):
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--classes", type=int, default=500)
    parser.add_argument("--target", type=int, default=5000)
    parser.add_argument("--worker-gb", type=float, default=1.5)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    results = []
    for w in args.workers:
        results.append(run(w, args))
        print(json.dumps(results[-1]), flush=True)
    if not args.no_save:
        report(results, args)


if __name__ == "__main__":
    main()
