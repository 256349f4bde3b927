"""Longtail Guidance: steer diffusion sampling towards a model's long tail.

:class:`LongtailGuidance` turns a fitted predictive model into the signal the
diffusion engine increases while sampling (``guidance(x0_hat, cond)``, see
:mod:`skltsynth.engines.diffusion.sampling`), and :func:`select_guidance_scale`
implements the paper's in-distribution rule for the guidance weight: the
model's probability of the intended class on guided rows must drop below its
unguided value but stay a sizeable fraction of it.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.base import clone

from ..heads.epistemic import LONGTAIL_SIGNALS

__all__ = [
    "LongtailGuidance",
    "ScaleSelection",
    "as_guidance",
    "refit_sampler",
    "select_guidance_scale",
]


def _takes_condition(fn):
    """True when ``fn`` accepts a second positional argument (the condition)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: pass x only
        return False
    positional = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
    return varargs or len(positional) >= 2


class LongtailGuidance:
    """The guidance object: a longtail signal, its weight and its gradient rule.

    This is the one guidance contract of the package.  The diffusion engine
    calls it as ``guidance(x0_hat, cond) -> (n,)`` on the current clean-row
    estimate ``x0_hat`` (original feature units, differentiable) and pushes
    the signal up by ``scale`` (Longtail Guidance, eq. 11:
    ``eps_hat = eps - w * sigma_t * grad f(x0_hat)``), with the gradient
    through the denoiser (``jacobian=True``) or the cheap one.  A diffusion
    resampler given ``guidance=LongtailGuidance(...)`` guides with the
    object's own ``scale`` and ``jacobian``; its ``guidance_scale``
    parameter, when set, overrides the scale.  A plain callable given as
    ``guidance`` is wrapped into ``LongtailGuidance(callable)``.

    ``model`` can be

    * a fitted :class:`~skltsynth.heads.epistemic.EpistemicHeadClassifier`;
    * any fitted object with a method ``torch_signal(signal) -> fn`` where
      ``fn(x: Tensor (n, d)) -> Tensor (n,)`` is differentiable in ``x``,
      takes rows in the original units of the data, and returns a score that
      is higher for rarer / harder rows; when ``fn`` is a
      :class:`torch.nn.Module` it is moved to the device (and dtype) of the
      rows it is called on;
    * a plain callable ``fn(x) -> (n,)`` or ``fn(x, cond) -> (n,)`` with the
      same meaning (``signal`` is then ignored; ``cond`` is the class index
      or target of each row).

    Parameters
    ----------
    model : estimator with ``torch_signal`` or callable
        See above.
    signal : str or None, default=None
        Which signal to ask the model for: ``"epistemic"``, ``"entropy"``,
        ``"energy"``, ``"base_entropy"``, ``"base_energy"`` (classifiers) or
        ``"variance"`` (:class:`~skltsynth.heads.epistemic.EpistemicHeadRegressor`,
        for continuous targets); None = the model's main signal
        (``"epistemic"`` for a classifier, ``"variance"`` for a regressor).
    scale : float >= 0, default=1.0
        Guidance weight ``w``.  It needs re-tuning for every data set and
        signal: use :func:`select_guidance_scale`.  A scale of 0 guides
        nothing, and a resampler warns about it.
    jacobian : bool, default=False
        ``True``: exact gradient through the denoiser on the low-noise steps
        (see :mod:`skltsynth.engines.diffusion.sampling`); ``False``: the cheap
        ``alpha_t * grad_x0`` rule (no network Jacobian).

    Attributes
    ----------
    fn_ : callable
        The torch signal in use.
    region : DataRegion or None
        The real rows' region guided x0 estimates are projected into (set on
        a copy by :meth:`within`; the diffusion resamplers do it with their
        training rows, so guided rows stay on the data).
    n_projected_ : int
        Rows that copy's :meth:`project` moved on the last sampling step.

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import make_blobs
    >>> from skltsynth.heads.epistemic import EpistemicHeadClassifier
    >>> from skltsynth.policy.guidance import LongtailGuidance
    >>> X, y = make_blobs(n_samples=150, centers=3, n_features=4, random_state=0)
    >>> clf = EpistemicHeadClassifier(max_epochs=10, head_max_epochs=5, device="cpu",
    ...                               random_state=0).fit(X, y)
    >>> guide = LongtailGuidance(clf, signal="entropy", scale=0.5)
    >>> guide(torch.tensor(X[:4], dtype=torch.float32), None).shape
    torch.Size([4])
    >>> LongtailGuidance(lambda x: -x[:, 0], scale=2.0).with_scale(3.0).scale
    3.0
    """

    #: Region guided x0 estimates are projected into (set by :meth:`within`).
    region = None
    #: Rows :meth:`project` moved on the last step since :meth:`within`.
    n_projected_ = 0

    def __init__(self, model, signal=None, scale=1.0, jacobian=False):
        if signal is not None and signal not in LONGTAIL_SIGNALS:
            raise ValueError(f"signal must be one of {LONGTAIL_SIGNALS}, got {signal!r}.")
        self.model = model
        self.signal = signal
        self.scale = _check_scale(scale, "scale")
        if not isinstance(jacobian, (bool, np.bool_)):
            raise TypeError(f"jacobian must be a bool, got {type(jacobian).__name__}.")
        self.jacobian = bool(jacobian)
        if hasattr(model, "torch_signal"):
            self.fn_ = model.torch_signal(signal)
            self._with_cond = False
        elif callable(model):
            self.fn_ = model
            self._with_cond = _takes_condition(model)
        else:
            raise TypeError(
                "guidance must be a fitted estimator with a torch_signal(signal) method "
                "(e.g. EpistemicHeadClassifier), a LongtailGuidance or a callable "
                f"x0_hat[, cond] -> (n,); got {type(model).__name__}."
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
        fn = self._place(x0_hat)
        out = fn(x0_hat, cond) if self._with_cond else fn(x0_hat)
        if not isinstance(out, torch.Tensor) or out.shape != (x0_hat.shape[0],):
            raise ValueError(
                "The guidance signal must return a tensor of shape (n,), got "
                f"{getattr(out, 'shape', type(out).__name__)}."
            )
        return out

    def with_scale(self, scale):
        """A copy sharing the model and torch signal, with another ``scale``."""
        new = self._copy()
        new.scale = _check_scale(scale, "scale")
        return new

    def _copy(self):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def within(self, region):
        """A copy that keeps guided rows in ``region`` (the real rows' region).

        The diffusion resamplers call this with the
        :class:`~skltsynth.policy.data_region.DataRegion` of their training
        rows before sampling; the sampler then projects every guided x0
        estimate into it (:meth:`project`).  The copy counts the rows it
        pulled back on the last step in ``n_projected_``.

        Parameters
        ----------
        region : DataRegion or None
            None: no projection.

        Returns
        -------
        guidance : LongtailGuidance
        """
        new = self._copy()
        new.region = region
        new.n_projected_ = 0
        return new

    def project(self, x0, cond=None, final=False):
        """The x0 estimate pulled into ``region`` (unchanged without a region).

        Parameters
        ----------
        x0 : torch.Tensor of shape (n, d)
            Guided clean-row estimate, original units.
        cond : torch.Tensor of shape (n,), optional
            Condition of each row (the class index selects the class's ball).
        final : bool, default=False
            The last sampling step: rows moved by more than
            :data:`PROJECTED_RTOL` of the largest real norm are counted in
            ``n_projected_``.

        Returns
        -------
        x0 : torch.Tensor of shape (n, d)
        """
        if self.region is None:
            return x0
        out = self.region.project(x0, cond)
        if final:
            moved = (out - x0).norm(dim=1) > PROJECTED_RTOL * max(self.region.norm_range[1], 1e-12)
            self.n_projected_ += int(moved.sum())
        return out

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


#: A final row counts as pulled back (``n_projected_``) when the projection moved
#: it by more than this fraction of the largest real norm.
PROJECTED_RTOL = 1e-2


def _check_scale(scale, name):
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale >= 0:
        raise ValueError(f"{name} must be a real number >= 0, got {scale!r}.")
    return float(scale)


def as_guidance(guidance, scale=None):
    """The guidance object a diffusion resampler samples with.

    Parameters
    ----------
    guidance : LongtailGuidance, callable or None
        A guidance object is used with its own ``scale`` and ``jacobian``; a
        callable signal ``fn(x0_hat[, cond]) -> (n,)`` is wrapped into
        ``LongtailGuidance(fn)``.
    scale : float >= 0 or None, default=None
        Override of the object's scale (a resampler's ``guidance_scale``).

    Returns
    -------
    guidance : LongtailGuidance or None

    Warns
    -----
    UserWarning
        When the effective scale is 0: sampling is then unguided.

    Examples
    --------
    >>> from skltsynth.policy.guidance import as_guidance
    >>> g = as_guidance(lambda x0, cond: x0.sum(1), scale=0.5)
    >>> type(g).__name__, g.scale, g.jacobian
    ('LongtailGuidance', 0.5, False)
    >>> as_guidance(None) is None
    True
    """
    if guidance is None:
        if scale is not None and float(scale) > 0:
            warnings.warn(f"guidance_scale={scale} has no effect without a guidance signal.",
                          UserWarning, stacklevel=3)
        return None
    if not isinstance(guidance, LongtailGuidance):
        guidance = LongtailGuidance(guidance)
    if scale is not None:
        guidance = guidance.with_scale(_check_scale(scale, "guidance_scale"))
    if guidance.scale == 0.0:
        warnings.warn(
            "The guidance scale is 0, so sampling is unguided: set LongtailGuidance(scale=...) "
            "(select_guidance_scale picks one) or the resampler's guidance_scale.",
            UserWarning, stacklevel=3)
    return guidance


@dataclass
class ScaleSelection:
    """Result of :func:`select_guidance_scale`.

    Attributes
    ----------
    scale : float
        Largest scale meeting the rule (0.0 when none does).
    table : list of dict
        Per scale: ``scale``, ``p_class`` (mean probability of the intended
        class), ``ratio`` (``p_class`` over the unguided value), ``signal``
        (mean longtail score, when the model has ``longtail_score``) and
        ``accepted`` (whether the scale meets the rule).
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
    the largest one meeting both halves of the paper's in-distribution rule
    (Longtail Guidance, section 3.1): the probability is below the unguided
    value but at least ``target_ratio`` times it (still of their class), and
    the longtail signal is above its unguided value (harder for the model;
    checked when the model has ``longtail_score``).

    Parameters
    ----------
    sample_fn : callable
        ``sample_fn(guidance) -> (X_new, y_new)``: generate rows with the
        given :class:`LongtailGuidance` (``None`` = unguided) and return them
        with their intended labels (in ``model.classes_`` terms).  Use the
        same seed on every call so only the guidance differs.
        :func:`refit_sampler` builds one for a diffusion resampler.
    model : fitted classifier with ``predict_proba`` and ``classes_``
        The guiding model (e.g. :class:`~skltsynth.heads.epistemic.EpistemicHeadClassifier`);
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
    >>> from skltsynth.heads.epistemic import EpistemicHeadClassifier
    >>> from skltsynth.policy.guidance import select_guidance_scale
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
        harder = "signal" not in row or row["signal"] > unguided["signal"]
        row["accepted"] = bool(target_ratio <= row["ratio"] < 1.0 and harder)
        if row["accepted"]:
            chosen = s
        elif row["ratio"] < target_ratio:
            break  # larger scales move rows further from their class: stop searching
    return ScaleSelection(scale=chosen, table=table, unguided=unguided)


def refit_sampler(resampler, X, y):
    """``sample_fn`` for :func:`select_guidance_scale` from a diffusion resampler.

    The first call clones ``resampler`` with ``warm_start=True`` (when it has
    that parameter, as the diffusion resamplers do); every call
    sets ``guidance`` on that clone (the object's own scale and Jacobian
    choice apply; ``guidance_scale`` is reset to None) and returns the
    synthetic rows of ``fit_resample(X, y)`` with their labels.  The diffusion
    model is trained once, on the first call, and later calls only sample
    (with the same noise, as ``random_state`` is kept), so the calls differ
    only in the guidance.  This uses only the public resampler API.

    Parameters
    ----------
    resampler : imblearn-style resampler with a ``guidance`` parameter
        Its ``random_state`` should be an int.
    X, y : array-like
        Data to resample (e.g. a held-out part of the training data).

    Returns
    -------
    sample_fn : callable ``guidance -> (X_new, y_new)``
        Its attribute ``resampler`` is the clone in use (fitted attributes of
        the last call, e.g. ``n_projected_``).
    """
    params = resampler.get_params(deep=False)
    if "guidance" not in params:
        raise TypeError(f"{type(resampler).__name__} has no `guidance` parameter.")

    est = clone(resampler)
    if "warm_start" in params:  # trained on the first call, reused by the others
        est.set_params(warm_start=True)

    def sample_fn(guidance):
        # the guidance object carries its scale and Jacobian choice
        est.set_params(guidance=guidance, guidance_scale=None)
        X_res, y_res = est.fit_resample(X, y)
        mask = np.asarray(est.is_synthetic_)
        return np.asarray(X_res)[mask], np.asarray(y_res)[mask]

    sample_fn.resampler = est
    return sample_fn
