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
* **Steps.**  A budget of 40 passes over the data, ``40 n / batch``, rounded
  to a multiple of 50 and clipped to ``[400, 3000]``, plus 2 steps per group
  beyond 50 groups (every group's embedding must be trained), capped at 4000.

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
_MIN_STEPS, _MAX_STEPS, _MAX_STEPS_MANY_GROUPS = 400, 3000, 4000
_STEPS_PER_EXTRA_GROUP, _FREE_GROUPS = 2, 50


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def engine_size(n_rows, n_features, n_groups=1):
    """Denoiser size and training budget for ``n_rows`` rows of ``n_features``.

    Parameters
    ----------
    n_rows : int
        Training rows of the diffusion model.
    n_features : int
        Row dimension ``d``.
    n_groups : int, default=1
        Conditioning groups: classes, or target bins for a continuous target.

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
    >>> engine_size(20000, 13, 50)
    {'hidden_dim': 128, 'n_layers': 2, 'batch_size': 256, 'train_steps': 3000}
    >>> engine_size(300, 16, 3)
    {'hidden_dim': 128, 'n_layers': 2, 'batch_size': 64, 'train_steps': 400}
    """
    n = _positive_int("n_rows", n_rows)
    d = _positive_int("n_features", n_features)
    groups = _positive_int("n_groups", n_groups)
    width = min(_MAX_WIDTH, max(_MIN_WIDTH, 1 << max(0, math.ceil(math.log2(d)))))
    if n < _SMALL_DATA_ROWS:
        width = _MIN_WIDTH
    layers = 3 if n * d >= _DEEP_DATA_NUMBERS else 2
    batch = max(_MIN_BATCH, min(_BATCH, 1 << max(0, int(math.log2(max(n // 4, 1))))))
    steps = 50 * round(_EPOCHS * n / batch / 50)
    steps = min(_MAX_STEPS, max(_MIN_STEPS, steps))
    steps += _STEPS_PER_EXTRA_GROUP * max(0, groups - _FREE_GROUPS)
    return {"hidden_dim": width, "n_layers": layers, "batch_size": batch,
            "train_steps": min(_MAX_STEPS_MANY_GROUPS, steps)}
