"""The base class of the diffusion resamplers.

:class:`BaseDiffusionResampler` plays the part imbalanced-learn's ``BaseSMOTE``
plays for the SMOTE family: the parameters, constraints and docs that every
diffusion resampler shares, and the steps they share --

* the engine configuration (:meth:`_engine_config`) and fit
  (:meth:`_fit_engine`), stored under one fitted attribute, ``engine_``;
* SDEdit start rows (:meth:`_start_rows`);
* the sampling call (:meth:`_sample`), with guidance resolved once
  (:meth:`_guidance`) under the one guidance contract of
  :func:`skltsynth.policy.guidance.as_guidance`.

:class:`~skltsynth.LatentDiffusionResampler` adds its priority plan and quality
gate, :class:`~skltsynth.MemoryDDPMResampler` its memory bank, ``partial_fit``
and confidence weights.
"""

from __future__ import annotations

import inspect
import numbers
import warnings

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from .._defaults import DIFFUSION_SIZED_PARAMS
from .._random import torch_generator
from .base import BaseEmbeddingResampler
from ..engines.diffusion import DiffusionConfig, FeatureDiffusion
from ..engines.diffusion.sizing import engine_size
from ..engines.class_transfer import (TRANSFER_FRACTION, TRANSFER_SCALE, class_summaries,
                                      replace_with_transfer_rows, transfer_table)
from ..engines.neighbour_span import pooled_span_rows
from ..policy.data_region import DataRegion
from ..policy.guidance import as_guidance
from ..policy.guidance_scale import (
    PROBE_ROWS,
    SCALE_GRID,
    guided_measure,
    no_pass_message,
    probe_rows,
    scale_search,
)
from ..policy.plan import draw_seed_rows

__all__ = ["DEFAULTS", "BaseDiffusionResampler", "DIFFUSION_PARAMETERS_DOC",
           "GUIDANCE_ATTRIBUTES_DOC", "fill_diffusion_doc"]

#: The numpydoc "Parameters" entries every diffusion resampler shares (each
#: subclass docstring includes them with ``%(diffusion_parameters)s``).
DIFFUSION_PARAMETERS_DOC = """\
    train_steps : int or "auto", default="auto"
        Maximum optimisation steps of the denoiser; training stops earlier
        when the validation denoising loss stops improving.  ``"auto"``
        sizes it to the data (:func:`skltsynth.engines.diffusion.sizing.engine_size`:
        about 40 passes over the rows, 20 when ``strength`` is at most 0.5 --
        the denoiser is then trained only on the noise levels SDEdit visits --
        400-4,000 steps).
    sampling_steps : int in [1, 1000], default=%(sampling_steps)d
        Denoising steps per generated row (at most the 1,000 training
        timesteps).
    hidden_dim : int or "auto", default="auto"
        Width of the residual MLP denoiser (``"auto"``: 128-512, the power
        of two at or above the dimension, smaller on few rows; see
        :func:`skltsynth.engines.diffusion.sizing.engine_size`).
    n_layers : int or "auto", default="auto"
        Residual blocks of the denoiser (``"auto"``: 2, or 3 on large data).
    batch_size : int or "auto", default="auto"
        Training mini-batch size (``"auto"``: 256, less for small sets).
    learning_rate : float, default=%(learning_rate)g
        Peak AdamW learning rate.
    prediction : {"v", "epsilon", "x0"}, default="v"
        What the network predicts (v-prediction is LatentDiff's choice).
    schedule : {"cosine", "linear"}, default="cosine"
        Noise schedule.
    ema : bool, default=True
        Sample from an exponential moving average of the weights (decay
        %(ema_decay)g); ``False`` samples from the last weights.
    sampler : {"ddim", "ddpm"}, default="ddim"
        Deterministic DDIM (eta = 0) or ancestral DDPM sampling (eta = 1),
        both over ``sampling_steps`` strided steps; ``sampling_steps=1000``
        with ``"ddpm"`` is the full ancestral chain.
    strength : float in (0, 1] or "auto", default="auto"
        1 = generate from pure noise; below 1 = SDEdit: start from a row of
        the same class (or bin; neighbouring bins for tiny bins), noised to
        that fraction of the schedule, and denoise it under the condition.
        For class labels the start row is what
        :class:`~skltsynth.VMFKDEResampler` draws for classes by default: an
        interpolated span draw
        (:func:`skltsynth.engines.neighbour_span.pooled_span_rows`: SMOTE's
        point between a real row and one of its nearest rows of the class,
        plus noise in their span), a fifth of them head-to-tail transfer rows
        (:mod:`skltsynth.engines.class_transfer`: the class's mean direction
        plus offsets of its nearest head classes; on the CLINC150-LT
        validation split, seed 0, they raised kNN few-shot accuracy from
        0.821 to 0.840 for LatentDiff and from 0.829 to 0.840 for MemoryDDPM,
        LR within 0.2 point); for bins, a real row.  A
        denoiser conditioned on a class learnt from five rows cannot place
        rows where that class's unseen rows lie; started between its real
        rows, it only refines them.  The denoiser is trained only on the
        noise levels that strength visits.  ``"auto"``: %(strength)s.
    cfg_scale : float >= 0, default=1.0
        Classifier-free guidance scale (1 = plain conditional model).
    contrastive_weight : float >= 0, default=0.0
        CORAL supervised-contrastive weight on the denoiser bottleneck
        (positives = same class or bin; 0.05 in the CORAL paper); 0 disables
        it.
    guidance : LongtailGuidance, callable or None, default=None
        Longtail Guidance during sampling: a
        :class:`~skltsynth.LongtailGuidance` (it carries its own ``scale``
        and ``jacobian``), or a callable ``signal(x0_hat, cond) -> (m,)``
        to increase, which is wrapped into one
        (``LongtailGuidance(signal)``: ``scale="auto"``, cheap gradient).  ``x0_hat``
        is the current clean-row estimate in original units
        (differentiable), ``cond`` the condition of each row (class index or
        target value).  Guided rows stay on the data: every guided x0
        estimate is projected into the training rows' norm range and, for
        classes, into the ball of its class (centre = class mean, radius =
        largest real distance to it; :mod:`skltsynth.policy.data_region`);
        ``n_projected_`` counts the rows pulled back on the last step.  The
        object's default ``scale="auto"`` is chosen after the engine is
        trained, by the in-distribution rule on a small probe draw (a few
        hundred rows, every scale with the same noise; see
        :class:`~skltsynth.LongtailGuidance`): ``guidance_scale_`` is the
        chosen scale and ``guidance_probe_`` the measured table.
    guidance_scale : float >= 0 or None, default=None
        Override of the guidance object's ``scale`` (no probe); None uses it.
        A scale of 0 with a guidance object warns (sampling is then
        unguided).
    denoiser : {"mlp", "transformer"}, default="mlp"
        The residual MLP, or the MLP with one small transformer block over the
        hidden vector cut into tokens (the memory-DDPM paper's optional
        Transformer).
    loss_weighting : {"min_snr", "none"}, default="min_snr"
        Min-SNR weighting of the denoising loss (gamma %(min_snr_gamma)g), or
        the plain unweighted MSE on the target (the DDPM papers' loss).
    warm_start : bool, default=False
        Reuse the fitted ``engine_`` of the previous call instead of training
        again when the training rows have the same shape and conditions (the
        engine settings are then those of the first fit).  Regenerating with
        a new guidance object without retraining the diffusion model is what
        the Longtail Guidance mining loop does
        (:func:`skltsynth.heads.mining.mine_longtail`).
"""

#: The numpydoc "Attributes" entries of the guidance every diffusion resampler
#: shares (included with ``%(guidance_attributes)s``).
GUIDANCE_ATTRIBUTES_DOC = """\
    n_projected_ : int
        Synthetic rows (candidates) whose last guided estimate lay outside the
        real rows' region by more than 1 % of their largest norm and was
        projected back into it (0 without guidance).
    guidance_scale_ : float or None
        The guidance scale sampled with: the number given, or the one
        ``scale="auto"`` chose (0.0 when none met the rule); None without
        guidance (or when no row was generated, so nothing was probed).
    guidance_probe_ : list of dict or None
        The ``scale="auto"`` probe: the unguided row, then per scale tried
        ``scale``, ``signal``, ``signal_ratio``, ``p_class``, ``p_ratio``,
        ``accepted`` (:func:`skltsynth.policy.guidance_scale.scale_search`);
        None when no probe ran.
"""


#: Engine defaults the resamplers' signatures take their values from.
DEFAULTS = DiffusionConfig()
#: Engine settings that ``"auto"`` sizes to the data.
_SIZED = DIFFUSION_SIZED_PARAMS
#: Purpose key of the random streams of the ``scale="auto"`` probe
#: (``self._stream_rng(_PROBE_STREAM, ...)``).
_PROBE_STREAM = 200
#: Stream of the head-to-tail transfer start rows (``(_TRANSFER_STREAM, b)``: class ``b``).
_TRANSFER_STREAM = 201


def _docstring_defaults():
    cfg = DEFAULTS
    return {
        "sampling_steps": cfg.sampling_steps,
        "learning_rate": cfg.learning_rate,
        "ema_decay": cfg.ema_decay,
        "min_snr_gamma": cfg.min_snr_gamma,
    }


def fill_diffusion_doc(cls):
    """Class decorator: put the shared parameter and attribute entries into ``cls.__doc__``.

    ``strength="auto"`` is documented with the values of the class's
    ``_AUTO_STRENGTH``: resamplers may choose their own.
    """
    auto = ", ".join(f"{v:g} for {'class labels' if k == 'classification' else 'a continuous target'}"
                     for k, v in cls._AUTO_STRENGTH.items())
    shared = DIFFUSION_PARAMETERS_DOC % {**_docstring_defaults(), "strength": auto}
    cls.__doc__ = (cls.__doc__.replace("%(diffusion_parameters)s\n", shared)
                   .replace("%(guidance_attributes)s\n", GUIDANCE_ATTRIBUTES_DOC))
    return cls



@fill_diffusion_doc
class BaseDiffusionResampler(BaseEmbeddingResampler):
    """Base class of the diffusion resamplers (not meant to be used directly).

    Parameters
    ----------
%(diffusion_parameters)s
    sampling_strategy, target_type, n_bins, bin_width, synthetic_target, \
device, random_state, verbose
        See :class:`~skltsynth.resamplers.base.BaseEmbeddingResampler`.
    """

    _parameter_constraints: dict = {
        **BaseEmbeddingResampler._parameter_constraints,
        "train_steps": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "sampling_steps": [Interval(numbers.Integral, 1, DEFAULTS.num_train_timesteps,
                                    closed="both")],
        "hidden_dim": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_layers": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "prediction": [StrOptions({"v", "epsilon", "x0"})],
        "schedule": [StrOptions({"cosine", "linear"})],
        "ema": ["boolean"],
        "sampler": [StrOptions({"ddim", "ddpm"})],
        "strength": [Interval(numbers.Real, 0, 1, closed="right"), StrOptions({"auto"})],
        "cfg_scale": [Interval(numbers.Real, 0, None, closed="left")],
        "contrastive_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "guidance": "no_validation",  # checked by skltsynth.policy.guidance.as_guidance
        "guidance_scale": [Interval(numbers.Real, 0, None, closed="left"), None],
        "denoiser": [StrOptions({"mlp", "transformer"})],
        "loss_weighting": [StrOptions({"min_snr", "none"})],
        "warm_start": ["boolean"],
    }

    #: ``strength="auto"`` per task: the one place a resampler states its
    #: SDEdit strength (a subclass overrides the whole dict).  Classes: 0.2, chosen
    #: on the CLINC150-LT validation split with the interpolated class starts of
    #: :meth:`_start_rows` (LR and cosine-kNN heads; see docs/benchmark.rst).
    _AUTO_STRENGTH = {"classification": 0.2, "regression": 1.0}

    def _strength(self, task=None):
        """``strength`` resolved for ``task`` (default: the fitted ``target_type_``)."""
        if self.strength != "auto":
            return float(self.strength)
        return float(self._AUTO_STRENGTH[task or self.target_type_])

    # Subclasses list every parameter in their ``__init__`` signature (as
    # scikit-learn requires), with the defaults of ``DEFAULTS`` below, and
    # store them with ``self._store_params(locals())``.

    # ------------------------------------------------------------------ guidance
    def _guidance(self):
        """The guidance object in use (scale override applied), or None."""
        return as_guidance(self.guidance, scale=self.guidance_scale)

    def _validate_method_params(self, X, plan):
        super()._validate_method_params(X, plan)
        self._guidance_ = self._guidance()  # fails (or warns) before any training
        self.n_projected_ = 0
        scale = None if self._guidance_ is None else self._guidance_.scale
        self.guidance_scale_ = None if scale == "auto" else scale  # "auto": set by the probe
        self.guidance_probe_ = None
        self._class_values = plan.group_values if plan.task == "classification" else None

    def _condition_labels(self, cond):
        """Class label of every class-index condition (the guide's P(class) needs it)."""
        return np.asarray(self._class_values)[np.asarray(cond)]

    def _probe_scale(self, engine, cond, *, cond_type, x_start):
        """Resolve ``scale="auto"`` on a probe draw; the guidance object to sample with.

        :data:`~skltsynth.policy.guidance_scale.PROBE_ROWS` of the rows to
        generate (spread over their classes or bins; stream
        ``(_PROBE_STREAM,)``) are drawn unguided and at every scale of
        :data:`~skltsynth.policy.guidance_scale.SCALE_GRID` with the same
        noise (stream ``(_PROBE_STREAM, 1)``), and the in-distribution rule
        of :func:`~skltsynth.policy.guidance_scale.scale_search` picks the
        scale.  Sets ``guidance_scale_`` and ``guidance_probe_``.  Returns
        None, after a warning naming the measured ratios, when no scale
        passes.
        """
        guidance = self._guidance_
        cond = np.asarray(cond)
        classes = cond_type == "class"
        idx = probe_rows(cond if classes else np.zeros(len(cond)), PROBE_ROWS,
                         self._stream_rng(_PROBE_STREAM))
        c = torch.tensor(cond[idx], dtype=torch.long if classes else torch.float64)
        xs = None if x_start is None else x_start[torch.as_tensor(idx)]
        labels = (self._condition_labels(cond[idx])
                  if getattr(self, "target_type_", None) == "classification" else None)

        def measure(scale):
            guided = guidance.with_scale(scale).within(self._region) if scale > 0 else None
            rows = engine.sample(
                c, generator=torch_generator(self._stream_rng(_PROBE_STREAM, 1), self.device_),
                strength=self._strength(), x_start=xs, guidance=guided)
            return guided_measure(guidance, rows.detach(), labels, c.to(rows.device))

        selection = scale_search(measure, SCALE_GRID)
        self.guidance_probe_ = [selection.unguided, *selection.table]
        self.guidance_scale_ = selection.scale
        if selection.scale == 0.0:
            warnings.warn(no_pass_message(selection), UserWarning, stacklevel=5)
            return None
        return guidance.with_scale(selection.scale)

    def _guided_region(self, X, cond, cond_type, n_classes):
        """The real rows' region guided rows are kept in (None when not guiding).

        Norm range of the training rows and, for a class condition, each
        class's centre and largest real distance to it
        (:class:`~skltsynth.policy.data_region.DataRegion`).
        """
        if self._guidance_ is None:
            return None
        classes = cond_type == "class"
        return DataRegion.from_rows(X, np.asarray(cond) if classes else None,
                                    n_groups=n_classes if classes else None)

    # -------------------------------------------------------------------- engine
    def _engine_sizes(self, n_rows, n_features, n_groups, cond_type="class"):
        """``hidden_dim``, ``n_layers``, ``batch_size``, ``train_steps``: set or sized to the data."""
        auto = engine_size(n_rows, n_features, max(1, int(n_groups)),
                           strength=self._strength(), continuous=cond_type == "continuous")
        return {name: auto[name] if getattr(self, name) == "auto" else int(getattr(self, name))
                for name in _SIZED}

    def _engine_config(self, cond_type, n_classes=None, *, sizes):
        """The :class:`~skltsynth.engines.diffusion.DiffusionConfig` of this resampler's settings."""
        return DiffusionConfig(
            cond_type=cond_type,
            n_classes=None if n_classes is None else int(n_classes),
            hidden_dim=sizes["hidden_dim"],
            n_layers=sizes["n_layers"],
            schedule=self.schedule,
            prediction_type=self.prediction,
            train_steps=sizes["train_steps"],
            batch_size=sizes["batch_size"],
            learning_rate=float(self.learning_rate),
            warmup_steps=min(DEFAULTS.warmup_steps, max(1, sizes["train_steps"] // 10)),
            ema_decay=DEFAULTS.ema_decay if self.ema else 0.0,
            contrastive_weight=float(self.contrastive_weight),
            sampling_steps=int(self.sampling_steps),
            eta=1.0 if self.sampler == "ddpm" else 0.0,
            train_strength=self._strength(),  # train only the noise levels sampling visits
            cfg_scale=float(self.cfg_scale),
            use_transformer=self.denoiser == "transformer",
            min_snr_gamma=DEFAULTS.min_snr_gamma if self.loss_weighting == "min_snr" else None,
        )

    def _fit_engine(self, X, cond, *, cond_type, n_classes=None, batch_weight=None, labels=None):
        """Train the engine on ``X`` with condition ``cond``; sets ``engine_``.

        Parameters
        ----------
        X : ndarray of shape (n, d)
            Training rows.
        cond : ndarray of shape (n,)
            Class index (``cond_type="class"``) or continuous condition.
        cond_type : {"class", "continuous"}
        n_classes : int, optional
            Number of condition classes.
        batch_weight : ndarray of shape (n,), optional
            Mini-batch sampling weight of every row (e.g. class-balanced).
        labels : ndarray of shape (n,), optional
            Group of every row, for the CORAL loss (used when
            ``contrastive_weight > 0``).

        Returns
        -------
        engine : FeatureDiffusion
        """
        key = (np.shape(X), cond_type, n_classes, hash(np.asarray(cond).tobytes()),
               self._strength(), int(self.sampling_steps))  # the trained timestep range
        self._region = self._guided_region(X, cond, cond_type, n_classes)
        if self.warm_start and getattr(self, "_engine_key", None) == key:
            self._torch_generator()  # the draw of a cold fit: the sampling noise matches it
            self.engine_ = self.engine_.to(self.device_)
            return self.engine_
        dtype = torch.long if cond_type == "class" else torch.float64
        if n_classes is not None:
            n_groups = n_classes
        else:
            n_groups = 1 if labels is None else np.unique(np.asarray(labels)).size
        self.engine_size_ = self._engine_sizes(np.shape(X)[0], np.shape(X)[1], n_groups,
                                               cond_type)
        engine = FeatureDiffusion(self._engine_config(cond_type, n_classes,
                                                      sizes=self.engine_size_))
        use_labels = labels is not None and float(self.contrastive_weight) > 0
        engine.fit(
            torch.from_numpy(np.require(X, np.float32, ["C", "W"])),  # copies only if needed
            torch.tensor(np.asarray(cond), dtype=dtype),
            sample_weight=None if batch_weight is None else torch.as_tensor(batch_weight),
            labels_for_contrastive=(torch.as_tensor(np.asarray(labels), dtype=torch.long)
                                    if use_labels else None),
            generator=self._torch_generator(),
            device=self.device_,
            verbose=bool(self.verbose),
        )
        self.engine_ = engine
        self._engine_key = key
        return engine

    def _start_rows(self, X, groups, pools, plan):
        """SDEdit start rows for synthetic rows of ``groups`` (None at ``strength=1``).

        Classes: the draws of :class:`~skltsynth.VMFKDEResampler`'s default
        for classes -- interpolated span draws inside the class, a share
        ``TRANSFER_FRACTION`` of them head-to-tail transfer rows
        (:mod:`skltsynth.engines.class_transfer`); bins: real rows.

        Parameters
        ----------
        X : ndarray of shape (n, d)
        groups : ndarray of shape (m,)
            Group (class or bin) of every row to generate.
        pools : dict of int to ndarray
            Row indices of ``X`` each group draws its start rows from
            (:meth:`skltsynth.policy.plan.ResamplingPlan.seed_pool`).
        plan : ResamplingPlan
            Its ``groups`` (every real row's class) give the transfer rows'
            donors.

        Returns
        -------
        x_start : torch.Tensor of shape (m, d) or None
        """
        if self._strength() >= 1.0:
            return None
        if getattr(self, "target_type_", None) == "classification":
            rows = pooled_span_rows(X, groups, pools, self._rng, device=self.device_)
            summaries, transfer_rng = self._class_transfer(X, plan)
            replace_with_transfer_rows(rows, groups, transfer_table(summaries, np.unique(groups)),
                                       TRANSFER_FRACTION, TRANSFER_SCALE, transfer_rng)
        else:
            rows = X[draw_seed_rows(groups, pools, self._rng)]
        return torch.as_tensor(np.asarray(rows, dtype=np.float32))

    def _class_transfer(self, X, plan):
        """Class summaries and transfer stream of this fit, made once per ``plan``.

        The quality gate's redraws call :meth:`_start_rows` again: they reuse
        the summaries (a pure function of the rows and the class streams) and
        continue the one transfer stream, so a redraw does not repeat the
        first draw's transfer choices.  :meth:`_finish` drops the cache.

        Returns
        -------
        summaries : dict of int to tuple
            :func:`~skltsynth.engines.class_transfer.class_summaries` of every class.
        rng : numpy.random.Generator
            The fit's transfer stream (``_TRANSFER_STREAM``).
        """
        cached = getattr(self, "_transfer_cache", None)
        if cached is None or cached[0] is not plan:
            summaries = class_summaries(X, plan.groups,
                                        lambda b: self._stream_rng(_TRANSFER_STREAM, b))
            cached = (plan, summaries, self._stream_rng(_TRANSFER_STREAM))
            self._transfer_cache = cached
        return cached[1], cached[2]

    def _sample(self, engine, cond, *, cond_type, x_start=None, generator, dtype):
        """Draw one row per condition with this resampler's sampling settings.

        Returns
        -------
        rows : ndarray of shape (m, d) in ``dtype``
        """
        torch_dtype = torch.long if cond_type == "class" else torch.float64
        if self._guidance_ is not None and self._guidance_.scale == "auto":  # once per fit
            self._guidance_ = self._probe_scale(engine, cond, cond_type=cond_type,
                                                x_start=x_start)
        guidance = self._guidance_
        if guidance is not None:  # guided rows stay in the real rows' region
            guidance = guidance.within(self._region)
        rows = engine.sample(
            torch.tensor(np.asarray(cond), dtype=torch_dtype),
            generator=generator,
            strength=self._strength(),
            x_start=x_start,
            guidance=guidance,
            verbose=bool(self.verbose),
        )
        if guidance is not None:
            self.n_projected_ += guidance.n_projected_
        return rows.detach().to("cpu").numpy().astype(dtype, copy=False)

    def _finish(self):
        """Move the fitted engine to CPU (bounded GPU memory; picklable); drop fit caches."""
        self._transfer_cache = None
        if getattr(self, "engine_", None) is not None:
            self.engine_ = self.engine_.to_cpu_state()
