"""The base class every skltsynth resampler stands on.

:class:`BaseEmbeddingResampler` owns everything that is not the generative
method itself: parameter and input validation, the target policy (classes or
DIR bins, see :mod:`skltsynth.policy.targets`), random-state and device plumbing,
output assembly (originals first, unchanged, then synthetic rows; pandas in ->
pandas out) and the fitted attributes ``is_synthetic_`` and
``sample_weight_``.  A subclass implements a single method::

    def _generate(self, X, y, plan) -> SyntheticRows

that returns only the synthetic rows.
"""

from __future__ import annotations

import numbers
import warnings
from abc import abstractmethod
from typing import NamedTuple

import numpy as np
import torch
from imblearn.base import BaseSampler
from imblearn.utils import check_target_type
from imblearn.utils._validation import ArraysTransformer
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import assert_all_finite, validate_data

from .._pandas_index import keep_pandas_index
from .._params import store_init_params
from .._random import check_random_state, derive_rng, draw_seed, torch_generator
from .._torch_utils import resolve_device
from ..policy.plan import make_plan

__all__ = ["BaseEmbeddingResampler", "SyntheticRows"]


class SyntheticRows(NamedTuple):
    """Synthetic rows returned by :meth:`BaseEmbeddingResampler._generate`.

    Attributes
    ----------
    X : ndarray of shape (n_synthetic, n_features)
        Synthetic features.
    y : ndarray of shape (n_synthetic,)
        Their targets (class labels or continuous values).
    weight : ndarray of shape (n_synthetic,) or None
        Optional per-row weights (e.g. confidence); ``None`` means 1.0.
    real_weight : ndarray of shape (n_samples,) or None
        Optional weights of the *original* rows (e.g. a cost-sensitive class
        cost); ``None`` means 1.0.
    """

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray | None = None
    real_weight: np.ndarray | None = None


def _is_low_precision(X):
    """True when X is float16/float32 (array) or all its columns are (dataframe)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and not isinstance(dtypes, np.dtype):
        kinds = {getattr(dt, "subtype", dt) for dt in dtypes}
        return bool(kinds) and kinds <= {np.dtype(np.float16), np.dtype(np.float32)}
    return getattr(X, "dtype", None) in (np.float16, np.float32)


def _densify_pandas_sparse(X):
    """A dataframe with pandas sparse columns becomes dense (embeddings are dense).

    The output is converted back to the input's dtypes by imbalanced-learn's
    ArraysTransformer, so sparse columns come back sparse.  SciPy sparse
    matrices are rejected by validation with a clear TypeError.
    """
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(X, "sparse") and any(
        type(dt).__name__ == "SparseDtype" for dt in dtypes
    ):
        return X.sparse.to_dense()
    return X


class BaseEmbeddingResampler(BaseSampler):
    """Base class for embedding-space over-samplers.

    Handles classification targets with imbalanced-learn's
    ``sampling_strategy`` semantics and continuous targets through deep
    imbalanced regression (DIR) bins.  Not meant to be used directly.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        Classes: as in imbalanced-learn over-samplers (``"auto"`` = every
        class but the majority up to the majority's count).  Continuous
        target: ``"auto"`` flattens the LDS-smoothed bin density up to the
        fullest bin; a float in ``(0, 1]`` flattens up to that fraction of
        it; a dict maps bin index to the desired number of rows in the bin
        after resampling; a callable ``f(y, bin_edges)`` returns such a dict.
        ``sampling_strategy_`` holds the resolved rows *to generate* per
        class or bin.
    target_type : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` uses :func:`sklearn.utils.multiclass.type_of_target`:
        ``"continuous"`` means regression, ``"binary"``/``"multiclass"``
        classification.  Force ``"regression"`` for integer-valued
        continuous targets (counts, ages).
    n_bins : int, array-like or None, default=None
        DIR bins for a continuous target: a number of equal-width bins or an
        array of edges.  ``None`` with ``bin_width=None`` uses the rule of
        :func:`skltsynth.policy.targets.bin_edges`.
    bin_width : float or None, default=None
        Width of DIR bins (edges aligned to multiples of it).
    synthetic_target : {"centre", "uniform"}, default="centre"
        Continuous target of a synthetic row conditioned on a bin: the bin
        centre, or a uniform draw within the bin.  Methods that copy the
        target of a seed row say so in their docstring.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device; ``"auto"`` picks CUDA when available.
    random_state : int, RandomState, Generator or None, default=None
        Seed of the per-fit numpy Generator and the torch Generators derived
        from it.  Same seed and device give identical output.
    verbose : bool or int, default=False
        Show progress bars on long work.
    """

    _sampling_type = "over-sampling"

    _parameter_constraints: dict = {
        "sampling_strategy": [Interval(numbers.Real, 0, 1, closed="right"), str, dict, callable],
        "target_type": [StrOptions({"auto", "classification", "regression"})],
        "n_bins": [Interval(numbers.Integral, 1, None, closed="left"), "array-like", None],
        "bin_width": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "synthetic_target": [StrOptions({"centre", "uniform"})],
        "device": [str, torch.device],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        target_type="auto",
        n_bins=None,
        bin_width=None,
        synthetic_target="centre",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.sampling_strategy = sampling_strategy
        self.target_type = target_type
        self.n_bins = n_bins
        self.bin_width = bin_width
        self.synthetic_target = synthetic_target
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _store_params(self, params):
        """Store every ``__init__`` parameter unchanged; subclasses call it with ``locals()``."""
        store_init_params(self, params)

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _generate(self, X, y, plan):
        """Return the synthetic rows for ``plan``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Finite float32 or float64 rows.
        y : ndarray of shape (n_samples,)
            Class labels or continuous targets.
        plan : skltsynth.policy.plan.ResamplingPlan
            Groups of the rows and rows to make per group.

        Returns
        -------
        rows : SyntheticRows
        """

    def _min_rows_per_group(self):
        """Smallest group size the method needs (subclasses may raise it)."""
        return 1

    def _validate_method_params(self, X, plan):
        """Cross-parameter checks that need the data (subclasses extend)."""

    # --------------------------------------------------------------- plumbing
    def _init_random_state(self):
        """The per-fit numpy Generator ``_rng`` and the root seed ``_seed`` of the named streams."""
        self._rng = check_random_state(self.random_state)
        self._seed = draw_seed(self._rng)

    def _stream_rng(self, *keys):
        """The numpy stream named by ``keys`` for this fit (see :mod:`skltsynth._random`).

        Streams depend only on ``random_state`` and ``keys``, so per-class
        work (``keys = (purpose, class_index)``) draws the same rows
        whatever order the classes are processed in, in memory or on a
        cluster.
        """
        return derive_rng(self._seed, *keys)

    def _torch_generator(self, device=None):
        """A fresh, explicitly seeded ``torch.Generator`` drawn from ``self._rng``.

        Parameters
        ----------
        device : torch.device or str, default=None
            Device of the generator; defaults to ``self.device_``.

        Returns
        -------
        generator : torch.Generator
        """
        return torch_generator(self._rng, self.device_ if device is None else device)

    def _progress(self, iterable=None, total=None, desc=None, **kwargs):
        """Wrap ``iterable`` in a tqdm bar when ``verbose`` is set."""
        if not self.verbose:
            return iterable if iterable is not None else _NullBar()
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc or type(self).__name__, leave=False, **kwargs)

    def _check_inputs(self, X, y):
        """Validate X and y; decide the task.  Returns (X, y, task, binarize_y)."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = _densify_pandas_sparse(X)
        want = np.float32 if _is_low_precision(X) else np.float64
        task = self._resolve_task(y)
        binarize_y = False
        if task == "classification":
            y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = validate_data(
            self,
            X=X,
            y=y,
            reset=True,
            accept_sparse=False,
            dtype=want,
            order="C",
            ensure_all_finite=True,
            y_numeric=task == "regression",
        )
        if task == "regression":
            y = np.asarray(y, dtype=np.float64)
            if not np.all(np.isfinite(y)):
                raise ValueError("Input y contains NaN or infinity.")
            if np.ptp(y) == 0:
                raise ValueError(
                    "The continuous target y has a single distinct value; "
                    "there is nothing to rebalance."
                )
        else:
            n_classes = np.unique(y).size
            if n_classes < 2:
                raise ValueError(
                    "The target y needs at least two classes to rebalance; "
                    f"got {n_classes} class."
                )
        return X, y, task, binarize_y

    def _resolve_task(self, y):
        if self.target_type != "auto":
            return self.target_type
        if getattr(y, "dtype", None) is not None and y.dtype.kind == "f":
            # type_of_target casts to int before its own finiteness check (RuntimeWarning)
            assert_all_finite(y, input_name="y")
        kind = type_of_target(y, input_name="y")
        if kind == "continuous":
            return "regression"
        if kind in ("binary", "multiclass", "multilabel-indicator"):
            # multilabel-indicator is accepted only as a one-vs-all encoding;
            # imbalanced-learn's check_target_type rejects real multilabel y.
            return "classification"
        raise ValueError(
            f"Unknown label type: {kind!r}. {type(self).__name__} takes class "
            "labels or a single continuous target (1-D y)."
        )

    def _plan(self, X, y, task):
        plan, strategy = make_plan(
            y,
            task,
            sampling_strategy=self.sampling_strategy,
            n_bins=self.n_bins,
            bin_width=self.bin_width,
            synthetic_target=self.synthetic_target,
        )
        need = self._min_rows_per_group()
        lonely = [(plan.group_values[g], n) for g, n in plan.n_new.items()
                  if task == "classification" and n > 0 and plan.group_counts[g] == 1]
        if lonely and need <= 1:
            shown = ", ".join(f"class {getattr(c, 'item', lambda: c)()!r}: {n} synthetic rows"
                              for c, n in lonely[:5])
            warnings.warn(
                f"{type(self).__name__}: {len(lonely)} class(es) have a single row, and all "
                f"their synthetic rows are made from that one row ({shown}"
                f"{', ...' if len(lonely) > 5 else ''}); consider dropping or merging them, "
                "or a sampling_strategy that leaves them out.",
                UserWarning, stacklevel=5,
            )
        if task == "classification" and need > 1:
            small = [plan.group_values[g] for g in plan.n_new if plan.group_counts[g] < need]
            if small:
                raise ValueError(
                    f"{type(self).__name__} needs at least {need} rows per class to "
                    f"synthesise; classes {small[:5]} have fewer."
                )
        return plan, strategy

    def _setup_fit(self, X, y):
        """Validation, planning, random state and device: shared by fit and fit_resample."""
        X, y, task, binarize_y = self._check_inputs(X, y)
        self._init_random_state()
        plan, strategy = self._plan(X, y, task)
        self.target_type_ = task
        self.sampling_strategy_ = strategy
        self.bin_edges_ = plan.bin_edges
        self.device_ = resolve_device(self.device)
        self._validate_method_params(X, plan)
        return X, y, plan, binarize_y

    # ------------------------------------------------------------ public API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, **params):
        """Validate the data and compute the resampling plan.

        Use :meth:`fit_resample`; ``fit`` exists for API compatibility and
        sets ``sampling_strategy_`` without generating rows.

        Parameters
        ----------
        X : {array-like, dataframe} of shape (n_samples, n_features)
            Embeddings.
        y : array-like of shape (n_samples,)
            Class labels or continuous targets.
        **params : dict
            Unused; accepted for API compatibility.

        Returns
        -------
        self : object
            Fitted resampler.
        """
        self._setup_fit(X, y)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y, **params):
        """Resample the dataset: original rows first, then synthetic rows.

        Parameters
        ----------
        X : {array-like, dataframe} of shape (n_samples, n_features)
            Embeddings (float16, float32 or float64; float32 in -> float32
            out).
        y : array-like of shape (n_samples,)
            Class labels or continuous targets.
        **params : dict
            Unused; accepted for API compatibility.

        Returns
        -------
        X_resampled : {ndarray, dataframe} of shape (n_samples_new, n_features)
            Every input row unchanged and in order, then the synthetic rows.
        y_resampled : {ndarray, series} of shape (n_samples_new,)
            The corresponding targets.

        Notes
        -----
        pandas output keeps the index of the input (of ``X``, else of ``y``)
        for the original rows, so results join back to metadata by index.
        Synthetic rows get labels no original row has: an integer index
        continues after its maximum (``max + 1, max + 2, ...``); any other
        index gets ``"synthetic_0", "synthetic_1", ...`` (with extra leading
        underscores if one of these is taken; the first level of a tuple
        for a MultiIndex).  ``is_synthetic_`` marks the rows either way.
        """
        transformer = ArraysTransformer(X, y)
        inputs = (X, y)
        X, y, plan, binarize_y = self._setup_fit(X, y)
        X_res, y_res = self._fit_resample(X, y, plan=plan)
        if binarize_y:
            from sklearn.preprocessing import label_binarize

            y_res = label_binarize(y_res, classes=np.unique(y))
        return keep_pandas_index(*inputs, *transformer.transform(X_res, y_res))

    def _fit_resample(self, X, y, plan=None):
        """Generate for a validated ``X, y`` and assemble the output arrays."""
        if plan is None:
            plan, _ = self._plan(X, y, self.target_type_)
        if plan.n_synthetic > 0:
            rows = self._generate(X, y, plan)
            X_new, y_new, w_new = self._check_generated(rows, X, plan)
            w_real = self._check_real_weight(rows, X)
        else:
            X_new = np.empty((0, X.shape[1]), dtype=X.dtype)
            y_new, w_new, w_real = y[:0], None, None
        return self._assemble(X, y, X_new, y_new, w_new, w_real)

    # ------------------------------------------------------------- assembly
    def _check_generated(self, rows, X, plan):
        if not isinstance(rows, SyntheticRows):
            rows = SyntheticRows(*rows)
        X_new = np.asarray(rows.X)
        y_new = np.asarray(rows.y)
        m = plan.n_synthetic
        if X_new.shape != (m, X.shape[1]) or y_new.shape != (m,):
            raise RuntimeError(
                f"{type(self).__name__}._generate returned X of shape {X_new.shape} and "
                f"y of shape {y_new.shape}; expected ({m}, {X.shape[1]}) and ({m},)."
            )
        try:  # sum first, element-wise only if the sum is not finite (no n x d mask)
            assert_all_finite(X_new, input_name="synthetic X")
        except ValueError:
            raise RuntimeError(
                f"{type(self).__name__} generated non-finite rows; this is a bug, "
                "please report it with the data shape and parameters."
            ) from None
        w_new = None if rows.weight is None else np.asarray(rows.weight, dtype=np.float64)
        if w_new is not None and w_new.shape != (m,):
            raise RuntimeError("Synthetic weights must have one value per synthetic row.")
        return X_new, y_new, w_new

    def _check_real_weight(self, rows, X):
        w_real = getattr(rows, "real_weight", None)
        if w_real is None:
            return None
        w_real = np.asarray(w_real, dtype=np.float64)
        if w_real.shape != (X.shape[0],) or not np.all(np.isfinite(w_real) & (w_real > 0)):
            raise RuntimeError("Weights of the original rows must be positive, one per row.")
        return w_real

    def _assemble(self, X, y, X_new, y_new, w_new, w_real=None):
        n, m = X.shape[0], X_new.shape[0]
        X_res = np.empty((n + m, X.shape[1]), dtype=X.dtype)
        X_res[:n] = X
        X_res[n:] = X_new
        y_res = np.concatenate([y, y_new.astype(y.dtype, copy=False)])
        self.is_synthetic_ = np.zeros(n + m, dtype=bool)
        self.is_synthetic_[n:] = True
        self.sample_weight_ = np.ones(n + m, dtype=np.float64)
        if w_new is not None:
            self.sample_weight_[n:] = w_new
        if w_real is not None:
            self.sample_weight_[:n] = w_real
        self.n_synthetic_ = m
        return X_res, y_res

    # -------------------------------------------------------------- pickling
    def __getstate__(self):
        state = super().__getstate__()
        from .._torch_utils import to_cpu

        return {key: to_cpu(value) for key, value in state.items()}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.non_deterministic = False
        return tags


class _NullBar:
    """Stand-in for a tqdm bar when progress is off."""

    def update(self, n=1):
        """Do nothing."""

    def set_postfix(self, *args, **kwargs):
        """Do nothing."""

    def close(self):
        """Do nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
