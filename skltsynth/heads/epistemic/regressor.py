"""EpistemicHeadRegressor: a regression head plus K oracle-trained copies (variance signal)."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from skorch import NeuralNetRegressor
from torch import nn

from ._base import BaseEpistemicHead
from .module import REGRESSION_SIGNALS, OracleMSELoss

__all__ = ["EpistemicHeadRegressor"]


class EpistemicHeadRegressor(RegressorMixin, BaseEpistemicHead):
    """Regressor on embeddings with an Epistemic Head: a variance signal for DIR.

    The continuous-target counterpart of
    :class:`~skltsynth.heads.epistemic.EpistemicHeadClassifier`, so that Longtail
    Guidance can serve deep imbalanced regression.  (1) A base regression
    head (linear, or one ReLU hidden layer then linear) is trained with the
    squared error on the standardised target; :meth:`predict` uses it alone.
    (2) ``n_heads`` perturbed copies are trained on the frozen base features
    with the oracle squared error (per row only the closest head gets the
    gradient).  Where targets are rare the copies are free to drift apart,
    so the **variance of their predictions** (``signal="variance"``, in
    standardised target units) flags rare or hard rows; it is differentiable
    and costs one forward pass.

    Parameters
    ----------
    n_heads : int, default=5
        Number of epistemic heads ``K``.
    hidden_layer_size : int or None, default=None
        Width of an optional ReLU hidden layer in the base model.
    max_epochs : int, default=50
        Epochs of the base stage.
    head_max_epochs : int, default=20
        Epochs of the oracle stage.
    lr : float, default=1e-2
        AdamW learning rate of the base stage.
    head_lr : float or None, default=1e-3
        AdamW learning rate of the head stage; ``None`` uses ``lr``.
    batch_size : int, default=128
    weight_decay : float, default=1e-4
    standardize : bool, default=True
        Centre and scale each feature inside the module.
    head_init_noise : float, default=0.1
        Relative perturbation of the copies (exact copies tie on every row).
    energy_temperature : float > 0, default=1.0
        Unused by the regression signal; kept so both heads share one
        parameter set.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
    random_state : int, RandomState instance, Generator or None, default=None
    verbose : bool, default=False

    Attributes
    ----------
    y_mean_, y_scale_ : float
        Standardisation of the target.
    module_ : EpistemicHeadModule
        The fitted torch module (one output; on CPU, frozen).
    base_history_, head_history_ : list of float
    n_features_in_ : int
    device_ : torch.device

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.heads.epistemic import EpistemicHeadRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 4)); y = X[:, 0] + 0.1 * rng.standard_normal(200)
    >>> reg = EpistemicHeadRegressor(max_epochs=20, head_max_epochs=10, device="cpu",
    ...                              random_state=0).fit(X, y)
    >>> reg.longtail_score(X[:3]).shape, bool(reg.score(X, y) > 0.8)
    ((3,), True)
    """

    _signals = REGRESSION_SIGNALS
    _default_signal = "variance"
    _y_numeric = True

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
        head_init_noise=0.1,
        energy_temperature=1.0,
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self._store_params(locals())

    def _encode_target(self, y):
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32).reshape(-1, 1), 1

    def _base_stage(self):
        return NeuralNetRegressor, nn.MSELoss, {}

    def _head_criterion(self):
        return OracleMSELoss

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the base regression head, then the epistemic heads.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Continuous target.

        Returns
        -------
        self : EpistemicHeadRegressor
        """
        return self._fit_stages(X, y)

    def predict(self, X):
        """Prediction of the base model, in the units of y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        out = self._apply(X, lambda x: self.module_.base_logits(x)[:, 0])
        return out.astype(np.float64) * self.y_scale_ + self.y_mean_
