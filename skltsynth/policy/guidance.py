"""Longtail Guidance: steer diffusion sampling towards a model's long tail.

:class:`LongtailGuidance` turns a fitted predictive model into the signal the
diffusion engine increases while sampling (``guidance(x0_hat, cond)``, see
:mod:`skltsynth.engines.diffusion.sampling`), and :func:`select_guidance_scale`
applies the paper's in-distribution rule for the guidance weight to rows of
any sampler (the rule itself, and the probe behind the default
``scale="auto"``, are in :mod:`skltsynth.policy.guidance_scale`): guided rows
must score a higher longtail signal than unguided ones while the model's
probability of their intended class drops below its unguided value but stays
a sizeable fraction of it.
"""

from __future__ import annotations

import inspect
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import clone

from ..heads.epistemic import LONGTAIL_SIGNALS
from .guidance_scale import CLASS_RATIO, SCALE_GRID, ScaleSelection, guided_measure, scale_search

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
    scale : float >= 0 or "auto", default="auto"
        Guidance weight ``w``.  The useful weight depends on the data set
        and the signal's size (from ~1 for entropy to ~1e3 for the epistemic
        signal of agreeing heads), so by default it is chosen where it is
        used: ``"auto"`` lets a diffusion resampler pick it inside its fit
        by the in-distribution rule (see Notes; the chosen scale is the
        resampler's ``guidance_scale_``).  A number is used as it is (and
        a resampler's ``guidance_scale`` overrides either).  A scale of 0
        guides nothing, and a resampler warns about it.
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

    Notes
    -----
    ``scale="auto"`` (:mod:`skltsynth.policy.guidance_scale`): after
    training its engine, the resampler draws a small probe
    (:data:`~skltsynth.policy.guidance_scale.PROBE_ROWS` rows spread over the
    classes or bins it generates, their own random stream) unguided and at
    each scale of :data:`~skltsynth.policy.guidance_scale.SCALE_GRID`
    (0.1 to 1e4, half-decade steps), with the same noise.  A scale passes
    when its rows have a mean signal above 1.1 times the unguided one and a
    mean P(class) (the model's probability of the intended class) below the
    unguided one but at least half of it; of those it keeps the one with the
    hardest rows (highest signal) -- the rule of
    :func:`select_guidance_scale`.  Without a class probability (a
    continuous target, or a model without ``predict_proba``) it keeps the
    smallest scale that raises the signal above 1.1 times.  When no scale
    passes, the resampler warns with the measured ratios and samples
    unguided.  The engine called directly (not through a resampler) needs a
    number: ``guidance.with_scale(w)``.

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

    def __init__(self, model, signal=None, scale="auto", jacobian=False):
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
        """A copy sharing the model and torch signal, with another ``scale`` (number or "auto")."""
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


def _check_scale(scale, name, auto=True):
    if auto and isinstance(scale, str) and scale == "auto":
        return "auto"
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale >= 0:
        allowed = 'a real number >= 0 or "auto"' if auto else "a real number >= 0"
        raise ValueError(f"{name} must be {allowed}, got {scale!r}.")
    return float(scale)


def as_guidance(guidance, scale=None):
    """The guidance object a diffusion resampler samples with.

    Parameters
    ----------
    guidance : LongtailGuidance, callable or None
        A guidance object is used with its own ``scale`` and ``jacobian``; a
        callable signal ``fn(x0_hat[, cond]) -> (n,)`` is wrapped into
        ``LongtailGuidance(fn)`` (``scale="auto"``, which the resampler
        resolves after training its engine).
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
    >>> as_guidance(lambda x0: x0.sum(1)).scale
    'auto'
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
        guidance = guidance.with_scale(_check_scale(scale, "guidance_scale", auto=False))
    if guidance.scale == 0.0:
        warnings.warn(
            "The guidance scale is 0, so sampling is unguided: set LongtailGuidance(scale=...) "
            "(the default \"auto\" picks one) or the resampler's guidance_scale.",
            UserWarning, stacklevel=3)
    return guidance


def select_guidance_scale(
    sample_fn,
    model,
    *,
    signal="epistemic",
    target_ratio=CLASS_RATIO,
    scales=SCALE_GRID,
    jacobian=False,
):
    """Pick a guidance weight by the in-distribution rule, from any sampler.

    For each scale, rows are generated with ``LongtailGuidance(model, signal,
    scale, jacobian)`` and compared with unguided rows by the rule of
    :func:`skltsynth.policy.guidance_scale.scale_search` (Longtail Guidance,
    section 3.1; the one definition, which ``scale="auto"`` also applies
    inside a diffusion resampler): the model's mean longtail signal must be
    above :data:`~skltsynth.policy.guidance_scale.MIN_SIGNAL_RATIO` (1.1)
    times the unguided value (harder for the model), and its mean
    probability of each row's intended class below the unguided value but at
    least ``target_ratio`` times it (still of their class).  The chosen scale
    is the accepted one with the hardest rows (highest signal ratio; the
    largest accepted one while the signal grows with the scale).

    Parameters
    ----------
    sample_fn : callable
        ``sample_fn(guidance) -> (X_new, y_new)``: generate rows with the
        given :class:`LongtailGuidance` (``None`` = unguided) and return them
        with their intended labels (in ``model.classes_`` terms).  Use the
        same seed on every call so only the guidance differs.
        :func:`refit_sampler` builds one for a diffusion resampler.
    model : fitted model with ``torch_signal``, ``predict_proba`` and ``classes_``
        The guiding model (e.g. :class:`~skltsynth.heads.epistemic.EpistemicHeadClassifier`);
        best fitted on data not used by ``sample_fn`` (a held-out part of
        the training data).  Without ``predict_proba`` only the signal rise
        is checked and the smallest scale that achieves it is chosen.
    signal : {"epistemic", "entropy", "energy", "base_entropy", "base_energy"}, \
default="epistemic"
    target_ratio : float in (0, 1), default=0.5
        Lowest acceptable guided/unguided ratio of the intended-class
        probability (:data:`~skltsynth.policy.guidance_scale.CLASS_RATIO`).
    scales : sequence of float > 0, default=logspace(-1, 4, 11)
        Candidate scales (:data:`~skltsynth.policy.guidance_scale.SCALE_GRID`),
        tried from the smallest up; the search stops at the first scale whose
        ratio falls below ``target_ratio`` (larger ones only push rows
        further from their class), so ``selection.table`` may be shorter
        than ``scales``.  The useful range depends on the signal's size: the
        epistemic signal of well-agreeing heads is small (often ~1e-3 nats),
        so it needs far larger weights than entropy.
    jacobian : bool, default=False
        Passed to :class:`LongtailGuidance`.

    Returns
    -------
    selection : ScaleSelection
        ``table`` rows carry ``signal_ratio`` and ``p_ratio``.

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
    if not callable(sample_fn):
        raise TypeError("sample_fn must be a callable guidance -> (X_new, y_new).")
    base = LongtailGuidance(model, signal=signal, scale=1.0, jacobian=jacobian)

    def measure(scale):
        X_new, y_new = sample_fn(base.with_scale(scale) if scale > 0 else None)
        return guided_measure(base, np.asarray(X_new), np.asarray(y_new))

    return scale_search(measure, scales, target_ratio)


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
