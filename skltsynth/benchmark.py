"""Compare resampling methods: a registry of methods and a comparison runner.

This is the core behind ``skltsynth demo`` and ``skltsynth benchmark``.

Methods
-------
A *method* is a name in a registry with

* a factory ``(task, random_state) -> resampler or None`` (``None`` = train
  the head on the real rows only), or a lazy ``"package.module:Class"``
  string (the class is imported on first use and built with
  ``random_state=...``);
* the tasks it supports (``"classification"``, ``"regression"``);
* how the head is weighted: ``None``, ``"balanced"`` (inverse class
  frequency, i.e. ``class_weight="balanced"``) or ``"lds"`` (label
  distribution smoothing weights of Yang et al. 2021).  A resampler that sets
  ``sample_weight_`` after ``fit_resample`` (skltsynth resamplers do) has
  those weights passed to the head as well.

Built-in baselines: ``none``, ``class_weight`` (classification), ``lds``
(regression), ``ros`` (imbalanced-learn ``RandomOverSampler``; per-DIR-bin
copies for regression), ``ros_shrink`` (``RandomOverSampler(shrinkage=0.5)``,
a smoothed bootstrap), ``smote`` (``k_neighbors`` capped at the smallest
class size minus one), ``borderline_smote``, ``adasyn``, ``smoter``
(regression: SMOTE within DIR bins with the target interpolated) and ``smogn``
(regression; only when the ``smogn`` package is installed, skipped on data
larger than ``SMOGN_MAX_CELLS`` values because it is pure Python).

Extension point: every skltsynth resampler is registered with one line, at
the end of this module, e.g.::

    register_method("vmf_kde", "skltsynth.resamplers:VMFKDEResampler",
                    description="...", fast_params={...})

The diffusion resamplers are also registered with their documented options:
``latent_diffusion_coral`` / ``memory_ddpm_coral`` (CORAL contrastive loss,
``contrastive_weight=0.05``), ``latent_diffusion_guided`` /
``memory_ddpm_guided`` (Longtail Guidance from an Epistemic Head fitted on
the training rows inside the resampling call, ``GUIDANCE_SCALE``) and
``memory_ddpm_unweighted`` (no confidence weights; ``memory_ddpm`` passes its
confidence weights to the head).  ``fast=True`` applies
``DIFFUSION_FAST_PARAMS`` (and ``GUIDANCE_FAST_PARAMS``) to them.

Before each fit the runner sets, when the resampler has such a parameter:
``target_type`` (the task), ``n_bins`` (the DIR bin edges of the dataset),
``device``, and -- for classes -- caps ``k_neighbors`` / ``n_neighbors`` at
the smallest class size minus one.

Runner
------
:func:`run_comparison` trains the same head on the output of every method for
every seed and measures the resampling call with
:func:`skltsynth._profiling.measure_call` (wall time, peak memory);
:func:`summarise` turns the result dicts into a table with mean and spread
over seeds and time / memory ratios to SMOTE's (SMOTER's for regression);
:func:`format_table` renders it as Markdown and :func:`plot_results` draws it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import math
import numbers
import platform
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._profiling import measure_call

__all__ = [
    "DATASETS",
    "Method",
    "MethodSkipped",
    "available_methods",
    "describe_method",
    "format_table",
    "get_method",
    "load_task",
    "make_sampler",
    "plot_results",
    "register_method",
    "run_benchmark",
    "run_comparison",
    "summarise",
]

TASKS = ("classification", "regression")
#: Reference method of the time / memory ratios, per task.
REFERENCE = {"classification": "smote", "regression": "smoter"}
#: smogn is skipped on data with more values (rows x features) than this.
SMOGN_MAX_CELLS = 200_000


class MethodSkipped(RuntimeError):
    """Raised by a resampler wrapper to skip a method (with the reason)."""


@dataclass(frozen=True)
class Method:
    """A registered comparison method.

    Attributes
    ----------
    name : str
        Registry name.
    factory : callable or str
        ``factory(task, random_state) -> resampler or None``, or a lazy
        ``"package.module:Class"`` reference.
    tasks : tuple of str
        Supported tasks.
    weighting : {None, "balanced", "lds"}
        Weights given to the head.
    description : str
        One line for ``skltsynth methods``.
    requires : tuple of str
        Modules that must be importable.
    fast_params : dict
        Parameters set when the runner is asked for fast settings.
    """

    name: str
    factory: object
    tasks: tuple
    weighting: str | None = None
    description: str = ""
    requires: tuple = ()
    fast_params: dict = field(default_factory=dict)


_REGISTRY: dict = {}


def register_method(
    name,
    factory,
    task="both",
    *,
    weighting=None,
    description="",
    requires=(),
    fast_params=None,
    overwrite=False,
):
    """Add a method to the comparison registry.

    Parameters
    ----------
    name : str
        Registry name (used by the CLI).
    factory : callable or str
        ``factory(task, random_state)`` returning a resampler (an object with
        ``fit_resample``) or ``None``; or ``"package.module:Class"``, a class
        built as ``Class(random_state=random_state)`` (imported lazily).
    task : {"both", "classification", "regression"}, default="both"
        Tasks the method supports.
    weighting : {None, "balanced", "lds"}, default=None
        Sample weights for the head: inverse class frequency or LDS.
    description : str, default=""
        One-line description.
    requires : tuple of str, default=()
        Modules that must be importable for the method to be available.
    fast_params : dict, default=None
        Parameters set (``set_params``) when fast settings are requested.
    overwrite : bool, default=False
        Replace an existing method of the same name.

    Returns
    -------
    method : Method

    Examples
    --------
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> from skltsynth.benchmark import register_method, available_methods
    >>> _ = register_method(
    ...     "ros_example", lambda task, rs: RandomOverSampler(random_state=rs),
    ...     task="classification", overwrite=True)
    >>> "ros_example" in available_methods("classification")
    True
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"A method name must be a non-empty string, got {name!r}.")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"Method {name!r} is already registered; pass overwrite=True.")
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        raise TypeError(
            "factory must be a callable (task, random_state) -> resampler or None, or a "
            f"'package.module:Class' string; got {factory!r}."
        )
    tasks = TASKS if task == "both" else (task,)
    if any(t not in TASKS for t in tasks):
        raise ValueError(f"task must be 'both', 'classification' or 'regression', got {task!r}.")
    if weighting not in (None, "balanced", "lds"):
        raise ValueError(f"weighting must be None, 'balanced' or 'lds', got {weighting!r}.")
    method = Method(
        name, factory, tasks, weighting, description, tuple(requires), dict(fast_params or {})
    )
    _REGISTRY[name] = method
    return method


def get_method(name):
    """The registered :class:`Method` called ``name`` (``KeyError`` naming the known ones)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"Unknown method {name!r}; known methods: {', '.join(_REGISTRY)}."
        ) from None


def _resolve_class(ref):
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def unavailable_reason(name):
    """Why the method cannot run here (a missing package), or ``None``."""
    method = get_method(name)
    for module in method.requires:
        if importlib.util.find_spec(module) is None:
            return f"needs the {module!r} package (pip install {module})"
    if isinstance(method.factory, str):
        try:
            _resolve_class(method.factory)
        except (ImportError, AttributeError) as exc:
            return f"cannot import {method.factory} ({exc})"
    return None


def available_methods(task=None):
    """Names of the registered methods that can run here, in registry order.

    Parameters
    ----------
    task : {"classification", "regression"} or None, default=None
        Only methods supporting this task.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skltsynth.benchmark import available_methods
    >>> available_methods("regression")[:3]
    ['none', 'lds', 'ros']
    """
    return [
        name
        for name, m in _REGISTRY.items()
        if (task is None or task in m.tasks) and unavailable_reason(name) is None
    ]


def describe_method(name):
    """One line about a method: description, tasks and availability."""
    method = get_method(name)
    text = f"{method.description} [{', '.join(method.tasks)}]"
    reason = unavailable_reason(name)
    return text + (f" (unavailable: {reason})" if reason else "")


def make_sampler(name, task=None, random_state=None, *, fast=False):
    """Build the resampler of a method (``None`` for weighting-only methods).

    Parameters
    ----------
    name : str
        Registered method.
    task : {"classification", "regression"} or None, default=None
        Defaults to the method's first supported task.
    random_state : int or None, default=None
        Seed of the resampler.
    fast : bool, default=False
        Apply the method's ``fast_params``.

    Returns
    -------
    sampler : object with ``fit_resample``, or None

    Examples
    --------
    >>> from skltsynth.benchmark import make_sampler
    >>> type(make_sampler("smote", random_state=0)).__name__
    'SMOTE'
    >>> make_sampler("class_weight") is None
    True
    """
    method = get_method(name)
    task = method.tasks[0] if task is None else task
    if task not in method.tasks:
        raise ValueError(
            f"Method {name!r} does not support {task}; it supports {', '.join(method.tasks)}."
        )
    reason = unavailable_reason(name)
    if reason:
        raise MethodSkipped(f"{name} is unavailable: {reason}")
    if isinstance(method.factory, str):
        cls = _resolve_class(method.factory)
        sampler = cls(random_state=random_state)
    else:
        sampler = method.factory(task, random_state)
    if sampler is not None and fast and method.fast_params:
        sampler.set_params(**method.fast_params)
    return sampler


# --------------------------------------------------------------- baselines


def _imblearn(cls_name, **params):
    def factory(task, random_state):
        from imblearn import over_sampling

        return getattr(over_sampling, cls_name)(random_state=random_state, **params)

    return factory


def _ros(task, random_state):
    if task == "regression":
        from ._smoter import RandomBinOverSampler

        return RandomBinOverSampler(random_state=random_state)
    from imblearn.over_sampling import RandomOverSampler

    return RandomOverSampler(random_state=random_state)


def _smoter(task, random_state):
    from ._smoter import SMOTER

    return SMOTER(random_state=random_state)


def _smogn(task, random_state):
    return _SMOGNSampler(random_state=random_state)


@contextlib.contextmanager
def _scoped_global_random_state(seed):
    """Seed numpy's and Python's *global* generators and restore them afterwards.

    Only for third-party code (smogn) that draws from the global generators
    and offers no seed argument; the caller's global state is left as found.
    """
    np_state = np.random.get_state()
    py_state = random.getstate()
    np.random.set_state(np.random.RandomState(seed).get_state())
    random.setstate(random.Random(seed).getstate())
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


class _SMOGNSampler:
    """``smogn.smoter`` behind ``fit_resample`` (originals kept: no under-sampling).

    smogn is pure Python (loops over rows and features), so data with more
    than ``max_cells`` values raise :class:`MethodSkipped`.  smogn draws from
    the global numpy / Python generators; they are seeded from
    ``random_state`` for the call only and restored afterwards.
    """

    def __init__(self, random_state=None, max_cells=None, k=5, pert=0.02):
        self.random_state = random_state
        self.max_cells = max_cells
        self.k = k
        self.pert = pert

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in ("random_state", "max_cells", "k", "pert")}

    def set_params(self, **params):
        for key, value in params.items():
            if key not in self.get_params():
                raise ValueError(f"Invalid parameter {key!r} for smogn.")
            setattr(self, key, value)
        return self

    def fit_resample(self, X, y):
        import pandas as pd

        X = np.asarray(X)
        limit = SMOGN_MAX_CELLS if self.max_cells is None else self.max_cells
        if X.size > limit:
            raise MethodSkipped(
                f"smogn skipped: {X.shape[0]} x {X.shape[1]} values exceed its time budget "
                f"({limit} values; smogn is pure Python)"
            )
        try:
            import smogn
        except ImportError as exc:
            raise MethodSkipped("smogn skipped: the smogn package is not installed") from exc
        cols = [f"x{i}" for i in range(X.shape[1])]
        frame = pd.DataFrame(X.astype(np.float64), columns=cols)
        frame["target"] = np.asarray(y, dtype=np.float64)
        seed = self.random_state if isinstance(self.random_state, numbers.Integral) else 0
        with _scoped_global_random_state(int(seed)), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = smogn.smoter(
                    data=frame, y="target", k=self.k, pert=self.pert, under_samp=False
                )
            except TypeError as exc:
                if "interpolation" not in str(exc):
                    raise
                # smogn 0.1.2 calls np.quantile(interpolation=...), removed in numpy 2.
                raise MethodSkipped(
                    f"smogn skipped: the installed smogn does not run with numpy "
                    f"{np.__version__} ({exc})"
                ) from exc
        return out[cols].to_numpy(dtype=X.dtype), out["target"].to_numpy()


register_method("none", lambda task, rs: None, description="no resampling, no weights")
register_method(
    "class_weight", lambda task, rs: None, "classification", weighting="balanced",
    description="no resampling; head weighted by inverse class frequency (class_weight='balanced')",
)
register_method(
    "lds", lambda task, rs: None, "regression", weighting="lds",
    description="no resampling; LDS sqrt-inverse weights (gaussian, ks=5, sigma=2; Yang et al. 2021)",
)
register_method(
    "ros", _ros,
    description="random over-sampling: imblearn RandomOverSampler / copies within DIR bins",
)
register_method(
    "ros_shrink", _imblearn("RandomOverSampler", shrinkage=0.5), "classification",
    description="imblearn RandomOverSampler(shrinkage=0.5): smoothed bootstrap",
)
register_method(
    "smote", _imblearn("SMOTE"), "classification",
    description="imblearn SMOTE (k_neighbors capped at the smallest class size - 1)",
)
register_method(
    "borderline_smote", _imblearn("BorderlineSMOTE"), "classification",
    description="imblearn BorderlineSMOTE",
)
register_method("adasyn", _imblearn("ADASYN"), "classification", description="imblearn ADASYN")
register_method(
    "smoter", _smoter, "regression",
    description="SMOTE within DIR bins, target interpolated with the same weight (SMOTER)",
)
register_method(
    "smogn", _smogn, "regression", requires=("smogn",),
    description=f"smogn package (SMOTER + Gaussian noise); skipped above {SMOGN_MAX_CELLS} values",
)


# ---------------------------------------------------------------- datasets


def _demo_task():
    from .datasets import load_demo

    d = load_demo()
    return dict(
        X_train=d.X_train, y_train=d.y_train, X_test=d.X_test, y_test=d.y_test,
        task="classification", title="demo (CLINC50-LT, MiniLM, shipped)",
    )


def _clinc_task():
    from .datasets import load_clinc150_lt

    d = load_clinc150_lt()
    return dict(
        X_train=d.X_train, y_train=d.y_train, X_test=d.X_test, y_test=d.y_test,
        task="classification", title="CLINC150-LT (n_max=100, IR=20, seed 0; MiniLM)",
    )


def _stsb_task():
    from .datasets import load_stsb_dir

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

        task = _infer_task(y)
        strat = y if task == "classification" else None
        Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.2, random_state=0, stratify=strat)
        out = dict(X_train=Xa, y_train=ya, X_test=Xb, y_test=yb)
    out["task"] = _infer_task(out["y_train"])
    out["title"] = path.name
    return out


def _infer_task(y):
    from sklearn.utils.multiclass import type_of_target

    return "regression" if type_of_target(np.asarray(y)) == "continuous" else "classification"


# ------------------------------------------------------------------ runner


def _default_head(task):
    if task == "classification":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=10, max_iter=2000)
    from sklearn.linear_model import Ridge

    return Ridge(alpha=10)


def _is_deterministic(head):
    """True for heads whose fit does not depend on ``random_state``."""
    params = head.get_params() if hasattr(head, "get_params") else {}
    if "random_state" not in params:
        return True
    name = type(head).__name__
    solver = params.get("solver")
    if name == "LogisticRegression":
        return solver in ("lbfgs", "newton-cg", "newton-cholesky")
    if name == "Ridge":
        return solver not in ("sag", "saga")
    return False


def _adapt(sampler, task, y, bins, device):
    """Set data-dependent parameters the sampler has (see module docstring)."""
    if not hasattr(sampler, "get_params"):
        return sampler
    params = sampler.get_params()
    new = {}
    if "target_type" in params:
        new["target_type"] = task
    if task == "regression" and bins is not None and "n_bins" in params:
        new["n_bins"] = np.asarray(bins, dtype=np.float64)
    if "device" in params and device is not None:
        new["device"] = device
    if task == "classification":
        smallest = int(np.unique(y, return_counts=True)[1].min())
        for key in ("k_neighbors", "n_neighbors"):
            value = params.get(key)
            if isinstance(value, numbers.Integral) and value > smallest - 1:
                new[key] = max(1, smallest - 1)
    if new:
        sampler.set_params(**new)
    return sampler


def _head_weights(method, sampler, y_fit, n_fit, bins):
    weights = None
    if method.weighting == "balanced":
        from sklearn.utils.class_weight import compute_sample_weight

        weights = compute_sample_weight("balanced", y_fit)
    elif method.weighting == "lds":
        from .targets import lds_weights

        weights = lds_weights(y_fit, bins)
    sw = getattr(sampler, "sample_weight_", None)
    if sw is not None and len(sw) == n_fit and not np.allclose(sw, 1.0):
        weights = np.asarray(sw, dtype=np.float64) * (1.0 if weights is None else weights)
    return weights


def _evaluate(task, y_test, pred, y_train, bins, many, few):
    from .metrics import regression_shot_report, shot_group_report

    if task == "classification":
        return shot_group_report(
            y_test, pred, y_train, many=50 if many is None else many, few=15 if few is None else few
        )
    return regression_shot_report(
        y_test, pred, y_train, bins, many=100 if many is None else many,
        few=20 if few is None else few,
    )


_QUALITY_KEYS = ("mmd2", "precision", "recall", "coverage", "copy_fraction", "nearest_real_ratio")


def _quality(task, X_train, y_train, X_fit, y_fit, bins, data):
    """Synthetic-row quality (averaged over classes / bins): keys ``q_*``."""
    from .metrics import synthetic_quality_report

    n = len(y_train)
    X_fit, y_fit = np.asarray(X_fit), np.asarray(y_fit)
    report = synthetic_quality_report(
        X_train, y_train, X_fit[n:], y_fit[n:], bins=bins if task == "regression" else None,
        many=data.get("many"), few=data.get("few"),
    )
    overall = report["per_shot"].loc["all"]
    return {f"q_{key}": float(overall[key]) for key in _QUALITY_KEYS}


def _release_free_memory():
    """Collect garbage and hand freed heap pages back to the OS before a measurement.

    The peak memory of a call is its resident-set growth (see
    :mod:`skltsynth._profiling`); pages that glibc keeps after an earlier
    method freed them would be reused without growing the resident set, so
    every method after the first would look cheaper.  ``malloc_trim(0)``
    (glibc only; a no-op elsewhere) returns them first.
    """
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # pragma: no cover - non-glibc Linux
            pass


_WARMED_UP = set()


def _uses_torch(method):
    factory = method.factory
    ref = factory if isinstance(factory, str) else getattr(factory, "skltsynth_ref", "")
    return ref.startswith("skltsynth.resamplers:") and "VMFKDE" not in ref


def _warm_up_torch(device):
    """One tiny, unmeasured fit of each diffusion resampler (and the Epistemic Head).

    The first torch call of a process loads kernels and libraries and sets up
    allocators and thread pools (~100 MB of resident memory and seconds);
    without a warm-up that one-time cost is charged to whichever diffusion
    method happens to run first.
    """
    key = str(device)
    if key in _WARMED_UP:
        return
    _WARMED_UP.add(key)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8)).astype(np.float32)
    y = np.repeat([0, 1], [45, 15])
    engine = dict(train_steps=3, sampling_steps=2, hidden_dim=16, n_layers=1, batch_size=32,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from .epistemic import EpistemicHeadClassifier
            from .resamplers import LatentDiffusionResampler, MemoryDDPMResampler

            dev = {} if device is None else {"device": device}
            LatentDiffusionResampler(**engine, **dev).fit_resample(X, y)
            MemoryDDPMResampler(**engine, **dev).fit_resample(X, y)
            EpistemicHeadClassifier(max_epochs=1, head_max_epochs=1, random_state=0,
                                    **dev).fit(X, y)
        except Exception:  # pragma: no cover - the measured runs report real errors
            pass


def _run_one(method, seed, data, head, device, fast, clip, quality=False):
    from sklearn.base import clone

    task, bins = data["task"], data.get("bins")
    X_train, y_train = data["X_train"], data["y_train"]
    row = {
        "dataset": data.get("name"), "task": task, "method": method.name, "seed": seed,
        "status": "ok", "note": "", "n_train": int(len(y_train)), "n_synthetic": 0,
        "resample_seconds": 0.0, "peak_bytes": 0, "fit_seconds": float("nan"),
    }
    try:
        sampler = make_sampler(method.name, task, seed, fast=fast)
        X_fit, y_fit = X_train, y_train
        if sampler is not None:
            _adapt(sampler, task, y_train, bins, device)
            _release_free_memory()
            m = measure_call(sampler.fit_resample, (X_train, y_train), device=device)
            X_fit, y_fit = m.result
            row.update(
                resample_seconds=m.seconds, peak_bytes=m.peak_bytes,
                n_synthetic=int(len(y_fit) - len(y_train)),
            )
        row["_no_sampler"] = sampler is None
        if quality and row["n_synthetic"] > 0:
            row.update(_quality(task, X_train, y_train, X_fit, y_fit, bins, data))
        weights = _head_weights(method, sampler, y_fit, len(y_fit), bins)
        model = clone(head)
        if "random_state" in model.get_params():
            model.set_params(random_state=seed)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            if weights is None:
                model.fit(X_fit, y_fit)
            else:
                model.fit(X_fit, y_fit, sample_weight=weights)
        row["fit_seconds"] = time.perf_counter() - t0
        pred = model.predict(data["X_test"])
        if task == "regression" and clip:
            pred = np.clip(pred, np.min(y_train), np.max(y_train))
        row.update(_evaluate(task, data["y_test"], pred, y_train, bins, data.get("many"),
                             data.get("few")))
    except MethodSkipped as exc:
        row.update(status="skipped", note=str(exc))
    except Exception as exc:  # one failing method must not stop a comparison
        row.update(status="error", note=f"{type(exc).__name__}: {exc}")
    return row


def _progress_line(row):
    if row["status"] != "ok":
        return f"  {row['method']:<18} seed {row['seed']}: {row['status']} ({row['note']})"
    if row["task"] == "classification":
        score = f"acc {row['accuracy']:.3f} few {row['few_accuracy']:.3f}"
    else:
        score = f"MSE {row['mse']:.3f} few {row['few_mse']:.3f}"
    return (
        f"  {row['method']:<18} seed {row['seed']}: {score}, +{row['n_synthetic']} rows, "
        f"resample {row['resample_seconds']:.2f} s, fit {row['fit_seconds']:.2f} s"
    )


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
    bins=None,
    many=None,
    few=None,
    fast=False,
    verbose=None,
    clip_predictions=True,
    quality=False,
):
    """Train the same head after every method, for every seed, and score it.

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
        A method that does not support the task or cannot run here gives a
        ``"skipped"`` row with the reason.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` infers it from ``y_train``.
    head : estimator, default=None
        Cloned for every run; ``LogisticRegression(C=10, max_iter=2000)``
        for classes, ``Ridge(alpha=10)`` for regression.  Its
        ``random_state`` (if any) is set to the seed.
    seeds : sequence of int, default=(0,)
        ``random_state`` of the resamplers (and head).
    progress : bool, default=False
        Print one line per run to stderr.
    device : str, default="auto"
        Device given to resamplers that have a ``device`` parameter.
    bins : int or array-like, default=None
        DIR bins for regression (default: :func:`skltsynth.targets.bin_edges`
        of ``y_train``); used for the resamplers, LDS and shot groups.
    many, few : int, default=None
        Shot-group thresholds (default 50 / 15 for classes, 100 / 20 for
        bins).
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
        (or DIR bin) with :func:`skltsynth.metrics.synthetic_quality_report`
        and add the class/bin averages as ``q_mmd2``, ``q_precision``,
        ``q_recall``, ``q_coverage``, ``q_copy_fraction`` and
        ``q_nearest_real_ratio`` (synthetic rows are those after the
        ``n_train`` originals, as imbalanced-learn and skltsynth return them).

    Returns
    -------
    results : list of dict
        One dict per (method, seed): ``dataset, task, method, seed, status``
        (``"ok"``, ``"skipped"``, ``"error"``), ``note``, ``n_train``,
        ``n_synthetic``, ``resample_seconds``, ``peak_bytes``,
        ``fit_seconds`` and the metrics of
        :func:`skltsynth.metrics.shot_group_report` or
        :func:`skltsynth.metrics.regression_shot_report`.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skltsynth.benchmark import run_comparison, summarise
    >>> X, y = make_classification(300, 8, n_informative=4, n_classes=3,
    ...                            weights=[0.7, 0.2, 0.1], random_state=0)
    >>> res = run_comparison(X[:200], y[:200], X[200:], y[200:],
    ...                      methods=["none", "smote"], seeds=(0, 1))
    >>> summarise(res).loc["smote", "time_ratio"]
    np.float64(1.0)
    """
    if verbose is not None:
        progress = verbose
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
    data["X_train"], data["X_test"] = np.asarray(data["X_train"]), np.asarray(data["X_test"])
    data["y_train"], data["y_test"] = np.asarray(data["y_train"]), np.asarray(data["y_test"])
    if task == "auto":
        task = _infer_task(data["y_train"])
    if task not in TASKS:
        raise ValueError(f"task must be 'auto', 'classification' or 'regression', got {task!r}.")
    if task == "regression":
        from .targets import _check_edges, bin_edges

        bins = bin_edges(data["y_train"]) if bins is None else _check_edges(bins, data["y_train"])
    data.update(task=task, bins=bins, many=many, few=few)
    head = _default_head(task) if head is None else head
    if methods is None:
        methods = available_methods(task)
    methods = list(methods)
    for name in methods:
        get_method(name)  # unknown names fail early, before any work
    seeds = [seeds] if isinstance(seeds, numbers.Integral) else list(seeds)
    if progress and data.get("name"):
        print(f"{data['name']}: {task}, {len(data['y_train'])} training rows", file=sys.stderr)
    if any(task in get_method(m).tasks and _uses_torch(get_method(m))
           and unavailable_reason(m) is None for m in methods):
        _warm_up_torch(device)
    results = []
    deterministic_head = _is_deterministic(head)
    for name in methods:
        method = get_method(name)
        first = None
        for seed in seeds:
            if task not in method.tasks:
                row = {"dataset": data.get("name"), "task": task, "method": name, "seed": seed,
                       "status": "skipped", "note": f"{name} does not support {task}"}
            elif first is not None and deterministic_head and first.get("_no_sampler"):
                # Nothing random: the weighting-only baselines give the same fit for every
                # seed with a deterministic head, so the first fit is reused.
                row = {**first, "seed": seed}
            else:
                row = _run_one(method, seed, data, head, device, fast, clip_predictions,
                               quality)
                first = row
            row = {k: v for k, v in row.items() if k != "_no_sampler"}
            results.append(row)
            if progress:
                print(_progress_line(row), file=sys.stderr, flush=True)
    return results


# ---------------------------------------------------------------- summary

_COUNT_KEYS = ("n_train", "n_synthetic", "resample_seconds", "peak_bytes", "fit_seconds")
_ID_KEYS = ("dataset", "task", "method", "seed", "status", "note")


def _metric_keys(results):
    keys = []
    for row in results:
        for key, value in row.items():
            if (key in _ID_KEYS or key in _COUNT_KEYS or key.endswith("_n")
                    or not isinstance(value, numbers.Real) or key in keys):
                continue
            keys.append(key)
    return keys


def summarise(results):
    """Mean and spread over seeds of every method's results.

    Parameters
    ----------
    results : list of dict
        Output of :func:`run_comparison` (one dataset, or several with a
        ``dataset`` field).

    Returns
    -------
    summary : pandas.DataFrame
        One row per method (index ``method``; a ``dataset`` column when the
        results span several datasets), in first-seen order.  Columns: ``task``,
        ``n_seeds`` (successful runs), every metric (mean over seeds) and
        ``{metric}_std`` (standard deviation, ``ddof=0``), ``n_synthetic``,
        ``resample_seconds`` (and ``_std``), ``peak_bytes``, ``fit_seconds``,
        ``time_ratio`` and ``memory_ratio`` (resample time and peak memory
        divided by SMOTE's -- SMOTER's for regression -- on the same dataset;
        present when that method ran), ``status`` and ``note``.  ``attrs``
        holds ``task`` and ``reference``.
    """
    import pandas as pd

    if not results:
        raise ValueError("No results to summarise.")
    frame = pd.DataFrame(results)
    if "dataset" not in frame:
        frame["dataset"] = None
    frame["dataset"] = frame["dataset"].fillna("")
    metrics = _metric_keys(results)
    rows = []
    for (dataset, method), part in frame.groupby(["dataset", "method"], sort=False):
        ok = part[part["status"] == "ok"]
        row = {"dataset": dataset, "method": method, "task": part["task"].iloc[0],
               "n_seeds": int(len(ok))}
        for key in metrics:
            vals = ok[key].astype(float) if key in ok else pd.Series(dtype=float)
            row[key] = vals.mean() if len(vals) else math.nan
            row[f"{key}_std"] = vals.std(ddof=0) if len(vals) else math.nan
        for key in ("n_synthetic", "resample_seconds", "peak_bytes", "fit_seconds"):
            vals = ok[key].astype(float) if key in ok else pd.Series(dtype=float)
            row[key] = vals.mean() if len(vals) else math.nan
        rs = ok["resample_seconds"].astype(float) if "resample_seconds" in ok else []
        row["resample_seconds_std"] = rs.std(ddof=0) if len(rs) else math.nan
        bad = part[part["status"] != "ok"]
        row["status"] = "ok" if bad.empty else ("partial" if len(ok) else bad["status"].iloc[0])
        row["note"] = "" if bad.empty else str(bad["note"].iloc[0])
        rows.append(row)
    summary = pd.DataFrame(rows)
    summary["time_ratio"] = math.nan
    summary["memory_ratio"] = math.nan
    has_ratio = False
    for dataset, part in summary.groupby("dataset", sort=False):
        ref = REFERENCE.get(part["task"].iloc[0])
        ref_row = part[(part["method"] == ref) & (part["n_seeds"] > 0)]
        if ref_row.empty:
            continue
        has_ratio = True
        t_ref = float(ref_row["resample_seconds"].iloc[0])
        m_ref = float(ref_row["peak_bytes"].iloc[0])
        idx = part.index
        summary.loc[idx, "time_ratio"] = part["resample_seconds"] / t_ref if t_ref > 0 else math.nan
        summary.loc[idx, "memory_ratio"] = part["peak_bytes"] / m_ref if m_ref > 0 else math.nan
    if not has_ratio:
        summary = summary.drop(columns=["time_ratio", "memory_ratio"])
    tasks = summary["task"].unique().tolist()
    if summary["dataset"].nunique() <= 1:
        summary = summary.drop(columns="dataset")
    summary = summary.set_index("method")
    summary.attrs["task"] = tasks[0] if len(tasks) == 1 else "mixed"
    summary.attrs["reference"] = REFERENCE.get(summary.attrs["task"])
    return summary


_CLASS_COLUMNS = [
    ("accuracy", "Acc"), ("many_accuracy", "Many"), ("medium_accuracy", "Medium"),
    ("few_accuracy", "Few"), ("macro_f1", "Macro-F1"), ("few_macro_f1", "Few F1"),
]
_REG_COLUMNS = [
    ("mse", "MSE"), ("many_mse", "Many MSE"), ("medium_mse", "Med. MSE"),
    ("few_mse", "Few MSE"), ("mae", "MAE"), ("few_mae", "Few MAE"), ("gm", "GM"),
    ("few_gm", "Few GM"),
]


_QUALITY_COLUMNS = [
    ("q_precision", "Precision"), ("q_recall", "Recall"), ("q_coverage", "Coverage"),
    ("q_copy_fraction", "Copies"),
]


def _fmt(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def format_table(df, *, caption=True):
    """Render a :func:`summarise` table as Markdown.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`summarise` (one dataset).
    caption : bool, default=True
        Add a line explaining the columns and the notes of skipped / failed
        methods.

    Returns
    -------
    table : str
        A Markdown table: scores as ``mean ± std`` over seeds (std omitted
        for a single seed), synthetic rows, resample time, peak memory and
        the ratios to the reference method.
    """
    task = df.attrs.get("task") or (df["task"].iloc[0] if "task" in df else "classification")
    columns = _REG_COLUMNS if task == "regression" else _CLASS_COLUMNS
    columns = [(k, h) for k, h in columns + _QUALITY_COLUMNS if k in df]
    multi = "n_seeds" in df and df["n_seeds"].max() > 1
    ref = df.attrs.get("reference") or REFERENCE.get(task, "")
    head = ["Method"] + [h for _, h in columns] + ["Synthetic rows", "Resample (s)", "Peak MB"]
    ratios = "time_ratio" in df
    if ratios:
        head += [f"Time / {ref}", f"Memory / {ref}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for method, row in df.iterrows():
        label = f"{row['dataset']}: {method}" if "dataset" in df else str(method)
        cells = [label]
        for key, _ in columns:
            text = _fmt(row[key])
            std = row.get(f"{key}_std")
            if multi and text != "-" and std is not None and not math.isnan(std):
                text += f" ± {std:.3f}"
            cells.append(text)
        ok = row.get("n_seeds", 1) > 0
        # weighting-only methods make no resampling call: nothing to time
        resampled = ok and not (row["resample_seconds"] == 0 and row["peak_bytes"] == 0
                                and row["n_synthetic"] == 0)
        cells.append(f"{row['n_synthetic']:.0f}" if ok and not math.isnan(row["n_synthetic"]) else "-")
        cells.append(_fmt(row["resample_seconds"], 2) if resampled else "-")
        cells.append(_fmt(row["peak_bytes"] / 2**20, 1) if resampled else "-")
        if ratios:
            cells += ([_fmt(row["time_ratio"], 2), _fmt(row["memory_ratio"], 2)] if resampled
                      else ["-", "-"])
        lines.append("| " + " | ".join(cells) + " |")
    if caption:
        seeds = int(df["n_seeds"].max()) if "n_seeds" in df else 1
        if task == "regression":
            what = ("MSE / MAE / GM on the test split; shot groups by the training count of the "
                    "test row's DIR bin: many > 100, medium 20..100, few < 20")
        else:
            what = ("accuracy and macro-F1 on the test split; shot groups by the training count "
                    "of the test row's class: many >= 50, medium 15..49, few < 15")
        lines.append("")
        lines.append(
            f"{what}. Mean{' ± std' if seeds > 1 else ''} over {seeds} seed(s). Resample time "
            "and peak memory of the resampling call"
            + (f"; ratios to {ref}'s." if ratios else ".")
            + (" Precision / recall / coverage (k=5 manifolds) and the fraction of exact "
               "copies of synthetic rows, against the real rows of their class or bin."
               if "q_precision" in df else "")
        )
        for method, row in df.iterrows():
            if row.get("note"):
                lines.append(f"- {method}: {row['status']} - {row['note']}")
    return "\n".join(lines)


def plot_results(df, path):
    """Charts of a :func:`summarise` table (matplotlib, imported lazily).

    One row of panels sharing the method axis (one bar per method, methods
    top to bottom in table order): the main score overall and per shot group
    (accuracy for classes, MSE for regression) with the standard deviation
    over seeds as error bars, then the resample time (log scale, with the
    ratio to the reference method -- SMOTE, SMOTER for regression -- written
    next to each bar; its spread over seeds as error bars) and the peak memory
    of the resampling call (with its ratio).  Methods that were skipped or
    failed are marked as such.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`summarise` (one dataset).
    path : str or path-like
        Image file to write (format from the suffix: png, pdf, svg).

    Returns
    -------
    path : pathlib.Path
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_results needs matplotlib: pip install 'skltsynth[plots]'"
        ) from exc
    task = df.attrs.get("task") or df["task"].iloc[0]
    regression = task == "regression"
    metric, label = ("mse", "MSE") if regression else ("accuracy", "accuracy")
    groups = [("", "all"), ("many_", "many"), ("medium_", "medium"), ("few_", "few")]
    groups = [(p, g) for p, g in groups if f"{p}{metric}" in df]
    methods = [str(m) for m in df.index]
    n = len(methods)
    ok = (df["n_seeds"] > 0).to_numpy() if "n_seeds" in df else np.ones(n, bool)
    ref = df.attrs.get("reference") or REFERENCE.get(task, "")
    n_seeds = int(df["n_seeds"].max()) if "n_seeds" in df and n else 1

    def column(key):
        values = df[key].to_numpy(dtype=float) if key in df else np.full(n, np.nan)
        return np.where(ok, values, np.nan)

    fig = Figure(figsize=(2.3 * (len(groups) + 2) + 1.6, 0.3 * n + 1.6))
    axes = fig.subplots(1, len(groups) + 2, sharey=True)
    pos = np.arange(n)
    better = "lower is better" if regression else "higher is better"
    for ax, (prefix, group) in zip(axes, groups):
        vals = column(f"{prefix}{metric}")
        errs = np.nan_to_num(column(f"{prefix}{metric}_std"))
        ax.errorbar(vals, pos, xerr=errs, fmt="o", color="tab:blue", ms=4, capsize=2,
                    elinewidth=0.8)
        if ref in methods and np.isfinite(vals[methods.index(ref)]):
            ax.axvline(vals[methods.index(ref)], color="tab:green", lw=0.8, ls="--",
                       label=ref)
            ax.plot(vals[methods.index(ref)], methods.index(ref), "o", color="tab:green", ms=5,
                    zorder=3)
        finite = vals[np.isfinite(vals)]
        if finite.size:
            lo, hi = finite.min(), finite.max()
            pad = max(0.15 * (hi - lo), 0.01 * max(abs(hi), 1e-9))
            left = max(0.0, lo - pad - float(np.nanmax(errs)))
            ax.set_xlim(left, hi + pad + float(np.nanmax(errs)))
        for i in np.flatnonzero(~np.isfinite(vals)):
            status = str(df["status"].iloc[i]) if "status" in df else "n/a"
            ax.text(0.02, i, status, transform=ax.get_yaxis_transform(), va="center",
                    fontsize=7, color="tab:red")
        ax.set_title(f"{label}: {group}", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.grid(alpha=0.3)
    axes[0].set_yticks(pos, methods, fontsize=8)
    axes[0].invert_yaxis()

    def ratio_labels(ax, values, ratios, fmt):
        for i, (v, r) in enumerate(zip(values, ratios)):
            if np.isfinite(v) and v > 0:
                text = fmt(v) + (f"  ({r:.0f}x)" if np.isfinite(r) and r >= 10 else
                                 f"  ({r:.2g}x)" if np.isfinite(r) else "")
                ax.text(v, i, " " + text, va="center", fontsize=6.5)

    secs = column("resample_seconds")
    sstd = np.nan_to_num(column("resample_seconds_std"))
    ax_t = axes[len(groups)]
    shown = np.where(secs > 0, secs, np.nan)
    ax_t.barh(pos, np.nan_to_num(shown), xerr=np.where(secs > 0, sstd, 0.0), color="tab:gray",
              capsize=2, error_kw={"elinewidth": 0.8})
    positive = shown[np.isfinite(shown)]
    if positive.size:
        ax_t.set_xscale("log")
        ax_t.set_xlim(positive.min() / 3, positive.max() * 60)
    ratio_labels(ax_t, secs, column("time_ratio"), lambda v: f"{v:.3g} s")
    for i in np.flatnonzero(ok & ~(secs > 0)):
        ax_t.text(0.02, i, "no resampling", transform=ax_t.get_yaxis_transform(),
                  va="center", fontsize=6.5, color="0.4")
    ax_t.set_title(f"resample time (log; x {ref})" if ref else "resample time (log)",
                   fontsize=9)
    ax_t.tick_params(axis="x", labelsize=7)
    mem = column("peak_bytes") / 2**20
    ax_m = axes[len(groups) + 1]
    ax_m.barh(pos, np.nan_to_num(mem), color="tab:orange")
    if np.isfinite(mem).any() and np.nanmax(mem) > 0:
        ax_m.set_xlim(0, np.nanmax(mem) * 1.9)
    ratio_labels(ax_m, mem, column("memory_ratio"), lambda v: f"{v:.3g} MB")
    ax_m.set_title(f"peak memory (MB; x {ref})" if ref else "peak memory (MB)", fontsize=9)
    ax_m.tick_params(axis="x", labelsize=7)
    spread = f"error bars: std over {n_seeds} seeds" if n_seeds > 1 else "one seed"
    fig.suptitle(f"{label} per shot group ({better}; {spread}); resample time and peak "
                 f"memory, ratio to {ref or 'the reference'} in brackets", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def _device_text(device):
    try:
        import torch

        from ._torch_utils import resolve_device

        dev = resolve_device(device)
        if dev.type == "cuda":
            return f"{dev} ({torch.cuda.get_device_name(dev)})"
        threads = torch.get_num_threads()
        return (f"cpu ({platform.processor() or platform.machine()}, {threads} torch "
                f"thread{'s' if threads != 1 else ''})")
    except Exception:  # pragma: no cover - informational only
        return str(device)


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _versions():
    names = {"numpy": "numpy", "scikit-learn": "sklearn", "imbalanced-learn": "imblearn",
             "torch": "torch"}
    out = [f"Python {platform.python_version()}"]
    for label, module in names.items():
        mod = sys.modules.get(module)
        if mod is None:
            try:
                mod = importlib.import_module(module)
            except ImportError:
                continue
        out.append(f"{label} {getattr(mod, '__version__', '?')}")
    return ", ".join(out)


def _settings_text(methods, fast):
    """What the methods of a run were: engine settings (fast or not) and descriptions."""
    lines = []
    if fast:
        tuned = [m for m in methods if get_method(m).fast_params]
        if tuned:
            groups = {}
            for m in tuned:
                key = ", ".join(f"{k}={v!r}" for k, v in get_method(m).fast_params.items())
                groups.setdefault(key, []).append(m)
            lines.append("Engine settings: **fast** (`--fast`); every other method at its "
                         "defaults.")
            lines.append("")
            for key, names in groups.items():
                lines.append(f"- {', '.join(names)}: `{key}`")
            lines.append("")
        else:
            lines += ["Engine settings: fast (`--fast`), which changes none of these "
                      "methods.", ""]
    else:
        lines += ["Engine settings: every method at its defaults.", ""]
    lines += ["Methods:", ""]
    for m in methods:
        lines.append(f"- `{m}`: {get_method(m).description}")
    return "\n".join(lines) + "\n"


def run_benchmark(datasets, methods=None, seeds=(0, 1, 2), device="auto", out=".",
                  fast=False, verbose=True, command=None):
    """Run :func:`run_comparison` on several datasets and write the results.

    Parameters
    ----------
    datasets : list of str
        Names in ``DATASETS`` and/or ``.npz`` files.
    methods : list of str, default=None
        Methods (default: all available for each dataset's task); methods
        that do not fit a dataset's task are left out for it.
    seeds : sequence of int, default=(0, 1, 2)
        Seeds of every method (and head); the tables give mean and standard
        deviation over them.
    device : str, default="auto"
        Device of the resamplers with a ``device`` parameter; named in the
        tables.
    out : str or path-like, default="."
        Output folder.
    fast : bool, default=False
        Fast settings for slow resamplers (each method's ``fast_params``,
        listed in ``results.md``).
    verbose : bool, default=True
        Progress lines on stderr.
    command : str, default=None
        The command line that produced the run, recorded in ``results.md``
        and ``results.json``.

    Returns
    -------
    written : list of pathlib.Path
        ``results.json``, ``results.md`` and one ``<dataset>.png`` per dataset
        (when matplotlib is installed).
    """
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    all_results, sections, written, used = [], [], [], []
    device_text = _device_text(device)
    for name in datasets:
        data = load_task(name)
        task = data["task"]
        chosen = None
        if methods is not None:
            chosen = [m for m in methods if task in get_method(m).tasks]
        results = run_comparison(
            name, methods=chosen, seeds=seeds, device=device, fast=fast, verbose=verbose,
        )
        all_results.extend(results)
        used += [m for m in dict.fromkeys(r["method"] for r in results) if m not in used]
        summary = summarise(results)
        stem = Path(str(name)).stem
        section = f"## {data['title']}\n\n{format_table(summary)}\n"
        try:
            written.append(plot_results(summary, out / f"{stem}.png"))
        except ImportError:
            pass
        else:
            section += f"\n![{data['title']}]({stem}.png)\n"
        sections.append(section)
    elapsed = time.perf_counter() - start
    header = ["# skltsynth benchmark", ""]
    if command:
        header += [f"Command: `{command}`", ""]
    header += [
        f"Device: {device_text}. Seeds: {', '.join(map(str, seeds))} (mean ± std over seeds). "
        f"Total wall time: {elapsed / 60:.1f} min. {_versions()}.",
        "",
        "Heads: `LogisticRegression(C=10, max_iter=2000)` for classes, `Ridge(alpha=10)` for "
        "regression (predictions clipped to the training target range); the same head, "
        "split and seeds for every method.",
        "",
        _settings_text(used, fast),
    ]
    md = out / "results.md"
    md.write_text("\n".join(header) + "\n" + "\n".join(sections))
    js = out / "results.json"
    payload = {
        "command": command, "device": device_text, "seeds": list(seeds), "fast": fast,
        "fast_params": {m: get_method(m).fast_params for m in used
                        if fast and get_method(m).fast_params},
        "versions": _versions(), "wall_seconds": elapsed,
        "results": [{k: _jsonable(v) for k, v in row.items()} for row in all_results],
    }
    js.write_text(json.dumps(payload, indent=1))
    return [js, md, *written]


# ------------------------------------------------- skltsynth's resamplers
# One line per resampler; lazy "module:Class" references cost no import here.
register_method(
    "vmf_kde", "skltsynth.resamplers:VMFKDEResampler",
    description="skltsynth VMFKDEResampler: von Mises-Fisher KDE around real rows",
)

#: Engine settings of the diffusion resamplers under ``fast=True``
#: (``skltsynth demo`` and ``skltsynth benchmark --fast``): a smaller denoiser
#: trained for fewer steps, fewer sampling steps.  Their defaults are
#: ``train_steps=1000, sampling_steps=25, hidden_dim=512, n_layers=3``.
DIFFUSION_FAST_PARAMS = {"train_steps": 300, "sampling_steps": 20, "hidden_dim": 256,
                         "n_layers": 2}
#: Fast settings of the Epistemic Head fitted for the guided variants
#: (defaults ``max_epochs=50, head_max_epochs=20``).
GUIDANCE_FAST_PARAMS = {"head_max_epochs_base": 15, "head_max_epochs_heads": 10}
#: Guidance weight of the guided variants, fixed for every dataset: chosen once
#: by the in-distribution rule (:func:`skltsynth.guidance.select_guidance_scale`,
#: target ratio 0.5, scales 1..1e5) on the demo set, seed 0, MemoryDDPM with the
#: fast settings, 250 rows of the 25 rarest classes: P(class) of the epistemic
#: head fell from 0.977 (unguided) to 0.83 at 100, 0.71 at 316 and 0.44 at 1000.
GUIDANCE_SCALE = 300.0


class _GuidedResampler:
    """A diffusion resampler with Longtail Guidance from an Epistemic Head.

    ``fit_resample(X, y)`` first fits an
    :class:`~skltsynth.epistemic.EpistemicHeadClassifier` on ``(X, y)`` (its
    time counts as resampling time), then runs the wrapped resampler with
    ``guidance=LongtailGuidance(head, signal)`` and ``guidance_scale``.  The
    wrapped resampler's parameters are this object's parameters, so the
    runner can set ``device``, ``target_type`` and fast settings on it;
    fitted attributes (``sample_weight_``, ``is_synthetic_``, ...) are read
    from it.  Classification only (the head is a classifier).
    """

    _OWN = ("guidance_signal", "guidance_scale", "head_max_epochs_base",
            "head_max_epochs_heads")

    def __init__(self, resampler, guidance_signal="epistemic", guidance_scale=1.0,
                 head_max_epochs_base=50, head_max_epochs_heads=20):
        self.resampler = resampler
        self.guidance_signal = guidance_signal
        self.guidance_scale = guidance_scale
        self.head_max_epochs_base = head_max_epochs_base
        self.head_max_epochs_heads = head_max_epochs_heads

    def get_params(self, deep=True):
        params = {k: v for k, v in self.resampler.get_params(deep=False).items()
                  if k not in ("guidance", "guidance_scale")}
        params.update({k: getattr(self, k) for k in self._OWN})
        return params

    def set_params(self, **params):
        inner = {}
        for key, value in params.items():
            if key in self._OWN:
                setattr(self, key, value)
            else:
                inner[key] = value
        if inner:
            self.resampler.set_params(**inner)
        return self

    def fit_resample(self, X, y):
        from .epistemic import EpistemicHeadClassifier
        from .guidance import LongtailGuidance

        inner = self.resampler.get_params(deep=False)
        head = EpistemicHeadClassifier(
            max_epochs=self.head_max_epochs_base, head_max_epochs=self.head_max_epochs_heads,
            device=inner.get("device", "auto"), random_state=inner.get("random_state"),
        ).fit(X, y)
        guide = LongtailGuidance(head, signal=self.guidance_signal, scale=self.guidance_scale)
        self.resampler.set_params(guidance=guide, guidance_scale=self.guidance_scale)
        try:
            return self.resampler.fit_resample(X, y)
        finally:
            self.resampler.set_params(guidance=None, guidance_scale=0.0)

    def __getattr__(self, name):
        if name.endswith("_") and not name.startswith("_") and "resampler" in self.__dict__:
            return getattr(self.__dict__["resampler"], name)
        raise AttributeError(name)

    def __repr__(self):
        return (f"{type(self).__name__}({self.resampler!r}, "
                f"guidance_signal={self.guidance_signal!r}, "
                f"guidance_scale={self.guidance_scale!r})")


def _skltsynth_variant(ref, guided=False, **params):
    """Factory of a skltsynth resampler with ``params`` set (and optionally guided)."""

    def factory(task, random_state):
        sampler = _resolve_class(ref)(random_state=random_state, **params)
        return _GuidedResampler(sampler, guidance_scale=GUIDANCE_SCALE) if guided else sampler

    factory.skltsynth_ref = ref
    return factory


_LD = "skltsynth.resamplers:LatentDiffusionResampler"
_MD = "skltsynth.resamplers:MemoryDDPMResampler"
register_method(
    "latent_diffusion", _LD,
    description="skltsynth LatentDiffusionResampler (LatentDiff): conditional feature diffusion, "
    "priority allocation, Mahalanobis quality gate",
    fast_params=DIFFUSION_FAST_PARAMS,
)
register_method(
    "memory_ddpm", _MD,
    description="skltsynth MemoryDDPMResampler: memory-bank class-conditional DDPM; head fitted "
    "with its confidence weights (sample_weight_)",
    fast_params=DIFFUSION_FAST_PARAMS,
)
register_method(
    "latent_diffusion_coral", _skltsynth_variant(_LD, contrastive_weight=0.05),
    description="LatentDiffusionResampler(contrastive_weight=0.05): CORAL contrastive loss",
    fast_params=DIFFUSION_FAST_PARAMS,
)
register_method(
    "latent_diffusion_guided", _skltsynth_variant(_LD, guided=True), "classification",
    description="LatentDiffusionResampler with Longtail Guidance (epistemic signal of an "
    "EpistemicHeadClassifier fitted on the training rows, guidance_scale=300)",
    fast_params={**DIFFUSION_FAST_PARAMS, **GUIDANCE_FAST_PARAMS},
)
register_method(
    "memory_ddpm_coral", _skltsynth_variant(_MD, contrastive_weight=0.05),
    description="MemoryDDPMResampler(contrastive_weight=0.05): CORAL contrastive loss",
    fast_params=DIFFUSION_FAST_PARAMS,
)
register_method(
    "memory_ddpm_guided", _skltsynth_variant(_MD, guided=True), "classification",
    description="MemoryDDPMResampler with Longtail Guidance (epistemic signal of an "
    "EpistemicHeadClassifier fitted on the training rows, guidance_scale=300)",
    fast_params={**DIFFUSION_FAST_PARAMS, **GUIDANCE_FAST_PARAMS},
)
register_method(
    "memory_ddpm_unweighted", _skltsynth_variant(_MD, confidence=None, class_cost=None),
    description="MemoryDDPMResampler(confidence=None, class_cost=None): synthetic rows weigh 1 "
    "(no confidence weights)",
    fast_params=DIFFUSION_FAST_PARAMS,
)
