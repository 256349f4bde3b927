"""The one table of built-in benchmark methods (baselines, then skltsynth's resamplers).

Baselines: ``none``; ``class_weight`` (classes) and ``lds`` (regression)
weight the head; ``logit_adjust`` shifts the head's scores by
``-log(prior)`` (:class:`skltsynth.LogitAdjustedClassifier`, tau=1);
``ros`` (imbalanced-learn ``RandomOverSampler``; per-DIR-bin copies for
regression), ``ros_shrink`` (a smoothed bootstrap), ``smote``
(``SMOTE(k_neighbors=4)``, capped at the smallest class size minus one),
``borderline_smote``, ``adasyn``; ``smoter`` (regression: SMOTE within DIR
bins with the target interpolated) and ``smogn`` (regression; needs the
``smogn`` package and is skipped on large data); the optional extras
``sv_polynom_fit_smote_star`` and ``sv_prowsyn`` (the smote-variants package).

skltsynth's resamplers (``ours=True``): ``vmf_kde``, ``latent_diffusion``,
``memory_ddpm`` and their documented options (CORAL loss, Longtail Guidance,
the Longtail Guidance mining loop, no confidence weights).  ``fast=True`` applies
:data:`skltsynth._defaults.DIFFUSION_FAST_PARAMS` (and
:data:`~skltsynth.benchmark.guided.GUIDANCE_FAST_PARAMS`) to the diffusion
resamplers.
"""

from __future__ import annotations

from .._defaults import DIFFUSION_FAST_PARAMS
from .baselines import (
    SMOGN_MAX_CELLS,
    imblearn_factory,
    ros_factory,
    smogn_factory,
    smote_variants_factory,
    smoter_factory,
)
from .guided import GUIDANCE_FAST_PARAMS, GUIDANCE_SCALE, MINING_ROUNDS, skltsynth_variant
from .registry import no_resampling, register_method

# ------------------------------------------------------------------ baselines
register_method("none", no_resampling, description="no resampling, no weights")
register_method(
    "class_weight", no_resampling, "classification", weighting="balanced",
    description="no resampling; head weighted by inverse class frequency (class_weight='balanced')",
)
register_method(
    "logit_adjust", no_resampling, "classification", logit_adjust=True,
    description="no resampling; post-hoc logit adjustment: argmax of scores - log(prior) "
    "(LogitAdjustedClassifier, tau=1; Menon et al. 2021)",
)
register_method(
    "lds", no_resampling, "regression", weighting="lds",
    description="no resampling; LDS sqrt-inverse weights (gaussian, ks=5, sigma=2; Yang et al. 2021)",
)
register_method(
    "ros", ros_factory,
    description="random over-sampling: imblearn RandomOverSampler / copies within DIR bins",
)
register_method(
    "ros_shrink", imblearn_factory("RandomOverSampler", shrinkage=0.5), "classification",
    description="imblearn RandomOverSampler(shrinkage=0.5): smoothed bootstrap",
)
register_method(
    "smote", imblearn_factory("SMOTE", k_neighbors=4), "classification",
    description="imblearn SMOTE(k_neighbors=4) (capped at the smallest class size - 1)",
)
register_method(
    "borderline_smote", imblearn_factory("BorderlineSMOTE"), "classification",
    description="imblearn BorderlineSMOTE",
)
register_method("adasyn", imblearn_factory("ADASYN"), "classification",
                description="imblearn ADASYN")
register_method(
    "smoter", smoter_factory, "regression",
    description="SMOTE within DIR bins, target interpolated with the same weight (SMOTER)",
)
register_method(
    "smogn", smogn_factory, "regression", requires=("smogn",),
    description=f"smogn package (SMOTER + Gaussian noise); skipped above {SMOGN_MAX_CELLS} values",
)
register_method(
    "sv_polynom_fit_smote_star", smote_variants_factory("polynom_fit_SMOTE_star"),
    "classification", requires=("smote_variants",),
    description="smote-variants polynom_fit_SMOTE_star, one class vs the rest in turn "
    "(optional extra: pip install smote-variants)",
)
register_method(
    "sv_prowsyn", smote_variants_factory("ProWSyn"), "classification",
    requires=("smote_variants",),
    description="smote-variants ProWSyn, one class vs the rest in turn "
    "(optional extra: pip install smote-variants)",
)

# ------------------------------------------------------ skltsynth's resamplers
# Lazy "module:Class" references cost no import here.
_LD = "skltsynth.resamplers:LatentDiffusionResampler"
_MD = "skltsynth.resamplers:MemoryDDPMResampler"
_GUIDED = (f"EpistemicHeadClassifier fitted on the training rows, "
           f"guidance_scale={GUIDANCE_SCALE:g}")
register_method(
    "vmf_kde", "skltsynth.resamplers:VMFKDEResampler", ours=True,
    description="skltsynth VMFKDEResampler: von Mises-Fisher KDE around real rows",
)
register_method(
    "latent_diffusion", _LD, ours=True, uses_torch=True, fast_params=DIFFUSION_FAST_PARAMS,
    description="skltsynth LatentDiffusionResampler (LatentDiff): conditional feature diffusion, "
    "priority allocation, Mahalanobis quality gate",
)
register_method(
    "memory_ddpm", _MD, ours=True, uses_torch=True, fast_params=DIFFUSION_FAST_PARAMS,
    description="skltsynth MemoryDDPMResampler: memory-bank class-conditional DDPM; head fitted "
    "with its confidence weights (sample_weight_)",
)
register_method(
    "latent_diffusion_coral", skltsynth_variant(_LD, contrastive_weight=0.05), ours=True,
    uses_torch=True, fast_params=DIFFUSION_FAST_PARAMS,
    description="LatentDiffusionResampler(contrastive_weight=0.05): CORAL contrastive loss",
)
register_method(
    "latent_diffusion_guided", skltsynth_variant(_LD, guided=True), "classification", ours=True,
    uses_torch=True, fast_params={**DIFFUSION_FAST_PARAMS, **GUIDANCE_FAST_PARAMS},
    description=f"LatentDiffusionResampler with Longtail Guidance (epistemic signal of an {_GUIDED})",
)
register_method(
    "memory_ddpm_coral", skltsynth_variant(_MD, contrastive_weight=0.05), ours=True,
    uses_torch=True, fast_params=DIFFUSION_FAST_PARAMS,
    description="MemoryDDPMResampler(contrastive_weight=0.05): CORAL contrastive loss",
)
register_method(
    "memory_ddpm_guided", skltsynth_variant(_MD, guided=True), "classification", ours=True,
    uses_torch=True, fast_params={**DIFFUSION_FAST_PARAMS, **GUIDANCE_FAST_PARAMS},
    description=f"MemoryDDPMResampler with Longtail Guidance (epistemic signal of an {_GUIDED})",
)
register_method(
    "memory_ddpm_mined", skltsynth_variant(_MD, mined=True), "classification", ours=True,
    uses_torch=True, fast_params={**DIFFUSION_FAST_PARAMS, **GUIDANCE_FAST_PARAMS},
    description=f"MemoryDDPMResampler in the Longtail Guidance mining loop (mine_longtail: "
    f"{MINING_ROUNDS} generate-retrain rounds sharing one resampling's rows, each guided by the "
    f"{_GUIDED} and refitted on the rows mined so far)",
)
register_method(
    "memory_ddpm_unweighted", skltsynth_variant(_MD, confidence=None, class_cost=None), ours=True,
    uses_torch=True, fast_params=DIFFUSION_FAST_PARAMS,
    description="MemoryDDPMResampler(confidence=None, class_cost=None): synthetic rows weigh 1 "
    "(no confidence weights)",
)
