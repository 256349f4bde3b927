"""CORAL: supervised contrastive regularisation of the denoiser bottleneck.

A projection head ``Linear(h, 128)`` followed by L2 normalisation maps the
denoiser's bottleneck activation to a unit sphere; the supervised contrastive
loss of Khosla et al. (2020) pulls rows of the same label (class or target bin)
together, with temperature 0.1.  The loss is scaled by the time-aware weight
``w(t) = exp((1 - t/T) / 0.3)`` averaged over the batch (1 at ``t = T``, ~28 at
``t = 0``: clean-ish inputs carry the label signal), so the total training loss
is ``diffusion_loss + contrastive_weight * mean(w(t)) * L_supcon``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ProjectionHead", "supervised_contrastive_loss", "time_weight", "coral_loss"]


class ProjectionHead(nn.Module):
    """``Linear(in_dim, out_dim)`` then L2 normalisation.

    Examples
    --------
    >>> import torch
    >>> from skltsynth.engines.diffusion.contrastive import ProjectionHead
    >>> z = ProjectionHead(16)(torch.randn(4, 16))
    >>> tuple(z.shape), bool(torch.allclose(z.norm(dim=1), torch.ones(4)))
    ((4, 128), True)
    """

    def __init__(self, in_dim, out_dim=128):
        super().__init__()
        self.linear = nn.Linear(int(in_dim), int(out_dim))

    def forward(self, h):
        return nn.functional.normalize(self.linear(h), dim=-1)


def supervised_contrastive_loss(z, labels, temperature=0.1):
    """SupCon loss (Khosla et al. 2020, "L_out") on L2-normalised rows ``z``.

    ``L = mean_{i: |P(i)|>0} -1/|P(i)| sum_{p in P(i)} log(exp(z_i.z_p/tau) /
    sum_{a != i} exp(z_i.z_a/tau))`` with ``P(i)`` the other rows sharing
    ``labels[i]``.  Anchors without a positive are skipped; a batch with none
    gives 0 (still attached to the graph).

    Parameters
    ----------
    z : torch.Tensor of shape (n, k)
        L2-normalised projections.
    labels : torch.Tensor of shape (n,)
        Integer labels (class or bin index).
    temperature : float, default=0.1

    Returns
    -------
    loss : torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from skltsynth.engines.diffusion.contrastive import supervised_contrastive_loss
    >>> z = torch.nn.functional.normalize(torch.tensor([[1., 0], [1, .1], [-1, 0], [-1, .1]]), dim=1)
    >>> good = supervised_contrastive_loss(z, torch.tensor([0, 0, 1, 1]))
    >>> bad = supervised_contrastive_loss(z, torch.tensor([0, 1, 0, 1]))
    >>> bool(good < bad)
    True
    """
    n = z.shape[0]
    labels = labels.reshape(-1).to(z.device)
    logits = z @ z.T / float(temperature)
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    pos = (labels[:, None] == labels[None, :]) & ~self_mask
    n_pos = pos.sum(1)
    has_pos = n_pos > 0
    if not bool(has_pos.any()):
        return z.sum() * 0.0
    pos_log_prob = torch.where(pos, log_prob, torch.zeros_like(log_prob)).sum(1)
    per_anchor = -pos_log_prob[has_pos] / n_pos[has_pos].to(z.dtype)
    return per_anchor.mean()


def time_weight(t, num_train_timesteps, tau=0.3):
    """CORAL's time-aware weight ``exp((1 - t/T) / tau)`` for timesteps ``t`` (n,)."""
    return torch.exp((1.0 - t.to(torch.float32) / float(num_train_timesteps)) / float(tau))


def coral_loss(hidden, head, labels, t, num_train_timesteps, temperature=0.1, tau=0.3):
    """``mean(w(t)) * SupCon(head(hidden), labels)`` (multiply by the user weight outside)."""
    w_bar = time_weight(t, num_train_timesteps, tau).mean()
    return w_bar * supervised_contrastive_loss(head(hidden), labels, temperature)
