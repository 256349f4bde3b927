"""Diffusion engine on feature vectors (torch only; no sklearn / imblearn).

Shared by :class:`LatentDiffusionResampler` (continuous / bin-centre
conditioning, v-prediction, cosine schedule, EMA), :class:`MemoryDDPMResampler`
(class conditioning), the CORAL contrastive option and Longtail Guidance.
Estimators use only the facade :class:`FeatureDiffusion` and its
:class:`DiffusionConfig`::

    import torch
    from skltsynth.engines.diffusion import DiffusionConfig, FeatureDiffusion

    g = torch.Generator().manual_seed(0)        # estimators: self._torch_generator()
    X = torch.randn(500, 16, generator=g)
    y = (X[:, 0] > 0).long()                    # class index per row (0..C-1)
    w = 1.0 / torch.bincount(y)[y].double()     # balanced mini-batches
    cfg = DiffusionConfig(cond_type="class", train_steps=300, hidden_dim=64)
    fd = FeatureDiffusion(cfg).fit(X, y, sample_weight=w, generator=g, device="cpu")
    new = fd.sample(torch.tensor([1] * 100), generator=g)          # (100, 16), original units
    near = fd.sample(y[:10], x_start=X[:10], strength=0.5, generator=g)   # SDEdit
    from skltsynth import LongtailGuidance      # the one guidance object
    guided = fd.sample(y[:10], generator=g,                           # increase -x[:, 0]
                       guidance=LongtailGuidance(lambda x0: -x0[:, 0], scale=0.5))
    fd.to_cpu_state()                           # before pickling (GPU -> CPU)

Regression: ``cond_type="continuous"`` and pass target values or bin centres as
``cond`` (standardised inside).  CORAL: ``contrastive_weight=0.05`` and
``labels_for_contrastive=`` class or bin index per row.

Modules: :mod:`.schedules` (cosine/linear schedules, ``NoiseScheduler`` with
``add_noise`` / ``target`` / ``split`` / ``loss_weight`` / ``step_from_estimates``),
:mod:`.standardise`, :mod:`.denoiser` (residual MLP), :mod:`.contrastive`
(CORAL), :mod:`.training` (the one training loop), :mod:`.sampling`
(batched DDIM/DDPM, CFG, SDEdit, signal guidance), :mod:`.config`,
:mod:`.model` (the facade), :mod:`.sizing` (``engine_size``: denoiser size and
step budget from the data's shape), :mod:`.precision` (float32, or bfloat16
autocast of the denoiser's products where the hardware has it:
``DiffusionConfig.precision``), :mod:`.threads` (narrow denoisers on one CPU
thread).
"""

from .config import DiffusionConfig
from .contrastive import ProjectionHead, supervised_contrastive_loss, time_weight
from .denoiser import ResidualMLPDenoiser, sinusoidal_embedding
from .model import FeatureDiffusion
from .sampling import sample_rows
from .schedules import NoiseScheduler, cosine_alphas_cumprod, linear_betas
from .sizing import engine_size
from .standardise import Standardiser
from .training import TrainResult, train_denoiser

__all__ = [
    "DiffusionConfig",
    "FeatureDiffusion",
    "NoiseScheduler",
    "ProjectionHead",
    "ResidualMLPDenoiser",
    "Standardiser",
    "TrainResult",
    "cosine_alphas_cumprod",
    "engine_size",
    "linear_betas",
    "sample_rows",
    "sinusoidal_embedding",
    "supervised_contrastive_loss",
    "time_weight",
    "train_denoiser",
]
