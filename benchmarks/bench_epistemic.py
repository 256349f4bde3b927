"""How well do the Epistemic Head's longtail signals flag rare or hard rows?

CLINC150 long-tailed protocol (``/work/shared/datasets/README.md``: L2-normalised
MiniLM embeddings, n_max=100, IR=20, balanced test).  For each seed, fit an
:class:`~skltsynth.heads.epistemic.EpistemicHeadClassifier` on the long-tailed
training set and report, on the balanced test set, the ROC-AUC of each signal
(epistemic, entropy, energy) for

* ``few``: the test row's class is a few-shot class (< 15 training rows);
* ``wrong``: the classifier misclassifies the row;

plus test accuracy (overall / few-shot) and fit time.  Extra keyword arguments
go to the classifier, e.g.::

    python benchmarks/bench_epistemic.py --seeds 0 1 2
    python benchmarks/bench_epistemic.py --param head_lr=0.001 --param head_max_epochs=20
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import sys
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skltsynth.heads.epistemic import CLASSIFICATION_SIGNALS, EpistemicHeadClassifier  # noqa: E402

DATA_CANDIDATES = [ROOT / "shared" / "datasets", ROOT.parent / "shared" / "datasets"]


def _find_data(name):
    for base in DATA_CANDIDATES:
        if (base / name).exists():
            return base / name
    raise FileNotFoundError(f"{name} not found under {[str(b) for b in DATA_CANDIDATES]}")


def load_long_tailed(seed, n_max=100, imbalance_ratio=20):
    """CLINC150 long-tailed split; the project's loader when it exists."""
    try:
        from skltsynth.datasets import load_clinc150, make_long_tailed
    except ImportError:
        load_clinc150 = None
    if load_clinc150 is not None:
        data = load_clinc150()
        X_tr, y_tr = make_long_tailed(
            data["X_train"], data["y_train"], n_max=n_max, imbalance_ratio=imbalance_ratio,
            random_state=seed,
        )
        return X_tr, y_tr, data["X_test"], data["y_test"]
    # Inline protocol (README of the shared datasets).
    with np.load(_find_data("clinc150_minilm.npz")) as z:
        X_train = z["X_train"].astype(np.float32)
        y_train = z["y_train"]
        X_test = z["X_test"].astype(np.float32)
        y_test = z["y_test"]
    X_train /= np.linalg.norm(X_train, axis=1, keepdims=True)
    X_test /= np.linalg.norm(X_test, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    classes = np.unique(y_train)
    order = rng.permutation(classes)
    n_classes = len(classes)
    keep = []
    for rank, c in enumerate(order):
        n_c = int(round(n_max * imbalance_ratio ** (-rank / (n_classes - 1))))
        idx = np.flatnonzero(y_train == c)
        keep.append(rng.choice(idx, size=n_c, replace=False))
    keep = np.concatenate(keep)
    return X_train[keep], y_train[keep], X_test, y_test


def run(seed, params):
    X_tr, y_tr, X_te, y_te = load_long_tailed(seed)
    counts = dict(zip(*np.unique(y_tr, return_counts=True)))
    few = np.array([counts.get(c, 0) < 15 for c in y_te])
    t0 = time.perf_counter()
    clf = EpistemicHeadClassifier(random_state=seed, **params).fit(X_tr, y_tr)
    fit_s = time.perf_counter() - t0
    pred = clf.predict(X_te)
    wrong = pred != y_te
    row = {
        "seed": seed,
        "acc": float(np.mean(~wrong)),
        "few_acc": float(np.mean(~wrong[few])),
        "fit_s": fit_s,
    }
    for signal in CLASSIFICATION_SIGNALS:  # the heads' and the base model's own signals
        score = clf.longtail_score(X_te, signal=signal)
        row[f"few_{signal}"] = roc_auc_score(few, score)
        row[f"wrong_{signal}"] = roc_auc_score(wrong, score)
    return row


def main(argv=None):
    torch.set_num_threads(1)  # tiny heads: threads only add contention
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--param", action="append", default=[], help="classifier parameter NAME=VALUE"
    )
    parser.add_argument("--out", default=None, help="write a Markdown table here")
    args = parser.parse_args(argv)
    params = {"device": "cpu"}
    for item in args.param:
        name, value = item.split("=", 1)
        try:
            params[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[name] = value
    rows = [run(seed, params) for seed in args.seeds]
    signals = list(CLASSIFICATION_SIGNALS)
    cols = ["acc", "few_acc"] + [f"{t}_{s}" for t in ("few", "wrong") for s in signals]
    cols.append("fit_s")
    print("params:", params)
    print("seed  " + "  ".join(f"{c:>18s}" for c in cols))
    for r in rows:
        print(f"{r['seed']:<4d}  " + "  ".join(f"{r[c]:18.3f}" for c in cols))
    mean = {c: np.mean([r[c] for r in rows]) for c in cols}
    std = {c: np.std([r[c] for r in rows]) for c in cols}
    print("mean  " + "  ".join(f"{mean[c]:18.3f}" for c in cols))
    print("std   " + "  ".join(f"{std[c]:18.3f}" for c in cols))
    if args.out:
        _write_report(args.out, rows, signals, params, argv)
    return rows


def _write_report(path, rows, signals, params, argv):
    """Markdown: ROC-AUC of each signal for 'few-shot class' and 'error', mean ± sd over seeds."""
    def cell(key):
        v = np.array([r[key] for r in rows])
        return f"{v.mean():.3f} ± {v.std():.3f}"

    command = "python benchmarks/bench_epistemic.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    lines = [
        "# Epistemic Head: which signal flags rare and misclassified rows?", "",
        "CLINC150-LT (n_max=100, IR=20), balanced test split (4,500 rows); "
        f"EpistemicHeadClassifier({', '.join(f'{k}={v!r}' for k, v in params.items())}); "
        f"seeds {', '.join(str(r['seed']) for r in rows)} (mean ± sd).  ROC-AUC of each "
        "per-row signal for *few* (the row's class has < 15 training rows) and *error* "
        "(the classifier gets the row wrong).  base_entropy / base_energy are the "
        "base head's own signals (no extra heads).", "",
        f"Command: `{command}`", "",
        "| signal | ROC-AUC few-shot class | ROC-AUC error |", "|---|---|---|",
    ]
    lines += [f"| {s} | {cell('few_' + s)} | {cell('wrong_' + s)} |" for s in signals]
    lines += ["", f"Classifier accuracy {cell('acc')}, few-shot {cell('few_acc')}, "
              f"fit {cell('fit_s')} s.", ""]
    pathlib.Path(path).write_text("\n".join(lines))


if __name__ == "__main__":
    main()
