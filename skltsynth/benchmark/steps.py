"""The steps of one benchmark run: configure the sampler, weight, score, measure cleanly.

* :func:`adapt_sampler` sets, when the resampler has such a parameter:
  ``target_type`` (the task), ``n_bins`` (the DIR bin edges), ``device``
  and -- for classes -- caps ``k_neighbors`` / ``n_neighbors`` at the
  smallest class size minus one;
* head weights follow :func:`skltsynth.heads.meta.resampled_weights` (the
  resampler's ``sample_weight_`` times the method's real-row weights);
* scores per shot group (:func:`skltsynth.tooling.metrics.shot_group_report`,
  :func:`~skltsynth.tooling.metrics.regression_shot_report`) and synthetic-row
  quality;
* freed memory handed back and torch warmed up before measured calls.
"""

from __future__ import annotations

import numbers
import sys
import warnings

import numpy as np

from .._defaults import shot_thresholds

__all__ = ["adapt_sampler"]


def adapt_sampler(sampler, task, y, bins=None, device=None):
    """Set the data-dependent parameters a sampler has, as the runner does.

    Parameters
    ----------
    sampler : object
        A resampler (changed in place when it has ``get_params``).
    task : {"classification", "regression"}
    y : array-like of shape (n_samples,)
        Training targets (the smallest class caps the neighbour counts).
    bins : array-like, default=None
        DIR bin edges, for ``n_bins``.
    device : str, default=None
        For resamplers with a ``device`` parameter.

    Returns
    -------
    sampler : object

    Examples
    --------
    >>> import numpy as np
    >>> from imblearn.over_sampling import SMOTE
    >>> from skltsynth.benchmark import adapt_sampler
    >>> adapt_sampler(SMOTE(), "classification", np.array([0, 0, 0, 0, 1, 1, 1]))
    SMOTE(k_neighbors=2)
    """
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


def _real_row_weights(method, y_train, bins):
    """The method's weights of the real rows (``None``: every row weighs 1)."""
    if method.weighting == "balanced":
        from sklearn.utils.class_weight import compute_sample_weight

        return compute_sample_weight("balanced", y_train)
    if method.weighting == "lds":
        from ..policy.targets import lds_weights

        return lds_weights(y_train, bins)
    return None


def _head_weights(method, sampler, y_train, n_fit, bins):
    """Weights of the rows the head is fitted on (``None`` when all are 1)."""
    base = _real_row_weights(method, y_train, bins)
    if sampler is None:
        return base
    from ..heads.meta import resampled_weights  # here: the CLI's help must not import sklearn

    weights = resampled_weights(sampler, len(y_train), n_fit, base)
    return None if np.allclose(weights, 1.0) else weights


def _evaluate(task, y_test, pred, y_train, bins, many, few):
    from ..tooling.metrics import regression_shot_report, shot_group_report

    many, few = shot_thresholds(task, many, few)
    if task == "classification":
        return shot_group_report(y_test, pred, y_train, many=many, few=few)
    return regression_shot_report(y_test, pred, y_train, bins, many=many, few=few)


_QUALITY_KEYS = ("mmd2", "precision", "recall", "coverage", "copy_fraction", "nearest_real_ratio")


def _quality(task, X_train, y_train, X_fit, y_fit, bins, data):
    """Synthetic-row quality (averaged over classes / bins): keys ``q_*``."""
    from ..tooling.metrics import synthetic_quality_report

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
    :mod:`skltsynth.tooling._profiling`); pages that glibc keeps after an earlier
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
            from ..heads.epistemic import EpistemicHeadClassifier
            from ..resamplers import LatentDiffusionResampler, MemoryDDPMResampler

            dev = {} if device is None else {"device": device}
            LatentDiffusionResampler(**engine, **dev).fit_resample(X, y)
            MemoryDDPMResampler(**engine, **dev).fit_resample(X, y)
            EpistemicHeadClassifier(max_epochs=1, head_max_epochs=1, random_state=0,
                                    **dev).fit(X, y)
        except Exception:  # pragma: no cover - the measured runs report real errors
            pass
