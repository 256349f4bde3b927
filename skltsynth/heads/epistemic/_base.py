"""What the Epistemic Head estimators share: parameters, the two skorch stages, inference."""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.dataset import Dataset

from ..._params import store_init_params
from ..._random import check_random_state, torch_generator
from ..._torch_utils import batches, resolve_device
from .module import EpistemicHeadModule, LongtailSignal, check_signal

__all__ = ["BaseEpistemicHead"]

_EVAL_BATCH = 8192
#: Columns whose spread is below this fraction of the median spread count as constant.
_STD_FLOOR = 1e-3


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


def _input_scaling(X32):
    """Per-feature mean and spread; near-constant columns get the typical spread.

    A (near-)constant column (MiniLM embeddings have one with std ~3e-9) would
    be blown up by 1 / std, and any row off the training manifold in that
    direction would get arbitrary outputs.
    """
    mean = X32.mean(axis=0, dtype=np.float64)
    scale = X32.std(axis=0, dtype=np.float64)
    typical = float(np.median(scale[scale > 0])) if np.any(scale > 0) else 1.0
    return mean, np.where(scale < _STD_FLOOR * typical, typical, scale)


class BaseEpistemicHead(BaseEstimator):
    """Shared part of :class:`EpistemicHeadClassifier` and :class:`EpistemicHeadRegressor`.

    Subclasses set ``_signals`` (the signals they offer), ``_default_signal``
    and implement ``_encode_target(y) -> (y_model, n_outputs)``,
    ``_base_stage() -> (net_class, criterion, kwargs)`` and
    ``_head_criterion()``.
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
        "energy_temperature": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
    }

    def _store_params(self, params):
        store_init_params(self, params)

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

    def _fit_stages(self, X, y):
        """Validate, then train the base head and the epistemic heads."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32],
                             y_numeric=self._y_numeric)
        y_model, n_outputs = self._encode_target(y)
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        self.device_ = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        module = EpistemicHeadModule(X32.shape[1], n_outputs, n_heads=self.n_heads,
                                     hidden_layer_size=self.hidden_layer_size,
                                     generator=torch_generator(rng))
        if self.standardize:
            module.set_standardization(*_input_scaling(X32))

        # Stage 1: the base (predictive) model.
        module.stage = "base"
        net_class, criterion, kwargs = self._base_stage()
        base_net = self._make_net(net_class, module, criterion, self.lr, self.max_epochs,
                                  torch_generator(rng), **kwargs)
        base_net.fit(X32, y_model)
        self.base_history_ = [float(v) for v in base_net.history[:, "train_loss"]]

        # Stage 2: K perturbed copies of the trained base head, oracle loss, base frozen.
        module.copy_base_to_heads(self.head_init_noise, torch_generator(rng))
        for p in module.base_parameters():
            p.requires_grad_(False)
        module.stage = "heads"
        self.head_history_ = []
        if self.head_max_epochs > 0:
            head_net = self._make_net(NeuralNet, module, self._head_criterion(),
                                      self.lr if self.head_lr is None else self.head_lr,
                                      self.head_max_epochs, torch_generator(rng))
            head_net.fit(X32, y_model)
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

    def longtail_score(self, X, signal=None):
        """Per-row longtail signal; higher means rarer / harder.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        signal : str, optional
            One of the estimator's signals (see its class docstring); the
            default is its main signal.  Entropies, mutual information and
            variances are clipped at 0 (tiny negative values are rounding).

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        signal = check_signal(self._default_signal if signal is None else signal, self._signals)
        t = float(self.energy_temperature)
        score = self._apply(X, lambda x: self.module_.longtail_signal(x, signal, t))
        score = score.astype(np.float64)
        if "energy" not in signal:
            score = np.maximum(score, 0.0)
        return score

    def torch_signal(self, signal=None):
        """The longtail signal as a differentiable torch callable.

        This is the *guidance protocol* used by
        :class:`~skltsynth.policy.guidance.LongtailGuidance`: the returned object maps
        a ``(n, n_features)`` tensor in the original units to a ``(n,)``
        tensor (higher = more long-tailed), differentiable in its input.  It
        is an ``nn.Module`` holding a copy of the fitted module, so it can be
        moved to the sampling device without touching this estimator.

        Parameters
        ----------
        signal : str, optional
            One of the estimator's signals; default its main one.

        Returns
        -------
        fn : LongtailSignal
        """
        check_is_fitted(self, "module_")
        signal = check_signal(self._default_signal if signal is None else signal, self._signals)
        return LongtailSignal(copy.deepcopy(self.module_), signal=signal,
                              temperature=float(self.energy_temperature))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
