"""The guidance weight, chosen by Longtail Guidance's in-distribution rule.

Longtail Guidance (section 3.1) keeps guided rows in distribution through the
weight ``w``: guided rows must score a *higher* longtail signal than unguided
ones (harder for the model) while the model's probability of their intended
class, P(class), is *lower* than on unguided rows but still well above zero.
This module is the one definition of that rule:

* :data:`MIN_SIGNAL_RATIO` and :data:`CLASS_RATIO` are its thresholds;
* :func:`scale_search` applies it to measurements over a grid of scales
  (:data:`SCALE_GRID`);
* :func:`guided_measure` is the measurement (mean signal, mean P(class)).

Two callers share it: :func:`skltsynth.policy.guidance.select_guidance_scale`
(rows from any sampler, e.g. on held-out data) and ``scale="auto"`` of
:class:`~skltsynth.LongtailGuidance`, which a diffusion resampler resolves
inside its fit with a small probe draw of :data:`PROBE_ROWS` rows from its
already-trained engine (:func:`probe_rows` picks them, spread over the
classes being generated).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = [
    "CLASS_RATIO",
    "MIN_SIGNAL_RATIO",
    "PROBE_ROWS",
    "SCALE_GRID",
    "ScaleSelection",
    "class_probability",
    "guided_measure",
    "no_pass_message",
    "probe_rows",
    "scale_search",
    "signal_ratio",
]

#: Guided rows must raise the mean longtail signal above this multiple of the
#: unguided value ("harder for the guiding model").
MIN_SIGNAL_RATIO = 1.1
#: Lowest accepted guided / unguided ratio of the mean P(class) (the ratio must
#: also stay below 1).  Half keeps a margin over the floor the rows must stay
#: above on fresh draws (a quarter), as the paper's "well above zero".
CLASS_RATIO = 0.5
#: Candidate scales of ``scale="auto"`` (and of ``select_guidance_scale``):
#: half-decade steps from 0.1 to 1e4.  The useful weight depends on the
#: signal's size (the epistemic signal of agreeing heads is often ~1e-3 nats,
#: entropy ~1), so the grid spans five decades.
SCALE_GRID = tuple(float(v) for v in np.logspace(-1, 4, 11))
#: Rows of the probe draw a diffusion resampler samples per candidate scale.
PROBE_ROWS = 256


@dataclass
class ScaleSelection:
    """Result of the in-distribution rule over a grid of scales.

    Attributes
    ----------
    scale : float
        The chosen scale; 0.0 when no scale meets the rule.
    table : list of dict
        Per scale tried: ``scale``, ``signal`` (mean longtail signal),
        ``signal_ratio`` (see :func:`signal_ratio`), ``p_class`` and
        ``p_ratio`` (mean probability of the intended class and its ratio to
        the unguided value; only when P(class) is measured) and
        ``accepted``.
    unguided : dict
        The same numbers for scale 0 (no guidance).
    rule : {"class", "signal"}
        ``"class"``: both halves of the rule (P(class) measured);
        ``"signal"``: the signal rise only (no class probability, e.g. a
        continuous target).
    """

    scale: float
    table: list = field(default_factory=list)
    unguided: dict = field(default_factory=dict)
    rule: str = "class"


def signal_ratio(value, unguided):
    """Guided over unguided mean signal, for signals of either sign.

    ``value / unguided`` for a positive unguided signal; for a negative one
    (the free energy) ``1 + (value - unguided) / |unguided|``, so a ratio
    above 1 always means the signal rose.

    Examples
    --------
    >>> from skltsynth.policy.guidance_scale import signal_ratio
    >>> signal_ratio(0.5, 0.25), signal_ratio(-1.0, -2.0)
    (2.0, 1.5)
    """
    value, unguided = float(value), float(unguided)
    if unguided > 0:
        return value / unguided
    if unguided < 0:
        return 1.0 + (value - unguided) / abs(unguided)
    return np.inf if value > 0 else (1.0 if value == 0 else 0.0)


def class_probability(model, X, y):
    """``model``'s probability of each row's label ``y`` (0 for unknown labels)."""
    proba = model.predict_proba(X)
    classes = np.asarray(model.classes_)
    order = np.argsort(classes)
    pos = np.clip(np.searchsorted(classes[order], y), 0, len(classes) - 1)
    known = classes[order][pos] == y
    p = np.zeros(len(y))
    p[known] = proba[np.flatnonzero(known), order[pos[known]]]
    return p


def guided_measure(guidance, rows, labels=None, cond=None):
    """Mean longtail signal of ``rows`` and, when it can be measured, mean P(class).

    Parameters
    ----------
    guidance : LongtailGuidance
        Its signal is evaluated on ``rows`` (the signal guidance raises);
        P(class) is measured when ``labels`` are given and its ``model`` has
        ``predict_proba`` and ``classes_``.
    rows : ndarray or torch.Tensor of shape (n, d)
    labels : array-like of shape (n,), optional
        Intended class label of every row, in ``model.classes_`` terms.
    cond : torch.Tensor of shape (n,), optional
        Condition passed to a two-argument signal.

    Returns
    -------
    measure : dict
        ``signal`` and, when measured, ``p_class``.
    """
    x = rows if isinstance(rows, torch.Tensor) else torch.as_tensor(
        np.asarray(rows, dtype=np.float32))
    with torch.no_grad():
        out = {"signal": float(guidance(x, cond).double().mean())}
    model = guidance.model
    if labels is not None and hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        X = x.detach().to("cpu").numpy()
        out["p_class"] = float(np.mean(class_probability(model, X, np.asarray(labels))))
    return out


def _check_scales(scales, target_ratio):
    if not 0.0 < float(target_ratio) < 1.0:
        raise ValueError(f"target_ratio must be in (0, 1), got {target_ratio!r}.")
    scales = sorted(float(s) for s in scales)
    if not scales or scales[0] <= 0:
        raise ValueError("scales must be a non-empty sequence of positive numbers.")
    return scales


def scale_search(measure, scales=SCALE_GRID, target_ratio=CLASS_RATIO):
    """Apply the in-distribution rule to a grid of scales.

    A scale is accepted when its rows' signal ratio is above
    :data:`MIN_SIGNAL_RATIO` and, when P(class) is measured, its P(class)
    ratio is in ``[target_ratio, 1)``.  Scales are tried from the smallest
    up.  With P(class), the chosen scale is the accepted one whose rows are
    hardest (the highest signal ratio; while the signal grows with the
    scale, the largest accepted one -- but the data region can turn it
    back down at large scales, and a scale just over the threshold there
    would be a fragile choice), and the search stops at the first scale
    whose P(class) ratio falls below ``target_ratio`` (larger scales only
    push rows further from their class).  Without P(class) (a
    continuous target, or a model without ``predict_proba``) nothing bounds
    the push but the data region, so the chosen scale is the *smallest* one
    that raises the signal enough.

    Parameters
    ----------
    measure : callable
        ``measure(scale) -> dict`` with ``signal`` and optionally
        ``p_class`` (:func:`guided_measure`); ``scale=0.0`` means unguided.
    scales : sequence of float > 0, default=SCALE_GRID
    target_ratio : float in (0, 1), default=CLASS_RATIO

    Returns
    -------
    selection : ScaleSelection

    Examples
    --------
    >>> from skltsynth.policy.guidance_scale import scale_search
    >>> def measure(s):  # the signal rises and P(class) falls with the scale
    ...     return {"signal": 1.0 + s, "p_class": 0.9 / (1.0 + s)}
    >>> scale_search(measure, scales=(0.05, 0.5, 2.0)).scale
    0.5
    """
    scales = _check_scales(scales, target_ratio)
    unguided = dict(measure(0.0))
    with_class = "p_class" in unguided
    unguided.update(scale=0.0, signal_ratio=1.0, **({"p_ratio": 1.0} if with_class else {}))
    table, chosen, best = [], 0.0, -np.inf
    for s in scales:
        row = dict(measure(s))
        row["scale"] = s
        row["signal_ratio"] = signal_ratio(row["signal"], unguided["signal"])
        harder = row["signal_ratio"] > MIN_SIGNAL_RATIO
        if with_class:
            p0 = unguided["p_class"]
            row["p_ratio"] = row["p_class"] / p0 if p0 > 0 else 0.0
            row["accepted"] = bool(harder and target_ratio <= row["p_ratio"] < 1.0)
        else:
            row["accepted"] = bool(harder)
        table.append(row)
        if row["accepted"]:
            if row["signal_ratio"] > best:
                chosen, best = s, row["signal_ratio"]
            if not with_class:
                break  # the smallest scale that makes rows harder
        elif with_class and row["p_ratio"] < target_ratio:
            break  # larger scales move rows further from their class
    return ScaleSelection(scale=chosen, table=table, unguided=unguided,
                          rule="class" if with_class else "signal")


def no_pass_message(selection, target_ratio=CLASS_RATIO):
    """The warning text when no scale meets the rule, naming the measured ratios."""
    if selection.rule == "class":
        rule = (f"signal ratio > {MIN_SIGNAL_RATIO:g} and P(class) ratio in "
                f"[{target_ratio:g}, 1)")
        measured = "; ".join(f"{r['scale']:g}: signal x{r['signal_ratio']:.2f}, "
                             f"P(class) x{r['p_ratio']:.2f}" for r in selection.table)
    else:
        rule = f"signal ratio > {MIN_SIGNAL_RATIO:g}"
        measured = "; ".join(f"{r['scale']:g}: signal x{r['signal_ratio']:.2f}"
                             for r in selection.table)
    return (f"LongtailGuidance(scale='auto'): no scale met the in-distribution rule ({rule}); "
            f"measured per scale: {measured}.  Sampling is unguided; set a number "
            "(LongtailGuidance(scale=...) or the resampler's guidance_scale) to guide anyway.")


def probe_rows(groups, n, rng):
    """Indices of at most ``n`` rows spread evenly over ``groups``.

    Every group contributes rows in turn (a random row of each group, then a
    second of each, ...), so the probe covers the classes or bins being
    generated, rare ones included (one group: a plain random subset).

    Parameters
    ----------
    groups : ndarray of shape (m,)
    n : int
    rng : numpy.random.Generator

    Returns
    -------
    index : ndarray of int, sorted

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.policy.guidance_scale import probe_rows
    >>> groups = np.array([0] * 90 + [1] * 10)
    >>> idx = probe_rows(groups, 20, np.random.default_rng(0))
    >>> np.bincount(groups[idx]).tolist()
    [10, 10]
    """
    m = int(np.shape(groups)[0])
    if m <= n:
        return np.arange(m)
    perm = rng.permutation(m)
    g = np.asarray(groups)[perm]
    order = np.argsort(g, kind="stable")
    sorted_g = g[order]
    starts = np.r_[0, np.flatnonzero(sorted_g[1:] != sorted_g[:-1]) + 1]
    sizes = np.diff(np.r_[starts, m])
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m) - np.repeat(starts, sizes)  # position within its group
    return np.sort(perm[np.argsort(rank, kind="stable")[:n]])
