"""skltsynth: embedding-space oversampling for long-tailed data.

Scikit-learn / imbalanced-learn compatible resamplers that synthesise new rows
in the embedding space of a frozen encoder, for long-tailed classification and
deep imbalanced regression (DIR).

The public names below are imported on first use (PEP 562), so that
``import skltsynth`` and ``skltsynth --help`` do not load torch or
scikit-learn; ``from skltsynth import VMFKDEResampler`` works as usual.
"""

__version__ = "0.1.0"

from . import _aliases

_aliases.install()  # old module paths (skltsynth.targets, ...) keep working

#: Public name -> module that defines it (imported on first access).
_LAZY = {
    "EpistemicHeadClassifier": ".heads.epistemic",
    "EpistemicHeadRegressor": ".heads.epistemic",
    "LatentDiffusionResampler": ".resamplers.latent_diffusion",
    "LogitAdjustedClassifier": ".heads.logit_adjustment",
    "LongtailGuidance": ".policy.guidance",
    "MemoryDDPMResampler": ".resamplers.memory_ddpm",
    "ResampledEstimator": ".heads.meta",
    "VMFKDEResampler": ".resamplers.vmf_kde",
    "mine_longtail": ".heads.mining",
    "select_guidance_scale": ".policy.guidance",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
