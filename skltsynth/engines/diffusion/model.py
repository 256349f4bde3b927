"""``FeatureDiffusion``: the facade the diffusion resamplers call.

It holds the feature standardiser, the noise scheduler, the EMA denoiser and
(with CORAL) the projection head; :meth:`FeatureDiffusion.fit` trains with the
shared loop of :mod:`.training` and :meth:`FeatureDiffusion.sample` generates
rows in original feature units with :mod:`.sampling`.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from tqdm.auto import tqdm

from ..._random import child_torch_generator
from ..._torch_utils import resolve_device
from .config import DiffusionConfig
from .denoiser import ResidualMLPDenoiser, init_parameters_
from .precision import at_precision, resolve_precision
from .sampling import sample_rows
from .schedules import NoiseScheduler
from .standardise import Standardiser
from .threads import narrow_denoiser_threads
from .training import train_denoiser, trained_timesteps

__all__ = ["FeatureDiffusion"]


def _as_float_tensor(X, name):
    if not isinstance(X, torch.Tensor):
        try:
            X = torch.as_tensor(X)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{name} must be a torch.Tensor or array-like of numbers.") from exc
    if X.dim() != 2:
        raise ValueError(f"{name} must be 2-D (n_rows, n_features), got shape {tuple(X.shape)}.")
    X = X.to(torch.float32)
    if not bool(torch.isfinite(X).all()):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return X


def _init_generator(generator, device):
    """A generator on ``device`` seeded from ``generator`` (init ops draw on the tensor's device)."""
    return child_torch_generator(generator, device)


class FeatureDiffusion:
    """Conditional diffusion model on feature vectors (fit, then sample).

    Parameters
    ----------
    config : DiffusionConfig, optional
        All hyper-parameters; defaults to ``DiffusionConfig()``.
    **overrides
        Field overrides applied on top of ``config`` (e.g. ``train_steps=500``).

    Attributes (after fit)
    ----------------------
    config_ : DiffusionConfig
        The configuration used (``n_classes`` filled in).
    n_features_ : int
    n_classes_ : int or None
    standardiser_ : Standardiser
    scheduler_ : NoiseScheduler
    model_ : ResidualMLPDenoiser
        EMA weights, eval mode, parameters frozen.
    projection_head_ : ProjectionHead or None
        CORAL head (only with ``contrastive_weight > 0``).
    cond_mean_, cond_scale_ : float or None
        Standardisation of a continuous condition.
    train_losses_ : list of float
        Training loss of every step.
    n_train_steps_ : int
        Steps taken (early stopping may end before ``config.train_steps``).
    stopped_early_ : bool
    validation_losses_ : list of (int, float)
        ``(step, loss)`` of every validation evaluation (empty without early
        stopping).
    best_step_ : int
        Step whose EMA weights the model holds.
    precision_ : {"float32", "bfloat16"}
        Precision of the denoiser's products (``config.precision`` resolved
        for the device, :mod:`.precision`), in training and sampling.
    device_ : torch.device

    Examples
    --------
    >>> import torch
    >>> from skltsynth.engines.diffusion import FeatureDiffusion
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.randn(200, 4, generator=g); y = (X[:, 0] > 0).long()
    >>> fd = FeatureDiffusion(train_steps=50, hidden_dim=32, n_layers=1).fit(X, y, generator=g)
    >>> fd.sample(torch.tensor([0, 1, 1]), generator=g, sampling_steps=10).shape
    torch.Size([3, 4])
    """

    def __init__(self, config=None, **overrides):
        if config is not None and not isinstance(config, DiffusionConfig):
            raise TypeError(f"config must be a DiffusionConfig, got {type(config).__name__}.")
        self.config = replace(config if config is not None else DiffusionConfig(), **overrides)

    # ------------------------------------------------------------------ helpers
    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise RuntimeError("This FeatureDiffusion is not fitted yet; call fit() first.")

    def _prepare_cond(self, cond, n, fitting):
        """Validate ``cond``; returns (caller's cond tensor, network cond tensor)."""
        cfg = self.config_ if not fitting else self.config
        if cfg.cond_type == "none":
            if cond is not None:
                raise ValueError("cond_type='none': the model is unconditional, pass cond=None.")
            return None, None
        if cond is None:
            if fitting:
                raise ValueError(f"cond_type={cfg.cond_type!r} needs cond (one value per row).")
            return None, None
        cond = torch.as_tensor(cond).reshape(-1)
        if cond.shape[0] != n:
            raise ValueError(f"cond has {cond.shape[0]} entries for {n} rows.")
        if cfg.cond_type == "class":
            if cond.is_floating_point() and not bool((cond == cond.round()).all()):
                raise ValueError("cond_type='class' needs integer class indices in cond.")
            cond = cond.long()
            n_classes = self.n_classes_ if not fitting else None
            if bool((cond < 0).any()):
                raise ValueError("Class indices in cond must be >= 0.")
            if n_classes is not None and n > 0 and int(cond.max()) >= n_classes:
                raise ValueError(f"Class index {int(cond.max())} out of range: the model was "
                                 f"fitted with n_classes={n_classes}.")
            return cond, cond
        cond = cond.to(torch.float64)
        if not bool(torch.isfinite(cond).all()):
            raise ValueError("cond contains NaN or infinite values.")
        if fitting:
            return cond, cond
        model_cond = ((cond - self.cond_mean_) / self.cond_scale_).to(torch.float32)
        return cond.to(torch.float32), model_cond

    # ---------------------------------------------------------------------- fit
    def fit(self, X, cond=None, sample_weight=None, labels_for_contrastive=None, *,
            generator, device="cpu", verbose=False):
        """Train the denoiser on rows ``X`` with per-row conditions ``cond``.

        Parameters
        ----------
        X : torch.Tensor or array-like of shape (n, d)
            Rows in original feature units.
        cond : torch.Tensor of shape (n,), optional
            ``cond_type="class"``: class indices ``0..C-1`` (long);
            ``"continuous"``: target values or bin centres (float,
            standardised internally); ``"none"``: must be None.
        sample_weight : torch.Tensor of shape (n,), optional
            Mini-batch sampling weights (e.g. inverse class/bin frequency for
            balanced batches); uniform when None.
        labels_for_contrastive : torch.Tensor of shape (n,), optional
            Integer labels (class or bin index) for CORAL positives; needed
            when ``config.contrastive_weight > 0``.
        generator : torch.Generator
            Explicit source of all training randomness (weights init included).
        device : str or torch.device, default="cpu"
            ``"auto"`` picks CUDA when available.
        verbose : bool, default=False

        Returns
        -------
        self
        """
        if not isinstance(generator, torch.Generator):
            raise TypeError("fit needs generator=torch.Generator(...) (explicit randomness).")
        cfg = self.config.validate()
        X = _as_float_tensor(X, "X")
        n, d = X.shape
        if n < 2:
            raise ValueError(f"Need at least 2 rows to fit a diffusion model, got {n}.")
        cond_user, _ = self._prepare_cond(cond, n, fitting=True)
        self.device_ = resolve_device(device)
        self.precision_ = resolve_precision(cfg.precision, self.device_, cfg.hidden_dim)
        n_classes = None
        if cfg.cond_type == "class":
            n_classes = int(cond_user.max()) + 1 if cfg.n_classes is None else int(cfg.n_classes)
            if int(cond_user.max()) >= n_classes:
                raise ValueError(f"cond has class index {int(cond_user.max())} but "
                                 f"n_classes={n_classes}.")
        self.config_ = replace(cfg, n_classes=n_classes)
        self.n_features_, self.n_classes_ = d, n_classes
        self.standardiser_ = Standardiser(cfg.std_floor).fit(X)
        self.cond_mean_ = self.cond_scale_ = None
        model_cond = cond_user
        if cfg.cond_type == "continuous":
            self.cond_mean_ = float(cond_user.mean())
            self.cond_scale_ = float(cond_user.std(correction=0)) or 1.0
            model_cond = ((cond_user - self.cond_mean_) / self.cond_scale_).to(torch.float32)
        self.scheduler_ = NoiseScheduler(cfg.num_train_timesteps, cfg.schedule,
                                         cfg.prediction_type)
        # built on the meta device, then initialised from the explicit generator:
        # no global RNG is used or advanced
        with torch.device("meta"):
            net = ResidualMLPDenoiser(
                d, cfg.hidden_dim, cfg.n_layers, cfg.cond_type, n_classes, cfg.time_embed_dim,
                cfg.dropout, cfg.use_transformer, cfg.n_tokens, cfg.n_heads)
        net = init_parameters_(net.to_empty(device=self.device_), _init_generator(generator,
                                                                                  self.device_))
        with narrow_denoiser_threads(cfg.hidden_dim, self.device_):
            result = train_denoiser(
                net, self.scheduler_, self.standardiser_.transform(X), model_cond, cfg,
                sample_weight=sample_weight,
                labels=(None if labels_for_contrastive is None
                        else torch.as_tensor(labels_for_contrastive)),
                generator=generator, device=self.device_, verbose=verbose)
        self.model_ = result.ema_model.requires_grad_(False)
        self.projection_head_ = (None if result.projection_head is None
                                 else result.projection_head.eval().requires_grad_(False))
        self.standardiser_.to(self.device_)
        self.train_losses_ = result.losses
        self.n_train_steps_ = result.n_steps
        self.stopped_early_ = result.stopped_early
        self.validation_losses_ = result.validation_losses
        self.best_step_ = result.best_step
        return self

    # ------------------------------------------------------------------- sample
    def sample(self, cond=None, n=None, *, generator, strength=1.0, x_start=None, guidance=None,
               cfg_scale=None, sampling_steps=None, eta=None, batch_size=None, return_x0=False,
               verbose=False):
        """Generate rows in original feature units.

        Parameters
        ----------
        cond : torch.Tensor of shape (m,), optional
            Condition per row to generate (class indices, or continuous values
            in the caller's units).  None = unconditional (null condition).
        n : int, optional
            Number of rows when ``cond`` and ``x_start`` are None.
        generator : torch.Generator
        strength : float in (0, 1], default=1.0
            SDEdit: run only this fraction of the chain, starting from
            ``x_start`` noised to that level (1 = from pure noise).
        x_start : torch.Tensor of shape (m, d), optional
            Start rows in original units (e.g. real rows of the same class).
        guidance : guidance object, optional
            A callable ``guidance(x0_hat, cond) -> (m,)`` scalar per row to
            *increase*, with attributes ``scale`` and ``jacobian``
            (:class:`skltsynth.LongtailGuidance`); ``x0_hat`` is the current
            clean-row estimate in original units (differentiable), ``cond``
            the caller's ``cond`` chunk (or None).
        cfg_scale, sampling_steps, eta, batch_size : optional
            Override ``config.cfg_scale`` / ``sampling_steps`` / ``eta`` /
            ``sample_batch_size``.
        return_x0 : bool, default=False
            Also return the per-step x0 estimates, shape (k, m, d), original units.
        verbose : bool, default=False

        Returns
        -------
        rows : torch.Tensor of shape (m, d), float32, on ``device_``.
        x0_trajectory : torch.Tensor of shape (k, m, d), only if ``return_x0``.
        """
        self._check_fitted()
        if not isinstance(generator, torch.Generator):
            raise TypeError("sample needs generator=torch.Generator(...) (explicit randomness).")
        cfg = self.config_
        m = None
        if cond is not None:
            m = torch.as_tensor(cond).reshape(-1).shape[0]
        elif x_start is not None:
            m = torch.as_tensor(x_start).shape[0]
        elif n is not None:
            m = int(n)
        if m is None:
            raise ValueError("Give cond, x_start or n to say how many rows to sample.")
        if n is not None and int(n) != m:
            raise ValueError(f"n={n} disagrees with the {m} rows of cond/x_start.")
        cond_user, model_cond = self._prepare_cond(cond, m, fitting=False)
        if x_start is not None:
            x_start = _as_float_tensor(x_start, "x_start")
            if x_start.shape[1] != self.n_features_:
                raise ValueError(f"x_start has {x_start.shape[1]} features, the model "
                                 f"{self.n_features_}.")
        steps = cfg.sampling_steps if sampling_steps is None else sampling_steps
        first = int(self.scheduler_.timesteps(steps, strength)[0])
        trained = trained_timesteps(self.scheduler_, cfg)
        if first >= trained:
            raise ValueError(
                f"strength={strength} with {steps} sampling steps starts at timestep {first}, "
                f"but the model was trained on timesteps below {trained} (train_strength="
                f"{cfg.train_strength}); refit with train_strength >= strength.")
        progress = (lambda it: tqdm(it, desc="diffusion sample", leave=False)) if verbose else None
        with narrow_denoiser_threads(cfg.hidden_dim, self.device_):
            return sample_rows(
                at_precision(self.model_, self._precision(), self.device_), self.scheduler_,
                self.standardiser_, n=m,
                cond=None if cond_user is None else cond_user.to(self.device_),
                model_cond=None if model_cond is None else model_cond.to(self.device_),
                x_start=x_start, strength=strength, guidance=guidance,
                sampling_steps=steps, eta=cfg.eta if eta is None else eta,
                cfg_scale=cfg.cfg_scale if cfg_scale is None else cfg_scale,
                batch_size=cfg.sample_batch_size if batch_size is None else batch_size,
                generator=generator, return_x0=return_x0, progress=progress)

    def _precision(self):
        # engines pickled before precision_ existed ran in float32
        return getattr(self, "precision_", "float32")

    # ---------------------------------------------------------------- diagnostics
    @torch.no_grad()
    def embed(self, X, cond=None, t=0, project=True):
        """Bottleneck representation of rows ``X`` (original units) at timestep ``t``.

        The clean rows are fed at timestep ``t`` without noise.  With
        ``project=True`` and a CORAL head, returns the L2-normalised projection
        (the space the contrastive loss shapes); otherwise the raw bottleneck.

        Returns
        -------
        Z : torch.Tensor of shape (n, hidden_dim) or (n, projection_dim)
        """
        self._check_fitted()
        X = _as_float_tensor(X, "X").to(self.device_)
        _, model_cond = self._prepare_cond(cond, X.shape[0], fitting=False)
        z = self.standardiser_.transform(X)
        tt = torch.full((X.shape[0],), int(t), device=self.device_)
        _, hidden = at_precision(self.model_, self._precision(), self.device_)(
            z, tt, None if model_cond is None else model_cond.to(self.device_),
            return_hidden=True)
        if project and self.projection_head_ is not None:
            return self.projection_head_(hidden)
        return hidden

    # -------------------------------------------------------------------- device
    def to(self, device):
        """Move the fitted state to ``device`` (returns self)."""
        self._check_fitted()
        self.device_ = resolve_device(device)
        self.model_.to(self.device_)
        if self.projection_head_ is not None:
            self.projection_head_.to(self.device_)
        self.standardiser_.to(self.device_)
        return self

    def to_cpu_state(self):
        """Move everything to CPU before pickling (used by ``skltsynth._torch_utils.to_cpu``)."""
        return self.to("cpu") if hasattr(self, "model_") else self

    def __repr__(self):
        return f"FeatureDiffusion({self.config!r})"
