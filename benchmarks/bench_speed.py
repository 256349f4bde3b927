"""Speed against the hardware's bounds: the vMF sampler and the diffusion engine (not a test).

``--part vmf``
    :func:`skltsynth.engines.vmf.sample_vmf` on ``n`` rows (default 200,000) with
    concentrations log-uniform in [50, 2000], at d = 384, 768 and 1024,
    against its lower bound: ``torch.randn`` of the same (n, d) shape, dtype
    and device (one Gaussian direction per row is the irreducible work).  Each
    repeat times both, in alternating order, in the same process; the ratio
    is taken per repeat and the median over repeats is reported, in wall time
    and in process CPU time (on a shared machine the CPU-time ratio is the
    steadier one).
``--part diffusion``
    The default ``fit_resample`` of LatentDiffusionResampler and
    MemoryDDPMResampler on 5,000 x 384 long-tailed classes (50 classes) and
    20,000 x 13 long-tailed regression, and the real randhie DIR training
    split (18,094 x 9, :func:`~skltsynth.datasets.load_randhie_dir`), each
    next to SMOTE / SMOTER (defaults, same process) on the same rows, split into engine fit, sampling and the rest, the fit and the
    sampling each next to its compute bound (FLOPs at the measured matmul
    throughput of the engine's precision).  Two settings: the engine forced
    to float32 (as before the precision setting, and as on hardware without
    native bfloat16) and the defaults (``precision="auto"``).
``--part quality``
    The same two settings side by side at the same seed, through both
    resamplers: LR and kNN accuracy (all and few-shot) on the CLINC150-LT
    validation split, Ridge and HGB MSE (all and few-shot) on the STS-B-DIR
    validation split (never test).

Threads: ``--threads`` (default 1) sets ``torch.set_num_threads`` for both
sides of every ratio (run with ``OMP_NUM_THREADS`` equal to it, as the
``COMMAND`` below does).  ``torch.randn`` on a CPU generator is single-threaded
whatever the setting; with two or more threads the sampler overlaps its other
passes (row statistics and the final combination of one block) with the
Gaussian draw of the next block on a worker thread, so on two cores its wall
time approaches the bound.  The committed vMF figures are on two threads
(``vmf.md``), next to one thread (``vmf_1thread.md``), where those passes
add to the draw.  The committed diffusion timings are single-threaded: on the
shared, oversubscribed 2-core machine two OpenMP threads mostly wait for each
other, while one thread's CPU seconds bound the wall time the same run takes
on one idle core (and so on two).  A GPU is used when present and reported as such (``device``
field); the committed results say which device they were measured on.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_speed.py --part vmf
    OMP_NUM_THREADS=2 python benchmarks/bench_speed.py --part all --threads 2 --save

``--save`` writes ``docs/benchmark/speed/<part>.json`` and ``.md``
(``diffusion_classes.*`` / ``diffusion_regression.*`` with ``--problems``).
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
COMMAND = ("OMP_NUM_THREADS=2 python benchmarks/bench_speed.py --part vmf --threads 2 --save; "
           "OMP_NUM_THREADS=1 python benchmarks/bench_speed.py --part diffusion --save; "
           "OMP_NUM_THREADS=1 python benchmarks/bench_speed.py --part quality --save")


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
    from skltsynth.engines.vmf import mean_resultant_length, sample_vmf

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


# ----------------------------------------------------------- diffusion part
def long_tailed_classes(n_rows=5000, d=384, n_classes=50, imbalance_ratio=20, seed=0):
    """Clustered unit rows (class mean + noise) with an exponential class profile."""
    from skltsynth.datasets import long_tailed_counts

    n_max = 10
    while sum(long_tailed_counts(n_classes, n_max + 1, imbalance_ratio)) <= n_rows:
        n_max += 1
    counts = long_tailed_counts(n_classes, n_max, imbalance_ratio)
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((n_classes, d))
    y = np.repeat(np.arange(n_classes), counts)
    X = means[y] + 1.5 * rng.standard_normal((y.size, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), y


def long_tailed_regression(n_rows=20000, d=13, seed=0):
    """Tabular rows whose target is skewed (few rows at high values)."""
    rng = np.random.default_rng(seed)
    y = rng.gamma(2.0, 1.0, n_rows)
    latent = rng.standard_normal((n_rows, d))
    latent[:, 0] = np.log1p(y) + 0.1 * latent[:, 0]
    latent[:, 1] = np.sqrt(y) * latent[:, 1]
    mix = rng.standard_normal((d, d)) / np.sqrt(d) + np.eye(d)
    return (latent @ mix).astype(np.float32), y


def randhie_regression():
    """The randhie DIR training split (real tabular rows, skewed count target; 18,094 x 9)."""
    from skltsynth.datasets import load_randhie_dir

    d = load_randhie_dir()
    return np.asarray(d.X_train, np.float64), np.asarray(d.y_train, np.float64)


def denoiser_flops(d, hidden, n_layers, time_embed_dim=128, time_per_row=True):
    """FLOPs (2 per multiply-add) of one row through ResidualMLPDenoiser's forward pass.

    ``time_per_row=False``: the sampler's case, one timestep for the whole
    chunk, whose time embedding is computed once (not per row).
    """
    time_mlp = time_embed_dim * hidden + hidden * hidden
    return 2 * (2 * d * hidden + (time_mlp if time_per_row else 0)
                + 2 * n_layers * hidden * hidden)


def matmul_flops_per_s(batch, hidden, device, precision="float32", repeats=20):
    """Measured throughput of a (batch x hidden) @ (hidden x hidden) product at ``precision``."""
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    a = torch.randn(batch, hidden, device=device, dtype=dtype)
    b = torch.randn(hidden, hidden, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    _, wall, _ = _timed(lambda: [a @ b for _ in range(repeats)])
    return 2.0 * batch * hidden * hidden * repeats / wall


class _EnginePhases:
    """Wall time of ``FeatureDiffusion.fit`` / ``.sample`` and the rows x steps sampled."""

    def __enter__(self):
        from skltsynth.engines.diffusion import FeatureDiffusion

        self.cls, self.fit_s, self.sample_s, self.row_steps = FeatureDiffusion, 0.0, 0.0, 0
        self._fit, self._sample = FeatureDiffusion.fit, FeatureDiffusion.sample
        phases = self

        def fit(engine, *args, **kwargs):
            out, wall, _ = _timed(lambda: phases._fit(engine, *args, **kwargs))
            phases.fit_s += wall
            return out

        def sample(engine, cond=None, *args, **kwargs):
            out, wall, _ = _timed(lambda: phases._sample(engine, cond, *args, **kwargs))
            phases.sample_s += wall
            steps = engine.scheduler_.timesteps(
                kwargs.get("sampling_steps") or engine.config_.sampling_steps,
                kwargs.get("strength", 1.0))
            phases.row_steps += int(out.shape[0]) * len(steps)
            return out

        FeatureDiffusion.fit, FeatureDiffusion.sample = fit, sample
        return self

    def __exit__(self, *exc):
        self.cls.fit, self.cls.sample = self._fit, self._sample
        return False


#: Timing settings: (label, force float32 = the engine before the precision setting).
TIMING_SETTINGS = (("float32 (before)", True), ("defaults (after)", False))


def bench_diffusion(device, resamplers=("LatentDiff", "MemoryDDPM"), problems=None):
    """Default fit_resample of each diffusion resampler on the two problems, with phases."""
    from imblearn.over_sampling import SMOTE

    from skltsynth.resamplers._smoter import SMOTER

    makers = {"classes 5k x 384": long_tailed_classes,
              "regression 20k x 13": long_tailed_regression,
              "regression randhie 18k x 9 (real)": randhie_regression}
    rows = []
    for name, make in makers.items():
        if problems and not any(name.startswith(p) for p in problems):
            continue
        X, y = make()
        classes = name.startswith("classes")
        baseline = SMOTE(random_state=0) if classes else SMOTER(random_state=0)
        _, smote_wall, smote_cpu = _timed(lambda: baseline.fit_resample(X, y))
        for resampler in resamplers:
            for label, force_float32 in TIMING_SETTINGS:
                res = _resampler(resampler)(random_state=0, device=str(device))
                with float32_engine(force_float32), _EnginePhases() as phases:
                    (Xr, _), wall, cpu = _timed(lambda: res.fit_resample(X, y))
                eng, z = res.engine_, res.engine_size_
                d, h, L = X.shape[1], z["hidden_dim"], z["n_layers"]
                cfg = eng.config_
                n_val = len(eng.validation_losses_) * min(1024, int(cfg.validation_fraction
                                                                    * X.shape[0]))
                train_flops = (3 * denoiser_flops(d, h, L) * z["batch_size"] * eng.n_train_steps_
                               + denoiser_flops(d, h, L) * n_val)
                sample_flops = denoiser_flops(d, h, L, time_per_row=False) * phases.row_steps
                train_rate = matmul_flops_per_s(z["batch_size"], h, device, eng.precision_)
                sample_rate = matmul_flops_per_s(cfg.sample_batch_size, h, device,
                                                 eng.precision_)
                run = {"problem": name, "resampler": resampler, "setting": label,
                       "precision": eng.precision_, "sizes": z, "wall_s": wall, "cpu_s": cpu,
                       "fit_s": phases.fit_s, "sample_s": phases.sample_s,
                       "other_s": wall - phases.fit_s - phases.sample_s,
                       "n_new": int(Xr.shape[0] - X.shape[0]), "row_steps": phases.row_steps,
                       "train_steps_run": eng.n_train_steps_, "stopped_early": eng.stopped_early_,
                       "best_step": eng.best_step_, "smote_wall_s": smote_wall,
                       "smote_cpu_s": smote_cpu, "train_tflop": train_flops / 1e12,
                       "sample_tflop": sample_flops / 1e12,
                       "train_gflop_per_s": train_rate / 1e9,
                       "sample_gflop_per_s": sample_rate / 1e9,
                       "fit_bound_s": train_flops / train_rate,
                       "sample_bound_s": sample_flops / sample_rate}
                rows.append(run)
                print(f"{name} {resampler} [{label}, {eng.precision_}]: fit_resample "
                      f"{wall:.1f} s wall ({cpu:.1f} s CPU; fit {phases.fit_s:.1f} s, sample "
                      f"{phases.sample_s:.1f} s), {eng.n_train_steps_} steps, {run['n_new']} "
                      f"new rows; bounds fit {run['fit_bound_s']:.1f} s, sample "
                      f"{run['sample_bound_s']:.1f} s; SMOTE {smote_wall:.2f} s", flush=True)
    return rows


def _diffusion_markdown(result):
    m = result["machine"]
    lines = ["# Diffusion resamplers: default fit_resample against SMOTE and the compute bound",
             "", f"Device: {m['device']} (GPU: {m['gpu'] or 'none present in this run'}); "
             f"threads {m['threads']}; load average at start {m['load_average'][0]:.1f} on "
             f"{m['cpu_count']} cores (a shared machine: wall times are inflated by the load, "
             "compare ratios within the table).  Bound = FLOPs at the measured throughput of "
             "a (batch x h) @ (h x h) product at the engine's precision: training 3 x forward "
             "x batch x steps run (+ validation evaluations), sampling rows x DDIM steps "
             "(gate redraws included).  SMOTE = imblearn SMOTE (classes) / SMOTER "
             "(regression) on the same rows.", "",
             "| problem | resampler | setting | precision | h / L / batch | steps run (max) | "
             "new rows | fit_resample s | CPU s | fit s (bound) | sample s (bound) | other s | "
             "SMOTE s | x SMOTE |", "|---" * 14 + "|"]
    for r in result["rows"]:
        z = r["sizes"]
        lines.append(
            f"| {r['problem']} | {r['resampler']} | {r['setting']} | {r['precision']} | "
            f"{z['hidden_dim']} / {z['n_layers']} / {z['batch_size']} | "
            f"{r['train_steps_run']} ({z['train_steps']}) | {r['n_new']} | {r['wall_s']:.1f} | "
            f"{r['cpu_s']:.1f} | {r['fit_s']:.1f} ({r['fit_bound_s']:.1f}) | "
            f"{r['sample_s']:.1f} ({r['sample_bound_s']:.2f}) | {r['other_s']:.1f} | "
            f"{r['smote_wall_s']:.2f} | {r['wall_s'] / r['smote_wall_s']:.0f} |")
    lines += ["", f"Reproduce: `{result['command']}`", ""]
    return "\n".join(lines)


def _command(args, part):
    """The command that reproduces this run: the committed one, or this run's own."""
    command = COMMAND.split("; ")[part]
    if args.problems or args.save_as or args.threads != 1:  # say what this run was
        command = (f"OMP_NUM_THREADS={args.threads} python benchmarks/bench_speed.py "
                   + " ".join(sys.argv[1:]))
    return command


def run_diffusion(args, device, machine):
    result = {"machine": machine, "command": _command(args, 1),
              "rows": bench_diffusion(device, problems=args.problems)}
    return result, _diffusion_markdown(result)


# ------------------------------------------------------------- quality part
def float32_engine(enabled):
    """Context: the engine's ``precision="auto"`` resolves to float32 (as on hardware
    without native bfloat16 matrix units) -- the "before" side of every comparison."""
    import contextlib
    from unittest import mock

    from skltsynth.engines.diffusion import precision

    if not enabled:
        return contextlib.nullcontext()
    return mock.patch.object(precision, "_native_bf16", lambda device: False)


#: Settings compared side by side: (label, force float32, explicit resampler params).
QUALITY_SETTINGS = (("float32 (before)", True, {}), ("auto precision", False, {}))


def _resampler(name):
    from skltsynth.resamplers.latent_diffusion import LatentDiffusionResampler
    from skltsynth.resamplers.memory_ddpm import MemoryDDPMResampler

    return {"LatentDiff": LatentDiffusionResampler, "MemoryDDPM": MemoryDDPMResampler}[name]


def bench_quality(seed, resamplers=("LatentDiff", "MemoryDDPM"), settings=QUALITY_SETTINGS,
                  cases=("CLINC150-LT", "STS-B-DIR")):
    """LR / kNN (CLINC150-LT) and Ridge / HGB (STS-B-DIR) on *validation* splits, same seed."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier

    from skltsynth.datasets import load_clinc150_lt, load_stsb_dir

    clinc = load_clinc150_lt(random_state=seed)
    stsb = load_stsb_dir()
    data = {
        "CLINC150-LT": (clinc.X_train.astype(np.float32), clinc.y_train,
                        clinc.X_val.astype(np.float32), clinc.y_val),
        "STS-B-DIR": (stsb.X_train.astype(np.float32), stsb.y_train,
                      stsb.X_val.astype(np.float32), stsb.y_val),
    }
    rows = []
    for case, (X, y, X_val, y_val) in data.items():
        if case not in cases:
            continue
        if case == "CLINC150-LT":
            few = np.bincount(y, minlength=150)[y_val] < 15
            heads = {"LR": LogisticRegression(C=10, max_iter=2000),
                     "kNN": KNeighborsClassifier(5)}
        else:
            edges = np.asarray(stsb.bin_edges)
            def bins(v):
                return np.clip(np.digitize(v, edges[1:-1]), 0, len(edges) - 2)
            few = np.bincount(bins(y), minlength=len(edges) - 1)[bins(y_val)] < 20
            heads = {"Ridge": Ridge(alpha=10),
                     "HGB": HistGradientBoostingRegressor(max_iter=100, random_state=0)}
        for name in resamplers:
            for label, force_float32, params in settings:
                res = _resampler(name)(random_state=seed, device="cpu", **params)
                with float32_engine(force_float32):
                    (Xr, yr), wall, cpu = _timed(lambda: res.fit_resample(X, y))
                row = {"case": case, "resampler": name, "setting": label, "params": params,
                       "precision": res.engine_.precision_, "sizes": res.engine_size_,
                       "wall_s": wall, "cpu_s": cpu, "train_steps_run": res.engine_.n_train_steps_}
                for head_name, head in heads.items():
                    pred = head.fit(Xr, yr).predict(X_val)
                    if case == "CLINC150-LT":
                        hit = pred == y_val
                        row[f"{head_name} acc"] = hit.mean()
                        row[f"{head_name} few acc"] = hit[few].mean()
                    else:
                        err = (pred - y_val) ** 2
                        row[f"{head_name} MSE"] = err.mean()
                        row[f"{head_name} few MSE"] = err[few].mean()
                rows.append({k: (float(v) if isinstance(v, np.floating) else v)
                             for k, v in row.items()})
                print(rows[-1], flush=True)
    return rows


def _quality_markdown(result):
    lines = ["# Quality of the engine settings side by side (validation splits)",
             "", f"Seed {result['seed']}; threads {result['machine']['threads']}; load average "
             f"at start {result['machine']['load_average'][0]:.1f}; the same seed for every "
             "setting.  Few = validation rows of classes with < 15 training rows (CLINC150-LT) "
             "or of target bins with < 20 (STS-B-DIR).", ""]
    for case in dict.fromkeys(r["case"] for r in result["rows"]):
        rows = [r for r in result["rows"] if r["case"] == case]
        metrics = [k for k in rows[0] if k.endswith(("acc", "MSE"))]
        lines += [f"## {case}", "", "| resampler | setting | precision | h / L / batch | steps "
                  "run | CPU s | wall s | " + " | ".join(metrics) + " |",
                  "|---" * (7 + len(metrics)) + "|"]
        for r in rows:
            z = r["sizes"]
            lines.append(f"| {r['resampler']} | {r['setting']} | {r['precision']} | "
                         f"{z['hidden_dim']} / {z['n_layers']} / {z['batch_size']} | "
                         f"{r['train_steps_run']} | {r['cpu_s']:.0f} | {r['wall_s']:.0f} | "
                         + " | ".join(f"{r[m]:.3f}" for m in metrics) + " |")
        lines.append("")
    lines += [f"Reproduce: `{result['command']}`", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("vmf", "diffusion", "quality", "all"),
                        default="all")
    parser.add_argument("--seed", type=int, default=0, help="seed of the quality part")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=200_000, help="rows of the vMF benchmark")
    parser.add_argument("--dims", type=int, nargs="+", default=[384, 768, 1024])
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--problems", nargs="+", default=None, choices=("classes", "regression"),
                        help="diffusion part: only these problems (default: both)")
    parser.add_argument("--save", action="store_true", help=f"write results under {RESULTS}")
    parser.add_argument("--save-as", default=None, metavar="NAME",
                        help="with --save: file name stem instead of the part's name")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    parts = ("vmf", "diffusion", "quality") if args.part == "all" else (args.part,)
    for part in parts:
        if part == "vmf":
            result = {"machine": _machine(args.threads, device), "repeats": args.repeats,
                      "command": _command(args, 0),
                      "rows": bench_vmf(args.n, args.dims, args.repeats, device)}
            markdown = _vmf_markdown(result)
        elif part == "diffusion":
            result, markdown = run_diffusion(args, device, _machine(args.threads, device))
        else:
            result = {"machine": _machine(args.threads, "cpu"), "seed": args.seed,
                      "command": COMMAND.split("; ")[2], "rows": bench_quality(args.seed)}
            markdown = _quality_markdown(result)
        print(markdown)
        if args.save:
            RESULTS.mkdir(parents=True, exist_ok=True)
            # --save-as NAME, else one problem's rows go to their own file (diffusion_classes.md ...)
            stem = args.save_as or (part if part != "diffusion" or not args.problems else
                                    "_".join([part, *args.problems]))
            (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
            (RESULTS / f"{stem}.md").write_text(markdown)


if __name__ == "__main__":
    main()
