"""Index labels of resampled pandas output.

Original rows keep the index of the input, so that users can join the
resampled rows back to their metadata by index; synthetic rows get labels that
no original row has:

* an integer index continues after its maximum: ``max + 1, max + 2, ...``;
* any other index (strings, dates, floats, ...) gets ``"synthetic_0",
  "synthetic_1", ...``, with more leading underscores until none of these
  labels is taken;
* a MultiIndex gets those labels as the first level of tuples whose other
  levels are ``None``.
"""

from __future__ import annotations

__all__ = ["keep_pandas_index", "synthetic_index"]


def synthetic_index(index, n_new):
    """Labels of ``n_new`` synthetic rows that no label of ``index`` equals.

    Parameters
    ----------
    index : pandas.Index
        Index of the original rows.
    n_new : int
        Number of synthetic rows.

    Returns
    -------
    labels : pandas.Index of length ``n_new``

    Examples
    --------
    >>> import pandas as pd
    >>> from skltsynth._pandas_index import synthetic_index
    >>> list(synthetic_index(pd.Index([10, 3, 7]), 2))
    [11, 12]
    >>> list(synthetic_index(pd.Index(["a", "synthetic_0"]), 2))
    ['_synthetic_0', '_synthetic_1']
    """
    import pandas as pd

    if not isinstance(index, pd.MultiIndex) and pd.api.types.is_integer_dtype(index.dtype):
        start = int(index.max()) + 1 if len(index) else 0
        return pd.RangeIndex(start, start + n_new)
    taken = set(index.get_level_values(0) if isinstance(index, pd.MultiIndex) else index)
    prefix = "synthetic_"
    while any(f"{prefix}{i}" in taken for i in range(n_new)):
        prefix = "_" + prefix
    labels = [f"{prefix}{i}" for i in range(n_new)]
    if isinstance(index, pd.MultiIndex):
        pad = (None,) * (index.nlevels - 1)
        return pd.MultiIndex.from_tuples([(label, *pad) for label in labels], names=index.names)
    return pd.Index(labels, dtype=object)


def keep_pandas_index(X, y, X_res, y_res):
    """Give pandas output the input's index: that of ``X``, else that of ``y``.

    Parameters
    ----------
    X, y : array-like
        The inputs of ``fit_resample``.
    X_res, y_res : array-like
        Its outputs: the original rows in order, then the synthetic rows.
        Those that are pandas objects get the index; arrays are returned as
        they are.

    Returns
    -------
    X_res, y_res
    """
    source = next((obj.index for obj in (X, y) if hasattr(obj, "iloc")), None)
    if source is None or not (hasattr(X_res, "iloc") or hasattr(y_res, "iloc")):
        return X_res, y_res
    index = source.append(synthetic_index(source, len(y_res) - len(source)))
    for out in (X_res, y_res):
        if hasattr(out, "iloc"):
            out.index = index
    return X_res, y_res
