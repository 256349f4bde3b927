"""Confidence-adaptive cost-sensitive weights for synthetic rows.

The memory-conditioned DDPM paper weights a synthetic feature ``f~`` of class
``c`` by ``gamma_c * conf(f~)``:

* ``gamma_c`` is the class cost weight of cost-sensitive learning, here the
  inverse class frequency (or its square root) **normalised so that the
  largest class weight is 1** (the rarest class gets 1).  With this
  normalisation a synthetic row never weighs more than a real row (real rows
  keep weight 1), whatever the number of classes.
* ``conf(f~)`` is either the cosine between ``f~`` and the class mean
  (``"cosine"``) or ``1 - H(softmax(W f~)) / log C`` for a linear head ``W``
  fitted on the real rows (``"entropy"``; a multinomial
  :class:`~sklearn.linear_model.LogisticRegression`).  Both lie in
  ``[-1, 1]`` and ``[0, 1]`` respectively.

  The paper writes its second option as ``entropy(softmax(W f~))`` itself.
  Taken literally that is *not* a confidence: the entropy grows as the head
  is less sure, so it would give the most weight to the least class-like
  rows, and it is unbounded in ``C`` (``0 .. log C``).  skltsynth uses its
  normalised complement ``1 - H / log C``: 1 for a one-hot prediction, 0 for
  a uniform one, on the same ``[0, 1]`` scale for any number of classes --
  the reading under which ``gamma_c * conf`` down-weights doubtful rows as
  the paper intends.

The confidence is clipped to ``[floor, 1]`` with a small positive ``floor``
(default ``0.01``), so every synthetic weight lies in ``(0, gamma_c]``: none
is zero or negative (a negative cosine would otherwise flip the sign of the
row's loss).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import softmax

from .._torch_utils import batches

__all__ = ["class_cost_weights", "confidence_scores", "synthetic_weights"]

_COSTS = ("inverse", "sqrt_inverse", "none")


def class_cost_weights(counts, kind="inverse"):
    """Class cost weights ``gamma_c`` from class counts, largest weight 1.

    Parameters
    ----------
    counts : array-like of shape (n_classes,)
        Real rows per class (positive).
    kind : {"inverse", "sqrt_inverse", "none"}, default="inverse"
        ``1 / n_c``, ``1 / sqrt(n_c)`` or constant, each divided by its
        maximum over classes (so the rarest class has weight 1).

    Returns
    -------
    gamma : ndarray of shape (n_classes,)
        Weights in ``(0, 1]``.

    Examples
    --------
    >>> from skltsynth.policy.confidence import class_cost_weights
    >>> class_cost_weights([100, 10, 5])
    array([0.05, 0.5 , 1.  ])
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or np.any(counts <= 0):
        raise ValueError("counts must be a non-empty 1-D array of positive class counts.")
    if kind == "inverse":
        w = 1.0 / counts
    elif kind == "sqrt_inverse":
        w = 1.0 / np.sqrt(counts)
    elif kind == "none":
        w = np.ones_like(counts)
    else:
        raise ValueError(f"class cost must be one of {_COSTS}, got {kind!r}.")
    return w / w.max()


def _unit(X):
    X = np.asarray(X, dtype=np.float64)
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norm, np.finfo(np.float64).tiny)


def confidence_scores(X_syn, groups_syn, method="cosine", *, means=None, head=None):
    """Confidence of synthetic rows in their intended class.

    Parameters
    ----------
    X_syn : ndarray of shape (n_synthetic, n_features)
        Synthetic rows.
    groups_syn : ndarray of shape (n_synthetic,)
        Intended class index of every synthetic row (row of ``means``; or a
        column of ``head.predict_proba``).
    method : {"cosine", "entropy"}, default="cosine"
        ``"cosine"``: ``cos(f~, mu_c)`` with ``mu_c = means[c]``.
        ``"entropy"``: ``1 - H(p) / log C`` with ``p = head.predict_proba(f~)``
        over ``C`` classes.
    means : ndarray of shape (n_classes, n_features), default=None
        Class means (``"cosine"``).
    head : fitted classifier with ``predict_proba``, default=None
        Linear head fitted on the real rows (``"entropy"``).

    Returns
    -------
    conf : ndarray of shape (n_synthetic,)
        Cosine in ``[-1, 1]`` or normalised negative entropy in ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.policy.confidence import confidence_scores
    >>> confidence_scores(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 0]),
    ...                   means=np.array([[2.0, 0.0]]))
    array([1., 0.])
    """
    groups_syn = np.asarray(groups_syn, dtype=np.int64)
    if method == "cosine":
        if means is None:
            raise ValueError("confidence='cosine' needs the class means.")
        mu = _unit(means)
        score = _cosine_block
        args = (mu,)
    elif method == "entropy":
        if head is None:
            raise ValueError("confidence='entropy' needs a fitted head with predict_proba.")
        score = _entropy_block
        args = (head,)
    else:
        raise ValueError(f"confidence must be 'cosine' or 'entropy', got {method!r}.")
    # bounded temporaries: float64 copies / class scores of one block of rows at a time
    out = np.empty(len(groups_syn), dtype=np.float64)
    for chunk in batches(len(groups_syn), _BLOCK_ROWS):
        out[chunk] = score(X_syn[chunk], groups_syn[chunk], *args)
    return out


#: Synthetic rows scored at once by :func:`confidence_scores` (bounds memory).
_BLOCK_ROWS = 4096


def _cosine_block(X, groups, mu):
    X = np.asarray(X, dtype=np.float64)
    norm = np.maximum(np.linalg.norm(X, axis=1), np.finfo(np.float64).tiny)
    return np.einsum("ij,ij->i", X, mu[groups]) / norm


def _entropy_block(X, groups, head):
    if hasattr(head, "decision_function"):
        logits = np.asarray(head.decision_function(X), dtype=np.float64)
        if logits.ndim == 1:  # binary: one logit
            logits = np.stack([np.zeros_like(logits), logits], axis=1)
        p = softmax(logits, axis=1)
    else:
        p = np.asarray(head.predict_proba(X), dtype=np.float64)
    n_classes = p.shape[1]
    if n_classes < 2:
        return np.ones(p.shape[0])
    ent = -np.sum(p * np.log(np.clip(p, 1e-300, None)), axis=1)
    return 1.0 - ent / np.log(n_classes)


def synthetic_weights(conf, groups_syn, counts, cost="inverse", floor=0.01):
    """Weights ``gamma_c * clip(conf, floor, 1)`` of synthetic rows.

    Parameters
    ----------
    conf : ndarray of shape (n_synthetic,)
        Confidence of every synthetic row (see :func:`confidence_scores`);
        ``None`` means 1 (class cost weights only).
    groups_syn : ndarray of shape (n_synthetic,)
        Class index of every synthetic row (index into ``counts``).
    counts : array-like of shape (n_classes,)
        Real rows per class (the cost weights come from them).
    cost : {"inverse", "sqrt_inverse", "none"}, default="inverse"
        See :func:`class_cost_weights`.
    floor : float, default=0.01
        Smallest confidence kept, in ``(0, 1]``; weights are thus in
        ``[floor * gamma_c, gamma_c]`` and never zero or negative.

    Returns
    -------
    weight : ndarray of shape (n_synthetic,)
        In ``(0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.policy.confidence import synthetic_weights
    >>> synthetic_weights(np.array([0.5, -0.2]), np.array([1, 1]), [10, 5])
    array([0.5 , 0.01])
    """
    if not isinstance(floor, numbers.Real) or not 0 < floor <= 1:
        raise ValueError(f"floor must lie in (0, 1], got {floor!r}.")
    groups_syn = np.asarray(groups_syn, dtype=np.int64)
    gamma = class_cost_weights(counts, cost)[groups_syn]
    if conf is None:
        return gamma
    conf = np.clip(np.asarray(conf, dtype=np.float64), floor, 1.0)
    return gamma * conf
