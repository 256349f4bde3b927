"""Size the denoiser and its training to the data (the ``"auto"`` engine settings).

:func:`engine_size` maps the shape of the training problem -- rows ``n``,
dimension ``d`` and number of conditioning groups (classes or target bins) --
to the width and depth of the residual MLP, the mini-batch size and the
*maximum* number of optimisation steps.  Early stopping on the validation
denoising loss (:mod:`.training`) usually ends training before that maximum;
the maximum bounds the cost when it does not.

Reasoning
---------
* **Width.**  The denoiser predicts a ``d``-dimensional vector from a
  ``d``-dimensional input, so its cost is dominated by ``2 d h + (2 L + 1) h^2``
  multiply-adds per row.  ``h`` is ``d`` rounded up to a power of two,
  clipped to ``[128, 512]`` (small tabular ``d`` still needs enough width to
  mix the time and condition embeddings), and 128 when there are fewer than
  2,000 rows (few rows cannot fit more parameters without memorising).
  Measured on the CLINC150-LT validation split (seed 0, d = 384,
  LatentDiffusionResampler): width 256 lost kNN few-shot accuracy (0.62
  against 0.70 at the former 512 x 3 blocks) while width 512 with two blocks
  kept it (0.69; LR few-shot 0.857 against 0.856) at 0.6x the CPU time.
* **Depth.**  Two residual blocks (a third block at width 256 changed
  neither LR nor kNN accuracy in that measurement); three once the data
  holds at least ten million numbers (``n d >= 1e7``).
* **Batch.**  256 rows, fewer for small sets (at most a quarter of the rows,
  at least 32), so one step still sees several classes / bins.
* **Steps.**  A budget of ``P`` passes over the data, ``P n / batch``, rounded
  to a multiple of 50 and clipped to ``[400, 3000]``, plus 2 steps per group
  beyond 50 groups (every group's embedding must be trained), capped at 4000.
  ``P = 40`` for a model trained on the whole noise range; a model trained
  only on the noise levels of SDEdit at ``strength < 1`` (``train_strength``,
  :mod:`.training`) learns a narrower problem and gets
  ``P = 40 * max(strength, 0.5)``.  Measured on the CLINC150-LT validation
  split (split seed 0, resampler seeds 0 and 2, strength 0.2):
  20 passes on the SDEdit range matched 40 on the whole range (LR few-shot
  accuracy 0.847-0.856 against 0.848-0.849, kNN few-shot 0.789-0.794
  against 0.787-0.797), while 20 passes on the whole range lost kNN
  few-shot accuracy in all six runs (by 0.002-0.009) and, on STS-B-DIR,
  MemoryDDPM's Ridge few-shot MSE (0.273 -> 0.297).  A *continuous*
  condition keeps ``P = 40`` at any strength: on the randhie and fair DIR
  validation splits (seeds 0-2, LatentDiff at strength 0.3 trained on the
  SDEdit range) 20 passes raised the few-shot MSE of HGB (fair 0.588 ->
  0.611 of plain) and MLP (randhie 0.661 -> 0.701) and lost the gain of the
  narrower range (``docs/benchmark/dir/validation_cost.md``).

Everything is a pure function of the three integers, so the sizes are
reproducible and can be shown to the user before fitting.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["engine_size"]

_MIN_WIDTH, _MAX_WIDTH = 128, 512
_SMALL_DATA_ROWS = 2000
_DEEP_DATA_NUMBERS = 10_000_000
_BATCH, _MIN_BATCH = 256, 32
_EPOCHS = 40
_MIN_EPOCH_FRACTION = 0.5  # of _EPOCHS, for the narrowest trained noise range
_MIN_STEPS, _MAX_STEPS, _MAX_STEPS_MANY_GROUPS = 400, 3000, 4000
_STEPS_PER_EXTRA_GROUP, _FREE_GROUPS = 2, 50


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def engine_size(n_rows, n_features, n_groups=1, strength=1.0, continuous=False):
    """Denoiser size and training budget for ``n_rows`` rows of ``n_features``.

    Parameters
    ----------
    n_rows : int
        Training rows of the diffusion model.
    n_features : int
        Row dimension ``d``.
    n_groups : int, default=1
        Conditioning groups: classes, or target bins for a continuous target.
    strength : float in (0, 1], default=1.0
        The SDEdit strength the model is trained for (``train_strength``):
        below 1, fewer passes over the data for a class condition (see the
        module docstring).
    continuous : bool, default=False
        Whether the condition is a continuous target (then the pass budget
        does not depend on ``strength``).

    Returns
    -------
    sizes : dict
        ``hidden_dim``, ``n_layers``, ``batch_size`` and ``train_steps`` (the
        maximum; early stopping may end sooner), ready to pass to
        :class:`~skltsynth.engines.diffusion.DiffusionConfig`.

    Examples
    --------
    >>> from skltsynth.engines.diffusion.sizing import engine_size
    >>> engine_size(5000, 384, 50)
    {'hidden_dim': 512, 'n_layers': 2, 'batch_size': 256, 'train_steps': 800}
    >>> engine_size(5000, 384, 50, strength=0.2)['train_steps']
    400
    >>> engine_size(20000, 13, 50)
    {'hidden_dim': 128, 'n_layers': 2, 'batch_size': 256, 'train_steps': 3000}
    >>> engine_size(300, 16, 3)
    {'hidden_dim': 128, 'n_layers': 2, 'batch_size': 64, 'train_steps': 400}
    """
    n = _positive_int("n_rows", n_rows)
    d = _positive_int("n_features", n_features)
    groups = _positive_int("n_groups", n_groups)
    if not 0.0 < float(strength) <= 1.0:
        raise ValueError(f"strength must be in (0, 1]; got {strength!r}.")
    passes = _EPOCHS if continuous else _EPOCHS * max(float(strength), _MIN_EPOCH_FRACTION)
    width = min(_MAX_WIDTH, max(_MIN_WIDTH, 1 << max(0, math.ceil(math.log2(d)))))
    if n < _SMALL_DATA_ROWS:
        width = _MIN_WIDTH
    layers = 3 if n * d >= _DEEP_DATA_NUMBERS else 2
    batch = max(_MIN_BATCH, min(_BATCH, 1 << max(0, int(math.log2(max(n // 4, 1))))))
    steps = 50 * round(passes * n / batch / 50)
    steps = min(_MAX_STEPS, max(_MIN_STEPS, steps))
    steps += _STEPS_PER_EXTRA_GROUP * max(0, groups - _FREE_GROUPS)
    return {"hidden_dim": width, "n_layers": layers, "batch_size": batch,
            "train_steps": min(_MAX_STEPS_MANY_GROUPS, steps)}
