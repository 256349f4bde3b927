"""The comparison runner: every method x seed, resampled once, then every head fitted.

:func:`run_comparison` resamples the training rows once per (method, seed),
measuring the call with :func:`skltsynth.tooling._profiling.measure_call` (wall
time, peak memory), then fits every head on the result and scores it per
shot group (the steps are in :mod:`skltsynth.benchmark.steps`).
"""

from __future__ import annotations

import numbers
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ..tooling._profiling import measure_call
from .data import infer_task, load_task
from .heads import has_scores, head_names, is_deterministic, make_head, takes_weights
from .registry import TASKS, MethodSkipped, available_methods, get_method, make_sampler
from .steps import (
    _evaluate,
    _head_weights,
    _quality,
    _release_free_memory,
    _warm_up_torch,
    adapt_sampler,
)

__all__ = ["adapt_sampler", "run_comparison"]


def _resample(method, seed, data, device, fast, quality):
    """Resample once for (method, seed): ``(row, sampler, X_fit, y_fit)``."""
    task, bins = data["task"], data.get("bins")
    X_train, y_train = data["X_train"], data["y_train"]
    row = {
        "dataset": data.get("name"), "task": task, "method": method.name, "seed": seed,
        "status": "ok", "note": "", "n_train": int(len(y_train)), "n_synthetic": 0,
        "resample_seconds": 0.0, "peak_bytes": 0,
    }
    sampler = make_sampler(method.name, task, seed, fast=fast)
    X_fit, y_fit = X_train, y_train
    if sampler is not None:
        adapt_sampler(sampler, task, y_train, bins, device)
        _release_free_memory()
        m = measure_call(sampler.fit_resample, (X_train, y_train), device=device)
        X_fit, y_fit = m.result
        row.update(resample_seconds=m.seconds, peak_bytes=m.peak_bytes,
                   n_synthetic=int(len(y_fit) - len(y_train)))
        if quality and row["n_synthetic"] > 0:
            row.update(_quality(task, X_train, y_train, X_fit, y_fit, bins, data))
    return row, sampler, X_fit, y_fit


def _fit_head(method, head, seed, data, sampler, X_fit, y_fit, clip):
    """Fit one head on the resampled rows and score it: metrics, ``fit_seconds``, note."""
    from sklearn.base import clone

    from ..heads.logit_adjustment import LogitAdjustedClassifier

    task, bins, y_train = data["task"], data.get("bins"), data["y_train"]
    out = {"note": ""}
    weights = _head_weights(method, sampler, y_train, len(y_fit), bins)
    model = clone(head)
    if weights is not None and not takes_weights(model):
        if method.weighting is not None:
            raise MethodSkipped(f"{type(model).__name__} takes no sample_weight")
        out["note"] = (f"{type(model).__name__} takes no sample_weight: the resampler's "
                       "weights are not used")
        weights = None
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    if method.logit_adjust:
        if not has_scores(model):
            raise MethodSkipped(f"{type(model).__name__} has no scores to adjust")
        model = LogitAdjustedClassifier(model, tau=1.0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        if weights is None:
            model.fit(X_fit, y_fit)
        else:
            model.fit(X_fit, y_fit, sample_weight=weights)
    out["fit_seconds"] = time.perf_counter() - t0
    pred = model.predict(data["X_test"])
    if task == "regression" and clip:
        pred = np.clip(pred, np.min(y_train), np.max(y_train))
    out.update(_evaluate(task, data["y_test"], pred, y_train, bins, data.get("many"),
                         data.get("few")))
    return out


def _progress_line(row):
    where = f"  {row['head']:<6} {row['method']:<18} seed {row['seed']}"
    if row["status"] != "ok":
        return f"{where}: {row['status']} ({row['note']})"
    if row["task"] == "classification":
        score = f"acc {row['accuracy']:.3f} few {row['few_accuracy']:.3f}"
    else:
        score = f"MSE {row['mse']:.3f} few {row['few_mse']:.3f}"
    return (f"{where}: {score}, +{row['n_synthetic']} rows, "
            f"resample {row['resample_seconds']:.2f} s, fit {row['fit_seconds']:.2f} s")


def _resolve_heads(task, heads, head):
    """``{name: estimator}`` from the ``heads`` names (or dict) and the legacy ``head``."""
    if head is not None:
        if heads is not None:
            raise ValueError("Give heads or head, not both.")
        return {type(head).__name__: head}
    if heads is None:
        return {head_names(task)[0]: make_head(task, head_names(task)[0])}
    if isinstance(heads, dict):
        return dict(heads)
    heads = [heads] if isinstance(heads, str) else list(heads)
    if not heads:
        raise ValueError("heads is empty.")
    return {name: make_head(task, name) for name in heads}


def _prepare(X_train, y_train, X_test, y_test, task, bins, many, few):
    """The task dict of a comparison (a dataset name or arrays), validated."""
    if isinstance(X_train, (str, Path)):
        data = load_task(X_train)
        data["name"] = str(X_train)
        if task == "auto":
            task = data["task"]
        if bins is None:
            bins = data.get("bins")
    else:
        if y_train is None or X_test is None or y_test is None:
            raise ValueError("Give X_train, y_train, X_test and y_test (or a dataset name).")
        data = {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test,
                "name": None}
    for key in ("X_train", "X_test", "y_train", "y_test"):
        data[key] = np.asarray(data[key])
    if task == "auto":
        task = infer_task(data["y_train"])
    if task not in TASKS:
        raise ValueError(f"task must be 'auto', 'classification' or 'regression', got {task!r}.")
    if task == "regression":
        from ..policy.targets import _check_edges, bin_edges

        bins = bin_edges(data["y_train"]) if bins is None else _check_edges(bins, data["y_train"])
    data.update(task=task, bins=bins, many=many, few=few)
    return data


def _error_row(base, status, note):
    return {**base, "status": status, "note": note}


def run_comparison(
    X_train,
    y_train=None,
    X_test=None,
    y_test=None,
    methods=None,
    task="auto",
    head=None,
    seeds=(0,),
    progress=False,
    device="auto",
    *,
    heads=None,
    bins=None,
    many=None,
    few=None,
    fast=False,
    verbose=None,
    clip_predictions=True,
    quality=False,
):
    """Train every head after every method, for every seed, and score it.

    Parameters
    ----------
    X_train : array-like of shape (n_train, d), or str
        Training embeddings; or the name of a dataset in ``DATASETS`` /
        an ``.npz`` file (then ``y_train``, ``X_test``, ``y_test`` are taken
        from it and the task and DIR bins too).
    y_train : array-like of shape (n_train,)
        Class labels or continuous targets.
    X_test, y_test : array-like
        Evaluation split (kept as is).
    methods : list of str, default=None
        Registered method names; default: every available method of the task.
        A method that does not support the task, cannot run here or does not
        fit a head (weights for a head without ``sample_weight``, logit
        adjustment for a head without scores) gives a ``"skipped"`` row with
        the reason.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` infers it from ``y_train``.
    head : estimator, default=None
        One head, cloned for every run (named by its class); exclusive with
        ``heads``.
    seeds : sequence of int, default=(0,)
        ``random_state`` of the resamplers (and heads).
    progress : bool, default=False
        Print one line per run to stderr.
    device : str, default="auto"
        Device given to resamplers that have a ``device`` parameter.
    heads : list of str or dict, default=None
        Head names of :data:`~skltsynth.benchmark.heads.HEADS` (e.g.
        ``["lr", "knn"]``) or ``{name: estimator}``; default: the task's
        default head only (``lr``: ``LogisticRegression(C=10,
        max_iter=2000)``; ``ridge``: ``Ridge(alpha=10)``).  Each resampling
        call is made once and its rows fed to every head.  A head's
        ``random_state`` (if any) is set to the seed.
    bins : int or array-like, default=None
        DIR bins for regression (default: :func:`skltsynth.policy.targets.bin_edges`
        of ``y_train``); used for the resamplers, LDS and shot groups.
    many, few : int, default=None
        Shot-group thresholds (default: :data:`skltsynth._defaults.CLASS_SHOTS`
        for classes, :data:`~skltsynth._defaults.BIN_SHOTS` for bins).
    fast : bool, default=False
        Apply every method's ``fast_params`` (quick settings for slow
        generative resamplers).
    verbose : bool, default=None
        Alias of ``progress`` (wins when given).
    clip_predictions : bool, default=True
        Clip regression predictions to the training target range (the DIR
        reference numbers are measured so).
    quality : bool, default=False
        Also score the synthetic rows against the real rows of their class
        (or DIR bin) with :func:`skltsynth.tooling.metrics.synthetic_quality_report`
        and add the class/bin averages as ``q_mmd2``, ``q_precision``,
        ``q_recall``, ``q_coverage``, ``q_copy_fraction`` and
        ``q_nearest_real_ratio``.

    Returns
    -------
    results : list of dict
        One dict per (head, method, seed): ``dataset, task, head, method,
        seed, status`` (``"ok"``, ``"skipped"``, ``"error"``), ``note``,
        ``n_train``, ``n_synthetic``, ``resample_seconds``, ``peak_bytes``,
        ``fit_seconds`` and the metrics of
        :func:`skltsynth.tooling.metrics.shot_group_report` or
        :func:`skltsynth.tooling.metrics.regression_shot_report`.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skltsynth.benchmark import run_comparison, summarise
    >>> X, y = make_classification(300, 8, n_informative=4, n_classes=3,
    ...                            weights=[0.7, 0.2, 0.1], random_state=0)
    >>> res = run_comparison(X[:200], y[:200], X[200:], y[200:],
    ...                      methods=["none", "smote"], seeds=(0, 1), heads=["lr", "knn"])
    >>> sorted({r["head"] for r in res})
    ['knn', 'lr']
    >>> summarise(res).loc[("knn", "smote"), "time_ratio"]
    np.float64(1.0)
    """
    if verbose is not None:
        progress = verbose
    data = _prepare(X_train, y_train, X_test, y_test, task, bins, many, few)
    task = data["task"]
    heads = _resolve_heads(task, heads, head)
    methods = list(available_methods(task) if methods is None else methods)
    for name in methods:
        get_method(name)  # unknown names fail early, before any work
    seeds = [seeds] if isinstance(seeds, numbers.Integral) else list(seeds)
    if progress and data.get("name"):
        print(f"{data['name']}: {task}, {len(data['y_train'])} training rows, heads "
              f"{', '.join(heads)}", file=sys.stderr)
    if any(task in get_method(m).tasks and get_method(m).uses_torch
           and m in available_methods(task) for m in methods):
        _warm_up_torch(device)
    deterministic = {name: is_deterministic(h) for name, h in heads.items()}
    results = []
    for name in methods:
        method = get_method(name)
        first = {}  # head -> the first row, reused for seed-free runs
        for seed in seeds:
            rows = _one_seed(method, seed, data, heads, deterministic, first, device, fast,
                             clip_predictions, quality)
            for row in rows:
                results.append(row)
                if progress:
                    print(_progress_line(row), file=sys.stderr, flush=True)
    return results


def _one_seed(method, seed, data, heads, deterministic, first, device, fast, clip, quality):
    """The rows of every head for one (method, seed), resampling at most once."""
    task = data["task"]
    base = {"dataset": data.get("name"), "task": task, "method": method.name, "seed": seed}
    if task not in method.tasks:
        return [_error_row({**base, "head": h}, "skipped", f"{method.name} does not support "
                           f"{task}") for h in heads]
    reuse = {h: not method.resamples and deterministic[h] and h in first for h in heads}
    resampled = None
    if not all(reuse.values()):
        try:
            resampled = _resample(method, seed, data, device, fast, quality)
        except MethodSkipped as exc:
            return [_error_row({**base, "head": h}, "skipped", str(exc)) for h in heads]
        except Exception as exc:  # one failing method must not stop a comparison
            return [_error_row({**base, "head": h}, "error", f"{type(exc).__name__}: {exc}")
                    for h in heads]
    rows = []
    for h, head in heads.items():
        if reuse[h]:
            # Nothing random: a method that does not resample gives the same fit for
            # every seed with a deterministic head, so the first fit is reused.
            rows.append({**first[h], "seed": seed})
            continue
        row, sampler, X_fit, y_fit = resampled
        row = {**row, "head": h}
        try:
            row.update(_fit_head(method, head, seed, data, sampler, X_fit, y_fit, clip))
        except MethodSkipped as exc:
            row.update(status="skipped", note=str(exc))
        except Exception as exc:
            row.update(status="error", note=f"{type(exc).__name__}: {exc}")
        first.setdefault(h, row)
        rows.append(row)
    return rows
