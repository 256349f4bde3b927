"""Per-class bounded feature memory (the memory bank of MemoryDDPMResampler).

:class:`ClassMemoryBank` keeps, for every class (or any integer / label key),
at most ``size`` feature vectors, whatever the length of the stream that
feeds it:

* ``kind="reservoir"``: Algorithm R (Vitter 1985).  The first ``size`` rows
  of a class are kept; the ``n``-th row (1-based) of the class then replaces
  a uniformly drawn slot with probability ``size / n``.  Every row seen so far
  is in memory with the same probability, so the memory is a uniform sample
  of the class's stream.
* ``kind="ema"``: up to ``size`` prototypes per class.  The first ``size``
  rows of a class become its prototypes; a later row ``f`` moves its nearest
  prototype ``M <- (1 - alpha) M + alpha f`` (the paper's EMA update; with
  ``size=1`` this is exactly one EMA prototype per class, with ``size > 1`` an
  online k-means with a constant step).  Within one incoming batch the nearest
  prototype is found against the prototypes as they were before the batch
  (mini-batch approximation), and the sequential EMA updates of the batch are
  applied in closed form.

Both kinds are vectorised per incoming batch (no Python loop over rows; one
loop over the classes present in the batch).  The bank also keeps the exact
running mean and row count of every class, which the confidence weights use.
Randomness comes only from the explicit :class:`numpy.random.Generator`
passed to :meth:`ClassMemoryBank.update`.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["ClassMemoryBank"]

_KINDS = ("reservoir", "ema")


class ClassMemoryBank:
    """Bounded per-class memory of feature vectors.

    Parameters
    ----------
    kind : {"reservoir", "ema"}, default="reservoir"
        Reservoir sampling (a uniform sample of each class's stream) or EMA
        prototypes (see the module docstring).
    size : int, default=512
        Maximum number of rows (reservoir) or prototypes (EMA) kept per class.
    alpha : float, default=0.1
        EMA step of the prototypes (``kind="ema"`` only).

    Attributes
    ----------
    n_features_ : int
        Feature dimension (set by the first update).
    n_seen_ : dict
        Key -> rows of that key seen so far.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines.memory import ClassMemoryBank
    >>> rng = np.random.default_rng(0)
    >>> bank = ClassMemoryBank(size=10)
    >>> for _ in range(5):
    ...     bank = bank.update(rng.normal(size=(100, 4)), rng.integers(0, 2, 100), rng)
    >>> X, keys = bank.rows()
    >>> X.shape
    (20, 4)
    >>> int(bank.n_seen_[0] + bank.n_seen_[1])
    500
    """

    def __init__(self, kind="reservoir", size=512, alpha=0.1):
        if kind not in _KINDS:
            raise ValueError(f"memory must be one of {_KINDS}, got {kind!r}.")
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
            raise ValueError(f"memory_size must be a positive integer, got {size!r}.")
        if not isinstance(alpha, numbers.Real) or not 0 < alpha <= 1:
            raise ValueError(f"alpha must lie in (0, 1], got {alpha!r}.")
        self.kind = kind
        self.size = int(size)
        self.alpha = float(alpha)
        self.n_features_ = None
        self.n_seen_ = {}
        self._memory = {}  # key -> (size, d) buffer
        self._filled = {}  # key -> rows of the buffer in use
        self._sum = {}  # key -> float64 running sum (exact class mean)
        self._extra = {}  # key -> per-slot payload (e.g. the target of a stored row)

    # ------------------------------------------------------------------ update
    def update(self, X, keys, rng, payload=None):
        """Stream a batch of rows into the bank.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
            Feature vectors.
        keys : array-like of shape (n_rows,)
            Class (or bin) of every row.
        rng : numpy.random.Generator
            Source of the reservoir draws.
        payload : ndarray of shape (n_rows,), default=None
            A value stored beside each kept row (reservoir) and returned by
            :meth:`rows` (for instance the continuous target of the row).
            For ``kind="ema"`` the payload of a prototype is its EMA too.

        Returns
        -------
        self : ClassMemoryBank
        """
        X = np.asarray(X)
        keys = np.asarray(keys)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {X.shape}.")
        if keys.shape != (X.shape[0],):
            raise ValueError(
                f"keys must have one entry per row: got {keys.shape} for {X.shape[0]} rows."
            )
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}.")
        if self.n_features_ is None:
            self.n_features_ = X.shape[1]
        elif X.shape[1] != self.n_features_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the memory bank holds rows with "
                f"{self.n_features_} features."
            )
        if payload is not None:
            payload = np.asarray(payload, dtype=np.float64)
            if payload.shape != (X.shape[0],):
                raise ValueError("payload must have one value per row.")
        uniq, inverse = np.unique(keys, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
        for i, key in enumerate(uniq.tolist()):
            idx = order[bounds[i] : bounds[i + 1]]  # stream order kept within the class
            rows = X[idx]
            extra = None if payload is None else payload[idx]
            self._update_key(key, rows, extra, rng)
        return self

    def _ensure_key(self, key, dtype):
        if key not in self._memory:
            self._memory[key] = np.empty((0, self.n_features_), dtype=dtype)
            self._extra[key] = np.empty(0, dtype=np.float64)
            self._filled[key] = 0
            self._sum[key] = np.zeros(self.n_features_, dtype=np.float64)
            self.n_seen_[key] = 0

    def _grow(self, key, need, dtype):
        buf = self._memory[key]
        if buf.shape[0] < need:
            new = np.empty((min(self.size, max(need, 2 * buf.shape[0])), self.n_features_),
                           dtype=np.result_type(buf.dtype, dtype))
            new[: self._filled[key]] = buf[: self._filled[key]]
            self._memory[key] = new
            extra = np.empty(new.shape[0], dtype=np.float64)
            extra[: self._filled[key]] = self._extra[key][: self._filled[key]]
            self._extra[key] = extra

    def _update_key(self, key, rows, extra, rng):
        self._ensure_key(key, rows.dtype)
        b = rows.shape[0]
        seen = self.n_seen_[key]
        self._sum[key] += rows.sum(axis=0, dtype=np.float64)
        self.n_seen_[key] = seen + b
        filled = self._filled[key]
        n_fill = min(b, self.size - filled)
        if n_fill > 0:  # the first `size` rows of a key are always kept
            self._grow(key, filled + n_fill, rows.dtype)
            self._memory[key][filled : filled + n_fill] = rows[:n_fill]
            self._extra[key][filled : filled + n_fill] = 0.0 if extra is None else extra[:n_fill]
            self._filled[key] = filled + n_fill
        rest = rows[n_fill:]
        if rest.shape[0] == 0:
            return
        rest_extra = None if extra is None else extra[n_fill:]
        if self.kind == "reservoir":
            self._reservoir(key, rest, rest_extra, seen + n_fill, rng)
        else:
            self._ema(key, rest, rest_extra)

    def _reservoir(self, key, rows, extra, seen, rng):
        # Algorithm R: the n-th row (1-based) draws j uniform in [0, n); it
        # replaces slot j when j < size.  Vectorised over the batch; when two
        # rows of the batch hit the same slot, the later one wins (sequential
        # semantics).
        n = seen + 1 + np.arange(rows.shape[0])
        j = rng.integers(0, n)
        hit = np.flatnonzero(j < self.size)
        if hit.size == 0:
            return
        slots = j[hit]
        rev = hit[::-1]
        slots_rev, first = np.unique(slots[::-1], return_index=True)
        winners = rev[first]
        self._memory[key][slots_rev] = rows[winners]
        if extra is not None:
            self._extra[key][slots_rev] = extra[winners]

    def _ema(self, key, rows, extra):
        # Each row moves its nearest prototype (as of before the batch).  A
        # prototype hit by rows f_1..f_k (in stream order) becomes
        # (1-a)^k M + sum_i a (1-a)^(k-i) f_i: the k sequential EMA steps.
        protos = self._memory[key][: self._filled[key]]
        p64 = protos.astype(np.float64)
        r64 = rows.astype(np.float64)
        d2 = (r64**2).sum(1)[:, None] - 2.0 * r64 @ p64.T + (p64**2).sum(1)[None, :]
        near = np.argmin(d2, axis=1)
        counts = np.bincount(near, minlength=len(protos))
        # rank of each row among the rows hitting the same prototype, 1-based
        order = np.argsort(near, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.empty(len(near), dtype=np.int64)
        rank[order] = np.arange(len(near)) - np.repeat(starts, counts) + 1
        a = self.alpha
        coef = a * (1.0 - a) ** (counts[near] - rank)
        acc = np.zeros_like(p64)
        np.add.at(acc, near, coef[:, None] * r64)
        decay = (1.0 - a) ** counts
        self._memory[key][: len(protos)] = decay[:, None] * p64 + acc
        if extra is not None:
            e_acc = np.zeros(len(protos))
            np.add.at(e_acc, near, coef * extra)
            filled = self._filled[key]
            self._extra[key][:filled] = decay * self._extra[key][:filled] + e_acc

    # ----------------------------------------------------------------- access
    @property
    def keys_(self):
        """Keys held by the bank, sorted."""
        return sorted(self._memory)

    def rows(self, with_payload=False):
        """All rows in memory and the key of each.

        Parameters
        ----------
        with_payload : bool, default=False
            Also return the payload stored beside every row.

        Returns
        -------
        X : ndarray of shape (n_rows, n_features)
        keys : ndarray of shape (n_rows,)
        payload : ndarray of shape (n_rows,)
            Only when ``with_payload`` is true.
        """
        keys = self.keys_
        if not keys:
            raise ValueError("The memory bank is empty.")
        X = np.concatenate([self._memory[k][: self._filled[k]] for k in keys])
        key_arr = np.repeat(np.asarray(keys), [self._filled[k] for k in keys])
        if with_payload:
            payload = np.concatenate([self._extra[k][: self._filled[k]] for k in keys])
            return X, key_arr, payload
        return X, key_arr

    def class_means(self, keys=None):
        """Exact running mean of every key's whole stream.

        Parameters
        ----------
        keys : sequence, default=None
            Keys to return (default: all, sorted).

        Returns
        -------
        means : ndarray of shape (n_keys, n_features), float64
        """
        keys = self.keys_ if keys is None else list(keys)
        missing = [k for k in keys if k not in self._sum]
        if missing:
            raise KeyError(f"The memory bank holds no rows for {missing[:5]}.")
        return np.stack([self._sum[k] / self.n_seen_[k] for k in keys])

    def copy(self):
        """An independent copy of the bank."""
        new = ClassMemoryBank(self.kind, self.size, self.alpha)
        new.n_features_ = self.n_features_
        new.n_seen_ = dict(self.n_seen_)
        new._memory = {k: v.copy() for k, v in self._memory.items()}
        new._filled = dict(self._filled)
        new._sum = {k: v.copy() for k, v in self._sum.items()}
        new._extra = {k: v.copy() for k, v in self._extra.items()}
        return new

    def __len__(self):
        return int(sum(self._filled.values()))
