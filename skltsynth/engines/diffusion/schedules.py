"""Noise schedules and the DDIM/DDPM scheduler for feature vectors.

Conventions (same as diffusers): a timestep ``t`` is an integer index in
``[0, T - 1]``; ``alphas_cumprod[t]`` is the product of ``1 - beta_s`` for
``s <= t``; ``alpha_t = sqrt(abar_t)``, ``sigma_t = sqrt(1 - abar_t)`` and
``x_t = alpha_t x0 + sigma_t eps``.  The schedule itself is computed in
float64; coefficients are cast to the dtype of the tensors they multiply.

Three prediction types are supported: ``"epsilon"`` (the noise), ``"v"``
(``v = alpha eps - sigma x0``, Salimans & Ho 2022) and ``"x0"`` (the clean
row).  :meth:`NoiseScheduler.split` turns any model output into the pair
``(x0_hat, eps_hat)``; there is no clamping of ``x0_hat`` (feature vectors are
not images with a bounded range).

One reverse-step API: ``split`` (model output -> estimates), then
:meth:`NoiseScheduler.step_from_estimates` (estimates -> ``x_{t'}``).  It
differs from diffusers' single ``step(model_output, t, x)`` on purpose:
Longtail Guidance shifts the estimates between the two calls.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "PREDICTION_TYPES",
    "SCHEDULES",
    "NoiseScheduler",
    "cosine_alphas_cumprod",
    "linear_betas",
]

PREDICTION_TYPES = ("epsilon", "v", "x0")
SCHEDULES = ("cosine", "linear")


def cosine_alphas_cumprod(num_train_timesteps=1000, s=0.008, max_beta=0.999):
    """Cosine schedule (Nichol & Dhariwal 2021) in float64.

    ``f(u) = cos^2(((u + s) / (1 + s)) pi / 2)``, ``abar(u) = f(u) / f(0)``,
    ``beta_t = min(1 - abar((t + 1)/T) / abar(t/T), max_beta)`` and
    ``alphas_cumprod = cumprod(1 - beta)`` (diffusers' ``squaredcos_cap_v2``).

    Parameters
    ----------
    num_train_timesteps : int, default=1000
    s : float, default=0.008
        Small offset that keeps ``beta`` away from zero near ``t = 0``.
    max_beta : float, default=0.999
        Cap on ``beta`` (avoids a singularity at ``t = T``).

    Returns
    -------
    alphas_cumprod : torch.Tensor of shape (T,), float64, strictly decreasing.

    Examples
    --------
    >>> from skltsynth.engines.diffusion.schedules import cosine_alphas_cumprod
    >>> abar = cosine_alphas_cumprod(1000)
    >>> bool((abar[1:] < abar[:-1]).all()), float(abar[0]) > 0.9999, float(abar[-1]) < 1e-8
    (True, True, True)
    """
    T = int(num_train_timesteps)
    u = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]
    betas = torch.clamp(1.0 - abar[1:] / abar[:-1], max=max_beta)
    return torch.cumprod(1.0 - betas, dim=0)


def linear_betas(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02):
    """Linear DDPM schedule (Ho et al. 2020): ``beta`` from 1e-4 to 0.02, float64.

    The end points are given for ``T = 1000``; for another ``T`` they are
    rescaled by ``1000 / T`` (as in improved-DDPM) so the total noise is the same.

    Returns
    -------
    betas : torch.Tensor of shape (T,), float64.
    """
    T = int(num_train_timesteps)
    scale = 1000.0 / T
    return torch.linspace(beta_start * scale, beta_end * scale, T, dtype=torch.float64)


class NoiseScheduler:
    """Forward noising, training targets and the DDIM/DDPM reverse step.

    A plain, stateless object (apart from its float64 tables): the sampling
    timesteps are returned by :meth:`timesteps` and the previous timestep is
    passed to :meth:`step_from_estimates` explicitly.

    Parameters
    ----------
    num_train_timesteps : int, default=1000
        Number of diffusion steps ``T``.
    schedule : {"cosine", "linear"}, default="cosine"
    prediction_type : {"v", "epsilon", "x0"}, default="v"
        What the denoiser predicts.

    Attributes
    ----------
    alphas_cumprod : torch.Tensor of shape (T,), float64

    Examples
    --------
    >>> import torch
    >>> from skltsynth.engines.diffusion.schedules import NoiseScheduler
    >>> sched = NoiseScheduler(prediction_type="v")
    >>> g = torch.Generator().manual_seed(0)
    >>> x0 = torch.randn(4, 3, generator=g); eps = torch.randn(4, 3, generator=g)
    >>> t = torch.tensor([0, 10, 500, 999])
    >>> xt = sched.add_noise(x0, eps, t)
    >>> x0_hat, eps_hat = sched.split(sched.target(x0, eps, t), xt, t)
    >>> bool(torch.allclose(x0_hat, x0, atol=1e-4))
    True
    """

    def __init__(self, num_train_timesteps=1000, schedule="cosine", prediction_type="v"):
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}.")
        if prediction_type not in PREDICTION_TYPES:
            raise ValueError(
                f"prediction_type must be one of {PREDICTION_TYPES}, got {prediction_type!r}."
            )
        if int(num_train_timesteps) < 2:
            raise ValueError(f"num_train_timesteps must be >= 2, got {num_train_timesteps!r}.")
        self.num_train_timesteps = int(num_train_timesteps)
        self.schedule = schedule
        self.prediction_type = prediction_type
        if schedule == "cosine":
            self.alphas_cumprod = cosine_alphas_cumprod(self.num_train_timesteps)
        else:
            betas = linear_betas(self.num_train_timesteps)
            self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)

    def __repr__(self):
        return (
            f"NoiseScheduler(num_train_timesteps={self.num_train_timesteps}, "
            f"schedule={self.schedule!r}, prediction_type={self.prediction_type!r})"
        )

    # ------------------------------------------------------------------ tables
    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_cache", None)  # per-device copies; rebuilt on demand
        return state

    def _tables(self, device, dtype):
        """(abar, alpha, sigma) tables of length T + 1 (index T stands for t = -1: abar = 1),
        cached per device/dtype."""
        cache = self.__dict__.setdefault("_cache", {})
        key = (str(device), dtype)
        if key not in cache:
            abar = torch.cat([self.alphas_cumprod, torch.ones(1, dtype=torch.float64)])
            cache[key] = tuple(v.to(device=device, dtype=dtype)
                               for v in (abar, abar.sqrt(), (1.0 - abar).clamp(min=0).sqrt()))
        return cache[key]

    def _gather(self, which, t, like):
        if isinstance(t, torch.Tensor) and t.dim() > 0:
            device = t.device if like is None else like.device
            dtype = torch.float64 if like is None else like.dtype
            idx = t.to(device=device, dtype=torch.long)
            idx = torch.where(idx < 0, torch.full_like(idx, self.num_train_timesteps), idx)
            out = self._tables(device, dtype)[which][idx]
            return out.unsqueeze(-1) if like is not None else out
        ti = int(t)
        ti = self.num_train_timesteps if ti < 0 else ti
        if like is None:
            return self._tables("cpu", torch.float64)[which][ti]
        return self._tables(like.device, like.dtype)[which][ti]

    def abar(self, t, like=None):
        """``alphas_cumprod[t]`` for integer ``t`` (tensor or int); ``t = -1`` gives 1.

        With ``like`` the result has its dtype/device and shape ``(n, 1)`` for a
        1-D ``t`` (broadcasts against ``(n, d)`` rows); a scalar ``t`` gives a
        0-d tensor.  Without ``like`` the result is float64.
        """
        return self._gather(0, t, like)

    def alpha_sigma(self, t, like):
        """``(alpha_t, sigma_t)`` shaped to broadcast against ``like``."""
        return self._gather(1, t, like), self._gather(2, t, like)

    def snr(self, t):
        """Signal-to-noise ratio ``abar / (1 - abar)`` (float64)."""
        a = self.abar(t)
        return a / (1.0 - a)

    # ---------------------------------------------------------------- training
    def add_noise(self, x0, noise, t):
        """``x_t = alpha_t x0 + sigma_t noise`` for per-row timesteps ``t`` (shape (n,))."""
        alpha, sigma = self.alpha_sigma(t, x0)
        return alpha * x0 + sigma * noise

    def target(self, x0, noise, t):
        """The regression target of the denoiser for its ``prediction_type``."""
        if self.prediction_type == "epsilon":
            return noise
        if self.prediction_type == "x0":
            return x0
        alpha, sigma = self.alpha_sigma(t, x0)
        return alpha * noise - sigma * x0

    def loss_weight(self, t, gamma=5.0):
        """Min-SNR-gamma loss weights (Hang et al. 2023), shape (n,), float64.

        With ``snr = abar / (1 - abar)``: ``min(snr, gamma) / snr`` for
        ``"epsilon"``, ``min(snr, gamma) / (snr + 1)`` for ``"v"`` and
        ``min(snr, gamma)`` for ``"x0"``.  These make the three parameterisations
        weight the implied x0 error identically.  ``gamma=None`` gives ones.
        """
        snr = self.snr(t)
        if gamma is None:
            return torch.ones_like(snr)
        clipped = torch.clamp(snr, max=float(gamma))
        if self.prediction_type == "epsilon":
            return clipped / snr
        if self.prediction_type == "v":
            return clipped / (snr + 1.0)
        return clipped

    # -------------------------------------------------------------- conversions
    def split(self, model_output, x_t, t):
        """``(x0_hat, eps_hat)`` from a model output of any prediction type.

        ``t`` is an int (all rows) or a tensor of shape (n,).
        """
        alpha, sigma = self.alpha_sigma(t, x_t)
        if self.prediction_type == "epsilon":
            eps = model_output
            return (x_t - sigma * eps) / alpha, eps
        if self.prediction_type == "x0":
            x0 = model_output
            return x0, (x_t - alpha * x0) / sigma
        v = model_output
        return alpha * x_t - sigma * v, sigma * x_t + alpha * v

    def x0_from_eps(self, eps, x_t, t):
        """``x0 = (x_t - sigma eps) / alpha``."""
        alpha, sigma = self.alpha_sigma(t, x_t)
        return (x_t - sigma * eps) / alpha

    # ---------------------------------------------------------------- sampling
    def timesteps(self, sampling_steps=50, strength=1.0):
        """Descending timestep subsequence for ``sampling_steps`` reverse steps.

        "Trailing" spacing (Lin et al. 2024): the first step is always ``T - 1``
        so sampling from pure noise matches training.  With ``strength < 1``
        (SDEdit) only the last ``round(strength * sampling_steps)`` (at least
        one) of those steps are kept; noise the start rows to ``timesteps[0]``.

        Returns
        -------
        timesteps : torch.LongTensor of shape (k,), descending.
        """
        T = self.num_train_timesteps
        n = int(sampling_steps)
        if not 1 <= n <= T:
            raise ValueError(f"sampling_steps must be in [1, {T}], got {sampling_steps!r}.")
        if not 0.0 < float(strength) <= 1.0:
            raise ValueError(f"strength must be in (0, 1], got {strength!r}.")
        ts = torch.round(torch.arange(T, 0, -T / n, dtype=torch.float64)).long() - 1
        ts = torch.unique_consecutive(ts.clamp(0, T - 1))
        k = max(1, int(round(float(strength) * len(ts))))
        return ts[len(ts) - k:]

    @staticmethod
    def previous_timestep(timesteps, i):
        """The timestep after ``timesteps[i]`` in the reverse chain (-1 at the end)."""
        return int(timesteps[i + 1]) if i + 1 < len(timesteps) else -1

    def step_from_estimates(self, x0_hat, eps_hat, t, prev_t, eta=0.0, generator=None):
        """DDIM update ``t -> prev_t`` from the estimates ``(x0_hat, eps_hat)``.

        ``x' = sqrt(abar') x0_hat + sqrt(1 - abar' - s^2) eps_hat + s z`` with
        ``s = eta sqrt((1 - abar')/(1 - abar)) sqrt(1 - abar/abar')``;
        ``prev_t = -1`` means ``abar' = 1`` (the final, clean step).  ``eta = 1``
        with ``prev_t = t - 1`` on every step is DDPM ancestral sampling.
        """
        a_t = self.abar(int(t))
        a_p = self.abar(int(prev_t))
        var = (1.0 - a_p) / (1.0 - a_t) * (1.0 - a_t / a_p)
        s = float(eta) * float(var.clamp(min=0.0).sqrt())
        dir_coef = math.sqrt(max(float(1.0 - a_p) - s * s, 0.0))
        prev = math.sqrt(float(a_p)) * x0_hat + dir_coef * eps_hat
        if s > 0.0:
            prev = prev + s * _randn_like(x0_hat, generator)
        return prev


def _randn_like(x, generator=None):
    """Standard normal noise shaped like ``x``, drawn from ``generator``'s device."""
    gen_device = generator.device if generator is not None else x.device
    z = torch.randn(x.shape, generator=generator, device=gen_device, dtype=x.dtype)
    return z.to(x.device)
