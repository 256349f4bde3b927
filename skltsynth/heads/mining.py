"""The Longtail Guidance data-mining loop: generate, retrain, regenerate.

Longtail Guidance (paper 003, Figure 3) does not stop at one guided draw: the
predictive model is trained, frozen, and guides the diffusion model towards
rows that are rare or hard *for it*; the rows join its training set, it is
retrained, and the process repeats, each round guided by the model being
improved.  :func:`mine_longtail` runs that loop in one call for any
diffusion resampler and any guiding model with ``torch_signal`` (the
Epistemic Heads of :mod:`skltsynth.heads.epistemic` at least).  The diffusion model
is trained once (``warm_start``) and only regenerates under each round's
guidance.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from .._random import check_random_state, draw_seed
from ..policy.guidance import LongtailGuidance

__all__ = ["LongtailMining", "mine_longtail"]


@dataclass
class LongtailMining:
    """Result of :func:`mine_longtail`.

    Attributes
    ----------
    model : estimator
        The guiding model retrained on the real rows plus every round's rows.
    X_synthetic : ndarray of shape (n_synthetic, n_features)
        All mined rows, round after round.
    y_synthetic : ndarray of shape (n_synthetic,)
        Their targets.
    round_ : ndarray of shape (n_synthetic,)
        The round (0-based) each mined row comes from.
    history : list of dict
        Per round: ``round``, ``n_rows``, ``scale`` (the guidance weight
        used; None when the round generated no row) and ``signal`` (the mean longtail signal of the round's rows
        under the model that guided them).
    sample_weight : ndarray of shape (n_samples + n_synthetic,) or None
        The resampler's ``sample_weight_`` of the real rows (last round) then
        of every mined row (e.g. MemoryDDPM's confidence weights); None when
        the resampler has none.
    """

    model: object
    X_synthetic: np.ndarray
    y_synthetic: np.ndarray
    round_: np.ndarray
    history: list = field(default_factory=list)
    sample_weight: np.ndarray | None = None


def mine_longtail(resampler, model, X, y, *, rounds=3, scale="auto", signal=None, jacobian=False,
                  split_rows=False, random_state=None):
    """Mine rare or hard rows with Longtail Guidance, retraining the guiding model each round.

    Parameters
    ----------
    resampler : diffusion resampler
        A :class:`~skltsynth.LatentDiffusionResampler` or
        :class:`~skltsynth.MemoryDDPMResampler` (unfitted; it is cloned).  Its
        settings decide how many rows each round makes.
    model : estimator with ``torch_signal``
        The guiding, predictive model (unfitted; cloned and fitted on the
        real rows, then refitted on real + mined rows after every round), e.g.
        :class:`~skltsynth.heads.epistemic.EpistemicHeadClassifier` or
        :class:`~skltsynth.heads.epistemic.EpistemicHeadRegressor`.  Its
        ``max_epochs`` is the "few epochs" between regenerations.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    rounds : int, default=3
        Generate-retrain rounds.
    scale : float > 0 or "auto", default="auto"
        Guidance weight.  ``"auto"``: every round's resampler picks it inside
        its fit by the in-distribution rule, with the model of that round
        (:class:`~skltsynth.LongtailGuidance`); the chosen weight is in
        ``history[r]["scale"]``.  A number: that weight in every round (the
        paper uses one weight for all rounds; pick it with
        :func:`~skltsynth.policy.guidance.select_guidance_scale`).
    signal : str or None, default=None
        The model's longtail signal (None = its main one).
    jacobian : bool, default=False
        Gradient rule of :class:`~skltsynth.LongtailGuidance`.
    split_rows : bool, default=False
        False: every round adds all the synthetic rows of one
        ``fit_resample``.  True: the budget of one ``fit_resample`` is split
        over the rounds -- round ``r`` keeps every ``rounds``-th synthetic
        row from the ``r``-th on (the rows come grouped by class, so each class
        gets its share), and all rounds together add as many rows as one
        resampling (what a fair comparison with unguided resampling needs).
    random_state : int, RandomState, Generator or None, default=None
        Seeds of the rounds (each round draws new rows).

    Returns
    -------
    result : LongtailMining

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth import MemoryDDPMResampler
    >>> from skltsynth.heads.epistemic import EpistemicHeadClassifier
    >>> from skltsynth.heads.mining import mine_longtail
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], [60, 12])
    >>> X = rng.standard_normal((72, 4)) + 2.0 * y[:, None]
    >>> out = mine_longtail(
    ...     MemoryDDPMResampler(train_steps=40, sampling_steps=5, hidden_dim=32, n_layers=1),
    ...     EpistemicHeadClassifier(max_epochs=10, head_max_epochs=5, device="cpu"),
    ...     X, y, rounds=2, scale=5.0, signal="entropy", random_state=0)
    >>> out.X_synthetic.shape, [h["n_rows"] for h in out.history]
    ((96, 4), [48, 48])
    """
    if isinstance(rounds, bool) or not isinstance(rounds, numbers.Integral) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}.")
    if scale != "auto" and (isinstance(scale, bool) or not isinstance(scale, numbers.Real)
                            or not scale > 0):
        raise ValueError(f"scale must be 'auto' or a positive number, got {scale!r}; "
                         "0 would not guide.")
    if "guidance" not in resampler.get_params(deep=False):
        raise TypeError(f"{type(resampler).__name__} has no `guidance` parameter: use a "
                        "diffusion resampler.")
    if not hasattr(model, "torch_signal"):
        raise TypeError(f"{type(model).__name__} has no torch_signal(signal) method: use an "
                        "Epistemic Head (skltsynth.heads.epistemic) or a model with that protocol.")
    rng = check_random_state(random_state)
    X_real, y_real = np.asarray(X), np.asarray(y)
    current = clone(model).fit(X_real, y_real)
    res = clone(resampler).set_params(warm_start=True, guidance_scale=None)
    parts_X, parts_y, parts_round, parts_w, history = [], [], [], [], []
    real_w = None
    for r in range(int(rounds)):
        guide = LongtailGuidance(current, signal=signal, jacobian=jacobian,
                                 scale=scale if scale == "auto" else float(scale))
        res.set_params(guidance=guide, random_state=draw_seed(rng) % (2**32))
        X_res, y_res = res.fit_resample(X_real, y_real)
        mask = np.asarray(res.is_synthetic_)
        keep = np.flatnonzero(mask)
        if split_rows:
            keep = keep[r::int(rounds)]
        X_new, y_new = np.asarray(X_res)[keep], np.asarray(y_res)[keep]
        weight = getattr(res, "sample_weight_", None)
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float64)
            real_w = weight[~mask]
            parts_w.append(weight[keep])
        history.append({
            "round": r,
            "n_rows": int(keep.size),
            "scale": res.guidance_scale_,  # None when the round generated no row
            "signal": float(np.mean(current.longtail_score(X_new, signal))) if keep.size
            else float("nan"),
        })
        parts_X.append(X_new)
        parts_y.append(y_new)
        parts_round.append(np.full(len(y_new), r))
        current = clone(model).fit(np.concatenate([X_real, *parts_X]),
                                   np.concatenate([y_real, *parts_y]))
    weights = None if real_w is None else np.concatenate([real_w, *parts_w])
    return LongtailMining(model=current, X_synthetic=np.concatenate(parts_X),
                          y_synthetic=np.concatenate(parts_y),
                          round_=np.concatenate(parts_round), history=history,
                          sample_weight=weights)
