"""Facts shared by the benchmark, the CLI, the metrics, the examples and the tools.

One definition each; import them instead of restating the numbers:

* the default heads of the benchmark (:func:`default_head`);
* the shot-group thresholds (:data:`CLASS_SHOTS`, :data:`BIN_SHOTS`,
  :func:`shot_thresholds`);
* the "fast" engine settings of the diffusion resamplers
  (:data:`DIFFUSION_FAST_PARAMS`), the engine's default number of sampling
  steps (:data:`DIFFUSION_SAMPLING_STEPS`) and the settings the resamplers
  size to the data (:data:`DIFFUSION_SIZED_PARAMS`).

No import of torch or scikit-learn here: the command line's ``--help`` reads
these facts without loading either.
"""

from __future__ import annotations

__all__ = [
    "BIN_SHOTS",
    "CLASS_SHOTS",
    "DEFAULT_HEADS",
    "DIFFUSION_FAST_PARAMS",
    "DIFFUSION_SAMPLING_STEPS",
    "DIFFUSION_SIZED_PARAMS",
    "default_head",
    "default_head_text",
    "diffusion_defaults_text",
    "fast_params_text",
    "shot_thresholds",
]

#: Shot groups of a class by its training count: many ``>= 50``, few ``< 15``
#: (the long-tailed CLINC150 protocol).
CLASS_SHOTS = {"many": 50, "few": 15}
#: Shot groups of a DIR bin by its training count: many ``> 100``, few ``< 20``
#: (the STS-B-DIR protocol of Yang et al. 2021).
BIN_SHOTS = {"many": 100, "few": 20}

#: Engine settings of the diffusion resamplers under ``fast=True``
#: (``skltsynth demo`` and ``skltsynth benchmark --fast``): a smaller denoiser
#: trained for fewer steps, fewer sampling steps.
#: Default DDIM steps of the diffusion engine (``DiffusionConfig.sampling_steps``)
#: and so of the diffusion resamplers' ``sampling_steps``.
DIFFUSION_SAMPLING_STEPS = 25
#: Engine settings whose resampler default is ``"auto"``: sized to the data by
#: :func:`skltsynth.engines.diffusion.engine_size`.
DIFFUSION_SIZED_PARAMS = ("hidden_dim", "n_layers", "batch_size", "train_steps")
DIFFUSION_FAST_PARAMS = {"train_steps": 300, "sampling_steps": 20, "hidden_dim": 256,
                         "n_layers": 2}


def shot_thresholds(task, many=None, few=None):
    """The ``(many, few)`` thresholds of a task, with any given value kept.

    Parameters
    ----------
    task : {"classification", "regression"}
    many, few : int or None, default=None
        Values to keep; ``None`` takes the task's default.

    Returns
    -------
    many, few : int

    Examples
    --------
    >>> from skltsynth._defaults import shot_thresholds
    >>> shot_thresholds("classification"), shot_thresholds("regression", few=10)
    ((50, 15), (100, 10))
    """
    table = BIN_SHOTS if task == "regression" else CLASS_SHOTS
    return (table["many"] if many is None else many, table["few"] if few is None else few)


#: The default head of each task: (module, class, parameters).
DEFAULT_HEADS = {
    "classification": ("sklearn.linear_model", "LogisticRegression", {"C": 10, "max_iter": 2000}),
    "regression": ("sklearn.linear_model", "Ridge", {"alpha": 10}),
}


def default_head(task="classification"):
    """A new default head: ``LogisticRegression(C=10, max_iter=2000)`` / ``Ridge(alpha=10)``.

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"

    Returns
    -------
    head : estimator (unfitted)

    Examples
    --------
    >>> from skltsynth._defaults import default_head
    >>> default_head()
    LogisticRegression(C=10, max_iter=2000)
    """
    import importlib

    module, name, params = DEFAULT_HEADS[task]
    return getattr(importlib.import_module(module), name)(**params)


def default_head_text(task="classification"):
    """The default head as text, without importing scikit-learn.

    Examples
    --------
    >>> from skltsynth._defaults import default_head_text
    >>> default_head_text("regression")
    'Ridge(alpha=10)'
    """
    _, name, params = DEFAULT_HEADS[task]
    return f"{name}({fast_params_text(params)})"


def fast_params_text(params=None):
    """``"train_steps=300, sampling_steps=20, ..."`` (or any ``params``) as ``k=v`` text."""
    params = DIFFUSION_FAST_PARAMS if params is None else params
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def diffusion_defaults_text(params=None):
    """The diffusion resamplers' own defaults of the keys of ``params`` as ``k=v`` text.

    ``"auto"`` for the settings sized to the data (:data:`DIFFUSION_SIZED_PARAMS`),
    :data:`DIFFUSION_SAMPLING_STEPS` for ``sampling_steps``; e.g.
    ``"train_steps='auto', sampling_steps=25, ..."`` (no torch import).
    """
    keys = DIFFUSION_FAST_PARAMS if params is None else params
    known = {"sampling_steps": DIFFUSION_SAMPLING_STEPS,
             **{k: "auto" for k in DIFFUSION_SIZED_PARAMS}}
    return fast_params_text({k: known[k] for k in keys})
