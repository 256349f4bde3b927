"""Dask inputs: conversion to row-chunked dask arrays and per-chunk validation.

Every check runs the code the in-memory path runs (``validate_data`` of
scikit-learn with the resampler, the resampler's own task and class checks),
on one chunk at a time, so bad input raises the same error with the same
message.  The checks of ``X`` run inside the graph (once per chunk, shared by
the original rows and the group splits), so they surface when the result is
computed; those of ``y`` run in the counting pass of :func:`fit_resample`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_consistent_length, validate_data

from ..resamplers.base import _is_low_precision

__all__ = ["DaskInput", "as_dask_input", "check_X_block", "check_y_block"]


@dataclass
class DaskInput:
    """``X`` and ``y`` as dask arrays with the same row chunks, and how to give them back.

    Attributes
    ----------
    X : dask.array.Array of shape (n, d)
        Rows in the validated dtype (float32 for float16/float32 input, else
        float64), one column chunk.
    y : dask.array.Array of shape (n,)
    columns : list or None
        Column names of a dask DataFrame ``X`` (output is a DataFrame too).
    dtypes : pandas.Series or None
        Column dtypes of a DataFrame ``X`` (restored on output).
    y_name : object or None
        Name of a dask Series ``y`` (output is a Series too); ``None`` for an
        array ``y``.
    y_is_series : bool
    """

    X: object
    y: object
    columns: object = None
    dtypes: object = None
    y_name: object = None
    y_is_series: bool = False


def _to_array(obj, name):
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(obj, da.Array):
        return obj, False
    if isinstance(obj, (dd.DataFrame, dd.Series)):
        return obj.to_dask_array(lengths=True), True
    if hasattr(obj, "__array__") or isinstance(obj, (list, tuple)):
        arr = obj.to_numpy() if hasattr(obj, "to_numpy") else np.asarray(obj)
        return da.from_array(arr, chunks=(max(1, min(len(arr), 65536)),) + arr.shape[1:]), False
    raise TypeError(
        f"{name} must be a dask array, a dask DataFrame/Series or array-like; "
        f"got {type(obj).__name__}."
    )


def as_dask_input(resampler, X, y):
    """Align ``X`` and ``y`` into a :class:`DaskInput` (shape checks only, no data read).

    Raises the in-memory errors for ``y=None``, a ``y`` of another length
    and an ``X`` that is not 2-D.
    """
    if y is None:  # the in-memory message
        resampler._check_inputs(np.zeros((2, 1)), None)
    import dask.dataframe as dd

    columns = dtypes = y_name = None
    if isinstance(X, dd.DataFrame):
        columns, dtypes = list(X.columns), X.dtypes
    low = _is_low_precision(X)
    y_is_series = isinstance(y, dd.Series)
    if y_is_series:
        y_name = y.name
    Xa, _ = _to_array(X, "X")
    ya, _ = _to_array(y, "y")
    if Xa.ndim != 2:  # sklearn's message for a 1-D or 3-D X, from a small piece of it
        head = np.asarray(Xa[:2].compute())
        validate_data(resampler, X=head, y=np.zeros(head.shape[0]), reset=True)
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if ya.ndim != 1:
        raise ValueError(
            f"y must be 1-D (class labels or one continuous target); got shape {ya.shape}. "
            "One-vs-all indicator targets are supported in memory only."
        )
    check_consistent_length(np.broadcast_to(0, (Xa.shape[0],)), np.broadcast_to(0, (ya.shape[0],)))
    want = np.float32 if low or Xa.dtype in (np.float16, np.float32) else np.float64
    if Xa.dtype.kind not in "fiub":  # object or string columns: sklearn's message, per chunk
        want = np.float64
    Xa = Xa.rechunk({1: -1})
    ya = ya.rechunk((Xa.chunks[0],))
    return DaskInput(Xa, ya, columns, dtypes, y_name, y_is_series), want


def check_X_block(block, resampler, want):
    """One row chunk of ``X`` validated as the in-memory path validates ``X``."""
    return validate_data(resampler, X=block, reset=True, accept_sparse=False, dtype=want,
                         order="C", ensure_all_finite=True)


def check_y_block(block, resampler, task):
    """One chunk of ``y`` validated as in memory (``X`` stands in as a zero column)."""
    from imblearn.utils import check_target_type

    block = np.asarray(block)
    if task == "classification":
        block = check_target_type(block)
    _, block = validate_data(resampler, X=np.zeros((block.shape[0], 1)), y=block, reset=True,
                             ensure_all_finite=True, y_numeric=task == "regression")
    return np.asarray(block, dtype=np.float64) if task == "regression" else block
