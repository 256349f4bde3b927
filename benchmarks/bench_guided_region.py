"""Do guided rows stay on the data?  Longtail Guidance with resampler defaults.

For each diffusion resampler at its **default settings** plus a guidance
object ``LongtailGuidance(EpistemicHeadClassifier().fit(X_held, y_held),
signal, scale)``, the synthetic rows of the long-tailed training set are
compared with the unguided rows (same seed, same engine: the first call trains
it and the others reuse it, :func:`skltsynth.policy.guidance.refit_sampler`):

* ``signal ratio`` -- mean longtail signal of the guided rows over the unguided
  rows' (the issue asks > 1.1);
* ``P ratio`` -- the guiding model's mean probability of each row's intended
  class, guided over unguided (the issue asks < 1 and > 0.25);
* the range of the row norms and of the distances to the class centre (the
  mean of the class's real rows), next to the real rows' ranges;
* ``n_projected_`` -- rows the region safety pulled back on the last step.

The row ``auto`` is the guidance object at **its** default, ``scale="auto"``:
the resampler picks the scale inside its fit by the in-distribution rule on a
small probe draw (:mod:`skltsynth.policy.guidance_scale`); the chosen scale is
named, the same scale given as a number is measured next to it (the probe
only adds time), and the probe's extra time is reported against the cold fit
(training + sampling, the unguided row).  ``done-when`` marks rows that meet
all of: signal ratio > 1.1, 0.25 < P ratio < 1, no row outside the real range.
The scale chosen by :func:`~skltsynth.policy.guidance.select_guidance_scale`
(the same rule, ``--target-ratio``) over ``--scales`` on the full table is
marked.
The guiding model is fitted on held-out rows: the validation split of
CLINC150-LT, or a stratified half of the demo's test split for ``--data demo``
(the rows that are resampled are the training split; nothing here reads the
test rows of CLINC150)::

    python benchmarks/bench_guided_region.py --data clinc150 --resampler memory_ddpm
    python benchmarks/bench_guided_region.py --data clinc150 --resampler latent_diffusion
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
from skltsynth.datasets import load_clinc150_lt, load_demo  # noqa: E402
from skltsynth.heads.epistemic import EpistemicHeadClassifier  # noqa: E402
from skltsynth.policy.guidance import (  # noqa: E402
    LongtailGuidance,
    refit_sampler,
    select_guidance_scale,
)
from skltsynth.resamplers import LatentDiffusionResampler, MemoryDDPMResampler  # noqa: E402

RESAMPLERS = {"latent_diffusion": LatentDiffusionResampler, "memory_ddpm": MemoryDDPMResampler}


def load(name):
    """(X_train, y_train, X_held, y_held): rows to resample and rows to fit the guide on."""
    if name == "clinc150":
        d = load_clinc150_lt(random_state=0)
        return d.X_train, d.y_train, d.X_val, d.y_val
    from sklearn.model_selection import train_test_split

    d = load_demo()
    X_held, _, y_held, _ = train_test_split(d.X_test, d.y_test, test_size=0.5,
                                            stratify=d.y_test, random_state=0)
    return d.X_train, d.y_train, X_held, y_held


def geometry(X, y, labels, centres):
    """Row norms and distances to the centre of each row's class."""
    norms = np.linalg.norm(X, axis=1)
    dist = np.linalg.norm(X - centres[np.searchsorted(labels, y)], axis=1)
    return norms, dist


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["clinc150", "demo"], default="clinc150")
    parser.add_argument("--resampler", choices=sorted(RESAMPLERS), default="memory_ddpm")
    parser.add_argument("--signal", default="epistemic")
    parser.add_argument("--scales", type=float, nargs="*", default=[1, 10, 31.6, 100, 1000],
                        help="numeric scales to measure (and select_guidance_scale over)")
    parser.add_argument("--no-auto", action="store_true", help="skip the scale='auto' row")
    parser.add_argument("--target-ratio", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    X, y, X_held, y_held = load(args.data)
    X, X_held = X.astype(np.float32), X_held.astype(np.float32)
    t0 = time.perf_counter()
    guide = EpistemicHeadClassifier(device="cpu", random_state=args.seed).fit(X_held, y_held)
    t_head = time.perf_counter() - t0
    labels = np.unique(y)
    centres = np.stack([X[y == c].mean(0) for c in labels])
    real_norm, real_dist = geometry(X, y, labels, centres)

    res = RESAMPLERS[args.resampler](random_state=args.seed, device="cpu")
    base_fn = refit_sampler(res, X, y)
    rows = {}

    def sample_fn(guidance):
        scale = 0.0 if guidance is None else guidance.scale
        if scale not in rows:
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                X_new, y_new = base_fn(guidance)
            rows[scale] = (X_new, y_new, time.perf_counter() - t,
                           base_fn.resampler.n_projected_)
        return rows[scale][:2]

    sample_fn(None)  # the cold fit: trains the engine
    sel = (select_guidance_scale(sample_fn, guide, signal=args.signal,
                                 target_ratio=args.target_ratio, scales=args.scales)
           if len(args.scales) > 1 else None)
    for s in args.scales:  # the rule stops early; measure every requested scale
        sample_fn(LongtailGuidance(guide, signal=args.signal, scale=s))
    auto = None
    if not args.no_auto:  # the guidance object at its default scale="auto"
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            X_new, y_new = base_fn(LongtailGuidance(guide, signal=args.signal))
        est = base_fn.resampler
        auto = dict(rows=(X_new, y_new, time.perf_counter() - t, est.n_projected_),
                    scale=est.guidance_scale_, probe=est.guidance_probe_,
                    warnings=[str(w.message) for w in caught if "auto" in str(w.message)])
        if auto["scale"] > 0:  # the same scale as a number: the probe's cost
            sample_fn(LongtailGuidance(guide, signal=args.signal, scale=auto["scale"]))

    def stats(X_new, y_new):
        p = guide.predict_proba(X_new)[np.arange(len(y_new)),
                                      np.searchsorted(guide.classes_, y_new)]
        sig = guide.longtail_score(X_new, signal=args.signal)
        norm, dist = geometry(X_new, y_new, labels, centres)
        return p.mean(), sig.mean(), norm, dist

    p0, s0, _, _ = stats(*rows[0.0][:2])
    lines = [
        f"# Guided rows on {args.data}: {args.resampler} defaults + "
        f"LongtailGuidance(EpistemicHeadClassifier fitted on held-out rows, "
        f"signal={args.signal!r})",
        "",
        f"Command: `python benchmarks/bench_guided_region.py --data {args.data} "
        f"--resampler {args.resampler} --signal {args.signal} --scales "
        f"{' '.join(f'{s:g}' for s in args.scales)} --seed {args.seed}"
        f"{' --no-auto' if args.no_auto else ''}`",
        "",
        f"Real rows: norm [{real_norm.min():.3f}, {real_norm.max():.3f}], distance to the class "
        f"centre [{real_dist.min():.3f}, {real_dist.max():.3f}] (mean {real_dist.mean():.3f}). "
        f"Guide fit {t_head:.0f} s."
        + (f" Scale chosen by select_guidance_scale over --scales (target ratio "
           f"{args.target_ratio}): **{sel.scale:g}**." if sel is not None else ""),
        "",
        "| scale | rows | signal | signal ratio | P(class) | P ratio | norm range | "
        "centre-distance range (mean) | outside real range | n_projected_ | done-when | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    real_hi = real_dist.max() + 1e-4

    def line(label, X_new, y_new, secs, n_projected):
        p, sig, norm, dist = stats(X_new, y_new)
        out = int(((norm < real_norm.min() - 1e-3) | (norm > real_norm.max() + 1e-3)
                   | (dist > real_hi)).sum())
        ok = sig / s0 > 1.1 and 0.25 < p / p0 < 1.0 and out == 0
        return (f"| {label} | {len(y_new)} | {sig:.4f} | {sig / s0:.2f} | {p:.3f} | {p / p0:.3f} "
                f"| [{norm.min():.3f}, {norm.max():.3f}] | [{dist.min():.3f}, {dist.max():.3f}] "
                f"({dist.mean():.3f}) | {out} | {n_projected} | {'yes' if ok else 'no'} "
                f"| {secs:.1f} |")

    for s in sorted(rows):
        chosen = sel is not None and s == sel.scale and s > 0
        mark = " (chosen)" if chosen else (" (unguided)" if s == 0 else "")
        lines.append(line(f"{s:g}{mark}", *rows[s]))
    if auto is not None:
        lines.append(line(f"**auto** (picked {auto['scale']:g})", *auto["rows"]))
        probe = "; ".join(
            f"{r['scale']:g}: x{r['signal_ratio']:.2f} / x{r.get('p_ratio', float('nan')):.2f}"
            f"{' ok' if r.get('accepted') else ''}" for r in auto["probe"][1:])
        lines += ["", f"`scale=\"auto\"` probe ({len(auto['probe']) - 1} scales; signal ratio / "
                  f"P ratio on the probe rows): {probe}."]
        if auto["scale"] in rows:
            lines.append(probe_cost_line(auto["rows"][2], rows[auto["scale"]][2], rows[0.0][2]))
    write_report(lines, [] if auto is None else auto["warnings"], args.out)


if __name__ == "__main__":
    main()
