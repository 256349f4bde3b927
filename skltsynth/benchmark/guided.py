"""skltsynth resamplers as benchmark methods: configured variants and Longtail Guidance.

:func:`skltsynth_variant` makes the factory of a skltsynth resampler with
some parameters set, optionally wrapped in :class:`GuidedResampler`, which
fits an Epistemic Head on the training rows inside the resampling call and
guides the diffusion resampler with it.
"""

from __future__ import annotations

import numpy as np

from .registry import resolve_class

__all__ = ["GUIDANCE_FAST_PARAMS", "GUIDANCE_SCALE", "MINING_ROUNDS", "GuidedResampler",
           "MinedResampler", "probe_cost_line", "skltsynth_variant", "write_report"]

#: Fast settings of the Epistemic Head fitted for the guided variants
#: (defaults ``max_epochs=50, head_max_epochs=20``).
GUIDANCE_FAST_PARAMS = {"head_max_epochs_base": 15, "head_max_epochs_heads": 10}
#: Guidance weight of the guided variants, fixed for every dataset: chosen once
#: by the in-distribution rule (:func:`skltsynth.policy.guidance.select_guidance_scale`,
#: target ratio 0.5, scales 1..1e5) on the demo set, seed 0, MemoryDDPM with the
#: fast settings, 250 rows of the 25 rarest classes: P(class) of the epistemic
#: head fell from 0.977 (unguided) to 0.83 at 100, 0.71 at 316 and 0.44 at 1000.
GUIDANCE_SCALE = 300.0
#: Generate-retrain rounds of the mined variants (:class:`MinedResampler`).
MINING_ROUNDS = 3


class GuidedResampler:
    """A diffusion resampler with Longtail Guidance from an Epistemic Head.

    ``fit_resample(X, y)`` first fits an
    :class:`~skltsynth.heads.epistemic.EpistemicHeadClassifier` on ``(X, y)`` (its
    time counts as resampling time), then fits a fresh clone of the wrapped
    resampler configured with ``guidance=LongtailGuidance(head, signal,
    scale)`` (and ``guidance_scale`` when the resampler has that parameter);
    the wrapped resampler itself is never changed by the call.  The clone is
    kept as ``resampler_`` and its fitted attributes (``sample_weight_``,
    ``is_synthetic_``, ...) are read through this object.  The wrapped
    resampler's parameters are this object's parameters, so the runner can
    set ``device``, ``target_type`` and fast settings on it.
    Classification only (the head is a classifier).
    """

    _OWN = ("guidance_signal", "guidance_scale", "head_max_epochs_base",
            "head_max_epochs_heads")
    _SET_BY_CALL = ("guidance", "guidance_scale")

    def __init__(self, resampler, guidance_signal="epistemic", guidance_scale=1.0,
                 head_max_epochs_base=50, head_max_epochs_heads=20):
        self.resampler = resampler
        self.guidance_signal = guidance_signal
        self.guidance_scale = guidance_scale
        self.head_max_epochs_base = head_max_epochs_base
        self.head_max_epochs_heads = head_max_epochs_heads

    def get_params(self, deep=True):
        params = {k: v for k, v in self.resampler.get_params(deep=False).items()
                  if k not in self._SET_BY_CALL}
        params.update({k: getattr(self, k) for k in self._OWN})
        return params

    def set_params(self, **params):
        inner = {}
        for key, value in params.items():
            if key in self._OWN:
                setattr(self, key, value)
            else:
                inner[key] = value
        if inner:
            self.resampler.set_params(**inner)
        return self

    def _head(self):
        """The unfitted Epistemic Head that guides (the wrapped resampler's device and seed)."""
        from ..heads.epistemic import EpistemicHeadClassifier

        inner = self.resampler.get_params(deep=False)
        return EpistemicHeadClassifier(
            max_epochs=self.head_max_epochs_base, head_max_epochs=self.head_max_epochs_heads,
            device=inner.get("device", "auto"), random_state=inner.get("random_state"),
        )

    def fit_resample(self, X, y):
        from ..policy.guidance import LongtailGuidance

        inner = self.resampler.get_params(deep=False)
        head = self._head().fit(X, y)
        guide = LongtailGuidance(head, signal=self.guidance_signal, scale=self.guidance_scale)
        config = {"guidance": guide}
        if "guidance_scale" in inner:
            config["guidance_scale"] = self.guidance_scale
        from sklearn.base import clone  # here: the CLI's help must not import sklearn

        self.resampler_ = clone(self.resampler).set_params(**config)
        return self.resampler_.fit_resample(X, y)

    def __getattr__(self, name):
        if name.endswith("_") and not name.startswith("_") and "resampler_" in self.__dict__:
            return getattr(self.__dict__["resampler_"], name)
        raise AttributeError(name)

    def __repr__(self):
        return (f"{type(self).__name__}({self.resampler!r}, "
                f"guidance_signal={self.guidance_signal!r}, "
                f"guidance_scale={self.guidance_scale!r})")


class MinedResampler(GuidedResampler):
    """The Longtail Guidance mining loop as one resampling call.

    ``fit_resample(X, y)`` runs :func:`skltsynth.heads.mining.mine_longtail`
    with a fresh :class:`~skltsynth.heads.epistemic.EpistemicHeadClassifier`
    (fitted on the real rows, then refitted on real + mined rows after every
    round, so each round is guided by the model being improved) and a clone
    of the wrapped diffusion resampler (trained once, warm start), for
    ``rounds`` rounds with ``split_rows=True``: the rounds share the rows one
    resampling would add, so the head sees as many synthetic rows as with the
    unguided resampler.  Returns the real rows then the mined rows;
    ``sample_weight_`` carries the resampler's weights (MemoryDDPM's confidence
    weights), ``is_synthetic_`` marks the mined rows and ``mining_`` is the
    :class:`~skltsynth.heads.mining.LongtailMining` result.
    """

    _OWN = GuidedResampler._OWN + ("rounds",)

    def __init__(self, resampler, guidance_signal="epistemic", guidance_scale=1.0,
                 head_max_epochs_base=50, head_max_epochs_heads=20, rounds=MINING_ROUNDS):
        super().__init__(resampler, guidance_signal, guidance_scale, head_max_epochs_base,
                         head_max_epochs_heads)
        self.rounds = rounds

    def fit_resample(self, X, y):
        from ..heads.mining import mine_longtail

        X, y = np.asarray(X), np.asarray(y)
        inner = self.resampler.get_params(deep=False)
        out = mine_longtail(self.resampler, self._head(), X, y, rounds=self.rounds,
                            scale=self.guidance_scale, signal=self.guidance_signal,
                            split_rows=True, random_state=inner.get("random_state"))
        self.mining_ = out
        n, m = len(y), len(out.y_synthetic)
        self.is_synthetic_ = np.r_[np.zeros(n, dtype=bool), np.ones(m, dtype=bool)]
        self.sample_weight_ = (np.ones(n + m) if out.sample_weight is None
                               else out.sample_weight)
        return (np.concatenate([X, out.X_synthetic.astype(X.dtype, copy=False)]),
                np.concatenate([y, out.y_synthetic]))

    def __repr__(self):
        return f"{super().__repr__()[:-1]}, rounds={self.rounds!r})"


def skltsynth_variant(ref, guided=False, mined=False, **params):
    """Factory of a skltsynth resampler with ``params`` set (optionally guided or mined)."""

    def factory(task, random_state):
        sampler = resolve_class(ref)(random_state=random_state, **params)
        if mined:
            return MinedResampler(sampler, guidance_scale=GUIDANCE_SCALE)
        return GuidedResampler(sampler, guidance_scale=GUIDANCE_SCALE) if guided else sampler

    return factory


def probe_cost_line(t_auto, t_number, t_cold):
    """The report line of what ``scale="auto"``'s probe costs.

    Parameters
    ----------
    t_auto : float
        Seconds of the draw with ``scale="auto"``.
    t_number : float
        Seconds of the same draw with the picked scale given as a number.
    t_cold : float
        Seconds of the cold fit (engine training included).

    Returns
    -------
    line : str

    Examples
    --------
    >>> probe_cost_line(3.0, 2.0, 10.0)
    'Probe cost: auto 3.0 s vs the same scale as a number 2.0 s: +1.0 s, 0.10 x the cold fit (10.0 s).'
    """
    extra = t_auto - t_number
    return (f"Probe cost: auto {t_auto:.1f} s vs the same scale as a number {t_number:.1f} s: "
            f"+{extra:.1f} s, {extra / t_cold:.2f} x the cold fit ({t_cold:.1f} s).")


def write_report(lines, warned, out=None):
    """Print a guided benchmark's report (its warnings last) and write it to ``out``.

    Parameters
    ----------
    lines : list of str
    warned : list of str
        Warnings of the ``scale="auto"`` draw, one line each.
    out : str, pathlib.Path or None, default=None
        File to write the report to as well.

    Returns
    -------
    text : str
    """
    import pathlib

    text = "\n".join([*lines, *(f"Warning: {w}" for w in warned)])
    print(text, flush=True)
    if out:
        pathlib.Path(out).write_text(text + "\n")
    return text
