"""EpistemicHeadClassifier: a classification head plus K oracle-trained copies."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from skorch import NeuralNetClassifier
from torch import nn

from ._base import BaseEpistemicHead
from .module import CLASSIFICATION_SIGNALS, OracleLoss

__all__ = ["EpistemicHeadClassifier"]


class EpistemicHeadClassifier(ClassifierMixin, BaseEpistemicHead):
    """Classifier on embeddings with an Epistemic Head for longtail signals.

    Training has two skorch stages.  (1) A base head (linear, or one ReLU
    hidden layer then linear) is trained with cross-entropy: this is the
    predictive model, and :meth:`predict` / :meth:`predict_proba` use it
    alone, so the Epistemic Head "does not impact predictive performance"
    (Longtail Guidance, section 2.1).  (2) ``n_heads`` linear heads,
    initialised as slightly perturbed copies of the trained base head, are
    trained on the frozen base features with the oracle loss (per row only
    the head with the lowest loss gets the gradient).  The heads'
    disagreement is the *epistemic* longtail signal used by
    :class:`~skltsynth.policy.guidance.LongtailGuidance`.

    Signals (``longtail_score(X, signal)``, ``torch_signal(signal)``):
    ``"epistemic"`` (mutual information between the heads), ``"entropy"``
    and ``"energy"`` of the heads' mean prediction, and the base model's own
    ``"base_entropy"`` and ``"base_energy"``; energies use
    ``energy_temperature``.

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
        specialist, which blurs the signal).
    batch_size : int, default=128
        Mini-batch size of both stages.
    weight_decay : float, default=1e-4
        Decoupled (AdamW) weight decay of both stages.
    standardize : bool, default=True
        Centre and scale each feature with training-set statistics inside the
        module (so the signals stay functions of the original units).  Makes
        the default learning rate suit embeddings of any scale.
    head_init_noise : float, default=0.1
        Gaussian perturbation of each copy's weights at the start of the head
        stage, relative to the spread of the base head's weights (the
        paper's "prior determined by weight initialisation").  With exact
        copies (0) every row ties, the oracle loss trains the first head only
        and the others stay at the base head, so the heads are degenerate;
        0.1 splits the rows between heads while they still agree where data
        are dense (tested in ``tests/test_epistemic.py``).
    energy_temperature : float > 0, default=1.0
        Temperature ``T`` of the energy signals ``-T logsumexp(z / T)``.
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
    >>> from skltsynth.heads.epistemic import EpistemicHeadClassifier
    >>> X, y = make_classification(n_samples=200, n_features=8, n_informative=5,
    ...                            n_classes=3, random_state=0)
    >>> clf = EpistemicHeadClassifier(max_epochs=20, head_max_epochs=20,
    ...                               device="cpu", random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).sum(axis=1).round(6)
    array([1., 1.])
    >>> clf.longtail_score(X[:3], signal="epistemic").shape
    (3,)
    """

    _signals = CLASSIFICATION_SIGNALS
    _default_signal = "epistemic"
    _y_numeric = False

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
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                "EpistemicHeadClassifier needs at least 2 classes in y; "
                f"got 1 class: {self.classes_[0]!r}."
            )
        return encoder.transform(y).astype(np.int64), len(self.classes_)

    def _base_stage(self):
        return NeuralNetClassifier, nn.CrossEntropyLoss, {"classes": np.arange(len(self.classes_))}

    def _head_criterion(self):
        return OracleLoss

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
        return self._fit_stages(X, y)

    def predict_proba(self, X):
        """Class probabilities of the base (predictive) model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; rows sum to 1.
        """
        return self._proba(X, lambda x: self.module_.base_logits(x).softmax(dim=-1))

    def heads_predict_proba(self, X):
        """Mean of the epistemic heads' class probabilities (a diagnostic).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._proba(X, lambda x: self.module_.class_log_proba(x).exp())

    def _proba(self, X, fn):
        """``fn``'s probabilities in float64, renormalised to sum to 1 per row."""
        proba = self._apply(X, fn)
        return proba.astype(np.float64) / proba.sum(axis=1, keepdims=True, dtype=np.float64)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable class under the base model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
