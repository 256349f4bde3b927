"""MemoryDDPM on CLINC150-LT: real-row class costs, one guided draw and the mining loop.

MemoryDDPM at its defaults (resampler seed ``--seed``) is trained once (warm
start) on the long-tailed training split (protocol seed 0), and the same
engine serves

* the unguided rows, with the head fitted with ``sample_weight_`` for
  ``cost_real_rows`` off and on (only the real rows' weights differ);
* one guided draw (the benchmark's ``memory_ddpm_guided``:
  :class:`~skltsynth.benchmark.guided.GuidedResampler`);
* the mining loop (the benchmark's ``memory_ddpm_mined``:
  :class:`~skltsynth.benchmark.guided.MinedResampler`, 3 rounds sharing the
  rows of one resampling).

The guiding Epistemic Head trains with the benchmark's fast epochs
(``GUIDANCE_FAST_PARAMS``) and the benchmark's weight (``GUIDANCE_SCALE``)
unless ``--scale`` is given.  Heads: logistic regression (the default head)
and kNN, scored overall and per shot group on ``--split`` (``val`` for
choices, ``test`` for the report)::

    python benchmarks/bench_mining_clinc150.py --split val --seed 0
    python benchmarks/bench_mining_clinc150.py --split val --seed 1 --cost-only
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.utils.validation import has_fit_parameter

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skltsynth.benchmark.guided import (  # noqa: E402
    GUIDANCE_FAST_PARAMS,
    GUIDANCE_SCALE,
    GuidedResampler,
    MinedResampler,
)
from skltsynth.benchmark.heads import make_head  # noqa: E402
from skltsynth.datasets import load_clinc150_lt  # noqa: E402
from skltsynth.resamplers import MemoryDDPMResampler  # noqa: E402
from skltsynth.tooling.metrics import shot_group_report  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["val", "test"], default="val")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=GUIDANCE_SCALE)
    parser.add_argument("--heads", nargs="+", default=["lr", "knn"])
    parser.add_argument("--cost-only", action="store_true", help="stop after cost_real_rows")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    d = load_clinc150_lt(random_state=0)
    X, y = d.X_train.astype(np.float32), d.y_train
    X_eval, y_eval = (d.X_val, d.y_val) if args.split == "val" else (d.X_test, d.y_test)
    t0 = time.time()

    def evaluate(tag, X_fit, y_fit, weight):
        for name in args.heads:
            head = make_head("classification", name)
            kw = ({"sample_weight": weight}
                  if weight is not None and has_fit_parameter(head, "sample_weight") else {})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                head.fit(X_fit, y_fit, **kw)
            rep = shot_group_report(y_eval, head.predict(X_eval), y)
            print(f"{args.split} seed {args.seed} | {tag} | {name} | weights "
                  f"{'yes' if kw else 'no'} | acc {rep['accuracy']:.4f} | many "
                  f"{rep['many_accuracy']:.4f} | medium {rep['medium_accuracy']:.4f} | few "
                  f"{rep['few_accuracy']:.4f} | {time.time() - t0:.0f} s", flush=True)

    evaluate("none", X, y, None)
    res = MemoryDDPMResampler(random_state=args.seed, device="cpu", warm_start=True,
                              cost_real_rows=True)
    X_res, y_res = res.fit_resample(X, y)
    on = res.sample_weight_.copy()
    off = on.copy()
    off[: len(y)] = 1.0
    evaluate("memory_ddpm cost_real_rows=False", X_res, y_res, off)
    evaluate("memory_ddpm cost_real_rows=True", X_res, y_res, on)
    if args.cost_only:
        return
    res.set_params(cost_real_rows=False)
    res.__sklearn_clone__ = lambda: res  # the wrappers' clone is this trained resampler
    fast = {k: GUIDANCE_FAST_PARAMS[k] for k in ("head_max_epochs_base", "head_max_epochs_heads")}
    guided = GuidedResampler(res, guidance_scale=args.scale, **fast)
    X_g, y_g = guided.fit_resample(X, y)
    evaluate(f"guided once (scale {args.scale:g})", X_g, y_g, guided.sample_weight_)
    mined = MinedResampler(res, guidance_scale=args.scale, **fast)
    X_m, y_m = mined.fit_resample(X, y)
    for h in mined.mining_.history:
        print(f"mining round {h['round']}: {h['n_rows']} rows, signal {h['signal']:.4f}",
              flush=True)
    evaluate(f"mined, 3 rounds (scale {args.scale:g})", X_m, y_m, mined.sample_weight_)


if __name__ == "__main__":
    main()
