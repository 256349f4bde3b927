"""Compare resampling methods on several heads: the core of ``skltsynth demo`` / ``benchmark``.

Layout (one job per module):

* :mod:`~skltsynth.benchmark.registry` -- what a method is
  (:class:`Method`, :func:`register_method`, :func:`make_sampler`);
* :mod:`~skltsynth.benchmark.methods` -- the one table of built-in methods:
  baselines (none, class weights, post-hoc logit adjustment, random
  over-sampling, SMOTE, SMOTER, smogn, smote-variants) and skltsynth's
  resamplers (``ours=True``);
* :mod:`~skltsynth.benchmark.baselines` -- factories and adapters of the
  third-party baselines; :mod:`~skltsynth.benchmark.guided` -- skltsynth
  variants and Longtail Guidance;
* :mod:`~skltsynth.benchmark.heads` -- the head axis (``lr``, ``svm``,
  ``knn``, ``rf``, ``mlp``; ``ridge``, ``knn``, ``hgb``, ``mlp``);
* :mod:`~skltsynth.benchmark.data` -- datasets;
* :mod:`~skltsynth.benchmark.runner` -- :func:`run_comparison`;
* :mod:`~skltsynth.benchmark.report` -- :func:`summarise`,
  :func:`format_table` (best baseline per head marked);
  :mod:`~skltsynth.benchmark.plots` -- :func:`plot_results`;
* :mod:`~skltsynth.benchmark.suite` -- :func:`run_benchmark` (files).

Extension point: register a resampler with one call, e.g.::

    register_method("my_sampler", "package.module:MySampler",
                    description="...", ours=True)
"""

from . import methods as _methods  # noqa: F401  (registers the built-in methods)
from .data import DATASETS, infer_task, load_task
from .guided import GUIDANCE_FAST_PARAMS, GUIDANCE_SCALE, GuidedResampler, MinedResampler
from .heads import HEADS, head_names, head_text, make_head
from .plots import plot_results
from .registry import (
    REFERENCE,
    TASKS,
    Method,
    MethodSkipped,
    available_methods,
    describe_method,
    get_method,
    registered_methods,
    make_sampler,
    register_method,
    unavailable_reason,
)
from .report import best_baselines, format_table, is_ours, split_by_head, summarise
from .runner import run_comparison
from .steps import adapt_sampler
from .suite import device_text, run_benchmark

__all__ = [
    "DATASETS",
    "GUIDANCE_FAST_PARAMS",
    "GUIDANCE_SCALE",
    "HEADS",
    "REFERENCE",
    "TASKS",
    "GuidedResampler",
    "MinedResampler",
    "Method",
    "MethodSkipped",
    "adapt_sampler",
    "available_methods",
    "best_baselines",
    "describe_method",
    "device_text",
    "format_table",
    "get_method",
    "registered_methods",
    "head_names",
    "head_text",
    "infer_task",
    "is_ours",
    "load_task",
    "make_head",
    "make_sampler",
    "plot_results",
    "register_method",
    "run_benchmark",
    "run_comparison",
    "split_by_head",
    "summarise",
    "unavailable_reason",
]
