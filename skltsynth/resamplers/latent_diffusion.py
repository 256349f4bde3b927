"""LatentDiff: conditional diffusion in embedding space for imbalanced regression.

A conditional denoiser (:class:`skltsynth.engines.diffusion.FeatureDiffusion`,
v-prediction, cosine schedule, EMA weights) is trained on the real rows.  For
a continuous target, a new row starts as a SMOTER interpolation between two
real rows of its DIR bin, with the interpolated target, and the denoiser,
conditioned on that target, corrects it (SDEdit; "interpolation plus a learnt
kernel"); classes start from real rows of the class.  Rows are spread over
bins by the flattening plan (or the LatentDiff priority: per-bin error of a
quick ridge model and rarity), capped per bin, put on the levels of discrete
columns, and filtered by a Mahalanobis quality gate
(:class:`skltsynth.policy.quality.MahalanobisGate`).
"""

from __future__ import annotations

import numbers
import warnings
from collections import OrderedDict

import numpy as np
import torch
from scipy.special import ndtri
from sklearn.utils._param_validation import Interval, StrOptions

from .._torch_utils import batches
from .base import SyntheticRows
from ..policy.prior_shift import NATURAL_SHIFT_WARNING, natural_mse_ratio
from ..policy.priority import bin_errors
from ..policy.levels import DiscreteLevels
from ..policy.quality import MahalanobisGate
from ..policy.retarget import LinearRetarget
from ..policy.target_gate import MIN_FIT_ROWS, PairTargetGate
from ..policy.targets import (
    assign_bins,
    capped_allocation,
    largest_remainder,
    neighbourhood_counts,
    priority_shares,
)
from ._diffusion_base import DEFAULTS, BaseDiffusionResampler, fill_diffusion_doc
from ._smoter import interpolate_in_pools

__all__ = ["LatentDiffusionResampler"]

#: Rejected rows redrawn at once by the quality gate's retries (bounds memory).
_RETRY_BLOCK_ROWS = 65536

#: Stream of the target gate's model (``self._stream_rng(_TARGET_GATE_STREAM)``): fitting
#: it leaves the rows' draws as they are without the gate.
_TARGET_GATE_STREAM = 300
#: Stream of the reference residuals of ``natural_mse_ratio_``.
_PRIOR_SHIFT_STREAM = 301

#: A DIR bin is only given synthetic rows when it and its two neighbouring
#: bins hold at least this many real rows (fewer cannot show the denoiser, nor
#: the gate, what the bin looks like).
MIN_BIN_SUPPORT = 5


def quantile_scores(reference, values):
    """Normal scores of ``values`` under the empirical distribution of ``reference``.

    The mid-rank empirical CDF of ``reference`` (ties share their mean rank),
    linearly interpolated between distinct values and constant beyond them,
    mapped through the standard normal quantile function.  A skewed target
    (counts, incomes, ``exp`` of a score) becomes a well-spread condition, and
    a value beyond the observed range is never extrapolated.

    Parameters
    ----------
    reference : array-like of shape (n,)
        Observed targets.
    values : array-like of shape (m,)
        Targets to map.

    Returns
    -------
    scores : ndarray of shape (m,)
        Within ``+-ndtri(1 - 0.5 / n)``.

    Examples
    --------
    >>> from skltsynth.resamplers.latent_diffusion import quantile_scores
    >>> quantile_scores([0.0, 1.0, 100.0], [1.0, 1000.0]).round(3).tolist()
    [0.0, 0.967]
    """
    ref = np.asarray(reference, dtype=np.float64).ravel()
    uniq, n_each = np.unique(ref, return_counts=True)
    mid = (np.cumsum(n_each) - n_each / 2.0) / ref.size
    return ndtri(np.interp(np.asarray(values, dtype=np.float64), uniq, mid))


@fill_diffusion_doc
class LatentDiffusionResampler(BaseDiffusionResampler):
    """Over-sample embeddings with a conditional latent diffusion model (LatentDiff).

    Works for continuous targets (deep imbalanced regression, the method's
    main use) and for class labels.  A residual-MLP denoiser is trained on all
    real rows, conditioned on the target value (regression) or on the class;
    synthetic rows are drawn with DDIM from the EMA weights, conditioned on
    the target they are made for, and checked by a per-bin/per-class
    Mahalanobis quality gate.

    **How many rows, and where** (regression):

    * the *requested total* is the number of rows the base plan for
      ``sampling_strategy`` makes (``synthetic_ratio="auto"`` or None;
      ``sampling_strategy="auto"`` = flatten the LDS-smoothed bin density up
      to the fullest bin, a float flattens up to that fraction of it), or
      ``round(synthetic_ratio * n_samples)`` for a number;
    * with the default ``priority_lambda=None`` the rows keep the base
      plan's spread (the rarer the bin, the more rows); a number spreads
      the total with the LatentDiff priority
      ``lam * e_b + (1 - lam) * (1 - n_b / max n)``
      (:func:`skltsynth.policy.targets.priority_shares`), ``e_b`` the per-bin
      out-of-fold error of a ridge model (:func:`skltsynth.policy.priority.bin_errors`);
      ``priority_lambda=0`` is purely count-based (rarity);
    * **caps**: a bin receives at most ``ceil(bin_cap * n_b)`` rows, and none
      unless it and its two neighbouring bins hold at least
      ``MIN_BIN_SUPPORT`` (5) real rows; rows a full bin cannot take go to
      the other bins (:func:`skltsynth.policy.targets.capped_allocation`).  When
      the caps cannot hold the requested total, fewer rows are planned (and,
      when the total was the user's, ``synthetic_ratio`` set or ``None``, a
      ``UserWarning`` says so).  A bin of one or two isolated rows at an
      extreme target is exactly where a generator is worst, and hundreds of
      rows conditioned on it dominate a regressor's fit;
    * a dict or callable ``sampling_strategy`` is an explicit per-bin request:
      it is used unchanged (``priority_lambda``, the caps and
      ``synthetic_ratio`` do not apply; ``synthetic_ratio`` must be None).

    **Which rows are kept**: every candidate is scored by the Mahalanobis
    gate of its bin (or class) and, for an interpolated row of a continuous
    target, by the target gate (is its target what its parents imply?);
    rejected candidates are redrawn
    ``max_retries`` times, and those still rejected are *dropped*: the bin
    gets fewer rows.  ``sampling_strategy_`` and ``n_synthetic_`` then report
    the rows actually generated and ``rejection_rate_`` the fraction of
    candidates that failed; a ``UserWarning`` is raised when fewer than half
    of the planned rows survive.  (``fit`` alone reports the plan.)

    **Condition** (regression): with ``condition="quantile"`` the denoiser is
    conditioned on the normal score of the target's mid-rank
    (:func:`quantile_scores`) rather than on the standardised raw value: on a
    skewed target the raw value puts the tail many standard deviations
    away from all training conditions but a handful, which the denoiser
    cannot interpolate.

    **Training** (regression): every row is an SDEdit chain started at
    ``strength`` (0.3), so the denoiser is trained and early-stopped on the
    timesteps below ``strength * T`` only (the engine's ``train_strength``,
    set by the base for every SDEdit strength below 1): no steps are spent
    on noise levels these rows never visit.

    Classification: ``priority_lambda`` does not apply (the classes are
    already what the base plan rebalances); the base plan decides the rows per
    class, and ``synthetic_ratio``, if set, rescales it to that total keeping
    its proportions (or, for an already balanced set, spreads it evenly).

    Parameters
    ----------
%(diffusion_parameters)s
    priority_lambda : float in [0, 1] or None, default=None
        Weight of the per-bin error in the priority allocation (regression);
        None keeps the base plan's spread.  See above.
    synthetic_ratio : float > 0, "auto" or None, default="auto"
        Requested synthetic rows as a ratio of the input size (regression:
        before the per-bin caps); None = the base plan's total for
        ``sampling_strategy``; ``"auto"`` = the same, without the warning
        when the caps hold fewer rows.
    bin_cap : float > 0, default=10.0
        Regression: most synthetic rows per bin, as a multiple of its real
        rows (rounded up).  It sets how far the rows shift the target's
        distribution towards its rare range: 10 keeps a head safe on data
        distributed as the training data; for a model judged on every range
        alike (a balanced test, as in the DIR benchmarks) 40 had the lowest
        validation error.  See the LatentDiff user guide ("a natural or a
        balanced test").
    condition : {"quantile", "value"}, default="quantile"
        Regression condition of the denoiser: the normal score of the
        target's rank, or the (standardised) target value.
    start : {"auto", "interpolate", "real"}, default="auto"
        Where a candidate row starts and which target it gets.
        ``"interpolate"``: a SMOTER row ``x_i + lam (x_j - x_i)`` between a
        row of the bin (or class) and one of its 5 nearest rows of the same
        pool, with the target ``y_i + lam (y_j - y_i)``; below
        ``strength=1`` it is the SDEdit start, so the denoiser, conditioned
        on that target, only corrects an interpolation towards the data
        ("interpolation plus a learnt kernel").  ``"real"``: a real row of
        the pool, and the target of ``synthetic_target``.  ``"auto"``:
        ``"interpolate"`` for a continuous target, ``"real"`` for classes.
    snap_discrete : bool or "auto", default="auto"
        Put every synthetic value of a discrete column (at least 10 real
        rows per distinct value on average, however many values: codes,
        counts, flags, banded amounts of tabular data) on its nearest
        observed level
        (:class:`skltsynth.policy.levels.DiscreteLevels`); embedding columns
        are continuous and never changed.  ``"auto"``: for a continuous
        target, not for classes.
    retarget : {"ridge"} or None, default="ridge"
        Regression with interpolated starts below ``strength=1``: after the
        denoiser moves a start ``x0`` by ``d``, its target moves by
        ``w . d``, ``w`` the slope of a ridge regression (``RidgeCV`` on
        standardised features) of the real rows, clipped to the real
        targets' range
        (:class:`skltsynth.policy.retarget.LinearRetarget`).  The row then
        keeps the interpolation's residual under that model; without it the
        part of ``d`` the target does not explain is noise in the features
        that flattens a linear head's slope over the rare range.  None keeps
        the interpolated target.
    target_gate : float > 0 or None, default=0.5
        Regression with interpolated starts: a candidate is rejected (redrawn,
        then dropped, as by the Mahalanobis gate) when its target is off what
        its two parent rows imply under a HistGradientBoosting model of the
        real rows, by more than ``target_gate`` times the 95% quantile of the
        real rows' cross-fitted absolute residuals in its bin and the two
        next to it (:class:`skltsynth.policy.target_gate.PairTargetGate`).
        It removes rows interpolated across two branches of a bin (the
        segment between ``z`` and ``-z`` of ``y = z ** 2`` has a small true
        target but a large interpolated one).  None disables it; it is not
        applied to fewer than ``MIN_FIT_ROWS`` (10) real rows.
    gate_quantile : float in (0, 1] or None, default=0.95
        Mahalanobis gate: a synthetic row is kept when its distance to the
        shrunk Gaussian of its bin/class is within this quantile of the real
        rows' (cross-fitted) distances.  Small bins borrow rows from their
        immediate neighbours only.  None disables the gate.
    max_retries : int, default=1
        Rounds of regenerating rejected rows; candidates still rejected after
        the last round are dropped.  Each round costs a sampling pass over
        the rejected rows.
    sampling_strategy, target_type, n_bins, bin_width, synthetic_target, \
device, random_state, verbose
        See :class:`skltsynth.resamplers.base.BaseEmbeddingResampler`.  With
        ``synthetic_target="uniform"`` a regression row is generated
        conditioned on its uniform draw inside the bin (the denoiser is
        trained on the real targets, so any value in the range is a valid
        condition); with ``"centre"`` on the bin centre.

    Attributes
    ----------
    engine_ : skltsynth.engines.diffusion.FeatureDiffusion
        The fitted diffusion model (on CPU).
    engine_size_ : dict
        The engine's ``hidden_dim``, ``n_layers``, ``batch_size`` and
        ``train_steps`` (maximum) after resolving ``"auto"``; the steps
        actually taken are ``engine_.n_train_steps_``.
    rejection_rate_ : float
        Fraction of all generated candidates (retries included) that failed
        either gate (``gate_quantile``, ``target_gate``); 0.0 when both are
        off.
    target_rejection_rate_ : float
        Fraction of all generated candidates (retries included) whose target
        failed the target gate (``target_gate``); 0.0 when it is off.
    natural_mse_ratio_ : float or None
        Continuous targets: the estimated ratio of a test's MSE with the
        planned rows to without, for a test distributed as the training
        data, from the plan's shift of the target distribution alone
        (:func:`skltsynth.policy.prior_shift.natural_mse_ratio`, on the
        target gate's cross-fitted residuals).  A warning says so above
        :data:`~skltsynth.policy.prior_shift.NATURAL_SHIFT_WARNING` (1.05).
        None for classes, or when the target gate was not fitted.
%(guidance_attributes)s
    n_planned_ : int
        Synthetic rows planned before the gate dropped any (``n_synthetic_``
        is the number returned).
    bin_errors_ : ndarray of shape (n_bins,) or None
        Per-bin ridge error used by the priority allocation (regression with
        ``priority_lambda`` in use).
    sampling_strategy_ : OrderedDict
        Rows generated per class or bin index (after :meth:`fit_resample`:
        the rows that passed the gate, each counted in the bin of the target
        it carries, which for an interpolated row of a one-row bin may be a
        neighbouring bin).
    sample_weight_ : ndarray of shape (n_samples_new,)
        1.0 for every row (real and synthetic).
    is_synthetic_ : ndarray of bool, shape (n_samples_new,)
        Which output rows are synthetic.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth import LatentDiffusionResampler
    >>> rng = np.random.default_rng(0)
    >>> y = np.concatenate([rng.normal(0, 1, 150), rng.normal(3, 0.3, 10)])
    >>> X = np.column_stack([y, -y]) + 0.1 * rng.standard_normal((160, 2))
    >>> res = LatentDiffusionResampler(train_steps=50, sampling_steps=5, hidden_dim=32,
    ...                                n_layers=1, synthetic_ratio=0.25, random_state=0)
    >>> X_res, y_res = res.fit_resample(X, y)
    >>> X_res.shape[0] == X.shape[0] + res.n_synthetic_
    True
    >>> bool(0.0 <= res.rejection_rate_ <= 1.0)
    True
    """

    #: SDEdit from real rows of the bin for a continuous target; for classes from
    #: interpolated rows of the class, close to the start (see ``strength``).
    _AUTO_STRENGTH = {"classification": 0.2, "regression": 0.3}

    _parameter_constraints: dict = {
        **BaseDiffusionResampler._parameter_constraints,
        "priority_lambda": [Interval(numbers.Real, 0, 1, closed="both"), None],
        "synthetic_ratio": [Interval(numbers.Real, 0, None, closed="neither"),
                            StrOptions({"auto"}), None],
        "bin_cap": [Interval(numbers.Real, 0, None, closed="neither")],
        "condition": [StrOptions({"quantile", "value"})],
        "start": [StrOptions({"auto", "interpolate", "real"})],
        "snap_discrete": ["boolean", StrOptions({"auto"})],
        "retarget": [StrOptions({"ridge"}), None],
        "target_gate": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "gate_quantile": [Interval(numbers.Real, 0, 1, closed="right"), None],
        "max_retries": [Interval(numbers.Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        train_steps="auto",
        sampling_steps=DEFAULTS.sampling_steps,
        hidden_dim="auto",
        n_layers="auto",
        batch_size="auto",
        learning_rate=DEFAULTS.learning_rate,
        prediction="v",
        schedule="cosine",
        ema=True,
        sampler="ddim",
        strength="auto",
        cfg_scale=1.0,
        contrastive_weight=0.0,
        guidance=None,
        guidance_scale=None,
        denoiser="mlp",
        loss_weighting="min_snr",
        warm_start=False,
        priority_lambda=None,
        synthetic_ratio="auto",
        bin_cap=10.0,
        condition="quantile",
        start="auto",
        snap_discrete="auto",
        retarget="ridge",
        target_gate=0.5,
        gate_quantile=0.95,
        max_retries=1,
        sampling_strategy="auto",
        target_type="auto",
        n_bins=None,
        bin_width=None,
        synthetic_target="centre",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self._store_params(locals())

    # ------------------------------------------------------------------ policy
    def _plan(self, X, y, task):
        explicit = isinstance(self.sampling_strategy, dict) or callable(self.sampling_strategy)
        ratio = self.synthetic_ratio
        if explicit and ratio not in (None, "auto"):
            raise ValueError(
                "synthetic_ratio sets the total number of synthetic rows; it cannot be "
                "combined with an explicit dict or callable sampling_strategy."
            )
        if ratio == "auto":
            ratio = None
        plan, strategy = super()._plan(X, y, task)
        self.bin_errors_ = None
        if explicit:
            return plan, strategy
        n_groups = plan.n_groups
        base = plan.new_counts
        total = int(base.sum()) if ratio is None else int(round(ratio * X.shape[0]))
        if task == "regression":
            counts = plan.group_counts
            if self.priority_lambda is None:
                shares = base.astype(np.float64)
            else:
                lam = float(self.priority_lambda)
                errors = np.zeros(n_groups)
                if lam > 0:
                    errors = bin_errors(X, y, plan.groups, n_groups=n_groups,
                                        random_state=self._rng)
                    self.bin_errors_ = errors
                shares = priority_shares(counts.astype(np.float64), errors, lam=lam)
            supported = neighbourhood_counts(counts, 1) >= MIN_BIN_SUPPORT
            caps = np.where(supported, np.ceil(float(self.bin_cap) * counts), 0).astype(np.int64)
            n_new = capped_allocation(shares, caps, total)
            if n_new.sum() < total and self.synthetic_ratio != "auto":  # a request of the user
                warnings.warn(
                    f"{type(self).__name__}: the data supports {int(n_new.sum())} of the "
                    f"{total} synthetic rows requested (a bin gets at most bin_cap="
                    f"{self.bin_cap:g} x its real rows, and none unless it and its neighbours "
                    f"hold {MIN_BIN_SUPPORT} real rows).",
                    UserWarning, stacklevel=4)
        elif ratio is not None:
            shares = base if base.sum() > 0 else (plan.group_counts > 0).astype(np.float64)
            n_new = largest_remainder(shares, total)
        else:
            return plan, strategy
        plan.n_new = OrderedDict((int(g), int(k)) for g, k in enumerate(n_new) if k > 0)
        return plan, self._strategy(plan)

    @staticmethod
    def _strategy(plan):
        """``sampling_strategy_`` of a plan: class label or bin index -> rows."""
        if plan.task == "classification":
            return OrderedDict((plan.group_values[g], k) for g, k in plan.n_new.items())
        return OrderedDict(plan.n_new)

    # ------------------------------------------------------------------ engine
    def _cond(self, plan, groups, targets):
        """Condition of rows: class index (classes) or target (score) (regression)."""
        if plan.task == "classification":
            return groups
        targets = np.asarray(targets, np.float64)
        if self.condition == "quantile":
            return quantile_scores(self._cond_reference, targets)
        return targets

    def _start_mode(self, task):
        """``"interpolate"`` or ``"real"``: where rows of ``task`` start (and get their target)."""
        if self.start == "auto":
            return "real" if task == "classification" else "interpolate"
        return self.start

    def _draw(self, engine, X, y, plan, groups, pools, generator):
        """One batch of candidates for ``groups``: rows, their targets and parents.

        ``start="interpolate"``: a SMOTER row between two real rows of the
        group's pool (:func:`~skltsynth.resamplers._smoter.interpolate_in_pools`),
        its target interpolated with the same weight, is the SDEdit start and
        the condition; the denoiser only moves it towards the data of that
        target.  ``start="real"``: a real row of the pool, and the plan's
        synthetic target.  ``pairs`` (the parents and weight of every
        interpolated row, for the target gate) is None for real starts.
        """
        classes = plan.task == "classification"
        pairs = None
        if self._start_mode(plan.task) == "interpolate":
            x0, targets, pairs = interpolate_in_pools(X, None if classes else y, groups, pools,
                                                      self._rng, return_pairs=True)
            if classes:
                targets = plan.group_values[groups]
            x_start = (None if self._strength(plan.task) >= 1.0
                       else torch.as_tensor(np.asarray(x0, dtype=np.float32)))
        else:
            targets = plan.synthetic_targets(groups, self._rng)
            x_start = self._start_rows(X, groups, pools, plan)
        rows = self._sample(
            engine, self._cond(plan, groups if classes else None, targets),
            cond_type=self._cond_type(plan), x_start=x_start, generator=generator, dtype=X.dtype)
        if self._levels is not None:
            rows = self._levels.transform(rows)
        if self._retarget is not None:
            targets = self._retarget.transform(x0, rows, targets)
        return rows, targets, pairs

    @staticmethod
    def _cond_type(plan):
        return "class" if plan.task == "classification" else "continuous"

    def _generate(self, X, y, plan):
        counts = plan.group_counts[plan.groups].astype(np.float64)
        classes = plan.task == "classification"
        self._cond_reference = None if classes else np.asarray(y, np.float64)
        engine = self._fit_engine(
            X, plan.groups if classes else self._cond(plan, plan.groups, y),
            cond_type=self._cond_type(plan),
            n_classes=plan.n_groups if classes else None,
            # class-balanced mini-batches; for bins, tilted towards rare bins
            batch_weight=1.0 / counts if classes else 1.0 / np.sqrt(counts),
            labels=plan.groups)
        groups = plan.new_groups()
        snap = not classes if self.snap_discrete == "auto" else bool(self.snap_discrete)
        self._levels = DiscreteLevels().fit(X) if snap else None
        interpolate = self._start_mode(plan.task) == "interpolate"
        moves_starts = interpolate and not classes and self._strength(plan.task) < 1.0
        self._retarget = (LinearRetarget(random_state=self._rng).fit(X, y)
                          if moves_starts and self.retarget is not None else None)
        pools = (plan.seed_pool(min_rows=2)
                 if interpolate or self._strength(plan.task) < 1.0 else None)
        generator = self._torch_generator()
        X_new, targets, pairs = self._draw(engine, X, y, plan, groups, pools, generator)
        self.rejection_rate_ = self.target_rejection_rate_ = 0.0
        self.n_planned_ = len(groups)
        row_gate, target_gate = self._fit_gates(X, y, plan, pairs)
        self.natural_mse_ratio_ = self._natural_shift(y, plan, target_gate)
        if row_gate is not None or target_gate is not None:
            keep = self._gate(engine, X, y, plan, X_new, groups, targets, pools, generator,
                              row_gate, target_gate, pairs)
            X_new, groups, targets = X_new[keep], groups[keep], targets[keep]
            if keep.sum() < 0.5 * keep.size:
                warnings.warn(
                    f"{type(self).__name__}: only {int(keep.sum())} of {keep.size} planned "
                    "synthetic rows passed the quality gates (rejection_rate_; "
                    "target_rejection_rate_ for targets off what their parent rows imply); "
                    "the others were dropped (sampling_strategy_ lists the rows kept per bin "
                    "or class).",
                    UserWarning, stacklevel=4)
        if not classes and targets.size:
            # an interpolated target may lie in a neighbouring bin: count every row
            # in the bin of the target it carries
            groups = assign_bins(targets, plan.bin_edges)
        kept = np.bincount(groups, minlength=plan.n_groups)
        plan.n_new = OrderedDict((int(g), int(k)) for g, k in enumerate(kept) if k > 0)
        self.sampling_strategy_ = self._strategy(plan)
        self._finish()
        return SyntheticRows(X_new, targets, None)

    def _fit_gates(self, X, y, plan, pairs):
        """The fitted gates that apply, ``(row_gate, target_gate)``, each or both None.

        ``row_gate``: the Mahalanobis gate of bins or classes
        (``gate_quantile``); ``target_gate``: for interpolated rows (``pairs``
        not None) of a continuous target, with at least ``MIN_FIT_ROWS`` real
        rows, :class:`~skltsynth.policy.target_gate.PairTargetGate`
        (``target_gate``), fitted from its own random stream.
        """
        row_gate = target_gate = None
        if self.gate_quantile is not None:
            row_gate = MahalanobisGate(quantile=float(self.gate_quantile), max_radius=1,
                                       random_state=self._rng)
            row_gate.fit(X, plan.groups, n_groups=plan.n_groups,
                         ordered=plan.task == "regression")
        if (pairs is not None and plan.task == "regression" and self.target_gate is not None
                and X.shape[0] >= MIN_FIT_ROWS):
            target_gate = PairTargetGate(tolerance=float(self.target_gate),
                                         random_state=self._stream_rng(_TARGET_GATE_STREAM))
            target_gate.fit(X, y, plan.groups, n_groups=plan.n_groups)
        return row_gate, target_gate

    def _natural_shift(self, y, plan, target_gate):
        """``natural_mse_ratio_`` of the plan (None without a target gate); warns when high."""
        if target_gate is None:
            return None
        n_new = plan.new_counts
        ratio = natural_mse_ratio(y, target_gate.residual_, plan.bin_edges, n_new,
                                  random_state=self._stream_rng(_PRIOR_SHIFT_STREAM))
        if ratio > NATURAL_SHIFT_WARNING:
            warnings.warn(
                f"{type(self).__name__}: the {int(n_new.sum())} planned rows shift the target's "
                f"distribution towards its rare range; on a test distributed as these "
                f"{y.size} rows (a random split) that shift alone is estimated to raise a "
                f"head's MSE to {ratio:.2f}x of no resampling (natural_mse_ratio_). A "
                f"balanced test (the DIR protocol) gains from it; for a natural one set a "
                f"smaller bin_cap (bin_cap=1: at most one row per real row of a bin).",
                UserWarning, stacklevel=4)
        return ratio

    def _gate(self, engine, X, y, plan, X_new, groups, targets, pools, generator,
              row_gate, target_gate, pairs):
        """Score, redraw rejected rows ``max_retries`` times; mask of the rows that pass.

        A candidate passes when every given gate accepts it (``row_gate``,
        ``target_gate``: see :meth:`_fit_gates`; ``pairs`` are the parents of
        ``X_new``).  Updates ``X_new`` and ``targets`` in place with accepted
        redraws; sets ``rejection_rate_`` and ``target_rejection_rate_``.
        """

        def score(rows, rows_targets, rows_pairs, rows_groups):
            """Worst of the two gates' ratios, and where the target gate alone rejects."""
            ratio = np.zeros(len(rows_groups))
            if row_gate is not None:
                ratio = row_gate.score(rows, rows_groups)
            off_target = np.zeros(len(rows_groups), dtype=bool)
            if target_gate is not None:
                target_ratio = target_gate.score(rows, rows_targets, rows_pairs, rows_groups)
                off_target = target_ratio > 1.0
                ratio = np.maximum(ratio, target_ratio)
            return ratio, off_target

        score_now, off_target = score(X_new, targets, pairs, groups)
        n_drawn, n_rejected = len(groups), int((score_now > 1.0).sum())
        n_off_target = int(off_target.sum())
        for _ in range(int(self.max_retries)):
            rejected = np.flatnonzero(np.isfinite(score_now) & (score_now > 1.0))
            if rejected.size == 0:
                break
            # redraw in blocks, keeping the better row of each pair: the
            # candidates never hold more than one block
            for chunk in batches(rejected.size, _RETRY_BLOCK_ROWS):
                redo = rejected[chunk]
                cand, cand_targets, cand_pairs = self._draw(engine, X, y, plan, groups[redo],
                                                            pools, generator)
                cand_score, cand_off = score(cand, cand_targets, cand_pairs, groups[redo])
                n_drawn += redo.size
                n_rejected += int((cand_score > 1.0).sum())
                n_off_target += int(cand_off.sum())
                better = cand_score < score_now[redo]
                X_new[redo[better]] = cand[better]
                targets[redo[better]] = cand_targets[better]
                score_now[redo[better]] = cand_score[better]
        self.rejection_rate_ = n_rejected / n_drawn
        self.target_rejection_rate_ = n_off_target / n_drawn
        return score_now <= 1.0
