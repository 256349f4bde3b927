"""Baseline resamplers of the benchmark: imbalanced-learn, SMOTER, smogn, smote-variants.

Factories ``(task, random_state) -> resampler`` and the adapters that put
third-party oversamplers behind ``fit_resample`` (originals first, in order,
then the synthetic rows).  They are registered in
:mod:`skltsynth.benchmark.methods`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import numbers
import random
import warnings

import numpy as np

from .registry import MethodSkipped

__all__ = ["SMOGN_MAX_CELLS", "SMOTE_VARIANTS", "SMOTE_VARIANTS_MAX_CELLS"]

#: smogn is skipped on data with more values (rows x features) than this.
SMOGN_MAX_CELLS = 200_000
#: smote-variants oversamplers benchmarked as an optional extra (Kovacs 2019
#: ranks them first among 85 oversamplers).
SMOTE_VARIANTS = ("polynom_fit_SMOTE_star", "ProWSyn")
#: smote-variants is skipped on data with more values than this (it is
#: pure numpy, one binary problem per class; ProWSyn is quadratic in a class).
SMOTE_VARIANTS_MAX_CELLS = 20_000_000


def imblearn_factory(cls_name, **params):
    def factory(task, random_state):
        from imblearn import over_sampling

        return getattr(over_sampling, cls_name)(random_state=random_state, **params)

    return factory


def ros_factory(task, random_state):
    if task == "regression":
        from ..resamplers._smoter import RandomBinOverSampler

        return RandomBinOverSampler(random_state=random_state)
    from imblearn.over_sampling import RandomOverSampler

    return RandomOverSampler(random_state=random_state)


def smoter_factory(task, random_state):
    from ..resamplers._smoter import SMOTER

    return SMOTER(random_state=random_state)


def smogn_factory(task, random_state):
    return _SMOGNSampler(random_state=random_state)


class _Params:
    """``get_params`` / ``set_params`` over the names in ``_PARAMS`` (for the adapters)."""

    _PARAMS = ()

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in self._PARAMS}

    def set_params(self, **params):
        for key, value in params.items():
            if key not in self._PARAMS:
                raise ValueError(f"Invalid parameter {key!r} for {type(self).__name__}.")
            setattr(self, key, value)
        return self


@contextlib.contextmanager
def _scoped_global_random_state(seed):
    """Seed numpy's and Python's *global* generators and restore them afterwards.

    Only for third-party code (smogn) that draws from the global generators
    and offers no seed argument; the caller's global state is left as found.
    """
    np_state = np.random.get_state()
    py_state = random.getstate()
    np.random.set_state(np.random.RandomState(seed).get_state())
    random.setstate(random.Random(seed).getstate())
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


class _SMOGNSampler(_Params):
    """``smogn.smoter`` behind ``fit_resample`` (originals kept: no under-sampling).

    smogn is pure Python (loops over rows and features), so data with more
    than ``max_cells`` values raise :class:`MethodSkipped`.  smogn draws from
    the global numpy / Python generators; they are seeded from
    ``random_state`` for the call only and restored afterwards.
    """

    def __init__(self, random_state=None, max_cells=None, k=5, pert=0.02):
        self.random_state = random_state
        self.max_cells = max_cells
        self.k = k
        self.pert = pert

    _PARAMS = ("random_state", "max_cells", "k", "pert")

    def fit_resample(self, X, y):
        import pandas as pd

        X = np.asarray(X)
        limit = SMOGN_MAX_CELLS if self.max_cells is None else self.max_cells
        if X.size > limit:
            raise MethodSkipped(
                f"smogn skipped: {X.shape[0]} x {X.shape[1]} values exceed its time budget "
                f"({limit} values; smogn is pure Python)"
            )
        try:
            import smogn
        except ImportError as exc:
            raise MethodSkipped("smogn skipped: the smogn package is not installed") from exc
        cols = [f"x{i}" for i in range(X.shape[1])]
        frame = pd.DataFrame(X.astype(np.float64), columns=cols)
        frame["target"] = np.asarray(y, dtype=np.float64)
        with _scoped_global_random_state(_seed_of(self.random_state)), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = smogn.smoter(
                    data=frame, y="target", k=self.k, pert=self.pert, under_samp=False
                )
            except TypeError as exc:
                if "interpolation" not in str(exc):
                    raise
                # smogn 0.1.2 calls np.quantile(interpolation=...), removed in numpy 2.
                raise MethodSkipped(
                    f"smogn skipped: the installed smogn does not run with numpy "
                    f"{np.__version__} ({exc})"
                ) from exc
        return out[cols].to_numpy(dtype=X.dtype), out["target"].to_numpy()



def _seed_of(random_state):
    """An int seed for third-party code that only takes ints (0 when not an int)."""
    return int(random_state) if isinstance(random_state, numbers.Integral) else 0


class _SmoteVariantsSampler(_Params):
    """A smote-variants oversampler, multiclass (one class vs the rest, in turn).

    ``smote_variants.MulticlassOversampling`` balances every class up to the
    largest; the returned rows are checked to start with the originals in
    order.  Data with more than ``SMOTE_VARIANTS_MAX_CELLS`` values raise
    :class:`MethodSkipped`.
    """

    def __init__(self, oversampler, random_state=None, n_neighbors=None):
        self.oversampler = oversampler
        self.random_state = random_state
        self.n_neighbors = n_neighbors

    _PARAMS = ("oversampler", "random_state", "n_neighbors")

    def fit_resample(self, X, y):
        X, y = np.asarray(X), np.asarray(y)
        if X.size > SMOTE_VARIANTS_MAX_CELLS:
            raise MethodSkipped(f"{self.oversampler} skipped: {X.shape[0]} x {X.shape[1]} values "
                                f"exceed its time budget ({SMOTE_VARIANTS_MAX_CELLS} values)")
        try:
            import smote_variants
        except ImportError as exc:
            raise MethodSkipped("smote-variants skipped: pip install smote-variants") from exc
        params = {"random_state": _seed_of(self.random_state)}
        if self.n_neighbors is not None:
            params["n_neighbors"] = self.n_neighbors
        sampler = smote_variants.MulticlassOversampling(
            oversampler=self.oversampler, oversampler_params=params)
        logger = logging.getLogger("smote_variants")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            X_res, y_res = sampler.sample(X.astype(np.float64), y)
        finally:
            logger.setLevel(level)
        n = len(y)
        if len(y_res) < n or not (np.allclose(X_res[:n], X) and np.array_equal(y_res[:n], y)):
            raise RuntimeError(f"{self.oversampler} did not return the original rows first.")
        return X_res.astype(X.dtype, copy=False), y_res


def smote_variants_factory(oversampler):
    """Factory of a smote-variants oversampler (``n_neighbors`` left at its default)."""

    def factory(task, random_state):
        # Imported here, outside the measured resampling call (the first import of
        # smote_variants takes seconds that are no part of the method's cost).
        importlib.import_module("smote_variants")
        return _SmoteVariantsSampler(oversampler, random_state=random_state)

    return factory
