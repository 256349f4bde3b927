"""Batched DDIM / DDPM sampling with classifier-free guidance, SDEdit starts and signal guidance.

:func:`sample_rows` denoises rows in chunks of ``batch_size`` (bounded
memory).  Per step, for a chunk ``x_t`` at timestep ``t``:

1. the network output (with classifier-free guidance: ``u + s (c - u)`` from a
   conditional and a null-conditional pass in one batch) is split into
   ``(x0_hat, eps_hat)`` by the scheduler;
2. with a guidance signal ``f`` (a callable of the x0 estimate *in original
   feature units* and the caller's condition, returning one scalar per row to
   increase), ``g = d sum f(destandardise(x0_hat)) / d x_t`` -- through the
   network Jacobian (``guidance.jacobian`` true) or a cheap approximation
   without it (below) -- and
   ``eps_hat <- eps_hat - guidance.scale * sigma_t * g``,
   ``x0_hat <- (x_t - sigma_t eps_hat) / alpha_t`` (Longtail Guidance, eq. 11:
   the signal of the decoded clean estimate, here the de-standardised x0);
   the de-standardisation happens inside the autograd graph, so the gradient
   accounts for the feature scales;
   a guidance object with a region (``LongtailGuidance.within``, set by the
   diffusion resamplers) then projects the guided ``x0_hat`` into the real
   rows' norm range and class ball
   (:class:`skltsynth.policy.data_region.DataRegion`) and ``eps_hat`` is
   re-derived from it, so guided rows stay on the data;
3. the DDIM update ``t -> t'`` (``eta`` = 0 deterministic, 1 ancestral).

Cheap variant (``guidance.jacobian`` false, the default): ``g = alpha_t * d f / d x0_hat``.
This is the exact Tweedie Jacobian ``d x0_hat / d x_t = alpha_t I`` for
standardised (unit-variance, Gaussian) features; it agrees with the
``grad / alpha_t`` rule of the x0-space derivation to first order at low noise
(``alpha_t ~ 1``) but stays bounded at high noise, where ``1 / alpha_t``
(~2e4 at ``t = T - 1`` of the cosine schedule) would make the re-derived
``x0_hat`` explode.  The resulting shift of the x0 estimate is
``guidance.scale * sigma_t^2 * d f / d x0_hat``: full strength at high noise,
fading to zero as the chain ends.

Where the exact gradient is used: the re-derived ``x0_hat`` divides the
network-Jacobian term by ``alpha_t``, so at high noise any error of the
learned Jacobian ``d x0_hat / d x_t`` (ideally ``alpha_t Cov(x0 | x_t) /
sigma_t^2``, i.e. tiny) is amplified by ``1 / alpha_t``.  On a small trained
model the exact shift of the x0 estimate was thousands of units at
``t = T - 1`` (``alpha ~ 5e-5``) and pointed *against* the signal at every step
with SNR < ~1, while agreeing with the cheap shift in direction for SNR > 1.
So ``guidance.jacobian=True`` differentiates through the network on steps
with ``SNR_t >= JACOBIAN_MIN_SNR`` (1.0, the second half of a cosine chain)
and uses the cheap gradient on the noisier steps.

SDEdit (``strength < 1``): the start rows ``x_start`` (original units,
standardised chunk by chunk) are noised to the first kept timestep and only the last ``strength`` fraction of the chain is
run.
"""

from __future__ import annotations

import torch

from ..._random import child_torch_generator

__all__ = ["sample_rows"]

# The exact (network-Jacobian) gradient is used only on steps with
# SNR_t = abar_t / (1 - abar_t) >= JACOBIAN_MIN_SNR; noisier steps use the cheap
# gradient (see the module docstring for why).
JACOBIAN_MIN_SNR = 1.0


def _randn(shape, generator, device, dtype=torch.float32):
    gdev = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=gdev, dtype=dtype).to(device)


#: Rows of start noise drawn per call of the noise generator (fixed, so that the
#: rows do not depend on the chunk size ``batch_size``).
NOISE_BLOCK = 1024


class _NoiseStream:
    """Standard-normal rows on demand, drawn in fixed blocks of :data:`NOISE_BLOCK` rows.

    The stream has its own generator, seeded by one draw from ``generator``:
    the rows it hands out depend only on that seed and their position, not on
    how many are taken at a time, and at most one block is held back.
    """

    def __init__(self, generator, n_features, device):
        gdev = generator.device
        self._generator = child_torch_generator(generator, gdev)
        self._n_features = int(n_features)
        self._device = device
        self._spare = torch.empty((0, self._n_features), device=device)

    def take(self, m):
        """The next ``m`` rows, shape (m, n_features), on the stream's device."""
        parts, have = [self._spare], self._spare.shape[0]
        while have < m:
            block = _randn((NOISE_BLOCK, self._n_features), self._generator, self._device)
            parts.append(block)
            have += NOISE_BLOCK
        rows = torch.cat(parts) if len(parts) > 1 else parts[0]
        self._spare = rows[m:].clone()
        return rows[:m]


def _model_output(model, x, t, cond, cfg_scale):
    """Network output at ``(x, t)``, with classifier-free guidance when ``cfg_scale != 1``."""
    n = x.shape[0]
    if cond is None or cfg_scale == 1.0:
        return model(x, t, cond)
    drop = torch.cat([torch.zeros(n, dtype=torch.bool, device=x.device),
                      torch.ones(n, dtype=torch.bool, device=x.device)])
    both = model(torch.cat([x, x]), t, torch.cat([cond, cond]), drop_mask=drop)
    out_c, out_u = both[:n], both[n:]
    return out_u + cfg_scale * (out_c - out_u)


def _check_signal(signal, n):
    if not isinstance(signal, torch.Tensor) or signal.shape not in ((n,), (n, 1)):
        raise ValueError(
            "guidance must return a tensor with one scalar per row (shape (n,)), got "
            f"{getattr(signal, 'shape', type(signal).__name__)} for n={n}.")
    return signal.sum()


def _check_guidance(guidance):
    """The engine's guidance contract: a callable with ``scale`` and ``jacobian``."""
    if guidance is None:
        return None
    if not callable(guidance) or not hasattr(guidance, "scale") or not hasattr(guidance,
                                                                               "jacobian"):
        raise TypeError(
            "guidance must be None or a guidance object: callable (x0_hat, cond) -> (n,) "
            "with attributes `scale` and `jacobian` (skltsynth.LongtailGuidance wraps a "
            f"plain signal); got {type(guidance).__name__}.")
    if isinstance(guidance.scale, str):  # "auto" is resolved by a diffusion resampler
        raise ValueError(f"guidance.scale={guidance.scale!r} is chosen by a diffusion resampler; "
                         "sampling the engine directly needs a number: guidance.with_scale(w).")
    return guidance


def sample_rows(model, scheduler, standardiser, *, n, cond=None, model_cond=None,
                x_start=None, strength=1.0, guidance=None, sampling_steps=50, eta=0.0,
                cfg_scale=1.0, batch_size=4096, generator, return_x0=False, progress=None):
    """Draw rows from a trained denoiser, in original feature units.

    Parameters
    ----------
    model : torch.nn.Module
        Denoiser called as ``model(z_t, t, cond, drop_mask=None)`` on
        standardised rows ``z``.
    scheduler : NoiseScheduler
    standardiser : Standardiser
        The fitted map between original units (``inverse_transform``) and the
        model's standardised space (``transform``); both are differentiable,
        so guidance gradients account for the feature scales.
    n : int
        Number of rows.
    cond : torch.Tensor of shape (n,), optional
        The caller's condition per row, passed unchanged to ``guidance``.
    model_cond : torch.Tensor of shape (n,), optional
        The condition as the network sees it (e.g. standardised continuous
        values); defaults to ``cond``.
    x_start : torch.Tensor of shape (n, d), optional
        SDEdit start rows in original units, required when ``strength < 1``
        (standardised chunk by chunk, so no standardised copy is held).
    strength : float in (0, 1], default=1.0
        Fraction of the chain to run, starting from ``x_start``.
    guidance : guidance object, optional
        A callable ``guidance(x0_hat, cond) -> (n,)`` of the clean-row
        estimate in original units, with attributes ``scale`` (float) and
        ``jacobian`` (bool): see the module docstring.
        :class:`skltsynth.LongtailGuidance` is the one implementation.
    sampling_steps : int, default=50
    eta : float, default=0.0
    cfg_scale : float, default=1.0
        Classifier-free guidance scale; 1 = conditional only, 0 = unconditional.
    batch_size : int, default=4096
        Rows denoised at once.  With ``eta = 0`` the output does not depend on
        it; with ``eta > 0`` the ancestral noise is drawn per chunk.
    generator : torch.Generator
        Source of the start noise and of the ancestral noise.
    return_x0 : bool, default=False
        Also return the x0 estimate of every step, shape (k, n, d).
    progress : callable, optional
        Wraps the iterable of chunks (e.g. tqdm).

    Returns
    -------
    rows : torch.Tensor of shape (n, d), float32 on the model's device, original units.
    x0_trajectory : torch.Tensor of shape (k, n, d), original units, only if ``return_x0``.

    Notes
    -----
    Memory: the output is allocated once and every chunk is written into it
    in place; the start noise is drawn chunk by chunk, in fixed blocks of
    :data:`NOISE_BLOCK` rows from a generator seeded once from ``generator``,
    so the rows do not depend on ``batch_size`` when ``eta = 0``.  Apart from
    the output, peak memory is a few chunks of ``batch_size`` rows.
    """
    if not isinstance(generator, torch.Generator):
        raise ValueError("sample_rows needs an explicit torch.Generator (generator=...).")
    n_features = int(standardiser.mean_.shape[-1])
    device = standardiser.mean_.device
    if x_start is not None:
        x_start = torch.as_tensor(x_start, dtype=torch.float32)
        if x_start.dim() != 2 or x_start.shape[1] != n_features:
            raise ValueError(f"x_start must have shape (n, {n_features}), got "
                             f"{tuple(x_start.shape)}.")
    n = int(n)
    for name, value in (("cond", cond), ("model_cond", model_cond), ("x_start", x_start)):
        if value is not None and value.shape[0] != n:
            raise ValueError(f"{name} has {value.shape[0]} rows, expected {n}.")
    if float(strength) < 1.0 and x_start is None:
        raise ValueError("strength < 1 (SDEdit) needs x_start rows to start from.")
    guidance = _check_guidance(guidance)
    model_cond = cond if model_cond is None else model_cond
    timesteps = scheduler.timesteps(sampling_steps, strength)
    use_guidance = guidance is not None and float(guidance.scale) != 0.0
    cfg_scale = float(cfg_scale)

    start_noise = _NoiseStream(generator, n_features, device)
    chunks = list(range(0, n, max(1, int(batch_size))))
    iterator = progress(chunks) if progress is not None else chunks
    result = torch.empty((n, n_features), dtype=torch.float32, device=device)
    trajectory = []
    for start in iterator:
        stop = min(n, start + int(batch_size))
        m = stop - start
        c_user = None if cond is None else cond[start:stop].to(device)
        c_model = None if model_cond is None else model_cond[start:stop].to(device)
        noise = start_noise.take(m)
        t0 = int(timesteps[0])
        if x_start is None:
            x = noise
        else:
            with torch.no_grad():
                x0 = standardiser.transform(x_start[start:stop].to(device))
            x = scheduler.add_noise(x0, noise, torch.full((m,), t0, device=device))
        chunk_x0 = []
        for i, t in enumerate(timesteps.tolist()):
            prev_t = scheduler.previous_timestep(timesteps, i)
            if use_guidance:
                x0_hat, eps_hat = _guided_estimates(
                    model, scheduler, x, t, c_model, c_user, cfg_scale, guidance,
                    standardiser, final=prev_t < 0)
            else:
                with torch.no_grad():
                    out = _model_output(model, x, t, c_model, cfg_scale)
                    x0_hat, eps_hat = scheduler.split(out, x, t)
            with torch.no_grad():
                x = scheduler.step_from_estimates(x0_hat, eps_hat, t, prev_t, eta, generator)
            if return_x0:
                with torch.no_grad():
                    chunk_x0.append(standardiser.inverse_transform(x0_hat.detach()))
        with torch.no_grad():
            result[start:stop] = standardiser.inverse_transform(x)
        if return_x0:
            trajectory.append(torch.stack(chunk_x0))
    if return_x0:
        traj = (torch.cat(trajectory, dim=1) if trajectory
                else torch.empty(len(timesteps), 0, n_features, device=device))
        return result, traj
    return result


def _guided_estimates(model, scheduler, x, t, c_model, c_user, cfg_scale, guidance,
                      standardiser, final=False):
    """``(x0_hat, eps_hat)`` after shifting eps by ``-scale * sigma_t * grad signal``.

    A guidance object with a ``project`` method (``LongtailGuidance.project``)
    then pulls the guided x0 estimate, in original units, into the real rows'
    region, and eps is re-derived from it (``final``: the last step).
    """
    to_original = standardiser.inverse_transform
    alpha, sigma = scheduler.alpha_sigma(t, x)
    scale = float(guidance.scale)
    with torch.enable_grad():
        if bool(guidance.jacobian) and float(scheduler.snr(t)) >= JACOBIAN_MIN_SNR:
            x_in = x.detach().requires_grad_(True)
            out = _model_output(model, x_in, t, c_model, cfg_scale)
            x0_hat, eps_hat = scheduler.split(out, x_in, t)
            total = _check_signal(guidance(to_original(x0_hat), c_user), x.shape[0])
            (grad,) = torch.autograd.grad(total, x_in)
        else:
            with torch.no_grad():
                out = _model_output(model, x, t, c_model, cfg_scale)
                x0_hat, eps_hat = scheduler.split(out, x, t)
            x0_in = x0_hat.detach().requires_grad_(True)
            total = _check_signal(guidance(to_original(x0_in), c_user), x.shape[0])
            (grad,) = torch.autograd.grad(total, x0_in)
            grad = grad * alpha
    eps_hat = eps_hat.detach() - scale * sigma * grad.detach()
    x0_hat = scheduler.x0_from_eps(eps_hat, x.detach(), t)
    project = getattr(guidance, "project", None)
    if project is not None:
        with torch.no_grad():
            x0_hat = standardiser.transform(project(to_original(x0_hat), c_user, final=final))
            eps_hat = (x.detach() - alpha * x0_hat) / sigma
    return x0_hat, eps_hat
