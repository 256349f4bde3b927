"""The one configuration object of the diffusion engine.

Every knob of the engine lives in :class:`DiffusionConfig`; estimators expose
the public ones (``train_steps``, ``batch_size``, ``learning_rate``,
``hidden_dim``, ``n_layers``, ``sampling_steps`` ...) under the same names and
build a config with :func:`dataclasses.replace` or keyword arguments.

The diffusion resamplers size the denoiser and its step budget to the data
(``"auto"``, :func:`skltsynth.engines.diffusion.sizing.engine_size`) and take their
other engine defaults (sampling steps, learning rate, EMA decay, ...) from
this class (one definition).  Early stopping on a validation loss usually
ends training before ``train_steps``.  Measured cost is reported by the
benchmarks (``benchmarks/``), not stated here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..._defaults import DIFFUSION_SAMPLING_STEPS
from .denoiser import COND_TYPES
from .precision import PRECISIONS
from .schedules import PREDICTION_TYPES, SCHEDULES

__all__ = ["DiffusionConfig"]


@dataclass
class DiffusionConfig:
    """Hyper-parameters of :class:`~skltsynth.engines.diffusion.FeatureDiffusion`.

    Parameters
    ----------
    cond_type : {"class", "continuous", "none"}, default="class"
        Conditioning: class indices ``0..n_classes-1``, a continuous scalar
        (standardised inside the engine), or none.
    n_classes : int, optional
        Number of classes for ``cond_type="class"``; inferred as
        ``max(cond) + 1`` at fit when None.
    hidden_dim : int, default=512
        Width of the residual MLP.
    n_layers : int, default=3
        Number of residual blocks.
    time_embed_dim : int, default=128
        Size of the sinusoidal time embedding.
    dropout : float, default=0.0
    use_transformer : bool, default=False
        Add one small transformer block (hidden vector cut into ``n_tokens``).
    n_tokens, n_heads : int, default=8, 4
    num_train_timesteps : int, default=1000
    max_strength : float in (0, 1], default=1.0
        Largest SDEdit ``strength`` the model will be sampled at: training
        and validation timesteps are drawn from ``[0, ceil(max_strength T))``
        only (the timesteps such chains visit), and :meth:`FeatureDiffusion.sample`
        refuses a larger strength.  1.0 = the whole schedule.
    schedule : {"cosine", "linear"}, default="cosine"
    prediction_type : {"v", "epsilon", "x0"}, default="v"
    min_snr_gamma : float or None, default=5.0
        Min-SNR loss weighting; None = unweighted MSE on the target.
    train_steps : int, default=1000
        Maximum number of optimisation steps (early stopping may end sooner).
    batch_size : int, default=256
    learning_rate : float, default=1e-3
        Peak AdamW learning rate (linear warmup, then cosine decay).
    weight_decay : float, default=1e-4
    warmup_steps : int, default=100
    min_lr_ratio : float, default=0.05
        Final learning rate as a fraction of the peak.
    grad_clip : float or None, default=1.0
        Max global gradient norm; None disables clipping.
    ema_decay : float, default=0.999
        EMA decay of the sampling weights; the effective decay warms up as
        ``min(ema_decay, (1 + n) / (10 + n))`` so short runs are not dominated
        by the initial weights.
    cond_drop_prob : float, default=0.1
        Probability of replacing a row's condition by the null condition during
        training (enables classifier-free guidance).
    contrastive_weight : float, default=0.0
        CORAL weight lambda (the paper uses 0.05); 0 disables the loss.
    contrastive_temperature : float, default=0.1
    contrastive_time_tau : float, default=0.3
    projection_dim : int, default=128
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (at most 1,024, drawn
        with probability inversely proportional to their mini-batch weight, so
        rare classes / bins keep their rows), evaluate the EMA model's
        denoising loss on fixed ``(t, noise)`` draws of them every
        ``validation_interval`` steps, stop after ``n_iter_no_change``
        evaluations without a relative improvement of ``tol`` (not before
        ``warmup_steps``) and keep the best EMA weights.  Off by itself when
        fewer than 16 rows would be held out.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=4
    validation_interval : int, default=50
        Steps between validation evaluations (and between host reads of the
        training loss).
    tol : float, default=2e-3
    sampling_steps : int, default=25
        DDIM steps at generation.
    eta : float, default=0.0
        DDIM stochasticity (0 deterministic, 1 DDPM-like).
    cfg_scale : float, default=1.0
        Classifier-free guidance scale (1 = plain conditional model, no extra
        unconditional pass).
    sample_batch_size : int, default=4096
        Rows denoised at once (bounds memory).
    std_floor : float, default=1e-3
        Relative floor of the feature standardiser.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Precision of the denoiser's matrix products in training and sampling
        (:mod:`.precision`): ``"auto"`` uses bfloat16 autocast (float32
        weights, optimiser, loss and sampler arithmetic) where the device has
        native bfloat16 matrix units and the denoiser is at least
        ``precision.MIN_BFLOAT16_WIDTH`` wide, float32 elsewhere.
    """

    cond_type: str = "class"
    n_classes: int | None = None
    hidden_dim: int = 512
    n_layers: int = 3
    time_embed_dim: int = 128
    dropout: float = 0.0
    use_transformer: bool = False
    n_tokens: int = 8
    n_heads: int = 4
    num_train_timesteps: int = 1000
    max_strength: float = 1.0
    schedule: str = "cosine"
    prediction_type: str = "v"
    min_snr_gamma: float | None = 5.0
    train_steps: int = 1000
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    grad_clip: float | None = 1.0
    ema_decay: float = 0.999
    cond_drop_prob: float = 0.1
    contrastive_weight: float = 0.0
    contrastive_temperature: float = 0.1
    contrastive_time_tau: float = 0.3
    projection_dim: int = 128
    early_stopping: bool = True
    validation_fraction: float = 0.1
    n_iter_no_change: int = 4
    validation_interval: int = 50
    tol: float = 2e-3
    sampling_steps: int = DIFFUSION_SAMPLING_STEPS
    eta: float = 0.0
    cfg_scale: float = 1.0
    sample_batch_size: int = 4096
    std_floor: float = 1e-3
    precision: str = "auto"

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raise ``ValueError``/``TypeError`` naming the first invalid field."""
        if self.cond_type not in COND_TYPES:
            raise ValueError(f"cond_type must be one of {COND_TYPES}, got {self.cond_type!r}.")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}.")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}.")
        if self.prediction_type not in PREDICTION_TYPES:
            raise ValueError(
                f"prediction_type must be one of {PREDICTION_TYPES}, got {self.prediction_type!r}."
            )
        positive_ints = ["hidden_dim", "time_embed_dim", "n_tokens", "n_heads",
                         "num_train_timesteps", "train_steps", "batch_size", "projection_dim",
                         "sampling_steps", "sample_batch_size", "n_iter_no_change",
                         "validation_interval"]
        for name in positive_ints + ["n_layers", "warmup_steps"]:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
            if value < (1 if name in positive_ints else 0):
                raise ValueError(f"{name} must be >= {1 if name in positive_ints else 0}, "
                                 f"got {value}.")
        if self.n_classes is not None and int(self.n_classes) < 1:
            raise ValueError(f"n_classes must be >= 1, got {self.n_classes}.")
        if self.sampling_steps > self.num_train_timesteps:
            raise ValueError("sampling_steps cannot exceed num_train_timesteps.")
        checks = {
            "learning_rate": self.learning_rate > 0,
            "weight_decay": self.weight_decay >= 0,
            "dropout": 0 <= self.dropout < 1,
            "min_lr_ratio": 0 <= self.min_lr_ratio <= 1,
            "ema_decay": 0 <= self.ema_decay < 1,
            "cond_drop_prob": 0 <= self.cond_drop_prob < 1,
            "contrastive_weight": self.contrastive_weight >= 0,
            "contrastive_temperature": self.contrastive_temperature > 0,
            "contrastive_time_tau": self.contrastive_time_tau > 0,
            "validation_fraction": 0 < self.validation_fraction < 1,
            "tol": self.tol >= 0,
            "eta": self.eta >= 0,
            "max_strength": 0 < self.max_strength <= 1,
            "cfg_scale": self.cfg_scale >= 0,
            "std_floor": self.std_floor >= 0,
            "grad_clip": self.grad_clip is None or self.grad_clip > 0,
            "min_snr_gamma": self.min_snr_gamma is None or self.min_snr_gamma > 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"Invalid {name}={getattr(self, name)!r}.")
        return self

    def to_dict(self):
        """Plain dict of all fields."""
        return asdict(self)

    @classmethod
    def field_names(cls):
        """Names of all fields (for estimators forwarding their parameters)."""
        return tuple(f.name for f in fields(cls))
