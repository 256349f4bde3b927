"""Diffusion engine settings side by side: 5k x 384 speed and validation quality (not a test).

Each variant is ``NAME=JSON``: ``DiffusionConfig`` fields set on every engine
the resamplers build (after their own settings), plus ``"passes"``, the
``_EPOCHS`` of :mod:`skltsynth.engines.diffusion.sizing` (passes over the
data of a model trained on the whole noise range).  The previous round's
defaults are ``'previous={"passes": 80, "train_strength": 1.0, "ema_interval": 1}'``
(80 x 0.5 = 40 passes at the class strength 0.2, every timestep trained, an EMA
update every step).

``profile``: one default LatentDiff / MemoryDDPM fit of the 5k x 384 case
under cProfile, split into the training loop's parts, sampling and the rest.
``speed``: default ``fit_resample`` of both resamplers on
``bench_speed.long_tailed_classes`` (5,000 x 384, 50 classes), CPU and wall
seconds.  ``quality``: ``bench_speed.bench_quality`` on the validation splits
(``--cases``), the same seed for every variant; ``--split`` fixes the
CLINC150-LT split while ``--seed`` varies the resampler's seed.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_diffusion_variants.py speed \\
        'previous={"passes": 80, "train_strength": 1.0, "ema_interval": 1}' 'defaults={}'
    OMP_NUM_THREADS=1 python benchmarks/bench_diffusion_variants.py quality --seed 2 --split 0 \\
        'previous={"passes": 80, "train_strength": 1.0, "ema_interval": 1}' 'defaults={}'
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import time
from pathlib import Path
from unittest import mock

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_speed import _resampler, bench_quality, long_tailed_classes  # noqa: E402


@contextlib.contextmanager
def variant(overrides):
    """Every FeatureDiffusion built inside gets ``overrides``; ``passes`` sets the budget."""
    from skltsynth.engines.diffusion import model, sizing

    overrides = dict(overrides)
    passes = overrides.pop("passes", sizing._EPOCHS)
    init = model.FeatureDiffusion.__init__

    def patched(self, config=None, **kw):
        init(self, config, **kw)
        self.config = dataclasses.replace(self.config, **overrides)

    with mock.patch.object(model.FeatureDiffusion, "__init__", patched), \
            mock.patch.object(sizing, "_EPOCHS", passes):
        yield


#: (row label, file suffix, function name) of the profile table: cumulative seconds.
_PARTS = (("training loop, all", "training.py", "train_denoiser"),
          ("- backward", "_tensor.py", "backward"),
          ("- optimiser step (fused AdamW)", "optimizer.py", "wrapper"),
          ("- EMA update", "swa_utils.py", "update_parameters"),
          ("- gradient clipping", "clip_grad.py", "clip_grad_norm_"),
          ("- validation evaluations", "training.py", "loss"),
          ("denoiser construction (first-call imports)", "denoiser.py", "__init__"),
          ("sampling", "sampling.py", "sample_rows"),
          ("fit_resample, all", "base.py", "fit_resample"))


def profile(args, variants):
    """cProfile one fit per resampler and variant; print the component table."""
    import cProfile
    import pstats

    X, y = long_tailed_classes()
    for name in args.resamplers:
        for label, overrides in variants:
            res = _resampler(name)(random_state=args.seed, device="cpu")
            prof = cProfile.Profile()
            with variant(overrides):
                prof.runcall(res.fit_resample, X, y)
            stats = pstats.Stats(prof).stats
            print(f"{name} {label}: {res.engine_.n_train_steps_} steps (seconds under cProfile)")
            for row, suffix, func in _PARTS:
                total = max([ct for (f, _, fn), (_, _, _, ct, _) in stats.items()
                             if fn == func and f.endswith(suffix)] or [0.0])
                print(f"  {row:45s} {total:7.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("speed", "quality", "profile"))
    parser.add_argument("variants", nargs="+", help="NAME=JSON overrides")
    parser.add_argument("--seed", type=int, default=0, help="resampler seed")
    parser.add_argument("--split", type=int, default=None, help="CLINC150-LT split seed "
                        "(default: --seed)")
    parser.add_argument("--cases", nargs="+", default=["CLINC150-LT"],
                        choices=("CLINC150-LT", "STS-B-DIR"))
    parser.add_argument("--resamplers", nargs="+", default=["LatentDiff", "MemoryDDPM"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    variants = [(v.split("=", 1)[0], json.loads(v.split("=", 1)[1])) for v in args.variants]
    if args.mode == "profile":
        return profile(args, variants)
    if args.mode == "speed":
        X, y = long_tailed_classes()
        # imports and first-call set-up outside the timings
        _resampler("LatentDiff")(random_state=0, train_steps=2, sampling_steps=2).fit_resample(
            X[:500], y[:500])
        for name in args.resamplers:
            for label, overrides in variants:
                res = _resampler(name)(random_state=args.seed, device="cpu")
                with variant(overrides):
                    cpu, wall = time.process_time(), time.perf_counter()
                    Xr, _ = res.fit_resample(X, y)
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                e = res.engine_
                print(f"{name} {label}: CPU {cpu:.2f} s, wall {wall:.2f} s, steps "
                      f"{e.n_train_steps_} (best {e.best_step_}), {Xr.shape[0] - X.shape[0]} "
                      "new rows", flush=True)
        return
    import skltsynth.datasets as datasets

    split = args.seed if args.split is None else args.split
    load = datasets.load_clinc150_lt
    with mock.patch.object(datasets, "load_clinc150_lt",
                           lambda random_state=None, **kw: load(random_state=split, **kw)):
        for label, overrides in variants:
            with variant(overrides):
                rows = bench_quality(args.seed, resamplers=tuple(args.resamplers),
                                     settings=((label, False, {}),), cases=tuple(args.cases))
            for r in rows:
                metrics = " ".join(f"{k} {r[k]:.3f}" for k in r if k.endswith(("acc", "MSE")))
                print(f"{label} {r['case']} {r['resampler']}: CPU {r['cpu_s']:.1f} s, steps "
                      f"{r['train_steps_run']}; {metrics}", flush=True)


if __name__ == "__main__":
    main()
