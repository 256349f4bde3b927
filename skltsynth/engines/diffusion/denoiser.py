"""Residual MLP denoiser for feature vectors (TabDDPM style), with optional conditioning.

``h = Linear(d, h)(x) + time_mlp(sinusoidal(t)) + cond_embedding``, then
``n_layers`` pre-norm residual blocks ``h + Dropout(Linear(SiLU(Linear(SiLU(LayerNorm(h))))))``,
an optional transformer block (the hidden vector cut into ``n_tokens`` tokens,
one ``nn.TransformerEncoderLayer``), a final ``LayerNorm -> SiLU -> Linear(h, d)``.
The activation before the output head is the *bottleneck* used by CORAL
(``return_hidden=True``).

Conditioning
------------
* ``cond_type="class"``: ``Embedding(n_classes + 1, h)``, the last index is the
  null class used for classifier-free guidance.
* ``cond_type="continuous"``: ``Linear(1, h)`` on a (standardised) scalar such
  as the target or a bin centre; the null condition is a learned vector.
* ``cond_type="none"``: unconditional.

Rows whose ``drop_mask`` is True (or all rows when ``cond`` is None) use the
null condition.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ResidualMLPDenoiser", "init_parameters_", "sinusoidal_embedding"]

COND_TYPES = ("class", "continuous", "none")


def sinusoidal_embedding(t, dim=128, max_period=10000.0):
    """Transformer-style sinusoidal embedding of (integer or float) timesteps.

    Parameters
    ----------
    t : torch.Tensor of shape (n,)
    dim : int, default=128

    Returns
    -------
    emb : torch.Tensor of shape (n, dim), float32, ``[cos | sin]``.
    """
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


@torch.no_grad()
def init_parameters_(module, generator):
    """(Re-)initialise every parameter of ``module`` from an explicit generator.

    Same distributions as PyTorch's defaults (Linear: kaiming-uniform weights with
    ``a = sqrt(5)`` and uniform biases; Embedding: N(0, 1); attention in-projection:
    xavier-uniform), so a module built on the ``meta`` device (no global RNG use)
    and moved with ``to_empty`` gets a reproducible initialisation.  LayerNorm is
    ones/zeros; any other bare parameter (positional / null embeddings) is zero.
    Returns ``module``.
    """
    done = set()
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            nn.init.kaiming_uniform_(sub.weight, a=math.sqrt(5), generator=generator)
            if sub.bias is not None:
                bound = 1.0 / math.sqrt(sub.weight.shape[1])
                nn.init.uniform_(sub.bias, -bound, bound, generator=generator)
        elif isinstance(sub, nn.Embedding):
            nn.init.normal_(sub.weight, generator=generator)
        elif isinstance(sub, nn.LayerNorm):
            nn.init.ones_(sub.weight)
            nn.init.zeros_(sub.bias)
        elif isinstance(sub, nn.MultiheadAttention):
            nn.init.xavier_uniform_(sub.in_proj_weight, generator=generator)
            nn.init.zeros_(sub.in_proj_bias)
            nn.init.zeros_(sub.out_proj.bias)
            done.update({id(sub.in_proj_weight), id(sub.in_proj_bias)})
        else:
            continue
        done.update(id(p) for p in sub.parameters(recurse=False))
    for p in module.parameters():
        if id(p) not in done:
            nn.init.zeros_(p)
    return module


class _ResidualBlock(nn.Module):
    def __init__(self, width, dropout):
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(width),
            nn.SiLU(),
            nn.Linear(width, width),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Linear(width, width),
        )

    def forward(self, h):
        return h + self.net(h)


class _TokenTransformer(nn.Module):
    """Cut a hidden vector into tokens and apply one TransformerEncoderLayer."""

    def __init__(self, width, n_tokens, n_heads, dropout):
        super().__init__()
        if width % n_tokens:
            raise ValueError(f"hidden_dim ({width}) must be divisible by n_tokens ({n_tokens}).")
        tok = width // n_tokens
        if tok % n_heads:
            raise ValueError(
                f"token width hidden_dim/n_tokens ({tok}) must be divisible by n_heads ({n_heads})."
            )
        self.n_tokens = n_tokens
        self.pos = nn.Parameter(torch.zeros(n_tokens, tok))
        self.layer = nn.TransformerEncoderLayer(
            tok, n_heads, dim_feedforward=2 * tok, dropout=dropout,
            activation="gelu", batch_first=True, norm_first=True,
        )

    def forward(self, h):
        n = h.shape[0]
        tokens = h.reshape(n, self.n_tokens, -1) + self.pos
        return self.layer(tokens).reshape(n, -1)


class ResidualMLPDenoiser(nn.Module):
    """Predicts noise / v / x0 for rows ``x_t`` at timestep ``t`` given a condition.

    Parameters
    ----------
    n_features : int
        Row dimension d.
    hidden_dim : int, default=512
    n_layers : int, default=3
        Number of residual blocks.
    cond_type : {"class", "continuous", "none"}, default="none"
    n_classes : int, optional
        Required for ``cond_type="class"``.
    time_embed_dim : int, default=128
    dropout : float, default=0.0
    use_transformer : bool, default=False
        Add one small transformer block over ``n_tokens`` chunks of the hidden vector.
    n_tokens, n_heads : int, default=8, 4

    Examples
    --------
    >>> import torch
    >>> from skltsynth.engines.diffusion.denoiser import ResidualMLPDenoiser
    >>> net = ResidualMLPDenoiser(8, hidden_dim=32, n_layers=2, cond_type="class", n_classes=3)
    >>> x = torch.zeros(5, 8); t = torch.full((5,), 10); c = torch.tensor([0, 1, 2, 0, 1])
    >>> out, hidden = net(x, t, c, return_hidden=True)
    >>> tuple(out.shape), tuple(hidden.shape)
    ((5, 8), (5, 32))
    """

    def __init__(self, n_features, hidden_dim=512, n_layers=3, cond_type="none", n_classes=None,
                 time_embed_dim=128, dropout=0.0, use_transformer=False, n_tokens=8, n_heads=4):
        super().__init__()
        if cond_type not in COND_TYPES:
            raise ValueError(f"cond_type must be one of {COND_TYPES}, got {cond_type!r}.")
        if cond_type == "class" and (n_classes is None or int(n_classes) < 1):
            raise ValueError("cond_type='class' needs n_classes >= 1.")
        self.n_features = int(n_features)
        self.hidden_dim = int(hidden_dim)
        self.cond_type = cond_type
        self.n_classes = int(n_classes) if n_classes is not None else None
        self.time_embed_dim = int(time_embed_dim)
        h = self.hidden_dim
        self.input = nn.Linear(self.n_features, h)
        self.time_mlp = nn.Sequential(nn.Linear(self.time_embed_dim, h), nn.SiLU(), nn.Linear(h, h))
        if cond_type == "class":
            self.class_embedding = nn.Embedding(self.n_classes + 1, h)
        elif cond_type == "continuous":
            self.value_embedding = nn.Linear(1, h)
            self.null_embedding = nn.Parameter(torch.zeros(h))
        self.blocks = nn.ModuleList(_ResidualBlock(h, dropout) for _ in range(int(n_layers)))
        self.transformer = (
            _TokenTransformer(h, int(n_tokens), int(n_heads), dropout) if use_transformer else None
        )
        self.out_norm = nn.LayerNorm(h)
        self.output = nn.Linear(h, self.n_features)

    def condition_embedding(self, cond, n, drop_mask=None, device=None):
        """The conditioning embedding (n, h), or None for an unconditional model."""
        if self.cond_type == "none":
            return None
        device = device if device is not None else self.input.weight.device
        null = torch.ones(n, dtype=torch.bool, device=device) if cond is None else None
        if null is None:
            null = (torch.zeros(n, dtype=torch.bool, device=device) if drop_mask is None
                    else drop_mask.to(device=device, dtype=torch.bool).reshape(n))
        if self.cond_type == "class":
            idx = (torch.full((n,), self.n_classes, dtype=torch.long, device=device)
                   if cond is None else cond.to(device=device, dtype=torch.long).reshape(n))
            idx = torch.where(null, torch.full_like(idx, self.n_classes), idx)
            return self.class_embedding(idx)
        dtype = self.input.weight.dtype
        if cond is None:
            return self.null_embedding.to(dtype).expand(n, -1)
        value = cond.to(device=device, dtype=dtype).reshape(n, 1)
        emb = self.value_embedding(torch.nan_to_num(value))
        return torch.where(null[:, None], self.null_embedding.to(dtype).expand(n, -1), emb)

    def forward(self, x, t, cond=None, drop_mask=None, return_hidden=False):
        """Denoiser output for rows ``x`` (n, d) at integer timesteps ``t`` (n,) or scalar.

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
        t : torch.Tensor of shape (n,) or int
        cond : torch.Tensor of shape (n,), optional
            Class indices (long) or continuous values; None = null condition.
        drop_mask : torch.BoolTensor of shape (n,), optional
            True rows get the null condition (classifier-free guidance).
        return_hidden : bool, default=False
            Also return the bottleneck activation (n, hidden_dim).

        Returns
        -------
        out : torch.Tensor of shape (n, d)
        hidden : torch.Tensor of shape (n, hidden_dim), only if ``return_hidden``.
        """
        n = x.shape[0]
        t = torch.as_tensor(t, device=x.device)
        # one timestep for all rows (the sampler's case): embed it once and broadcast
        t_rows = t.reshape(1) if t.dim() == 0 else t
        h = self.input(x) + self.time_mlp(
            sinusoidal_embedding(t_rows, self.time_embed_dim).to(x.dtype))
        c = self.condition_embedding(cond, n, drop_mask, device=x.device)
        if c is not None:
            h = h + c
        for block in self.blocks:
            h = block(h)
        if self.transformer is not None:
            h = self.transformer(h)
        out = self.output(nn.functional.silu(self.out_norm(h)))
        # in the input's dtype whatever autocast ran the products in (.precision)
        out, h = out.to(x.dtype), h.to(x.dtype)
        return (out, h) if return_hidden else out
