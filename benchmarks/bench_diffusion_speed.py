"""Time FeatureDiffusion fit + sample with the default config.

Default problem: a synthetic 5,000 x 1,536 regression set (low-rank embeddings
whose first directions follow the target), continuous conditioning, the
default ``DiffusionConfig`` (hidden 512, 3 blocks, 1,500 steps of batch 256,
50 DDIM steps), then 5,000 generated rows.

    python benchmarks/bench_diffusion_speed.py                  # defaults, CPU
    python benchmarks/bench_diffusion_speed.py --threads 2 --device cpu
    python benchmarks/bench_diffusion_speed.py --device cuda

Prints one line per phase and a final JSON line (wall and process CPU time:
on a busy shared machine CPU time / threads is the better estimate of the
uncontended wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from skltsynth.engines.diffusion import DiffusionConfig, FeatureDiffusion


def make_data(n, d, generator):
    y = torch.rand(n, generator=generator) * 80 + 10
    basis = torch.randn(16, d, generator=generator) / d**0.5
    latent = torch.randn(n, 16, generator=generator)
    latent[:, 0] = (y - 50) / 20
    latent[:, 1] = ((y - 50) / 20) ** 2 - 0.3
    X = latent @ basis + 0.02 * torch.randn(n, d, generator=generator)
    return torch.nn.functional.normalize(X, dim=1), y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--d", type=int, default=1536)
    parser.add_argument("--n-sample", type=int, default=5000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--train-steps", type=int, default=None)
    parser.add_argument("--hidden-dim", type=int, default=None)
    parser.add_argument("--n-layers", type=int, default=None)
    parser.add_argument("--sampling-steps", type=int, default=None)
    parser.add_argument("--no-early-stopping", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {k: v for k, v in {
        "train_steps": args.train_steps, "hidden_dim": args.hidden_dim,
        "n_layers": args.n_layers, "sampling_steps": args.sampling_steps}.items() if v}
    if args.no_early_stopping:
        overrides["early_stopping"] = False
    cfg = DiffusionConfig(cond_type="continuous", **overrides)
    g = torch.Generator().manual_seed(0)
    X, y = make_data(args.n, args.d, g)
    fd = FeatureDiffusion(cfg)
    t0, c0 = time.perf_counter(), time.process_time()
    fd.fit(X, y, generator=g, device=args.device)
    t_fit, c_fit = time.perf_counter() - t0, time.process_time() - c0
    print(f"fit: {t_fit:.1f} s for {fd.n_train_steps_} steps "
          f"(early stop: {fd.stopped_early_}), final smoothed loss "
          f"{sum(fd.train_losses_[-50:]) / 50:.4f}", flush=True)
    cond = torch.rand(args.n_sample, generator=g) * 80 + 10
    t0, c0 = time.perf_counter(), time.process_time()
    Z = fd.sample(cond, generator=g)
    if Z.is_cuda:
        torch.cuda.synchronize()
    t_sample, c_sample = time.perf_counter() - t0, time.process_time() - c0
    print(f"sample: {t_sample:.1f} s for {args.n_sample} rows x {cfg.sampling_steps} DDIM steps",
          flush=True)
    # quick sanity: the generated rows track the condition like the real ones
    Zc = Z.cpu()
    w = torch.linalg.lstsq(X - X.mean(0), (y - y.mean())[:, None]).solution
    r_real = torch.corrcoef(torch.stack([(X @ w).squeeze(1), y]))[0, 1]
    r_gen = torch.corrcoef(torch.stack([(Zc @ w).squeeze(1), cond]))[0, 1]
    result = {
        "n": args.n, "d": args.d, "n_sample": args.n_sample, "device": str(fd.device_),
        "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "train_steps_run": fd.n_train_steps_, "fit_s": round(t_fit, 1),
        "sample_s": round(t_sample, 1), "total_s": round(t_fit + t_sample, 1),
        # CPU time of this process: on a machine shared with other jobs, wall time
        # overstates the cost; CPU time / threads estimates the wall time when alone
        "fit_cpu_s": round(c_fit, 1), "sample_cpu_s": round(c_sample, 1),
        "fit_cpu_s_per_step": round(c_fit / max(fd.n_train_steps_, 1), 4),
        "linear_probe_corr_real": round(float(r_real), 3),
        "linear_probe_corr_generated": round(float(r_gen), 3),
        "config": {k: v for k, v in cfg.to_dict().items()
                   if k in ("hidden_dim", "n_layers", "train_steps", "batch_size",
                            "sampling_steps", "learning_rate")},
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
