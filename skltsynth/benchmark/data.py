"""Benchmark datasets: the named ones and embedding ``.npz`` files, as task dicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["DATASETS", "infer_task", "load_task"]


def _demo_task():
    from ..datasets import load_demo

    d = load_demo()
    return dict(
        X_train=d.X_train, y_train=d.y_train, X_test=d.X_test, y_test=d.y_test,
        task="classification", title="demo (CLINC50-LT, MiniLM, shipped)",
    )


def _clinc_task():
    from ..datasets import load_clinc150_lt

    d = load_clinc150_lt()
    return dict(
        X_train=d.X_train, y_train=d.y_train, X_test=d.X_test, y_test=d.y_test,
        task="classification", title="CLINC150-LT (n_max=100, IR=20, seed 0; MiniLM)",
    )


def _stsb_task():
    from ..datasets import load_stsb_dir

    d = load_stsb_dir()
    return dict(
        X_train=d.X_train, y_train=d.y_train, X_test=d.X_test, y_test=d.y_test,
        task="regression", bins=d.bin_edges, title="STS-B-DIR (MiniLM pair features)",
    )


#: Named benchmark datasets: name -> loader returning a task dict.
DATASETS = {"demo": _demo_task, "clinc150": _clinc_task, "stsb": _stsb_task}


def load_task(name):
    """Load a named dataset (see ``DATASETS``) or an embeddings ``.npz`` file.

    A file holds ``X_train, y_train, X_test, y_test``, or ``X`` and ``y``
    (split 80/20 with seed 0, stratified for classes).  The task is inferred
    from ``y_train`` (a float target with non-integer values is regression).

    Parameters
    ----------
    name : str or path-like

    Returns
    -------
    task : dict
        ``X_train, y_train, X_test, y_test, task, title`` and, for regression,
        optionally ``bins``.
    """
    if isinstance(name, str) and name in DATASETS:
        return DATASETS[name]()
    path = Path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"{name!r} is neither a named dataset ({', '.join(DATASETS)}) nor a file."
        )
    if path.suffix.lower() != ".npz":
        raise ValueError(f"Benchmark files must be .npz, got {path.name!r}.")
    with np.load(path, allow_pickle=False) as raw:
        keys = set(raw.files)
        if {"X_train", "y_train", "X_test", "y_test"} <= keys:
            out = {k: raw[k] for k in ("X_train", "y_train", "X_test", "y_test")}
        elif {"X", "y"} <= keys:
            X, y = raw["X"], raw["y"]
            out = None
        else:
            raise ValueError(
                f"{path.name} must hold X_train, y_train, X_test, y_test or X and y; "
                f"it holds {sorted(keys)}."
            )
    if out is None:
        from sklearn.model_selection import train_test_split

        task = infer_task(y)
        strat = y if task == "classification" else None
        Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.2, random_state=0, stratify=strat)
        out = dict(X_train=Xa, y_train=ya, X_test=Xb, y_test=yb)
    out["task"] = infer_task(out["y_train"])
    out["title"] = path.name
    return out


def infer_task(y):
    """``"regression"`` for a continuous target (float, non-integer values), else classification."""
    from sklearn.utils.multiclass import type_of_target

    return "regression" if type_of_target(np.asarray(y)) == "continuous" else "classification"

