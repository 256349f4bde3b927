"""Engines: the maths of generation, in torch and numpy, with no scikit-learn API.

* :mod:`.diffusion` -- feature diffusion: schedules, denoisers, training, the
  sampler and :func:`~.diffusion.sizing.engine_size`;
* :mod:`.vmf` -- the batched Wood sampler for von Mises-Fisher directions;
* :mod:`.neighbour_span` -- the span kernel (noise in the span of a row's
  class neighbours);
* :mod:`.memory` -- the class memory bank of Memory-DDPM.

Estimators reach these through their public functions only.
"""
