"""Build the demo embedding set shipped in ``skltsynth/datasets/data/``.

Run from the project root with the shared benchmark data available::

    python tools/build_demo.py [--data PATH_TO_shared/datasets]

It writes ``skltsynth/datasets/data/clinc50_lt_minilm.npz``: 50 CLINC150 intents
chosen with a fixed seed, a long-tailed training split made with
:func:`skltsynth.datasets.make_long_tailed` (n_max=100, imbalance ratio 20,
seed 0), the balanced test rows (30 per intent), L2-normalised and stored as
float16.  The output is deterministic: rerunning gives the same arrays.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from skltsynth.datasets import load_clinc150, make_long_tailed

N_CLASSES = 50
SEED = 0
N_MAX = 100
IMBALANCE_RATIO = 20
OUT = Path(__file__).resolve().parents[1] / "skltsynth" / "datasets" / "data"


def build(path=None):
    data = load_clinc150(path, normalize=True)
    rng = np.random.default_rng(SEED)
    chosen = np.sort(rng.choice(len(data.target_names), size=N_CLASSES, replace=False))
    relabel = np.full(len(data.target_names), -1, dtype=np.int64)
    relabel[chosen] = np.arange(N_CLASSES)

    def subset(split):
        keep = np.isin(data[f"y_{split}"], chosen)
        return data[f"X_{split}"][keep], relabel[data[f"y_{split}"][keep]]

    X_train, y_train = subset("train")
    X_test, y_test = subset("test")
    X_lt, y_lt = make_long_tailed(X_train, y_train, N_MAX, IMBALANCE_RATIO, random_state=SEED)
    return {
        "X_train": X_lt.astype(np.float16),
        "y_train": y_lt.astype(np.int16),
        "X_test": X_test.astype(np.float16),
        "y_test": y_test.astype(np.int16),
        "target_names": data.target_names[chosen].astype("U32"),
        "source_class_ids": chosen.astype(np.int16),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="shared/datasets folder or the npz file")
    parser.add_argument("--out", default=str(OUT), help="output folder")
    args = parser.parse_args(argv)
    arrays = build(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "clinc50_lt_minilm.npz"
    np.savez_compressed(target, **arrays)
    counts = np.bincount(arrays["y_train"])
    print(
        f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB): "
        f"train {arrays['X_train'].shape} (per class {counts.max()}..{counts.min()}), "
        f"test {arrays['X_test'].shape}"
    )


if __name__ == "__main__":
    main()
