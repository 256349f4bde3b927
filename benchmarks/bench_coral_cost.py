"""Training cost of the CORAL loss: ``contrastive_weight`` 0 vs 0.05, same engine.

MemoryDDPM at its defaults on CLINC150-LT (n_max=100, IR=20, seed 0; 4,777 x
384), ``train_steps=300`` and ``sampling_steps=1`` (so the fit is the
training), one torch thread.  The process CPU time per training step is
compared (CPU time, not wall time, so other work on a shared machine does not
inflate either side); each setting runs ``--repeats`` times and the medians
are compared::

    python benchmarks/bench_coral_cost.py --repeats 2
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skltsynth.datasets import load_clinc150_lt  # noqa: E402
from skltsynth.resamplers import MemoryDDPMResampler  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--train-steps", type=int, default=300)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    d = load_clinc150_lt(random_state=0)
    X, y = d.X_train.astype(np.float32), d.y_train
    per_step = {}
    for rep in range(args.repeats):
        for weight in (0.0, 0.05):
            res = MemoryDDPMResampler(contrastive_weight=weight, train_steps=args.train_steps,
                                      sampling_steps=1, random_state=0, device="cpu")
            t = time.process_time()
            res.fit_resample(X, y)
            cpu = time.process_time() - t
            steps = res.engine_.n_train_steps_
            per_step.setdefault(weight, []).append(cpu / steps)
            print(f"repeat {rep} contrastive_weight={weight}: {cpu:.1f} s CPU, {steps} steps, "
                  f"{1000 * cpu / steps:.1f} ms/step", flush=True)
    ratio = np.median(per_step[0.05]) / np.median(per_step[0.0])
    print(f"CORAL / plain CPU time per training step: {ratio:.2f}x")


if __name__ == "__main__":
    main()
