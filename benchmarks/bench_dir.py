"""Deep imbalanced regression benchmark: datasets x heads x methods, several seeds.

Datasets: STS-B-DIR (MiniLM pair features, when ``shared/datasets`` is
present), and the real tabular DIR tasks :func:`~skltsynth.datasets.load_randhie_dir`
and :func:`~skltsynth.datasets.load_fair_dir` (balanced test splits, see
``docs/user_guide/latent_diffusion.rst``).  Heads: Ridge, KNeighborsRegressor(10),
HistGradientBoostingRegressor, MLPRegressor.  Methods: no resampling; LDS
sqrt-inverse sample weights; SMOTER; SMOGN (package ``smogn``, only on
tables up to ``--smogn-max-rows`` rows: it is pure Python); LatentDiff with
its defaults (``LatentDiffusionResampler(random_state=seed)``; ``--engine
small`` passes a smaller denoiser, for a bounded CPU run, and the table says
so); LatentDiff+LDS: the same rows, with LDS sqrt-inverse weights of the
resampled targets for the heads that take ``sample_weight`` (Ridge, HGB; the
others are fitted unweighted, as for LDS).  Seeds change the resampler and
head seeds; the splits are fixed.

Errors on the *test* split (``--split val`` for the validation split, on
which defaults are chosen): MSE overall, on few-shot bins (< 20 training
rows), and on the top decile of the evaluation target; mean +- std over
seeds.  Time = the resampler's fit_resample wall time as a ratio of SMOTER's
in the same run (and LatentDiff's seconds, printed per seed).

Run from the repository root::

    python benchmarks/bench_dir.py --seeds 0 1 2 --engine small

It writes ``docs/benchmark/dir/results.md`` and ``results.json``.  ``--new-user``
runs issue 14's new-user case (``new_user_case.md``), ``--natural`` it and three
more skewed targets on random splits, a natural test (``natural_cases.md``), and
``--natural-real`` fair and randhie on random splits of all their rows
(``natural_real.md``).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor

from skltsynth import LatentDiffusionResampler
from skltsynth.resamplers._smoter import SMOTER
from skltsynth.datasets import load_fair_dir, load_randhie_dir, load_stsb_dir
from skltsynth.tooling.metrics import regression_shot_report
from skltsynth.policy.targets import lds_weights

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmark" / "dir"
SMALL_ENGINE = dict(train_steps=300, hidden_dim=128, n_layers=2)


def _datasets(names):
    loaders = {"stsb": lambda: load_stsb_dir(), "randhie": load_randhie_dir, "fair": load_fair_dir}
    for name in names:
        try:
            d = loaders[name]()
        except FileNotFoundError:
            print(f"skipping {name}: data file not found")
            continue
        yield name, d


def _heads(seed, ridge_alpha):
    return {
        "Ridge": lambda: Ridge(alpha=ridge_alpha),
        "kNN10": lambda: KNeighborsRegressor(10),
        "HGB": lambda: HistGradientBoostingRegressor(max_iter=200, random_state=seed),
        "MLP": lambda: MLPRegressor(hidden_layer_sizes=(128,), max_iter=200, early_stopping=True,
                                    random_state=seed),
    }


def _quantile_with_interpolation(quantile):
    """``np.quantile`` that also takes the ``interpolation=`` keyword numpy 2 removed."""
    def wrapped(*args, interpolation=None, **kwargs):
        if interpolation is not None:
            kwargs.setdefault("method", interpolation)
        return quantile(*args, **kwargs)
    return wrapped


def _smogn(X, y, seed):
    import importlib
    import types

    import pandas as pd
    import smogn

    rng_state = np.random.get_state()
    np.random.seed(seed)  # smogn draws from numpy's global state
    # smogn 0.1.2 calls np.quantile(..., interpolation="midpoint"), a keyword numpy 2
    # removed (now ``method``): give its module a numpy whose quantile takes both.
    box_plot_stats = importlib.import_module("smogn.box_plot_stats")
    numpy_of_smogn = box_plot_stats.np
    patched = types.ModuleType("numpy_for_smogn")
    patched.__dict__.update(vars(numpy_of_smogn))
    patched.quantile = _quantile_with_interpolation(numpy_of_smogn.quantile)
    box_plot_stats.np = patched
    try:
        df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(target=y)
        out = smogn.smoter(data=df, y="target")
    finally:
        box_plot_stats.np = numpy_of_smogn
        np.random.set_state(rng_state)
    return out.drop(columns="target").to_numpy(np.float64), out["target"].to_numpy(np.float64)


def _takes_weights(head):
    return not isinstance(head, (KNeighborsRegressor, MLPRegressor))


def _errors(head, X, y, w, d, split):
    fit_kw = {} if w is None or not _takes_weights(head) else {"sample_weight": w}
    X_eval, y_eval = d[f"X_{split}"], d[f"y_{split}"]
    pred = head.fit(X, y, **fit_kw).predict(X_eval)
    rep = regression_shot_report(y_eval, pred, d.y_train, d.bin_edges)
    top = y_eval >= np.quantile(y_eval, 0.9)
    return {"mse": rep["mse"], "few_mse": rep["few_mse"],
            "top_mse": float(((pred[top] - y_eval[top]) ** 2).mean())}


def _parse_settings(pairs):
    """``["train_steps=800", "bin_cap=5"]`` -> ``{"train_steps": 800, "bin_cap": 5}``."""
    out = {}
    for pair in pairs or ():
        key, _, text = pair.partition("=")
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text  # a bare string such as start=real
    return out


def _settings_text(settings):
    return "".join(f", {k}={v!r}" for k, v in (settings or {}).items())


def run(names, seeds, engine, smogn_max_rows, head_names, split="test", settings=None):
    rows = []
    for name, d in _datasets(names):
        X, y = np.asarray(d.X_train, np.float64), np.asarray(d.y_train, np.float64)
        alpha = 10.0 if name == "stsb" else 1.0
        for seed in seeds:
            data = {"plain": (X, y, None, 0.0)}
            data["LDS"] = (X, y, lds_weights(y, d.bin_edges), 0.0)
            t = time.perf_counter()
            Xs, ys = SMOTER(bin_width=None, n_bins=d.bin_edges, random_state=seed).fit_resample(X, y)
            data["SMOTER"] = (Xs, ys, None, time.perf_counter() - t)
            if X.shape[0] <= smogn_max_rows:
                t = time.perf_counter()
                try:
                    Xg, yg = _smogn(X, y, seed)
                    data["SMOGN"] = (Xg, yg, None, time.perf_counter() - t)
                except Exception as exc:  # smogn fails on some targets; reported, not hidden
                    print(f"SMOGN failed on {name}: {exc!r}")
            kw = {**(SMALL_ENGINE if engine == "small" else {}), **(settings or {})}
            res = LatentDiffusionResampler(n_bins=d.bin_edges, random_state=seed, **kw)
            t = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                Xl, yl = res.fit_resample(X, y)
            data["LatentDiff"] = (Xl, yl, None, time.perf_counter() - t)
            data["LatentDiff+LDS"] = (Xl, yl, lds_weights(yl, d.bin_edges), data["LatentDiff"][3])
            print(f"{name} seed {seed}: LatentDiff {res.n_synthetic_} rows in "
                  f"{data['LatentDiff'][3]:.1f} s (SMOTER {data['SMOTER'][3]:.2f} s) "
                  f"(planned {res.n_planned_}, rejection {res.rejection_rate_:.2f}; "
                  f"{res.engine_.n_train_steps_} of {res.engine_size_['train_steps']} "
                  "training steps), "
                  f"warnings: {[str(w.message)[:90] for w in caught]}", flush=True)
            t_ref = data["SMOTER"][3]
            for head_name, make in _heads(seed, alpha).items():
                if head_name not in head_names:
                    continue
                fitted = {}  # a head that takes no sample_weight is fitted once per row set
                for method, (Xm, ym, w, secs) in data.items():
                    head = make()
                    key = (id(Xm), None if not _takes_weights(head) else id(w))
                    if key not in fitted:
                        fitted[key] = _errors(head, Xm, ym, w, d, split)
                    err = fitted[key]
                    rows.append({"dataset": name, "head": head_name, "method": method,
                                 "seed": seed, "time_vs_smoter": secs / t_ref if t_ref else 0,
                                 "n_added": int(Xm.shape[0] - X.shape[0]), **err})
            print(f"  heads done ({time.strftime('%H:%M:%S')})", flush=True)
    return rows


def _natural_sets():
    """Skewed targets on synthetic features, split at random 75/25 (a natural test).

    ``new-user``: issue 14's case (``make_regression(1500, 32, n_informative=12,
    noise=5, random_state=3)``, ``y = exp(y / y.std())``); the others were not
    used to choose any default: ``exp`` of another linear target, a target not
    monotone in the features (``z ** 2``) and ``exp`` of Friedman's first function.
    """
    from sklearn.datasets import make_friedman1, make_regression

    X, z = make_regression(n_samples=1500, n_features=32, n_informative=12, noise=5,
                           random_state=3)
    yield "new-user", X, np.exp(z / z.std())
    X, z = make_regression(n_samples=2000, n_features=20, n_informative=8, noise=10,
                           random_state=11)
    yield "exp-linear", X, np.exp(z / z.std())
    X, z = make_regression(n_samples=2000, n_features=20, n_informative=8, noise=10,
                           random_state=12)
    yield "squared-linear", X, (z / z.std()) ** 2
    X, z = make_friedman1(n_samples=2000, n_features=10, noise=1.0, random_state=0)
    yield "exp-friedman1", X, np.exp(z / 5)


def _real_natural_sets():
    """fair and randhie, every row, split at random 75/25: a natural test of real tables."""
    for name, load in (("fair", load_fair_dir), ("randhie", load_randhie_dir)):
        d = load()
        yield (f"{name}-natural", np.vstack([d.X_train, d.X_val, d.X_test]).astype(np.float64),
               np.concatenate([d.y_train, d.y_val, d.y_test]).astype(np.float64))


def natural_cases(seeds, settings=None, names=("new-user",), sets=None, mlp=False,
                  title="Natural splits of issue 14", split="test"):
    """Issue 14's new-user case (and the other natural sets) at full size.

    Heads Ridge(1.0), KNeighborsRegressor(10), HistGradientBoostingRegressor
    (and the DIR benchmark's MLP head with ``mlp``); test MSE and top-decile
    MAE, plain and with LatentDiff's defaults (changed by ``settings``; bins
    chosen by the resampler, as a user's would be), on the test part of a
    random 75/25 split (``split="val"``: on a 25 % validation split of its
    training part, which is then all the rows fitted), and the resampler's
    own estimate of what its plan's target shift costs there
    (``natural_mse_ratio_``).  ``sets`` (default :func:`_natural_sets`) yields
    ``(name, X, y)``.
    """
    from sklearn.model_selection import train_test_split

    heads = {"Ridge(1.0)": lambda s: Ridge(1.0), "kNN10": lambda s: KNeighborsRegressor(10),
             "HGB": lambda s: HistGradientBoostingRegressor(random_state=s)}
    if mlp:
        heads["MLP"] = lambda s: _heads(s, 1.0)["MLP"]()
    where = ("test split of a random 75/25 split" if split == "test" else
             "validation: a 25 % split of the training part of a random 75/25 split")
    lines = [f"# {title} ({where}; "
             f"LatentDiff defaults{_settings_text(settings)}, seeds "
             f"{', '.join(map(str, seeds))})", "",
             "| set | head | seed | MSE plain | MSE LatentDiff | ratio | top-decile MAE plain "
             "| top-decile MAE LatentDiff | ratio | rows added | estimated shift cost |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, X, y in (_natural_sets() if sets is None else sets):
        if name not in names:
            continue
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
        if split == "val":
            X_tr, X_te, y_tr, y_te = train_test_split(X_tr, y_tr, test_size=0.25, random_state=1)
        top = y_te >= np.quantile(y_te, 0.9)
        for seed in seeds:
            res = LatentDiffusionResampler(random_state=seed, **(settings or {}))
            with warnings.catch_warnings():  # the shift warning: its estimate is a column
                warnings.filterwarnings("ignore", message=".*natural_mse_ratio_")
                X_res, y_res = res.fit_resample(X_tr, y_tr)
            shift = "-" if res.natural_mse_ratio_ is None else f"{res.natural_mse_ratio_:.3f}"
            for head, make in heads.items():
                errs = []
                for Xf, yf in ((X_tr, y_tr), (X_res, y_res)):
                    p = make(seed).fit(Xf, yf).predict(X_te)
                    errs.append((float(((p - y_te) ** 2).mean()),
                                 float(np.abs(p - y_te)[top].mean())))
                (m0, t0), (m1, t1) = errs
                lines.append(f"| {name} | {head} | {seed} | {m0:.3f} | {m1:.3f} | {m1 / m0:.3f} "
                             f"| {t0:.3f} | {t1:.3f} | {t1 / t0:.3f} | {res.n_synthetic_} "
                             f"| {shift} |")
    return "\n".join(lines) + "\n"


def table(rows, engine, split="test"):
    keys = ("mse", "few_mse", "top_mse")
    lines = [f"# DIR benchmark ({split} split; mean ± std over seeds; LatentDiff engine: {engine})",
             "", "| dataset | head | method | MSE | few MSE | top-decile MSE | MSE / plain "
             "| few / plain | top / plain | rows added | time / SMOTER |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["head"], r["method"]), []).append(r)
    for (ds, head, method), rs in groups.items():
        plain = groups[(ds, head, "plain")]
        cells = []
        for k in keys:
            v = np.array([r[k] for r in rs])
            cells.append(f"{np.nanmean(v):.3f} ± {np.nanstd(v):.3f}")
        ratios = [np.nanmean([r[k] for r in rs]) / np.nanmean([r[k] for r in plain])
                  for k in keys]
        lines.append(f"| {ds} | {head} | {method} | " + " | ".join(cells) + " | "
                     + " | ".join(f"{x:.3f}" for x in ratios)
                     + f" | {np.mean([r['n_added'] for r in rs]):.0f}"
                     + f" | {np.mean([r['time_vs_smoter'] for r in rs]):.1f} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["stsb", "randhie", "fair"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--engine", choices=["default", "small"], default="default")
    ap.add_argument("--heads", nargs="+", default=["Ridge", "kNN10", "HGB", "MLP"])
    ap.add_argument("--smogn-max-rows", type=int, default=6000)
    ap.add_argument("--split", choices=["test", "val"], default="test")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--set", nargs="+", default=None, metavar="KEY=VALUE",
                    help="LatentDiffusionResampler parameters to change (JSON values, e.g. "
                         "train_steps=800); side-by-side runs of a candidate default")
    ap.add_argument("--from-json", nargs="+", type=Path, default=None,
                    help="tabulate the rows of earlier runs (e.g. one per seed, run in "
                         "parallel) instead of running")
    ap.add_argument("--new-user", action="store_true",
                    help="only the new-user case of issue 14 (writes new_user_case.md)")
    ap.add_argument("--natural", action="store_true",
                    help="the new-user case and three more skewed targets on natural splits "
                         "(writes natural_cases.md)")
    ap.add_argument("--natural-real", action="store_true",
                    help="fair and randhie on natural splits, every row pooled, MLP head "
                         "included (writes natural_real.md)")
    args = ap.parse_args()
    if args.natural_real:
        args.out.mkdir(parents=True, exist_ok=True)
        sets = list(_real_natural_sets())
        text = natural_cases(args.seeds, _parse_settings(args.set), [n for n, _, _ in sets],
                             sets=sets, mlp=True,
                             title="Natural splits of fair and randhie, every row",
                             split=args.split)
        suffix = "" if args.split == "test" else f"_{args.split}"
        (args.out / f"natural_real{suffix}.md").write_text(text)
        print(text)
        return
    if args.new_user or args.natural:
        args.out.mkdir(parents=True, exist_ok=True)
        names = [name for name, _, _ in _natural_sets()] if args.natural else ["new-user"]
        text = natural_cases(args.seeds, _parse_settings(args.set), names, split=args.split)
        suffix = "" if args.split == "test" else f"_{args.split}"
        name = "natural_cases" if args.natural else "new_user_case"
        (args.out / f"{name}{suffix}.md").write_text(text)
        print(text)
        return
    if args.from_json:
        rows = [r for f in args.from_json for r in json.loads(f.read_text())]
        rows.sort(key=lambda r: (r["dataset"], r["seed"]))
    else:
        rows = run(args.datasets, args.seeds, args.engine, args.smogn_max_rows, args.heads,
                   args.split, _parse_settings(args.set))
    args.out.mkdir(parents=True, exist_ok=True)
    tag = "_".join(args.datasets) + ("" if args.split == "test" else f"_{args.split}")
    (args.out / f"results_{tag}.json").write_text(json.dumps(rows, indent=1))
    engine = args.engine + (f" with {', '.join(args.set)}" if args.set else "")
    (args.out / f"results_{tag}.md").write_text(table(rows, engine, args.split))
    print(table(rows, engine, args.split))


if __name__ == "__main__":
    main()
