"""Longtail Guidance at its default ``scale="auto"`` on a continuous target (STS-B-DIR).

A diffusion resampler at its default settings resamples the STS-B-DIR
training split, guided by ``LongtailGuidance(EpistemicHeadRegressor().fit(X_val,
y_val))`` (the ``"variance"`` signal; no test row is read).  Without a class
probability the in-distribution rule has only its signal half: the probe keeps
the smallest scale whose rows raise the mean variance above 1.1x the unguided
value (:func:`skltsynth.policy.guidance_scale.scale_search`).  Reported: the
scale picked, the probe table, the signal ratio of the *full* draw over the
unguided rows (same seed, same trained engine), and the probe's extra time as
a fraction of the cold fit::

    python benchmarks/bench_guided_dir.py --resampler latent_diffusion
    python benchmarks/bench_guided_dir.py --resampler memory_ddpm
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skltsynth.benchmark.guided import probe_cost_line, write_report  # noqa: E402
from skltsynth.datasets import load_stsb_dir  # noqa: E402
from skltsynth.heads.epistemic import EpistemicHeadRegressor  # noqa: E402
from skltsynth.policy.guidance import LongtailGuidance, refit_sampler  # noqa: E402
from skltsynth.resamplers import LatentDiffusionResampler, MemoryDDPMResampler  # noqa: E402

RESAMPLERS = {"latent_diffusion": LatentDiffusionResampler, "memory_ddpm": MemoryDDPMResampler}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resampler", choices=sorted(RESAMPLERS), default="latent_diffusion")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="also write the result to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    d = load_stsb_dir()
    X, y = d.X_train.astype(np.float32), d.y_train
    head = EpistemicHeadRegressor(device="cpu", random_state=args.seed).fit(
        d.X_val.astype(np.float32), d.y_val)
    sample_fn = refit_sampler(RESAMPLERS[args.resampler](random_state=args.seed, device="cpu"),
                              X, y)

    def timed(guidance):
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            X_new, _ = sample_fn(guidance)
        return X_new, time.perf_counter() - t, [str(w.message) for w in caught
                                                if "auto" in str(w.message)]

    X0, t_cold, _ = timed(None)  # trains the engine
    X_auto, t_auto, warned = timed(LongtailGuidance(head))
    est = sample_fn.resampler
    scale, probe = est.guidance_scale_, est.guidance_probe_
    s0 = head.longtail_score(X0).mean()
    lines = [
        f"### STS-B-DIR: {args.resampler} defaults + LongtailGuidance(EpistemicHeadRegressor "
        "fitted on the validation split), scale \"auto\"",
        "",
        f"Command: `python benchmarks/bench_guided_dir.py --resampler {args.resampler} "
        f"--seed {args.seed}`",
        "",
        f"Picked scale **{scale:g}**.  Probe (signal ratio on the probe rows): "
        + "; ".join(f"{r['scale']:g}: x{r['signal_ratio']:.2f}{' ok' if r['accepted'] else ''}"
                    for r in probe[1:]) + ".",
        f"Full draw: {len(X_auto)} rows, mean variance {head.longtail_score(X_auto).mean():.4f} "
        f"vs unguided {s0:.4f} ({len(X0)} rows): signal ratio "
        f"**{head.longtail_score(X_auto).mean() / s0:.2f}**.",
    ]
    if scale > 0:
        _, t_num, _ = timed(LongtailGuidance(head, scale=scale))
        lines.append(probe_cost_line(t_auto, t_num, t_cold))
    write_report(lines, warned, args.out)


if __name__ == "__main__":
    main()
