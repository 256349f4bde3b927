"""LatentDiff: conditional diffusion in embedding space for imbalanced regression.

A conditional denoiser (:class:`skltsynth.diffusion.FeatureDiffusion`,
v-prediction, cosine schedule, EMA weights) is trained on the real rows; new
rows are drawn conditioned on the target of the bin (or class) they are made
for, spread over bins by priority (per-bin error of a quick ridge model and
rarity), and filtered by a Mahalanobis quality gate
(:class:`skltsynth.quality.MahalanobisGate`).
"""

from __future__ import annotations

import numbers
from collections import OrderedDict

import numpy as np
from sklearn.utils._param_validation import Interval

from .._torch_utils import batches
from ..base import SyntheticRows
from ..priority import bin_errors
from ..quality import MahalanobisGate
from ..targets import largest_remainder, priority_allocation
from ._diffusion_base import DEFAULTS, BaseDiffusionResampler, fill_diffusion_doc

__all__ = ["LatentDiffusionResampler"]

#: Rejected rows redrawn at once by the quality gate's retries (bounds memory).
_RETRY_BLOCK_ROWS = 65536


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

    * the *total* is ``round(synthetic_ratio * n_samples)`` when
      ``synthetic_ratio`` is set; otherwise the number of rows the base plan
      for ``sampling_strategy`` makes (``"auto"`` = flatten the LDS-smoothed
      bin density up to the fullest bin; a float flattens up to that
      fraction of it);
    * ``priority_lambda`` then *redistributes* that total over bins that hold
      real rows with priority ``lam * e_b + (1 - lam) * (1 - n_b / max n)``
      (:func:`skltsynth.targets.priority_allocation`), ``e_b`` the per-bin
      out-of-fold error of a ridge model (:func:`skltsynth.priority.bin_errors`).
      ``priority_lambda=0`` is purely count-based (rarity);
      ``priority_lambda=None`` keeps the base plan's spread (scaled to the
      total when ``synthetic_ratio`` is set);
    * a dict or callable ``sampling_strategy`` is an explicit per-bin request:
      it is used unchanged (``priority_lambda`` is then ignored, and
      ``synthetic_ratio`` must be None).

    Classification: ``priority_lambda`` does not apply (the classes are
    already what the base plan rebalances); the base plan decides the rows per
    class, and ``synthetic_ratio``, if set, rescales it to that total keeping
    its proportions (or, for an already balanced set, spreads it evenly).

    Parameters
    ----------
%(diffusion_parameters)s
    priority_lambda : float in [0, 1] or None, default=0.9
        Weight of the per-bin error in the priority allocation (regression);
        see above.
    synthetic_ratio : float > 0 or None, default=None
        Total synthetic rows as a ratio of the input size; None = the base
        plan's total for ``sampling_strategy``.
    gate_quantile : float in (0, 1] or None, default=0.95
        Mahalanobis gate: a synthetic row is kept when its distance to the
        shrunk Gaussian of its bin/class is within this quantile of the real
        rows' (cross-fitted) distances.  None disables the gate.
    max_retries : int, default=1
        Rounds of regenerating rejected rows.  After the last round the
        best candidate (smallest distance) of each slot is kept, so the
        requested number of rows is always returned.  Each round costs a
        sampling pass over the rejected rows; on STS-B-DIR further rounds
        changed the test error by less than the seed-to-seed spread.
    sampling_strategy, target_type, n_bins, bin_width, synthetic_target, \
device, random_state, verbose
        See :class:`skltsynth.base.BaseEmbeddingResampler`.  With
        ``synthetic_target="uniform"`` a regression row is generated
        conditioned on its uniform draw inside the bin (the denoiser is
        trained on the real targets, so any value in the range is a valid
        condition); with ``"centre"`` on the bin centre.

    Attributes
    ----------
    engine_ : skltsynth.diffusion.FeatureDiffusion
        The fitted diffusion model (on CPU).
    engine_size_ : dict
        The engine's ``hidden_dim``, ``n_layers``, ``batch_size`` and
        ``train_steps`` (maximum) after resolving ``"auto"``; the steps
        actually taken are ``engine_.n_train_steps_``.
    rejection_rate_ : float
        Fraction of all generated candidates (retries included) that failed
        the gate; 0.0 when the gate is off.
    bin_errors_ : ndarray of shape (n_bins,) or None
        Per-bin ridge error used by the priority allocation (regression with
        ``priority_lambda`` in use).
    sampling_strategy_ : OrderedDict
        Rows generated per class or bin index.
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
    >>> X_res.shape
    (200, 2)
    >>> bool(0.0 <= res.rejection_rate_ <= 1.0)
    True
    """

    _parameter_constraints: dict = {
        **BaseDiffusionResampler._parameter_constraints,
        "priority_lambda": [Interval(numbers.Real, 0, 1, closed="both"), None],
        "synthetic_ratio": [Interval(numbers.Real, 0, None, closed="neither"), None],
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
        strength=1.0,
        cfg_scale=1.0,
        contrastive_weight=0.0,
        guidance=None,
        guidance_scale=None,
        denoiser="mlp",
        loss_weighting="min_snr",
        warm_start=False,
        priority_lambda=0.9,
        synthetic_ratio=None,
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
        if explicit and self.synthetic_ratio is not None:
            raise ValueError(
                "synthetic_ratio sets the total number of synthetic rows; it cannot be "
                "combined with an explicit dict or callable sampling_strategy."
            )
        plan, strategy = super()._plan(X, y, task)
        self.bin_errors_ = None
        if explicit:
            return plan, strategy
        n_groups = plan.n_groups
        base = np.zeros(n_groups, dtype=np.int64)
        for g, k in plan.n_new.items():
            base[g] = k
        total = int(base.sum()) if self.synthetic_ratio is None else int(
            round(self.synthetic_ratio * X.shape[0])
        )
        if task == "regression" and self.priority_lambda is not None:
            lam = float(self.priority_lambda)
            errors = np.zeros(n_groups)
            if lam > 0:
                errors = bin_errors(X, y, plan.groups, n_groups=n_groups, random_state=self._rng)
                self.bin_errors_ = errors
            n_new = priority_allocation(plan.group_counts.astype(np.float64), errors, total,
                                        lam=lam)
        elif self.synthetic_ratio is not None:
            shares = base if base.sum() > 0 else (plan.group_counts > 0).astype(np.float64)
            n_new = largest_remainder(shares, total)
        else:
            return plan, strategy
        plan.n_new = OrderedDict((int(g), int(k)) for g, k in enumerate(n_new) if k > 0)
        if task == "classification":
            strategy = OrderedDict((plan.group_values[g], k) for g, k in plan.n_new.items())
        else:
            strategy = OrderedDict(plan.n_new)
        return plan, strategy

    # ------------------------------------------------------------------ engine
    def _cond(self, plan, groups, targets):
        """Condition of rows: class index (classes) or target value (regression)."""
        return groups if plan.task == "classification" else np.asarray(targets, np.float64)

    def _draw(self, engine, X, plan, groups, targets, pools, generator):
        """One batch of candidates for the given groups/targets."""
        return self._sample(
            engine, self._cond(plan, groups, targets), cond_type=self._cond_type(plan),
            x_start=self._start_rows(X, groups, pools), generator=generator, dtype=X.dtype)

    @staticmethod
    def _cond_type(plan):
        return "class" if plan.task == "classification" else "continuous"

    def _generate(self, X, y, plan):
        counts = plan.group_counts[plan.groups].astype(np.float64)
        classes = plan.task == "classification"
        engine = self._fit_engine(
            X, plan.groups if classes else y, cond_type=self._cond_type(plan),
            n_classes=plan.n_groups if classes else None,
            # class-balanced mini-batches; for bins, tilted towards rare bins
            batch_weight=1.0 / counts if classes else 1.0 / np.sqrt(counts),
            labels=plan.groups)
        groups = plan.new_groups()
        targets = plan.synthetic_targets(groups, self._rng)
        pools = plan.seed_pool(min_rows=2) if self.strength < 1.0 else None
        generator = self._torch_generator()
        X_new = self._draw(engine, X, plan, groups, targets, pools, generator)
        self.rejection_rate_ = 0.0
        if self.gate_quantile is not None:
            gate = MahalanobisGate(quantile=float(self.gate_quantile), random_state=self._rng).fit(
                X, plan.groups, n_groups=plan.n_groups, ordered=plan.task == "regression")
            score = gate.score(X_new, groups)
            n_drawn, n_rejected = len(groups), int((score > 1.0).sum())
            for _ in range(int(self.max_retries)):
                rejected = np.flatnonzero(score > 1.0)
                if rejected.size == 0:
                    break
                # redraw in blocks, keeping the better row of each pair: the
                # candidates never hold more than one block
                for chunk in batches(rejected.size, _RETRY_BLOCK_ROWS):
                    redo = rejected[chunk]
                    cand = self._draw(engine, X, plan, groups[redo], targets[redo], pools,
                                      generator)
                    cand_score = gate.score(cand, groups[redo])
                    n_drawn += redo.size
                    n_rejected += int((cand_score > 1.0).sum())
                    better = cand_score < score[redo]
                    X_new[redo[better]] = cand[better]
                    score[redo[better]] = cand_score[better]
            self.rejection_rate_ = n_rejected / n_drawn
        self._finish()
        return SyntheticRows(X_new, targets, None)
