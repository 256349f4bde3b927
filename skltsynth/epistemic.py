"""Epistemic-head classifier: a linear head plus K oracle-trained copies.

The *Epistemic Head* (Longtail Guidance paper, section 2.1) adds ``K`` copies
of a trained classification head on top of the frozen base model and trains
them with the oracle (winner-take-all) loss: for every row only the head with
the lowest cross-entropy receives gradient.  Because the copies start from the
trained base head, they keep agreeing where data are plentiful and drift apart
only where data are rare, so their disagreement is a differentiable,
single-pass signal of "rare or hard" rows.

:class:`EpistemicHeadModule` is the torch module (usable directly by the
diffusion guidance, see :mod:`skltsynth.guidance`);
:class:`EpistemicHeadClassifier` is the scikit-learn estimator that trains it
with skorch.
"""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet, NeuralNetClassifier
from skorch.dataset import Dataset
from torch import nn
from torch.nn import functional as F

from ._random import check_random_state, torch_generator
from ._torch_utils import batches, resolve_device

__all__ = [
    "LONGTAIL_SIGNALS",
    "EpistemicHeadClassifier",
    "EpistemicHeadModule",
    "LongtailSignal",
    "OracleLoss",
]

#: Names accepted by ``signal=`` everywhere in this module.
LONGTAIL_SIGNALS = ("epistemic", "entropy", "energy")

_EVAL_BATCH = 8192
#: Columns whose spread is below this fraction of the median spread count as constant.
_STD_FLOOR = 1e-3


def _check_signal(signal):
    if signal not in LONGTAIL_SIGNALS:
        raise ValueError(f"signal must be one of {LONGTAIL_SIGNALS}, got {signal!r}.")
    return signal


def _init_linear(linear, generator):
    """PyTorch's default ``nn.Linear`` init, drawn from an explicit generator."""
    nn.init.kaiming_uniform_(linear.weight, a=math.sqrt(5), generator=generator)
    bound = 1.0 / math.sqrt(linear.in_features) if linear.in_features > 0 else 0.0
    nn.init.uniform_(linear.bias, -bound, bound, generator=generator)


class EpistemicHeadModule(nn.Module):
    """Base head plus ``n_heads`` epistemic heads on (optionally) a hidden layer.

    ``x -> standardise -> trunk (identity or Linear+ReLU) -> base head`` gives
    the base logits; the epistemic heads are ``n_heads`` linear maps on the
    same trunk features, stored as one ``(K, C, h)`` weight tensor so all
    heads run in a single batched product.

    Parameters
    ----------
    n_features : int
        Input dimension ``d``.
    n_classes : int
        Number of classes ``C``.
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
        What :meth:`forward` returns: base logits ``(n, C)`` or head logits
        ``(n, K, C)``.  Set by :class:`EpistemicHeadClassifier` while training.
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
                scale = float(noise) * float(self.base_head.weight.std())
                gdev = generator.device if generator is not None else self.head_weight.device
                eps = torch.randn(self.head_weight.shape, generator=generator, device=gdev,
                                  dtype=self.head_weight.dtype)
                self.head_weight.add_(scale * eps.to(self.head_weight.device))

    def base_parameters(self):
        """Parameters of the base model (trunk and base head)."""
        return list(self.trunk.parameters()) + list(self.base_head.parameters())

    def features(self, x):
        """Trunk features of standardised inputs, shape ``(n, h)``."""
        x = x.to(self.input_mean.dtype)
        return self.trunk((x - self.input_mean) / self.input_scale)

    def base_logits(self, x):
        """Logits of the base head, shape ``(n, C)``."""
        return self.base_head(self.features(x))

    def head_logits(self, x):
        """Logits of every epistemic head, shape ``(n, K, C)``."""
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
        signal : {"epistemic", "entropy", "energy"}, default="epistemic"
            ``"entropy"``: ``H(mean_k p_k)`` in nats.  ``"energy"``: the
            heads' mean free energy ``-T logsumexp(z_k / T)``; it is *higher*
            for rows the model is less sure of (small logits), so higher is
            more long-tailed, as for the other two.  ``"epistemic"``:
            ``H(mean_k p_k) - mean_k H(p_k)`` (mutual information between
            head and label; 0 where the heads agree).
        temperature : float, default=1.0
            ``T`` of the energy signal.

        Returns
        -------
        signal : torch.Tensor of shape (n,)
        """
        _check_signal(signal)
        logits = self.head_logits(x)
        if signal == "energy":
            return (-temperature * torch.logsumexp(logits / temperature, dim=-1)).mean(dim=1)
        log_p = torch.log_softmax(logits, dim=-1)
        log_mean = torch.logsumexp(log_p, dim=1) - math.log(self.n_heads)
        total = -(log_mean.exp() * log_mean).sum(dim=-1)
        if signal == "entropy":
            return total
        aleatoric = -(log_p.exp() * log_p).sum(dim=-1).mean(dim=1)
        return total - aleatoric


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


class _BatchDataset(Dataset):
    """skorch dataset that hands the DataLoader whole mini-batches.

    PyTorch's DataLoader calls ``__getitems__`` with a batch of indices when
    it exists; indexing the arrays once per batch (instead of once per row and
    collating) removes most of the per-step overhead on small heads.
    """

    def __getitems__(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        return torch.from_numpy(self.X[idx]), torch.from_numpy(self.y[idx])


def _batch_collate(batch):
    return batch


class LongtailSignal(nn.Module):
    """``x -> module.longtail_signal(x, signal)`` as a movable module.

    This is what :meth:`EpistemicHeadClassifier.torch_signal` returns: a
    callable taking a ``(n, d)`` tensor and returning the ``(n,)`` signal.  It
    holds its own copy of the fitted module so that moving it to a GPU (as
    :class:`~skltsynth.guidance.LongtailGuidance` does) leaves the estimator's
    CPU module untouched.
    """

    def __init__(self, module, signal="epistemic"):
        super().__init__()
        self.module = module
        self.signal = _check_signal(signal)

    def forward(self, x):
        return self.module.longtail_signal(x, signal=self.signal)


class EpistemicHeadClassifier(ClassifierMixin, BaseEstimator):
    """Classifier on embeddings with an Epistemic Head for longtail signals.

    Training has two skorch stages.  (1) A base head (linear, or one ReLU
    hidden layer then linear) is trained with cross-entropy.  (2) ``n_heads``
    linear heads, initialised as exact copies of the trained base head, are
    trained on the frozen base features with the oracle loss (per row only
    the head with the lowest loss gets the gradient).  Predictions average the
    heads' probabilities; the heads' disagreement gives the *epistemic*
    longtail signal used by :class:`~skltsynth.guidance.LongtailGuidance`.

    Parameters
    ----------
    n_heads : int, default=5
        Number of epistemic heads ``K`` (5 was best in the paper).
    hidden_layer_size : int or None, default=None
        Width of an optional ReLU hidden layer in the base model.  ``None``
        puts linear heads directly on the embeddings.
    max_epochs : int, default=50
        Epochs of the base stage.
    head_max_epochs : int, default=20
        Epochs of the oracle (epistemic-head) stage.
    lr : float, default=1e-2
        AdamW learning rate of the base stage.
    head_lr : float or None, default=1e-3
        AdamW learning rate of the head stage; ``None`` uses ``lr``.  Kept
        small on purpose: the heads should drift from the base only where
        the data leave them free to (a large value makes every head a
        specialist, which lowers accuracy and blurs the signal).
    batch_size : int, default=128
        Mini-batch size of both stages.
    weight_decay : float, default=1e-4
        Decoupled (AdamW) weight decay of both stages.
    standardize : bool, default=True
        Centre and scale each feature with training-set statistics inside the
        module (so the signals stay functions of the original units).  Makes
        the default learning rate suit embeddings of any scale.
    head_init_noise : float, default=0.0
        Gaussian perturbation of each copy's weights at the start of the head
        stage, relative to the spread of the base head's weights.  With exact
        copies (0) every row ties and the oracle loss trains the first head
        only, the others stay at the base head; a small value (e.g. 0.1)
        splits rows between heads.  On CLINC150-LT neither beat the heads'
        entropy at flagging few-shot or misclassified rows
        (``benchmarks/results/epistemic_clinc150.md``).
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to train; ``"auto"`` uses CUDA when available.  The fitted
        module is always kept on CPU.
    random_state : int, RandomState instance, Generator or None, default=None
        Seeds weight initialisation and mini-batch shuffling through explicit
        ``torch.Generator`` objects (global torch/numpy state is untouched).
    verbose : bool, default=False
        Print skorch's per-epoch log.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Column names when ``X`` was a DataFrame with string columns.
    module_ : EpistemicHeadModule
        The fitted torch module (on CPU, parameters frozen).
    base_history_, head_history_ : list of float
        Training loss per epoch of each stage.
    device_ : torch.device
        Device used for training.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skltsynth.epistemic import EpistemicHeadClassifier
    >>> X, y = make_classification(n_samples=200, n_features=8, n_informative=5,
    ...                            n_classes=3, random_state=0)
    >>> clf = EpistemicHeadClassifier(max_epochs=20, head_max_epochs=20,
    ...                               device="cpu", random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).sum(axis=1).round(6)
    array([1., 1.])
    >>> clf.longtail_score(X[:3], signal="epistemic").shape
    (3,)
    """

    _parameter_constraints = {
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left"), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "head_max_epochs": [Interval(Integral, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "head_lr": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "standardize": ["boolean"],
        "head_init_noise": [Interval(Real, 0, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        n_heads=5,
        hidden_layer_size=None,
        max_epochs=50,
        head_max_epochs=20,
        lr=1e-2,
        head_lr=1e-3,
        batch_size=128,
        weight_decay=1e-4,
        standardize=True,
        head_init_noise=0.0,
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.n_heads = n_heads
        self.hidden_layer_size = hidden_layer_size
        self.max_epochs = max_epochs
        self.head_max_epochs = head_max_epochs
        self.lr = lr
        self.head_lr = head_lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.standardize = standardize
        self.head_init_noise = head_init_noise
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- fit
    def _make_net(self, net_class, module, criterion, lr, max_epochs, generator, **kwargs):
        return net_class(
            module=module,
            criterion=criterion,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            dataset=_BatchDataset,
            iterator_train__shuffle=True,
            iterator_train__generator=generator,
            iterator_train__collate_fn=_batch_collate,
            train_split=None,
            device=str(self.device_),
            verbose=int(bool(self.verbose)),
            **kwargs,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the base head, then the epistemic heads.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings.
        y : array-like of shape (n_samples,)
            Class labels (any hashable labels, e.g. strings).

        Returns
        -------
        self : EpistemicHeadClassifier
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=False)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                "EpistemicHeadClassifier needs at least 2 classes in y; "
                f"got 1 class: {self.classes_[0]!r}."
            )
        y_enc = encoder.transform(y).astype(np.int64)
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        self.device_ = resolve_device(self.device)
        rng = check_random_state(self.random_state)

        module = EpistemicHeadModule(
            X32.shape[1],
            len(self.classes_),
            n_heads=self.n_heads,
            hidden_layer_size=self.hidden_layer_size,
            generator=torch_generator(rng),
        )
        if self.standardize:
            mean = X32.mean(axis=0, dtype=np.float64)
            scale = X32.std(axis=0, dtype=np.float64)
            # a (near-)constant column (MiniLM embeddings have one with std
            # ~3e-9) would be blown up by 1 / std, and any row off the training
            # manifold in that direction would get arbitrary logits: such a
            # column is treated as constant and scaled by the typical spread
            typical = float(np.median(scale[scale > 0])) if np.any(scale > 0) else 1.0
            scale = np.where(scale < _STD_FLOOR * typical, typical, scale)
            module.set_standardization(mean, scale)

        # Stage 1: base head, plain cross-entropy.
        module.stage = "base"
        base_net = self._make_net(
            NeuralNetClassifier,
            module,
            nn.CrossEntropyLoss,
            self.lr,
            self.max_epochs,
            torch_generator(rng),
            classes=np.arange(len(self.classes_)),
        )
        base_net.fit(X32, y_enc)
        self.base_history_ = [float(v) for v in base_net.history[:, "train_loss"]]

        # Stage 2: K copies of the trained base head, oracle loss, base frozen.
        module.copy_base_to_heads(self.head_init_noise, torch_generator(rng))
        for p in module.base_parameters():
            p.requires_grad_(False)
        module.stage = "heads"
        self.head_history_ = []
        if self.head_max_epochs > 0:
            head_net = self._make_net(
                NeuralNet,
                module,
                OracleLoss,
                self.lr if self.head_lr is None else self.head_lr,
                self.head_max_epochs,
                torch_generator(rng),
            )
            head_net.fit(X32, y_enc)
            self.head_history_ = [float(v) for v in head_net.history[:, "train_loss"]]

        module = module.to("cpu").eval()
        for p in module.parameters():
            p.requires_grad_(False)
        self.module_ = module
        return self

    # ------------------------------------------------------------ inference
    def _apply(self, X, fn):
        check_is_fitted(self, "module_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        X = np.ascontiguousarray(X, dtype=np.float32)
        out = []
        with torch.no_grad():
            for chunk in batches(X.shape[0], _EVAL_BATCH):
                out.append(fn(torch.from_numpy(X[chunk])).numpy())
        return np.concatenate(out, axis=0) if out else np.empty((0,))

    def predict_proba(self, X):
        """Mean of the epistemic heads' class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; rows sum to 1.
        """
        proba = self._apply(X, lambda x: self.module_.class_log_proba(x).exp())
        return proba.astype(np.float64) / proba.sum(axis=1, keepdims=True, dtype=np.float64)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Class with the highest mean head probability.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def longtail_score(self, X, signal="epistemic"):
        """Per-row longtail signal; higher means rarer / harder.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        signal : {"epistemic", "entropy", "energy"}, default="epistemic"
            See :meth:`EpistemicHeadModule.longtail_signal`.  ``"energy"`` is
            the free energy ``-logsumexp(logits)`` (``T = 1``, averaged over
            heads), so that, like the others, a higher value is more
            long-tailed.  ``"epistemic"`` is clipped at 0 (it is a mutual
            information; tiny negative values are rounding).

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        _check_signal(signal)
        score = self._apply(X, lambda x: self.module_.longtail_signal(x, signal=signal))
        score = score.astype(np.float64)
        if signal in ("epistemic", "entropy"):
            score = np.maximum(score, 0.0)
        return score

    def torch_signal(self, signal="epistemic"):
        """The longtail signal as a differentiable torch callable.

        This is the *guidance protocol* used by
        :class:`~skltsynth.guidance.LongtailGuidance`: the returned object maps
        a ``(n, n_features)`` tensor in the original units to a ``(n,)``
        tensor (higher = more long-tailed), differentiable in its input.  It
        is an ``nn.Module`` holding a copy of the fitted module, so it can be
        moved to the sampling device without touching this estimator.

        Parameters
        ----------
        signal : {"epistemic", "entropy", "energy"}, default="epistemic"

        Returns
        -------
        fn : LongtailSignal
        """
        check_is_fitted(self, "module_")
        return LongtailSignal(copy.deepcopy(self.module_), signal=signal)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
