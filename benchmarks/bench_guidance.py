"""Does Longtail Guidance help the diffusion resamplers on few-shot classes?

CLINC150 long-tailed protocol (n_max=100, IR=20, L2-normalised MiniLM
embeddings; see ``/work/shared/datasets/README.md``), head
the default head (:func:`skltsynth._defaults.default_head`).  Per seed, compares no
resampling, SMOTE(k=4) and each diffusion resampler without and with
Longtail Guidance from an :class:`~skltsynth.heads.epistemic.EpistemicHeadClassifier`
fitted on the long-tailed training set.  Reports accuracy overall / few-shot
and wall time.

The guidance scale is either given (``--scale``) or chosen once per resampler
on seed 0 with :func:`~skltsynth.policy.guidance.select_guidance_scale` (the
in-distribution rule, ``--target-ratio``) over ``--scales``, using
:func:`~skltsynth.policy.guidance.refit_sampler` on a held-out half of the training
data (this retrains the diffusion model once per candidate scale)::

    python benchmarks/bench_guidance.py --seeds 0 1 2 --signal epistemic
    python benchmarks/bench_guidance.py --seeds 0 --scale 5 --signal entropy --quick
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
import torch
from imblearn.over_sampling import SMOTE
from sklearn.model_selection import train_test_split

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_epistemic import load_long_tailed  # noqa: E402
from skltsynth._defaults import default_head, default_head_text  # noqa: E402
from skltsynth.heads.epistemic import EpistemicHeadClassifier  # noqa: E402
from skltsynth.policy.guidance import LongtailGuidance, refit_sampler, select_guidance_scale  # noqa: E402
from skltsynth.resamplers import LatentDiffusionResampler, MemoryDDPMResampler  # noqa: E402


SELECTION_LINES = []  # the scale search, for the report
ENGINE = {}  # engine knobs from the command line (--train-steps, --hidden-dim, ...)


def _diffusion(name, seed, quick):
    extra = {"train_steps": 300, "sampling_steps": 20, "hidden_dim": 256} if quick else {}
    extra.update(ENGINE)
    if name == "latent_diffusion":
        return LatentDiffusionResampler(random_state=seed, **extra)
    return MemoryDDPMResampler(random_state=seed, **extra)


def _evaluate(X_tr, y_tr, X_te, y_te, few):
    head = default_head().fit(X_tr, y_tr)
    ok = head.predict(X_te) == y_te
    return float(ok.mean()), float(ok[few].mean())


def choose_scale(name, X, y, signal, target_ratio, scales, quick, seed=0):
    """The in-distribution rule on a held-out half of the training data."""
    X_fit, X_hold, y_fit, y_hold = train_test_split(X, y, test_size=0.5, random_state=seed)
    model = EpistemicHeadClassifier(random_state=seed, device="cpu").fit(X_fit, y_fit)
    keep = np.isin(y_hold, model.classes_)
    sample_fn = refit_sampler(_diffusion(name, seed, quick), X_hold[keep], y_hold[keep])
    sel = select_guidance_scale(
        sample_fn, model, signal=signal, target_ratio=target_ratio, scales=scales
    )
    for row in [sel.unguided, *sel.table]:
        line = (f"[{name}] scale {row['scale']:g}: P(class) {row['p_class']:.3f} "
                f"ratio {row['ratio']:.2f} signal {row.get('signal', float('nan')):.4f}")
        print("  " + line, flush=True)
        SELECTION_LINES.append(f"- {line}")
    return sel.scale


def run(seed, methods, signal, scales_by_method, quick):
    X_tr, y_tr, X_te, y_te = load_long_tailed(seed)
    counts = dict(zip(*np.unique(y_tr, return_counts=True)))
    few = np.array([counts.get(c, 0) < 15 for c in y_te])
    rows = []

    def record(label, fn):
        t0 = time.perf_counter()
        X_res, y_res = fn()
        acc, few_acc = _evaluate(X_res, y_res, X_te, y_te, few)
        rows.append({"seed": seed, "method": label, "acc": acc, "few_acc": few_acc,
                     "time_s": time.perf_counter() - t0})
        print(f"seed {seed} {label:32s} acc {acc:.3f} few {few_acc:.3f} "
              f"time {rows[-1]['time_s']:.1f}s", flush=True)

    record("none", lambda: (X_tr, y_tr))
    record("smote", lambda: SMOTE(k_neighbors=4, random_state=seed).fit_resample(X_tr, y_tr))
    guide_model = None
    for name in methods:
        record(name, lambda: _diffusion(name, seed, quick).fit_resample(X_tr, y_tr))
        scale = scales_by_method[name]
        if scale <= 0:
            print(f"seed {seed} {name}+guidance: no scale met the rule, skipped")
            continue

        def guided():
            nonlocal guide_model
            if guide_model is None:
                guide_model = EpistemicHeadClassifier(random_state=seed, device="cpu").fit(X_tr, y_tr)
            guidance = LongtailGuidance(guide_model, signal=signal, scale=scale)
            return _diffusion(name, seed, quick).set_params(
                guidance=guidance, guidance_scale=scale
            ).fit_resample(X_tr, y_tr)

        record(f"{name}+ltg({signal},{scale:g})", guided)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=["latent_diffusion", "memory_ddpm"],
                        choices=["latent_diffusion", "memory_ddpm"])
    parser.add_argument("--signal", default="epistemic", choices=["epistemic", "entropy", "energy"])
    parser.add_argument("--scale", type=float, default=None,
                        help="fixed guidance scale (default: choose by the in-distribution rule)")
    parser.add_argument("--scales", type=float, nargs="+",
                        default=[float(v) for v in np.logspace(-1, 4, 6)])
    parser.add_argument("--target-ratio", type=float, default=0.5)
    parser.add_argument("--quick", action="store_true", help="small diffusion settings")
    for knob in ("train_steps", "sampling_steps", "hidden_dim", "n_layers"):
        parser.add_argument("--" + knob.replace("_", "-"), type=int, default=None,
                            help=f"diffusion resamplers' {knob} (default: theirs)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--out", default=None, help="write a Markdown table here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ENGINE.update({k: getattr(args, k) for k in ("train_steps", "sampling_steps", "hidden_dim",
                                                 "n_layers") if getattr(args, k) is not None})
    if args.scale is not None:
        scales = {m: args.scale for m in args.methods}
    else:
        X0, y0, _, _ = load_long_tailed(args.seeds[0])
        scales = {m: choose_scale(m, X0, y0, args.signal, args.target_ratio, args.scales,
                                  args.quick, seed=args.seeds[0]) for m in args.methods}
    print("guidance scales:", scales)
    rows = [r for seed in args.seeds for r in run(seed, args.methods, args.signal, scales, args.quick)]
    smote_t = np.mean([r["time_s"] for r in rows if r["method"] == "smote"])
    table = ["| method | seeds | accuracy | few-shot accuracy | time s | time / SMOTE |",
             "|---|---|---|---|---|---|"]
    for label in dict.fromkeys(r["method"] for r in rows):
        sub = [r for r in rows if r["method"] == label]
        acc = np.array([r["acc"] for r in sub])
        few = np.array([r["few_acc"] for r in sub])
        t = np.mean([r["time_s"] for r in sub])
        table.append(f"| {label} | {len(sub)} | {acc.mean():.3f} ± {acc.std():.3f} | "
                     f"{few.mean():.3f} ± {few.std():.3f} | {t:.1f} | {t / smote_t:.0f} |")
    print("\n".join(table))
    if args.out:
        command = "python benchmarks/bench_guidance.py " + " ".join(
            sys.argv[1:] if argv is None else argv)
        pathlib.Path(args.out).write_text("\n".join([
            "# Longtail Guidance on CLINC150-LT", "",
            f"Command: `{command}`", "",
            f"Guidance scales (in-distribution rule, target ratio {args.target_ratio}): "
            + ", ".join(f"{m} {v:g}" for m, v in scales.items()), "",
            *SELECTION_LINES, "",
            *table, "",
            "Time = wall time of resampling and fitting the head (the `none` row is the head fit alone; for the guided rows it includes fitting the "
            f"EpistemicHeadClassifier once per seed); head: {default_head_text()}; "
            f"torch threads {args.threads}.", ""]))
    return rows


if __name__ == "__main__":
    main()
