"""Longtail Guidance: steer diffusion sampling towards a model's long tail.

:class:`LongtailGuidance` turns a fitted predictive model into the signal the
diffusion engine increases while sampling (``signal_fn(x0_hat, cond)``, see
:mod:`skltsynth.diffusion.sampling`), and :func:`select_guidance_scale`
implements the paper's in-distribution rule for the guidance weight: the
model's probability of the intended class on guided rows must drop below its
unguided value but stay a sizeable fraction of it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.base import clone

from .epistemic import LONGTAIL_SIGNALS

__all__ = ["LongtailGuidance", "ScaleSelection", "refit_sampler", "select_guidance_scale"]


class LongtailGuidance:
    """Guidance signal from a predictive model's longtail score.

    Called as ``guidance(x0_hat, cond) -> (n,)`` by the diffusion engine: it
    returns the model's longtail signal of the current clean-row estimate
    ``x0_hat`` (original feature units, differentiable), which sampling then
    pushes up by ``scale``.  ``cond`` is accepted and ignored (the signals
    need no label).

    **Guidance protocol.**  ``model`` can be

    * a fitted :class:`~skltsynth.epistemic.EpistemicHeadClassifier`;
    * any fitted object with a method ``torch_signal(signal) -> fn`` where
      ``fn(x: Tensor (n, d)) -> Tensor (n,)`` is differentiable in ``x``,
      takes rows in the original units of the data, and returns a score that
      is higher for rarer / harder rows; when ``fn`` is a
      :class:`torch.nn.Module` it is moved to the device (and dtype) of the
      rows it is called on;
    * a plain callable ``fn(x) -> (n,)`` with the same meaning (``signal`` is
      then ignored).

    Parameters
    ----------
    model : estimator with ``torch_signal`` or callable
        See the protocol above.
    signal : {"epistemic", "entropy", "energy"}, default="epistemic"
        Which signal to ask the model for.
    scale : float >= 0, default=1.0
        Guidance weight ``w`` (``eps_hat - w sigma_t grad``).  It needs
        re-tuning for every data set: use :func:`select_guidance_scale`.
    jacobian : bool, default=False
        ``True``: exact gradient through the denoiser; ``False``: the cheap
        ``alpha_t * grad_x0`` approximation (no network Jacobian).

    Attributes
    ----------
    fn_ : callable
        The torch signal in use.

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import make_blobs
    >>> from skltsynth.epistemic import EpistemicHeadClassifier
    >>> from skltsynth.guidance import LongtailGuidance
    >>> X, y = make_blobs(n_samples=150, centers=3, n_features=4, random_state=0)
    >>> clf = EpistemicHeadClassifier(max_epochs=10, head_max_epochs=5, device="cpu",
    ...                               random_state=0).fit(X, y)
    >>> guide = LongtailGuidance(clf, signal="entropy", scale=0.5)
    >>> guide(torch.tensor(X[:4], dtype=torch.float32), None).shape
    torch.Size([4])
    >>> sorted(guide.sample_kwargs())
    ['guidance', 'guidance_jacobian', 'guidance_scale']
    """

    def __init__(self, model, signal="epistemic", scale=1.0, jacobian=False):
        if signal not in LONGTAIL_SIGNALS:
            raise ValueError(f"signal must be one of {LONGTAIL_SIGNALS}, got {signal!r}.")
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale >= 0:
            raise ValueError(f"scale must be a real number >= 0, got {scale!r}.")
        if not isinstance(jacobian, (bool, np.bool_)):
            raise TypeError(f"jacobian must be a bool, got {type(jacobian).__name__}.")
        self.model = model
        self.signal = signal
        self.scale = float(scale)
        self.jacobian = bool(jacobian)
        if hasattr(model, "torch_signal"):
            self.fn_ = model.torch_signal(signal)
        elif callable(model):
            self.fn_ = model
        else:
            raise TypeError(
                "model must be a fitted estimator with a torch_signal(signal) method "
                f"(e.g. EpistemicHeadClassifier) or a callable x -> (n,); got {type(model).__name__}."
            )
        if not callable(self.fn_):
            raise TypeError("model.torch_signal(signal) must return a callable x -> (n,).")

    def _place(self, x):
        fn = self.fn_
        if isinstance(fn, torch.nn.Module):
            ref = next(iter(fn.parameters()), None)
            if ref is None:
                ref = next(iter(fn.buffers()), None)
            if ref is not None and (ref.device != x.device or ref.dtype != x.dtype):
                fn.to(device=x.device, dtype=x.dtype)
        return fn

    def __call__(self, x0_hat, cond=None):
        out = self._place(x0_hat)(x0_hat)
        if not isinstance(out, torch.Tensor) or out.shape != (x0_hat.shape[0],):
            raise ValueError(
                "The guidance signal must return a tensor of shape (n,), got "
                f"{getattr(out, 'shape', type(out).__name__)}."
            )
        return out

    @property
    def signal_fn(self):
        """The engine callable ``(x0_hat, cond) -> (n,)`` (this object)."""
        return self

    def with_scale(self, scale):
        """A copy sharing the model and torch signal, with another ``scale``."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.scale = float(scale)
        return new

    def sample_kwargs(self):
        """Keyword arguments for :meth:`skltsynth.diffusion.FeatureDiffusion.sample`."""
        return {"guidance": self, "guidance_scale": self.scale, "guidance_jacobian": self.jacobian}

    def __getstate__(self):
        state = dict(self.__dict__)
        if isinstance(state.get("fn_"), torch.nn.Module):
            state["fn_"] = state["fn_"].to("cpu")
        return state

    def __repr__(self):
        return (
            f"LongtailGuidance(model={type(self.model).__name__}, signal={self.signal!r}, "
            f"scale={self.scale!r}, jacobian={self.jacobian!r})"
        )


@dataclass
class ScaleSelection:
    """Result of :func:`select_guidance_scale`.

    Attributes
    ----------
    scale : float
        Largest scale meeting the rule (0.0 when none does).
    table : list of dict
        Per scale: ``scale``, ``p_class`` (mean probability of the intended
        class), ``ratio`` (``p_class`` over the unguided value) and
        ``signal`` (mean longtail score, when the model has
        ``longtail_score``).
    unguided : dict
        The same numbers for scale 0.
    """

    scale: float
    table: list = field(default_factory=list)
    unguided: dict = field(default_factory=dict)


def _class_probability(model, X, y):
    proba = model.predict_proba(X)
    classes = np.asarray(model.classes_)
    order = np.argsort(classes)
    pos = np.searchsorted(classes[order], y)
    pos = np.clip(pos, 0, len(classes) - 1)
    known = classes[order][pos] == y
    p = np.zeros(len(y))
    p[known] = proba[np.flatnonzero(known), order[pos[known]]]
    return p


def select_guidance_scale(
    sample_fn,
    model,
    *,
    signal="epistemic",
    target_ratio=0.5,
    scales=tuple(float(v) for v in np.logspace(-1, 4, 11)),
    jacobian=False,
):
    """Pick a guidance weight by the in-distribution rule.

    For each scale, rows are generated with ``LongtailGuidance(model, signal,
    scale, jacobian)`` and the model's mean probability of each row's
    intended class is compared with the unguided value.  The chosen scale is
    the largest one whose probability is below the unguided value but at
    least ``target_ratio`` times it (guided rows harder for the model, yet
    still of their class).

    Parameters
    ----------
    sample_fn : callable
        ``sample_fn(guidance) -> (X_new, y_new)``: generate rows with the
        given :class:`LongtailGuidance` (``None`` = unguided) and return them
        with their intended labels (in ``model.classes_`` terms).  Use the
        same seed on every call so only the guidance differs.
        :func:`refit_sampler` builds one for a diffusion resampler.
    model : fitted classifier with ``predict_proba`` and ``classes_``
        The guiding model (e.g. :class:`~skltsynth.epistemic.EpistemicHeadClassifier`);
        best fitted on data not used by ``sample_fn`` (a held-out part of
        the training data).
    signal : {"epistemic", "entropy", "energy"}, default="epistemic"
    target_ratio : float in (0, 1), default=0.5
        Lowest acceptable guided/unguided ratio of the intended-class
        probability.
    scales : sequence of float > 0, default=logspace(-1, 4, 11)
        Candidate scales, tried from the smallest up; the search stops at the
        first scale whose ratio falls below ``target_ratio`` (larger ones only
        push rows further from their class), so ``selection.table`` may be
        shorter than ``scales``.  The useful range depends on the
        signal's size: the epistemic signal of well-agreeing heads is small
        (often ~1e-3 nats), so it needs far larger weights than entropy.
    jacobian : bool, default=False
        Passed to :class:`LongtailGuidance`.

    Returns
    -------
    selection : ScaleSelection

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from skltsynth.epistemic import EpistemicHeadClassifier
    >>> from skltsynth.guidance import select_guidance_scale
    >>> X, y = make_blobs(n_samples=150, centers=3, n_features=4, random_state=0)
    >>> clf = EpistemicHeadClassifier(max_epochs=10, head_max_epochs=5, device="cpu",
    ...                               random_state=0).fit(X, y)
    >>> def fake_sampler(guidance):  # shrinks rows towards 0 as the scale grows
    ...     s = 0.0 if guidance is None else guidance.scale
    ...     return X / (1.0 + s), y
    >>> sel = select_guidance_scale(fake_sampler, clf, signal="entropy",
    ...                             scales=(0.5, 1.0, 5.0))
    >>> sel.scale in (0.0, 0.5, 1.0, 5.0)
    True
    """
    if not 0.0 < float(target_ratio) < 1.0:
        raise ValueError(f"target_ratio must be in (0, 1), got {target_ratio!r}.")
    scales = sorted(float(s) for s in scales)
    if not scales or scales[0] <= 0:
        raise ValueError("scales must be a non-empty sequence of positive numbers.")
    if not callable(sample_fn):
        raise TypeError("sample_fn must be a callable guidance -> (X_new, y_new).")

    def measure(guidance):
        X_new, y_new = sample_fn(guidance)
        X_new = np.asarray(X_new)
        y_new = np.asarray(y_new)
        row = {"p_class": float(np.mean(_class_probability(model, X_new, y_new)))}
        if hasattr(model, "longtail_score"):
            row["signal"] = float(np.mean(model.longtail_score(X_new, signal=signal)))
        return row

    unguided = measure(None)
    unguided.update(scale=0.0, ratio=1.0)
    base = LongtailGuidance(model, signal=signal, scale=scales[0], jacobian=jacobian)
    table, chosen = [], 0.0
    for s in scales:
        row = measure(base.with_scale(s))
        row["scale"] = s
        row["ratio"] = row["p_class"] / unguided["p_class"] if unguided["p_class"] > 0 else 0.0
        table.append(row)
        if target_ratio <= row["ratio"] < 1.0:
            chosen = s
        elif row["ratio"] < target_ratio:
            break  # larger scales move rows further from their class: stop searching
    return ScaleSelection(scale=chosen, table=table, unguided=unguided)


def refit_sampler(resampler, X, y):
    """``sample_fn`` for :func:`select_guidance_scale` from a diffusion resampler.

    Each call clones ``resampler`` (keeping its ``random_state``, so training
    is identical), sets ``guidance`` / ``guidance_scale`` (and
    ``guidance_jacobian`` when the resampler has it) and returns the
    synthetic rows of ``fit_resample(X, y)`` with their labels.  This uses only
    the public resampler API; it retrains the diffusion model on every call.

    Parameters
    ----------
    resampler : imblearn-style resampler with a ``guidance`` parameter
        Its ``random_state`` should be an int.
    X, y : array-like
        Data to resample (e.g. a held-out part of the training data).

    Returns
    -------
    sample_fn : callable ``guidance -> (X_new, y_new)``
    """
    params = resampler.get_params(deep=False)
    if "guidance" not in params:
        raise TypeError(f"{type(resampler).__name__} has no `guidance` parameter.")

    def sample_fn(guidance):
        est = clone(resampler)
        new = {"guidance": guidance, "guidance_scale": 0.0 if guidance is None else guidance.scale}
        if "guidance_jacobian" in params and guidance is not None:
            new["guidance_jacobian"] = guidance.jacobian
        est.set_params(**new)
        X_res, y_res = est.fit_resample(X, y)
        mask = np.asarray(est.is_synthetic_)
        return np.asarray(X_res)[mask], np.asarray(y_res)[mask]

    return sample_fn
