"""Speed against the hardware's bounds: the vMF sampler and the diffusion engine (not a test).

``--part vmf``
    :func:`skltsynth.vmf.sample_vmf` on ``n`` rows (default 200,000) with
    concentrations log-uniform in [50, 2000], at d = 384, 768 and 1024,
    against its lower bound: ``torch.randn`` of the same (n, d) shape, dtype
    and device (one Gaussian direction per row is the irreducible work).  Each
    repeat times both, in alternating order, in the same process; the ratio
    is taken per repeat and the median over repeats is reported, in wall time
    and in process CPU time (on a shared machine the CPU-time ratio is the
    steadier one).
``--part diffusion``
    The diffusion engine through today's resamplers on two problems, each
    next to SMOTE on the same rows and next to its compute bound (see
    :func:`compute_bound`): 5,000 x 384 long-tailed classes (50 classes) and
    20,000 x 13 regression.

Threads: ``--threads`` (default 1) sets ``torch.set_num_threads`` for both
sides of every ratio (run with ``OMP_NUM_THREADS`` equal to it, as the
``COMMAND`` below does).  ``torch.randn`` on a CPU generator is single-threaded
whatever the setting, so with more threads only the sampler's other passes
speed up.  A GPU is used when present and reported as such (``device``
field); the committed results say which device they were measured on.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_speed.py --part vmf
    OMP_NUM_THREADS=2 python benchmarks/bench_speed.py --part all --threads 2 --save

``--save`` writes ``docs/benchmark/speed/<part>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "docs" / "benchmark" / "speed"
COMMAND = ("OMP_NUM_THREADS=1 python benchmarks/bench_speed.py --part vmf --save; "
           "OMP_NUM_THREADS=2 python benchmarks/bench_speed.py --part diffusion --threads 2 "
           "--save")


# ------------------------------------------------------------------- helpers
def _timed(fn):
    """``(result, wall seconds, process CPU seconds)`` of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _machine(threads, device):
    return {"device": str(device), "gpu": torch.cuda.get_device_name(0)
            if torch.cuda.is_available() else None,
            "threads": threads, "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "platform": platform.platform(), "load_average": os.getloadavg()}


# ----------------------------------------------------------------- vMF part
def bench_vmf(n, dims, repeats, device):
    """Rows/s of ``sample_vmf`` and of ``torch.randn`` of the same shape, per dimension."""
    from skltsynth.vmf import mean_resultant_length, sample_vmf

    rows = []
    for d in dims:
        rng = np.random.default_rng(d)
        mu = torch.from_numpy(rng.standard_normal((n, d)).astype(np.float32)).to(device)
        mu = torch.nn.functional.normalize(mu, dim=1)
        kappa = torch.from_numpy(np.exp(rng.uniform(np.log(50.0), np.log(2000.0), n)))
        gen = torch.Generator(device=device).manual_seed(0)
        sample_vmf(mu[:1000], kappa[:1000], generator=gen)  # warm-up
        walls, cpus, ratio_wall, ratio_cpu = {"vmf": [], "randn": []}, {"vmf": [], "randn": []}, \
            [], []
        for r in range(repeats):
            order = ("randn", "vmf") if r % 2 == 0 else ("vmf", "randn")
            for name in order:
                if name == "randn":
                    fn = lambda: torch.randn(n, d, generator=gen, device=device)  # noqa: E731
                else:
                    fn = lambda: sample_vmf(mu, kappa, generator=gen)  # noqa: E731
                x, wall, cpu = _timed(fn)
                walls[name].append(wall)
                cpus[name].append(cpu)
                if name == "vmf":
                    last = x
                del x
            ratio_wall.append(walls["vmf"][-1] / walls["randn"][-1])
            ratio_cpu.append(cpus["vmf"][-1] / cpus["randn"][-1])
        # accuracy of the last draw: E[mu . x] = A_d(kappa), averaged over rows
        cos = (last * mu).sum(1).double().cpu().numpy()
        expected = mean_resultant_length(kappa.numpy(), d)
        err = float(np.mean(cos - expected))
        se = float(np.std(cos - expected) / np.sqrt(n))
        row = {"d": d, "n": n,
               "vmf_rows_per_s": n / statistics.median(walls["vmf"]),
               "randn_rows_per_s": n / statistics.median(walls["randn"]),
               "ratio_wall": statistics.median(ratio_wall),
               "ratio_cpu": statistics.median(ratio_cpu),
               "ratio_wall_all": [round(v, 3) for v in ratio_wall],
               "mean_cos_minus_A_d": err, "standard_error": se}
        rows.append(row)
        print(f"vmf d={d}: sample_vmf {row['vmf_rows_per_s'] / 1e3:.0f}k rows/s, randn "
              f"{row['randn_rows_per_s'] / 1e3:.0f}k rows/s, ratio wall {row['ratio_wall']:.3f} "
              f"cpu {row['ratio_cpu']:.3f}; E[mu.x] - A_d = {err:.2e} (se {se:.1e})", flush=True)
        del mu, last
    return rows


def _vmf_markdown(result):
    lines = ["# vMF sampler against the Gaussian-draw bound", "",
             f"Device: {result['machine']['device']} (GPU: {result['machine']['gpu']}); "
             f"threads {result['machine']['threads']}; load average at start "
             f"{result['machine']['load_average'][0]:.1f} on {result['machine']['cpu_count']} "
             f"cores; {result['repeats']} repeats, medians.", "",
             "| d | n | sample_vmf rows/s | randn rows/s | ratio (wall) | ratio (CPU) | "
             "E[mu.x] - A_d (se) |", "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['d']} | {r['n']} | {r['vmf_rows_per_s']:,.0f} | "
                     f"{r['randn_rows_per_s']:,.0f} | {r['ratio_wall']:.3f} | "
                     f"{r['ratio_cpu']:.3f} | {r['mean_cos_minus_A_d']:.1e} "
                     f"({r['standard_error']:.0e}) |")
    lines += ["", f"Reproduce: `{result['command']}`", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("vmf", "diffusion", "all"), default="all")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=200_000, help="rows of the vMF benchmark")
    parser.add_argument("--dims", type=int, nargs="+", default=[384, 768, 1024])
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--save", action="store_true", help=f"write results under {RESULTS}")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    parts = ("vmf", "diffusion") if args.part == "all" else (args.part,)
    for part in parts:
        if part == "vmf":
            result = {"machine": _machine(args.threads, device), "repeats": args.repeats,
                      "command": COMMAND.split("; ")[0],
                      "rows": bench_vmf(args.n, args.dims, args.repeats, device)}
            markdown = _vmf_markdown(result)
        else:
            from bench_speed_diffusion import run_diffusion  # noqa: PLC0415

            result, markdown = run_diffusion(args, device, _machine(args.threads, device))
        print(markdown)
        if args.save:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / f"{part}.json").write_text(json.dumps(result, indent=1) + "\n")
            (RESULTS / f"{part}.md").write_text(markdown)


if __name__ == "__main__":
    main()
