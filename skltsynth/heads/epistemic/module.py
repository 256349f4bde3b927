"""The Epistemic Head as a torch module, its oracle losses and longtail signals.

Torch only (no scikit-learn).  :class:`EpistemicHeadModule` is a base head on
(optionally) a hidden layer plus ``K`` linear *epistemic heads* stored as one
``(K, outputs, h)`` tensor; it serves classification (``outputs`` = classes,
oracle cross-entropy) and regression (one output, oracle squared error).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "CLASSIFICATION_SIGNALS",
    "LONGTAIL_SIGNALS",
    "REGRESSION_SIGNALS",
    "EpistemicHeadModule",
    "LongtailSignal",
    "OracleLoss",
    "OracleMSELoss",
    "check_signal",
]

#: Signals of a classifier: the heads' ("epistemic", "entropy", "energy")
#: and the base model's own ("base_entropy", "base_energy").
CLASSIFICATION_SIGNALS = ("epistemic", "entropy", "energy", "base_entropy", "base_energy")
#: Signals of a regressor: the variance of the heads' predictions.
REGRESSION_SIGNALS = ("variance",)
#: Every name accepted by ``signal=``.
LONGTAIL_SIGNALS = CLASSIFICATION_SIGNALS + REGRESSION_SIGNALS


def check_signal(signal, allowed=LONGTAIL_SIGNALS):
    """Return ``signal`` if it is one of ``allowed``, else raise a ValueError."""
    if signal not in allowed:
        raise ValueError(f"signal must be one of {allowed}, got {signal!r}.")
    return signal


def _init_linear(linear, generator):
    """PyTorch's default ``nn.Linear`` init, drawn from an explicit generator."""
    nn.init.kaiming_uniform_(linear.weight, a=math.sqrt(5), generator=generator)
    bound = 1.0 / math.sqrt(linear.in_features) if linear.in_features > 0 else 0.0
    nn.init.uniform_(linear.bias, -bound, bound, generator=generator)


def _free_energy(logits, temperature):
    """``-T logsumexp(z / T)``: higher for rows the model is less sure of."""
    return -temperature * torch.logsumexp(logits / temperature, dim=-1)


def _entropy_of_log(log_p):
    return -(log_p.exp() * log_p).sum(dim=-1)


class EpistemicHeadModule(nn.Module):
    """Base head plus ``n_heads`` epistemic heads on (optionally) a hidden layer.

    ``x -> standardise -> trunk (identity or Linear+ReLU) -> base head`` gives
    the base outputs; the epistemic heads are ``n_heads`` linear maps on the
    same trunk features, stored as one ``(K, C, h)`` weight tensor so all
    heads run in a single batched product.

    Parameters
    ----------
    n_features : int
        Input dimension ``d``.
    n_classes : int
        Outputs ``C``: classes, or 1 for a regression head.
    n_heads : int, default=5
        Number of epistemic heads ``K``.
    hidden_layer_size : int or None, default=None
        Width of an optional ReLU hidden layer (part of the base, frozen in
        the head stage); ``None`` means linear heads on the inputs.
    generator : torch.Generator or None, default=None
        Source of the initial weights (never the global generator).

    Attributes
    ----------
    stage : {"base", "heads"}
        What :meth:`forward` returns: base outputs ``(n, C)`` or head outputs
        ``(n, K, C)``.  Set by the estimators while training.
    """

    def __init__(self, n_features, n_classes, n_heads=5, hidden_layer_size=None, generator=None):
        super().__init__()
        self.n_heads = int(n_heads)
        self.register_buffer("input_mean", torch.zeros(n_features))
        self.register_buffer("input_scale", torch.ones(n_features))
        width = n_features
        if hidden_layer_size:
            hidden = nn.utils.skip_init(nn.Linear, n_features, int(hidden_layer_size))
            with torch.no_grad():
                _init_linear(hidden, generator)
            self.trunk = nn.Sequential(hidden, nn.ReLU())
            width = int(hidden_layer_size)
        else:
            self.trunk = nn.Identity()
        self.base_head = nn.utils.skip_init(nn.Linear, width, n_classes)
        with torch.no_grad():
            _init_linear(self.base_head, generator)
        self.head_weight = nn.Parameter(torch.zeros(self.n_heads, n_classes, width))
        self.head_bias = nn.Parameter(torch.zeros(self.n_heads, n_classes))
        self.copy_base_to_heads()
        self.stage = "base"

    # ------------------------------------------------------------------ parts
    def set_standardization(self, mean, scale):
        """Store per-feature input centring and scaling (fixed buffers)."""
        with torch.no_grad():
            self.input_mean.copy_(torch.as_tensor(mean, dtype=self.input_mean.dtype))
            self.input_scale.copy_(torch.as_tensor(scale, dtype=self.input_scale.dtype))

    def copy_base_to_heads(self, noise=0.0, generator=None):
        """Initialise every epistemic head as a copy of the base head.

        Parameters
        ----------
        noise : float, default=0.0
            Standard deviation of a Gaussian perturbation added to each copy's
            weights, relative to the standard deviation of the base head's
            weights.  Exact copies tie on every row, so the oracle loss would
            hand every row to the first head; a small perturbation (the
            "prior determined by weight initialisation" of the paper) lets the
            rows split between heads while the heads still agree wherever the
            data pin them down.
        generator : torch.Generator, optional
            Source of the perturbation.
        """
        with torch.no_grad():
            self.head_weight.copy_(self.base_head.weight.unsqueeze(0).expand_as(self.head_weight))
            self.head_bias.copy_(self.base_head.bias.unsqueeze(0).expand_as(self.head_bias))
            if noise > 0:
                spread = float(self.base_head.weight.std()) if self.base_head.weight.numel() > 1 \
                    else float(self.base_head.weight.abs().mean())
                gdev = generator.device if generator is not None else self.head_weight.device
                eps = torch.randn(self.head_weight.shape, generator=generator, device=gdev,
                                  dtype=self.head_weight.dtype)
                self.head_weight.add_(float(noise) * spread * eps.to(self.head_weight.device))

    def base_parameters(self):
        """Parameters of the base model (trunk and base head)."""
        return list(self.trunk.parameters()) + list(self.base_head.parameters())

    def features(self, x):
        """Trunk features of standardised inputs, shape ``(n, h)``."""
        x = x.to(self.input_mean.dtype)
        return self.trunk((x - self.input_mean) / self.input_scale)

    def base_logits(self, x):
        """Outputs of the base head, shape ``(n, C)``."""
        return self.base_head(self.features(x))

    def head_logits(self, x):
        """Outputs of every epistemic head, shape ``(n, K, C)``."""
        h = self.features(x)
        return torch.einsum("nh,kch->nkc", h, self.head_weight) + self.head_bias

    def forward(self, x):
        if self.stage == "base":
            return self.base_logits(x)
        return self.head_logits(x)

    # ------------------------------------------------------------- signals
    def class_log_proba(self, x):
        """Log of the heads' mean class probability, shape ``(n, C)``."""
        log_p = torch.log_softmax(self.head_logits(x), dim=-1)
        return torch.logsumexp(log_p, dim=1) - math.log(self.n_heads)

    def longtail_signal(self, x, signal="epistemic", temperature=1.0):
        """Differentiable per-row longtail signal (higher = more long-tailed).

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
            Rows in the original units of the training data.
        signal : str, default="epistemic"
            Classification: ``"entropy"`` = ``H(mean_k p_k)`` in nats;
            ``"energy"`` = the heads' mean free energy
            ``-T logsumexp(z_k / T)`` (higher for rows the model is less sure
            of); ``"epistemic"`` = ``H(mean_k p_k) - mean_k H(p_k)`` (mutual
            information between head and label; 0 where the heads agree);
            ``"base_entropy"`` / ``"base_energy"``: the same two of the base
            model alone (the predictive model's own signals).  Regression
            (one output): ``"variance"`` = the variance of the heads'
            predictions (standardised target units).
        temperature : float, default=1.0
            ``T`` of the energy signals.

        Returns
        -------
        signal : torch.Tensor of shape (n,)
        """
        check_signal(signal)
        if signal == "variance":
            return self.head_logits(x)[..., 0].var(dim=1, correction=0)
        if signal.startswith("base_"):
            logits = self.base_logits(x)
            if signal == "base_energy":
                return _free_energy(logits, temperature)
            return _entropy_of_log(torch.log_softmax(logits, dim=-1))
        logits = self.head_logits(x)
        if signal == "energy":
            return _free_energy(logits, temperature).mean(dim=1)
        log_p = torch.log_softmax(logits, dim=-1)
        log_mean = torch.logsumexp(log_p, dim=1) - math.log(self.n_heads)
        total = _entropy_of_log(log_mean)
        if signal == "entropy":
            return total
        return total - _entropy_of_log(log_p).mean(dim=1)


class OracleLoss(nn.Module):
    """Winner-take-all cross-entropy over heads.

    For each row, the cross-entropy of every head is computed and only the
    smallest one is kept (so only the best head gets the row's gradient); the
    result is averaged over rows.

    Inputs: head logits ``(n, K, C)`` and integer targets ``(n,)``.
    """

    def forward(self, head_logits, target):
        n, k, c = head_logits.shape
        losses = F.cross_entropy(
            head_logits.reshape(n * k, c), target.long().repeat_interleave(k), reduction="none"
        ).view(n, k)
        return losses.min(dim=1).values.mean()


class OracleMSELoss(nn.Module):
    """Winner-take-all squared error over regression heads.

    Inputs: head outputs ``(n, K, 1)`` and targets ``(n,)`` or ``(n, 1)``.
    """

    def forward(self, head_out, target):
        err = (head_out[..., 0] - target.reshape(-1, 1).to(head_out.dtype)) ** 2
        return err.min(dim=1).values.mean()


class LongtailSignal(nn.Module):
    """``x -> module.longtail_signal(x, signal, temperature)`` as a movable module.

    This is what the estimators' ``torch_signal`` returns: a callable taking a
    ``(n, d)`` tensor and returning the ``(n,)`` signal.  It holds its own
    copy of the fitted module so that moving it to a GPU (as
    :class:`~skltsynth.policy.guidance.LongtailGuidance` does) leaves the
    estimator's CPU module untouched.
    """

    def __init__(self, module, signal="epistemic", temperature=1.0):
        super().__init__()
        self.module = module
        self.signal = check_signal(signal)
        self.temperature = float(temperature)

    def forward(self, x):
        return self.module.longtail_signal(x, signal=self.signal, temperature=self.temperature)
