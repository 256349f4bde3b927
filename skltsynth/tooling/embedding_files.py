"""Embedding files read and written by ``skltsynth resample``.

Formats, chosen by the file suffix (the output has the same format as the
input):

``.npz``
    Arrays ``X`` (n, d) and ``y`` (n,).  Output: ``X``, ``y``,
    ``is_synthetic`` (bool) and ``sample_weight`` (float64).
``.npy``
    One structured array of n records with a field ``X`` (a sub-array of d
    numbers) and a field ``y``, e.g.
    ``a = np.empty(n, dtype=[("X", "f4", (d,)), ("y", "i8")])``.  Output: the
    same with fields ``is_synthetic`` and ``sample_weight`` added.
``.parquet`` / ``.pq``
    A table with a target column (``--y-column``, default ``y``) and the
    embedding either as one column of fixed-length lists/arrays or as one
    numeric column per dimension (``--x-columns`` picks them; by default a
    single list-valued column if there is one, else every floating-point
    column but the target, so integer ids are not taken for features).
    Other columns are kept for real rows and left missing for synthetic
    rows; ``is_synthetic`` and ``sample_weight`` columns are added.

Rows of the output: every input row, unchanged and in order, then the
synthetic rows.  A corrupt or truncated file raises
:class:`EmbeddingFileError` with one line naming the file.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

import numpy as np

__all__ = ["EmbeddingFileError", "EmbeddingTable", "SUFFIXES", "format_of", "read_embeddings",
           "write_embeddings"]

PARQUET_SUFFIXES = (".parquet", ".pq")
SUFFIXES = (".npz", ".npy") + PARQUET_SUFFIXES
_ADDED_COLUMNS = ("is_synthetic", "sample_weight")


class EmbeddingFileError(ValueError):
    """An embeddings file that cannot be read or written as asked (one-line message)."""


@dataclass
class EmbeddingTable:
    """Embeddings read from a file, with what is needed to write them back."""

    X: np.ndarray
    y: np.ndarray
    fmt: str
    frame: object = None  # parquet: the original DataFrame
    x_columns: list = field(default_factory=list)
    y_column: str | None = None
    list_column: bool = False  # parquet: the embedding is one list-valued column
    y_dtype: object = None


def format_of(path):
    """The format of ``path`` from its suffix: ``"npz"``, ``"npy"`` or ``"parquet"``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    fmt : str

    Examples
    --------
    >>> from skltsynth.tooling.embedding_files import format_of
    >>> format_of("train.PQ")
    'parquet'
    """
    suffix = pathlib.Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise EmbeddingFileError(
            f"Unsupported file type {suffix or '(none)'!r} for {str(path)!r}; "
            f"use one of {', '.join(SUFFIXES)}."
        )
    return "parquet" if suffix in PARQUET_SUFFIXES else suffix[1:]


def _read_parquet(path, y_column, x_columns):
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EmbeddingFileError(f"Reading parquet needs pyarrow (pip install pyarrow): {exc}") from exc
    y_column = y_column or "y"
    if y_column not in frame.columns:
        raise EmbeddingFileError(
            f"{str(path)!r} has no target column {y_column!r}; pass --y-column "
            f"(columns: {', '.join(map(str, frame.columns[:20]))})."
        )
    if x_columns:
        missing = [c for c in x_columns if c not in frame.columns]
        if missing:
            raise EmbeddingFileError(f"Columns {missing} given in --x-columns are not in {str(path)!r}.")
    else:
        candidates = [c for c in frame.columns if c != y_column and c not in _ADDED_COLUMNS]
        listed = [
            c for c in candidates
            if frame[c].dtype == object and len(frame) and np.ndim(frame[c].iloc[0]) == 1
        ]
        if len(listed) == 1:
            x_columns = listed
        else:
            x_columns = [c for c in candidates if pd.api.types.is_float_dtype(frame[c])]
    if not x_columns:
        raise EmbeddingFileError(f"No embedding columns found in {str(path)!r}; pass --x-columns.")
    list_column = len(x_columns) == 1 and frame[x_columns[0]].dtype == object
    if list_column:
        try:
            X = np.stack([np.asarray(v) for v in frame[x_columns[0]]])
        except ValueError as exc:
            raise EmbeddingFileError(
                f"Column {x_columns[0]!r} must hold vectors of one length: {exc}"
            ) from exc
    else:
        X = frame[x_columns]
    y = frame[y_column].to_numpy()
    return EmbeddingTable(X=X, y=y, fmt="parquet", frame=frame, x_columns=list(x_columns),
                          y_column=y_column, list_column=list_column,
                          y_dtype=frame[y_column].dtype)


#: First bytes of a valid file of each numpy format.
_MAGIC = {"npz": b"PK", "npy": b"\x93NUMPY"}


def _read_numpy(path, fmt):
    """``(X, y)`` from an ``.npz`` (arrays X, y) or ``.npy`` (structured) file."""
    with open(path, "rb") as handle:
        head = handle.read(len(_MAGIC[fmt]))
    if head != _MAGIC[fmt]:
        raise EmbeddingFileError(f"{str(path)!r} is not a valid .{fmt} file (corrupt, truncated or "
                       "another format).")
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("X", "y") if k not in data.files]
            if missing:
                raise EmbeddingFileError(
                    f"{str(path)!r} must hold arrays 'X' and 'y'; missing {missing} "
                    f"(found: {', '.join(data.files) or 'nothing'})."
                )
            return data["X"], data["y"]
    arr = np.load(path, allow_pickle=False)
    names = arr.dtype.names or ()
    if "X" not in names or "y" not in names:
        raise EmbeddingFileError(
            f"{str(path)!r} must hold a structured array with fields 'X' (a vector "
            "per row) and 'y', e.g. np.empty(n, dtype=[('X', 'f4', (d,)), ('y', 'i8')]); "
            f"got dtype {arr.dtype}. For two plain arrays use an .npz file with keys X and y."
        )
    X, y = np.asarray(arr["X"]), np.asarray(arr["y"])
    return (X[:, None] if X.ndim == 1 else X), y


def read_embeddings(path, *, y_column=None, x_columns=None):
    """Read embeddings and targets from an ``.npz``, ``.npy`` or parquet file.

    See the module docstring for the layouts.

    Parameters
    ----------
    path : str or path-like
        Input file.
    y_column : str, default=None
        Parquet only: the target column (default ``"y"``).
    x_columns : list of str, default=None
        Parquet only: embedding column(s).

    Returns
    -------
    table : EmbeddingTable
        ``table.X`` (ndarray, or DataFrame for one-column-per-dimension
        parquet) and ``table.y``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skltsynth.tooling.embedding_files import read_embeddings
    >>> path = os.path.join(tempfile.mkdtemp(), "emb.npz")
    >>> np.savez(path, X=np.eye(3, dtype=np.float32), y=np.array([0, 1, 1]))
    >>> read_embeddings(path).X.shape
    (3, 3)
    """
    path = pathlib.Path(path)
    fmt = format_of(path)
    if not path.exists():
        raise EmbeddingFileError(f"Input file {str(path)!r} does not exist.")
    try:
        if fmt == "parquet":
            return _read_parquet(path, y_column, x_columns)
        X, y = _read_numpy(path, fmt)
    except EmbeddingFileError:
        raise
    except Exception as exc:  # a corrupt or truncated file: one line, no traceback
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EmbeddingFileError(
            f"Cannot read {str(path)!r} ({fmt} format; corrupt or truncated?): {reason}"
        ) from exc
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise EmbeddingFileError(
            f"{str(path)!r}: X must be 2-D and y 1-D with as many rows; got X {X.shape}, "
            f"y {y.shape}."
        )
    return EmbeddingTable(X=X, y=y, fmt=fmt, y_dtype=y.dtype)


def write_embeddings(path, table, X_res, y_res, is_synthetic, sample_weight):
    """Write resampled rows in the format of ``table`` (as read by :func:`read_embeddings`).

    Parameters
    ----------
    path : str or path-like
        Output file; its suffix must name the same format as the input's.
    table : EmbeddingTable
        The input as read.
    X_res, y_res : array-like
        Resampled rows: the input rows first, then synthetic rows.
    is_synthetic : ndarray of bool
        Flag per output row.
    sample_weight : ndarray of float
        Weight per output row.
    """
    path = pathlib.Path(path)
    fmt = format_of(path)
    if fmt != table.fmt:
        raise EmbeddingFileError(
            f"OUTPUT must have the same format as INPUT ({table.fmt}); got {path.suffix!r}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    is_synthetic = np.asarray(is_synthetic, dtype=bool)
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if fmt == "npz":
        np.savez(path, X=np.asarray(X_res), y=np.asarray(y_res), is_synthetic=is_synthetic,
                 sample_weight=sample_weight)
        return
    if fmt == "npy":
        X_arr, y_arr = np.asarray(X_res), np.asarray(y_res)
        dtype = [("X", X_arr.dtype, (X_arr.shape[1],)), ("y", y_arr.dtype),
                 ("is_synthetic", bool), ("sample_weight", np.float64)]
        out = np.empty(X_arr.shape[0], dtype=dtype)
        out["X"], out["y"] = X_arr, y_arr
        out["is_synthetic"], out["sample_weight"] = is_synthetic, sample_weight
        np.save(path, out)
        return
    import pandas as pd

    frame = table.frame
    n = len(frame)
    n_new = len(is_synthetic) - n
    if table.list_column:
        X_arr = np.asarray(X_res)
        new = pd.DataFrame({table.x_columns[0]: list(X_arr[n:])})
    else:
        X_df = X_res if hasattr(X_res, "iloc") else pd.DataFrame(np.asarray(X_res),
                                                                   columns=table.x_columns)
        new = X_df.iloc[n:].reset_index(drop=True)
    y_arr = np.asarray(y_res)[n:]
    new[table.y_column] = pd.Series(y_arr).astype(table.y_dtype) if n_new else y_arr
    frame = frame.reset_index(drop=True)
    if n_new:
        # integer and bool columns that synthetic rows leave missing become nullable
        kept = [c for c in frame.columns if c not in new.columns]
        frame = frame.astype({c: frame[c].convert_dtypes().dtype for c in kept
                              if frame[c].dtype.kind in "iub"})
    out = pd.concat([frame, new], ignore_index=True)
    out["is_synthetic"] = is_synthetic
    out["sample_weight"] = sample_weight
    out.to_parquet(path, index=False)
