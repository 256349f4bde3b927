"""Heads and meta-estimators: what users fit after (or around) resampling.

* :mod:`.meta` -- :class:`~.meta.ResampledEstimator` (resample, then fit a head
  with the resampler's weights);
* :mod:`.logit_adjustment` -- :class:`~.logit_adjustment.LogitAdjustedClassifier`
  (post-hoc logit adjustment by the real class prior);
* :mod:`.epistemic` -- Epistemic Heads (skorch), the longtail signals;
* :mod:`.mining` -- :func:`~.mining.mine_longtail`, the generate-retrain loop.
"""
