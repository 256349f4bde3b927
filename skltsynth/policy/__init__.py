"""Policy: how many rows, where, which to keep, how to weigh them.

Between the estimators (:mod:`skltsynth.resamplers`, :mod:`skltsynth.heads`)
and the torch engines (:mod:`skltsynth.engines`); nothing here fits a model of
the data itself beyond quick auxiliary ones (the priority model, the retarget
slope, the target gate's gradient-boosting model).

* :mod:`.targets` -- classes and DIR bins, LDS weights, the resampling plan;
* :mod:`.allocation` -- how many synthetic rows each class or bin gets;
* :mod:`.priority` -- LatentDiff's priority model (which groups need rows);
* :mod:`.quality` -- the Mahalanobis quality gate;
* :mod:`.levels` -- discrete tabular columns: synthetic values put on their levels;
* :mod:`.retarget` -- targets of rows the denoiser moved, moved by a ridge model of the real rows;
* :mod:`.target_gate` -- interpolated rows whose target is off what their parent rows imply;
* :mod:`.prior_shift` -- what a plan's shift of the target distribution costs on a natural test;
* :mod:`.confidence` -- Memory-DDPM's confidence weights;
* :mod:`.guidance` -- the one guidance object, :class:`~.guidance.LongtailGuidance`.
"""
