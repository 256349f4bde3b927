"""The method registry: what a comparison method is, and how one is built.

A *method* is a name with a factory ``(task, random_state) -> resampler or
None`` (``None`` = train the head on the real rows only) or a lazy
``"package.module:Class"`` reference, the tasks it supports, how the head is
weighted (``None``, ``"balanced"``, ``"lds"``), whether the head's scores are
logit-adjusted afterwards, and whether it is one of skltsynth's own
resamplers (``ours``).  The built-in methods are registered in
:mod:`skltsynth.benchmark.methods`, the one table of registrations.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field

__all__ = [
    "REFERENCE",
    "TASKS",
    "Method",
    "MethodSkipped",
    "available_methods",
    "describe_method",
    "get_method",
    "make_sampler",
    "no_resampling",
    "register_method",
    "resolve_class",
    "unavailable_reason",
]

TASKS = ("classification", "regression")
#: Reference method of the time / memory ratios, per task.
REFERENCE = {"classification": "smote", "regression": "smoter"}


def no_resampling(task, random_state):
    """Factory of the methods that train the head on the real rows only."""
    return None


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
    logit_adjust : bool
        Predict with the head's scores shifted by ``-log(prior)``
        (:class:`skltsynth.LogitAdjustedClassifier`, ``tau=1``).
    ours : bool
        One of skltsynth's resamplers (the others are baselines).
    uses_torch : bool
        Runs torch (the runner warms torch up once, unmeasured).
    """

    name: str
    factory: object
    tasks: tuple
    weighting: str | None = None
    description: str = ""
    requires: tuple = ()
    fast_params: dict = field(default_factory=dict)
    logit_adjust: bool = False
    ours: bool = False
    uses_torch: bool = False

    @property
    def resamples(self):
        """False for the methods that only weight or adjust the head."""
        return self.factory is not no_resampling

    @property
    def at_defaults(self):
        """True for a lazy ``"module:Class"`` method: the class at its default parameters."""
        return isinstance(self.factory, str)


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
    logit_adjust=False,
    ours=False,
    uses_torch=False,
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
    logit_adjust : bool, default=False
        Wrap the head in :class:`skltsynth.LogitAdjustedClassifier` (classes
        only; heads without ``decision_function`` / ``predict_proba`` skip it).
    ours : bool, default=False
        Mark the method as one of skltsynth's resamplers.
    uses_torch : bool, default=False
        The resampler runs torch.
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
        name, factory, tasks, weighting, description, tuple(requires), dict(fast_params or {}),
        bool(logit_adjust), bool(ours), bool(uses_torch),
    )
    _REGISTRY[name] = method
    return method


def registered_methods():
    """Every registered :class:`Method`, in registration order (imports nothing)."""
    return list(_REGISTRY.values())


def get_method(name):
    """The registered :class:`Method` called ``name`` (``KeyError`` naming the known ones)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"Unknown method {name!r}; known methods: {', '.join(_REGISTRY)}."
        ) from None


def resolve_class(ref):
    """The class named by a ``"package.module:Class"`` reference (imported now)."""
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
            resolve_class(method.factory)
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
        cls = resolve_class(method.factory)
        sampler = cls(random_state=random_state)
    else:
        sampler = method.factory(task, random_state)
    if sampler is not None and fast and method.fast_params:
        sampler.set_params(**method.fast_params)
    return sampler

