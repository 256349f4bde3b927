"""MemoryDDPMResampler on CLINC150-LT: what each ingredient adds.

Protocol (``/work/shared/datasets/README.md``): CLINC150 MiniLM embeddings,
L2-normalised, long-tailed training split with n_max=100, IR=20 (seeds 0, 1,
2), balanced test split; the default head (:func:`skltsynth._defaults.default_head`).
Shot groups by training count: many >= 50, medium 15-49, few < 15.

Methods, all in the same run and with the same head:

* ``class_weight``: LogisticRegression(class_weight="balanced");
* ``smote``: imblearn SMOTE(k_neighbors=4);
* ``mddpm[<variant>]``: MemoryDDPMResampler rows, head trained without
  weights (what an imblearn pipeline does);
* ``mddpm[<variant>]+conf``: the same rows, head trained with the resampler's
  ``sample_weight_`` (confidence x class cost; exactly what
  ``ResampledEstimator`` does with the same random_state -- the resampling is
  shared to save time, so the two rows of a variant have the same resampling
  time and memory).

Variants: ``plain`` (the resampler's defaults: v-prediction, cosine schedule,
pure-noise DDIM), ``coral`` (contrastive_weight > 0), ``sdedit`` (strength < 1
from real tail rows), ``eps*`` (the paper's epsilon / linear DDPM), ``vcos*``
(v / cosine spelled out).

Usage::

    python benchmarks/bench_memory_ddpm.py --seeds 0 1 2 \
        --out benchmarks/results/memory_ddpm_clinc150.md
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from imblearn.over_sampling import SMOTE

from skltsynth import MemoryDDPMResampler
from skltsynth._defaults import default_head, default_head_text
from skltsynth.tooling._profiling import measure_call
from skltsynth.datasets import load_clinc150_lt
from skltsynth.tooling.metrics import shot_group_report


def _head():
    return default_head()


def _score(model, data):
    pred = model.predict(data.X_test)
    rep = shot_group_report(data.y_test, pred, data.y_train)
    return {k: rep[k] for k in ("accuracy", "many_accuracy", "medium_accuracy", "few_accuracy")}


def run_seed(seed, variants, engine):
    data = load_clinc150_lt(n_max=100, imbalance_ratio=20, random_state=seed)
    X, y = data.X_train.astype(np.float32), data.y_train
    rows = []

    t = time.perf_counter()
    model = default_head().set_params(class_weight="balanced").fit(X, y)
    rows.append({"method": "class_weight", "seed": seed, "resample_s": 0.0, "peak_mb": 0.0,
                 "fit_s": time.perf_counter() - t, **_score(model, data)})

    m = measure_call(SMOTE(k_neighbors=4, random_state=seed).fit_resample, (X, y),
                     use_tracemalloc=False)
    X_res, y_res = m.result
    t = time.perf_counter()
    model = _head().fit(X_res, y_res)
    rows.append({"method": "smote", "seed": seed, "resample_s": m.seconds,
                 "peak_mb": m.peak_bytes / 2**20, "fit_s": time.perf_counter() - t,
                 **_score(model, data)})

    for name, params in variants.items():
        res = MemoryDDPMResampler(random_state=seed, **engine, **params)
        m = measure_call(res.fit_resample, (X, y), use_tracemalloc=False)
        X_res, y_res = m.result
        for weighted in (False, True):
            t = time.perf_counter()
            model = _head().fit(X_res, y_res,
                                sample_weight=res.sample_weight_ if weighted else None)
            rows.append({
                "method": f"mddpm[{name}]" + ("+conf" if weighted else ""), "seed": seed,
                "resample_s": m.seconds, "peak_mb": m.peak_bytes / 2**20,
                "fit_s": time.perf_counter() - t,
                "train_steps_run": res.engine_.n_train_steps_,
                "mean_syn_weight": float(res.sample_weight_[res.is_synthetic_].mean()),
                **_score(model, data),
            })
        print(json.dumps(rows[-2:], default=float), flush=True)
    return rows


def to_markdown(rows, header):
    import pandas as pd

    df = pd.DataFrame(rows).drop_duplicates(subset=["method", "seed"])  # merged runs repeat baselines
    cols = ["accuracy", "many_accuracy", "medium_accuracy", "few_accuracy"]
    g = df.groupby("method", sort=False)
    mean, std = g[cols].mean(), g[cols].std(ddof=0)
    extra = g[["resample_s", "peak_mb"]].mean()
    n_seeds = g["seed"].nunique()
    lines = [header, "",
             "| method | seeds | acc | many | medium | few | resample s | peak MB |",
             "|---|---|---|---|---|---|---|---|"]
    for method in mean.index:
        cells = [f"{mean.loc[method, c]:.3f} ± {std.loc[method, c]:.3f}" for c in cols]
        lines.append(f"| {method} | {n_seeds.loc[method]} | " + " | ".join(cells)
                     + f" | {extra.loc[method, 'resample_s']:.1f} "
                     f"| {extra.loc[method, 'peak_mb']:.0f} |")
    lines += ["", "Per seed:", "", df.to_markdown(index=False, floatfmt=".3f")]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["plain", "coral", "sdedit"])
    parser.add_argument("--train-steps", type=int, default=1500)
    parser.add_argument("--hidden-dim", type=int, default=512)
    parser.add_argument("--n-layers", type=int, default=3)
    parser.add_argument("--sampling-steps", type=int, default=50)
    parser.add_argument("--strength", type=float, default=0.5)
    parser.add_argument("--contrastive-weight", type=float, default=0.05)
    parser.add_argument("--out", default=None, help="Markdown results file")
    parser.add_argument("--json", default=None, help="also dump the per-seed rows as JSON")
    parser.add_argument("--merge", nargs="+", default=None,
                        help="only merge JSON dumps of earlier runs (seeds run in parallel)")
    args = parser.parse_args()
    if args.merge:
        rows, headers = [], []
        for path in args.merge:
            with open(path) as fh:
                dump = json.load(fh)
            rows += dump["rows"]
            headers.append(dump["header"])
        text = to_markdown(rows, "\n\n".join(dict.fromkeys(headers)))
        print(text)
        if args.out:
            with open(args.out, "w") as fh:
                fh.write(text)
        return
    engine = dict(train_steps=args.train_steps, hidden_dim=args.hidden_dim,
                  n_layers=args.n_layers, sampling_steps=args.sampling_steps, device="cpu")
    all_variants = {
        "plain": {},
        "coral": {"contrastive_weight": args.contrastive_weight},
        "sdedit": {"strength": args.strength},
        "eps": {"prediction": "epsilon", "schedule": "linear"},
        "eps+coral": {"prediction": "epsilon", "schedule": "linear",
                      "contrastive_weight": args.contrastive_weight},
        "eps+sdedit": {"prediction": "epsilon", "schedule": "linear", "strength": args.strength},
        "vcos": {"prediction": "v", "schedule": "cosine"},
        "vcos+coral": {"prediction": "v", "schedule": "cosine",
                       "contrastive_weight": args.contrastive_weight},
        "vcos+sdedit": {"prediction": "v", "schedule": "cosine", "strength": args.strength},
        "sdedit+coral": {"strength": args.strength,
                         "contrastive_weight": args.contrastive_weight},
    }
    variants = {k: all_variants[k] for k in args.variants}
    rows = []
    for seed in args.seeds:
        rows += run_seed(seed, variants, engine)
    header = (f"# MemoryDDPMResampler on CLINC150-LT (n_max=100, IR=20)\n\n"
              f"Seeds {args.seeds}; head {default_head_text()}; engine "
              f"{engine}; strength={args.strength}, "
              f"contrastive_weight={args.contrastive_weight}.\n\n"
              "Command: `python benchmarks/bench_memory_ddpm.py "
              + " ".join(f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                         for k, v in vars(args).items() if k not in ("out", "json", "merge", "seeds")
                         and v is not None)
              + "`")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"header": header, "rows": rows}, fh, default=float)
    text = to_markdown(rows, header)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
