"""The ``skltsynth`` command line (also ``python -m skltsynth``).

Three commands:

``skltsynth demo``
    Compare resamplers on the demo set shipped in the package
    (:func:`skltsynth.datasets.load_demo`) and print a table of accuracy per
    shot group, resample time and peak memory, with ratios to SMOTE's.
``skltsynth resample INPUT OUTPUT --method NAME``
    Resample an embeddings file with a named method and write the result in
    the same format, with an ``is_synthetic`` flag and a ``sample_weight``
    per row.
``skltsynth benchmark --datasets ... --methods ... --out DIR``
    The grid datasets x methods x seeds; writes ``results.json``, a Markdown
    table and plots into ``DIR``.

Embedding file formats (chosen by the file suffix; OUTPUT must have the same
suffix as INPUT):

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
    column but the target, so integer ids are not taken for features).  Other columns are kept for real rows and left missing for
    synthetic rows; ``is_synthetic`` and ``sample_weight`` columns are added.

Rows of the output: every input row, unchanged and in order, then the
synthetic rows.
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from ._defaults import CLASS_SHOTS, default_head_text, fast_params_text

__all__ = ["main", "build_parser", "read_embeddings", "write_embeddings", "parse_params"]

PARQUET_SUFFIXES = (".parquet", ".pq")
SUFFIXES = (".npz", ".npy") + PARQUET_SUFFIXES
_ADDED_COLUMNS = ("is_synthetic", "sample_weight")


class CLIError(Exception):
    """An error reported to the user as ``skltsynth: error: ...`` (exit status 2)."""


# --------------------------------------------------------------------- params
def _parse_value(text):
    """A literal (number, bool, None, list, tuple, dict, quoted string) or the raw string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_params(items):
    """Turn ``["k=v", ...]`` into a dict of Python values.

    Values are read as Python literals when possible (``3``, ``0.5``,
    ``True``, ``None``, ``[1, 2]``), else kept as strings (``kappa=moment``).

    Parameters
    ----------
    items : list of str or None
        ``name=value`` strings.

    Returns
    -------
    params : dict

    Examples
    --------
    >>> from skltsynth.cli import parse_params
    >>> parse_params(["bandwidth=0.5", "kappa=moment", "batch_size=None"])
    {'bandwidth': 0.5, 'kappa': 'moment', 'batch_size': None}
    """
    params = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CLIError(f"--param expects name=value, got {item!r}.")
        params[name] = _parse_value(value)
    return params


# ------------------------------------------------------------------------ I/O
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


def _format_of(path):
    suffix = pathlib.Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise CLIError(
            f"Unsupported file type {suffix or '(none)'!r} for {str(path)!r}; "
            f"use one of {', '.join(SUFFIXES)}."
        )
    return "parquet" if suffix in PARQUET_SUFFIXES else suffix[1:]


def _read_parquet(path, y_column, x_columns):
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise CLIError(f"Reading parquet needs pyarrow (pip install pyarrow): {exc}") from exc
    y_column = y_column or "y"
    if y_column not in frame.columns:
        raise CLIError(
            f"{str(path)!r} has no target column {y_column!r}; pass --y-column "
            f"(columns: {', '.join(map(str, frame.columns[:20]))})."
        )
    if x_columns:
        missing = [c for c in x_columns if c not in frame.columns]
        if missing:
            raise CLIError(f"Columns {missing} given in --x-columns are not in {str(path)!r}.")
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
        raise CLIError(f"No embedding columns found in {str(path)!r}; pass --x-columns.")
    list_column = len(x_columns) == 1 and frame[x_columns[0]].dtype == object
    if list_column:
        try:
            X = np.stack([np.asarray(v) for v in frame[x_columns[0]]])
        except ValueError as exc:
            raise CLIError(
                f"Column {x_columns[0]!r} must hold vectors of one length: {exc}"
            ) from exc
    else:
        X = frame[x_columns]
    y = frame[y_column].to_numpy()
    return EmbeddingTable(X=X, y=y, fmt="parquet", frame=frame, x_columns=list(x_columns),
                          y_column=y_column, list_column=list_column,
                          y_dtype=frame[y_column].dtype)


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
    >>> from skltsynth.cli import read_embeddings
    >>> path = os.path.join(tempfile.mkdtemp(), "emb.npz")
    >>> np.savez(path, X=np.eye(3, dtype=np.float32), y=np.array([0, 1, 1]))
    >>> read_embeddings(path).X.shape
    (3, 3)
    """
    path = pathlib.Path(path)
    fmt = _format_of(path)
    if not path.exists():
        raise CLIError(f"Input file {str(path)!r} does not exist.")
    if fmt == "parquet":
        return _read_parquet(path, y_column, x_columns)
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("X", "y") if k not in data.files]
            if missing:
                raise CLIError(
                    f"{str(path)!r} must hold arrays 'X' and 'y'; missing {missing} "
                    f"(found: {', '.join(data.files) or 'nothing'})."
                )
            X, y = data["X"], data["y"]
    else:
        arr = np.load(path, allow_pickle=False)
        names = arr.dtype.names or ()
        if "X" not in names or "y" not in names:
            raise CLIError(
                f"{str(path)!r} must hold a structured array with fields 'X' (a vector "
                "per row) and 'y', e.g. np.empty(n, dtype=[('X', 'f4', (d,)), ('y', 'i8')]); "
                f"got dtype {arr.dtype}. For two plain arrays use an .npz file with keys X and y."
            )
        X, y = np.asarray(arr["X"]), np.asarray(arr["y"])
        if X.ndim == 1:
            X = X[:, None]
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise CLIError(
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
    fmt = _format_of(path)
    if fmt != table.fmt:
        raise CLIError(
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


# -------------------------------------------------------------------- methods
def _benchmark():
    from . import benchmark

    return benchmark


def _known_methods():
    return list(_benchmark().available_methods())


def _unknown_method(names, known):
    return CLIError(
        f"Unknown method(s) {', '.join(map(repr, names))}. Known methods: {', '.join(known)}."
    )


def _infer_task(y, target_type=None):
    if target_type in ("classification", "regression"):
        return target_type
    from sklearn.utils.multiclass import type_of_target

    return "regression" if type_of_target(np.asarray(y)) == "continuous" else "classification"


def make_resampler(name, y, params=None, *, random_state=None, device=None, target_type=None):
    """Build the resampler registered as ``name`` for targets ``y``, with parameters set.

    Parameters
    ----------
    name : str
        A method of :mod:`skltsynth.benchmark` that resamples (not a
        weighting-only baseline such as ``none`` or ``class_weight``).
    y : array-like of shape (n_samples,)
        Targets; decide the task when ``target_type`` is not given.
    params : dict, default=None
        Parameters set with ``set_params`` (after the defaults below).
    random_state : int, default=None
        Seed of the resampler.
    device : str, default=None
        Device, for resamplers with a ``device`` parameter.
    target_type : {"classification", "regression"}, default=None
        Task; default: inferred from ``y`` (a float target with non-integer
        values is a regression target).

    Returns
    -------
    resampler : object with ``fit_resample``

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.cli import make_resampler
    >>> make_resampler("smote", np.array([0, 0, 0, 1, 1]), {"k_neighbors": 1},
    ...                random_state=0)
    SMOTE(k_neighbors=1, random_state=0)
    """
    bench = _benchmark()
    known = _known_methods()
    if name not in known:
        raise _unknown_method([name], known)
    task = _infer_task(y, target_type)
    try:
        resampler = bench.make_sampler(name, task, random_state)
    except bench.MethodSkipped as exc:
        raise CLIError(str(exc)) from exc
    except ValueError as exc:  # the method does not support the task
        raise CLIError(
            f"{exc} Methods for {task}: {', '.join(bench.available_methods(task))}"
            + (" (use --target-type to override the inferred task)." if not target_type else ".")
        ) from exc
    if resampler is None:
        samplers = [m for m in bench.available_methods(task) if bench.get_method(m).resamples]
        raise CLIError(
            f"Method {name!r} does not resample rows (it only weights the head); choose a "
            f"resampling method, e.g. {', '.join(samplers)}."
        )
    # target_type, device and neighbour counts capped for tiny classes, as the
    # benchmark runner does; the user's --param values come after and win.
    bench.adapt_sampler(resampler, task, np.asarray(y), None, device)
    accepted = resampler.get_params()
    params = dict(params or {})
    bad = [k for k in params if k not in accepted]
    if bad:
        raise CLIError(
            f"{type(resampler).__name__} has no parameter(s) {', '.join(map(repr, bad))}; "
            f"its parameters: {', '.join(sorted(accepted))}."
        )
    try:
        resampler.set_params(**params)
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from exc
    return resampler


# ------------------------------------------------------------------- commands
def _cmd_resample(args):
    table = read_embeddings(args.input, y_column=args.y_column, x_columns=args.x_columns)
    if _format_of(args.output) != table.fmt:
        raise CLIError(
            f"OUTPUT must have the same format as INPUT ({table.fmt}); got "
            f"{pathlib.Path(args.output).suffix!r}."
        )
    resampler = make_resampler(
        args.method, table.y, parse_params(args.param), random_state=args.random_state,
        device=args.device, target_type=None if args.target_type == "auto" else args.target_type,
    )
    n = table.y.shape[0]
    start = time.perf_counter()
    try:
        X_res, y_res = resampler.fit_resample(table.X, table.y)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"{args.method} could not resample {args.input!r}: {exc}") from exc
    seconds = time.perf_counter() - start
    m = len(y_res)
    is_synthetic = getattr(resampler, "is_synthetic_", None)
    if is_synthetic is None:  # imbalanced-learn over-samplers append after the originals
        is_synthetic = np.arange(m) >= n
    weight = getattr(resampler, "sample_weight_", None)
    if weight is None:
        weight = np.ones(m)
    write_embeddings(args.output, table, X_res, y_res, is_synthetic, weight)
    print(
        f"{args.method}: {n} rows in, {m - n} synthetic rows added ({m} rows) in "
        f"{seconds:.2f} s -> {args.output}"
    )
    return 0


def _check_methods(methods):
    if not methods:
        return None
    known = _known_methods()
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise _unknown_method(unknown, known)
    return list(methods)


#: Baselines the demo compares with (plus every skltsynth resampler registered).
DEMO_BASELINES = ("none", "class_weight", "ros", "smote")


def demo_methods():
    """Methods ``skltsynth demo`` runs by default.

    ``none``, ``class_weight``, ``ros`` and ``smote``, then every registered
    skltsynth resampler that can run here (registry order).

    Returns
    -------
    names : list of str
    """
    bench = _benchmark()
    available = bench.available_methods("classification")
    ours = [m for m in available if bench.get_method(m).ours and bench.get_method(m).at_defaults]
    return [m for m in DEMO_BASELINES if m in available] + [m for m in ours
                                                             if m not in DEMO_BASELINES]


def _fast_caption(methods):
    bench = _benchmark()
    parts = []
    for name in methods:
        fast = bench.get_method(name).fast_params
        if fast:
            parts.append(f"{name} ({', '.join(f'{k}={v!r}' for k, v in fast.items())})")
    if not parts:
        return ""
    return ("Fast settings (demo default; --full for the resamplers' defaults): "
            + "; ".join(parts) + ".")


def _cmd_demo(args):
    bench = _benchmark()
    methods = _check_methods(args.methods) or demo_methods()
    start = time.perf_counter()
    results = bench.run_comparison(
        "demo", methods=methods, seeds=args.seeds, device=args.device, fast=not args.full,
        verbose=not args.quiet,
    )
    summary = bench.summarise(results)
    device = bench.device_text(args.device)
    print(f"\nskltsynth demo: CLINC50-LT demo set (shipped), {default_head_text()}, "
          f"device {device}\n")
    print(bench.format_table(summary))
    if not args.full:
        caption = _fast_caption(methods)
        if caption:
            print(caption)
    print(f"\n(total {time.perf_counter() - start:.1f} s)")
    if args.plot:
        try:
            path = bench.plot_results(summary, args.plot)
        except ImportError as exc:
            raise CLIError(str(exc)) from exc
        print(f"plot written to {path}")
    return 0


def _cmd_benchmark(args):
    bench = _benchmark()
    methods = _check_methods(args.methods)
    datasets = []
    for name in args.datasets:
        if name in bench.DATASETS:
            datasets.append(name)
            continue
        path = pathlib.Path(name)
        if path.suffix.lower() in SUFFIXES or path.exists():
            if not path.exists():
                raise CLIError(f"Dataset file {name!r} does not exist.")
            datasets.append(str(path))
            continue
        raise CLIError(
            f"Unknown dataset {name!r}: use one of {', '.join(bench.DATASETS)} or an "
            f"embeddings file ({', '.join(SUFFIXES)})."
        )
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    command = ["skltsynth", "benchmark", "--datasets", *args.datasets]
    if args.methods:
        command += ["--methods", *args.methods]
    if args.heads:
        command += ["--heads", *args.heads]
    command += ["--seeds", *map(str, args.seeds), "--device", str(args.device)]
    if args.fast:
        command.append("--fast")
    command += ["--out", str(args.out)]
    written = bench.run_benchmark(
        datasets, methods=methods, seeds=args.seeds, device=args.device, out=out,
        fast=args.fast, verbose=not args.quiet, command=" ".join(command), heads=args.heads,
    )
    print(f"\n(total {time.perf_counter() - start:.1f} s)")
    for path in written:
        print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------- parser
_EPILOG_FORMATS = """\
file formats (chosen by suffix; OUTPUT has the same format as INPUT):
  .npz               arrays X (n, d) and y (n,); output adds is_synthetic and sample_weight
  .npy               a structured array with fields X (vector of d numbers) and y, e.g.
                     np.empty(n, dtype=[("X", "f4", (d,)), ("y", "i8")]); output adds the
                     fields is_synthetic and sample_weight
  .parquet, .pq      a target column (--y-column, default y) and the embedding as one
                     list-valued column or one float column per dimension (--x-columns;
                     default: the one list column, else every float column);
                     output adds the columns is_synthetic and sample_weight
rows of the output: every input row unchanged and in order, then the synthetic rows.
"""


def build_parser():
    """The argument parser of the ``skltsynth`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="skltsynth",
        description="Embedding-space oversampling for long-tailed data: compare resamplers "
        "(demo, benchmark) and resample embedding files.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'skltsynth COMMAND --help' for the options of a command.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"skltsynth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def common(p, methods_default, seeds_default):
        p.add_argument("--methods", nargs="+", metavar="NAME",
                       help=f"methods to compare (default: {methods_default}; see "
                       "'skltsynth methods')")
        p.add_argument("--seeds", nargs="+", type=int, default=list(seeds_default), metavar="N",
                       help="random seeds; mean and spread over seeds are reported (default: "
                       f"{' '.join(map(str, seeds_default))})")
        p.add_argument("--device", default="auto",
                       help="torch device for skltsynth resamplers: auto (CUDA when "
                       "available), cpu, cuda, cuda:1, ... (default: auto)")
        p.add_argument("--quiet", action="store_true", help="no progress lines")

    demo = sub.add_parser(
        "demo", help="compare resamplers on the demo set shipped with the package",
        description="Compare resamplers on the shipped long-tailed demo set "
        "(skltsynth.datasets.load_demo: 50 CLINC150 intents, MiniLM embeddings, 100 down "
        f"to 5 training rows per class) with {default_head_text()}. "
        f"Prints accuracy overall and per shot group (many >= {CLASS_SHOTS['many']}, medium "
        f"{CLASS_SHOTS['few']}..{CLASS_SHOTS['many'] - 1}, few < {CLASS_SHOTS['few']} "
        "training rows), resample time and peak memory, and their ratios to SMOTE's. "
        "Diffusion resamplers use fast settings unless --full is given (the table "
        "caption says so). One seed by default so that it finishes in a couple of minutes "
        "on two CPU cores; --seeds 0 1 2 adds the spread over seeds.",
    )
    common(demo, "none, class_weight, ros, smote and every skltsynth resampler", (0,))
    demo.add_argument("--plot", metavar="PATH", help="also write a figure (png, pdf, svg)")
    demo.add_argument("--full", action="store_true",
                      help="use the resamplers' default (slower) settings")
    demo.set_defaults(func=_cmd_demo)

    res = sub.add_parser(
        "resample", help="resample an embeddings file with a named method",
        description="Resample the rows of INPUT with a named method and write them to OUTPUT "
        "in the same format, with an is_synthetic flag and a sample_weight per row.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EPILOG_FORMATS + "\nexample:\n  skltsynth resample emb.npz out.npz --method "
        "vmf_kde --param bandwidth=0.5 --random-state 0",
    )
    res.add_argument("input", metavar="INPUT", help="embeddings file (.npz, .npy, .parquet)")
    res.add_argument("output", metavar="OUTPUT", help="file to write (same format as INPUT)")
    res.add_argument("--method", required=True, metavar="NAME",
                     help="resampling method (see 'skltsynth methods')")
    res.add_argument("--param", action="append", metavar="K=V",
                     help="a parameter of the method, e.g. --param bandwidth=0.5 (repeatable; "
                     "values are Python literals or strings)")
    res.add_argument("--target-type", choices=["auto", "classification", "regression"],
                     default="auto",
                     help="kind of target (default auto: a float target with many values is "
                     "a regression target, binned for deep imbalanced regression)")
    res.add_argument("--random-state", type=int, default=None, metavar="N", help="seed")
    res.add_argument("--device", default=None,
                     help="torch device for skltsynth resamplers (default: the method's, auto)")
    res.add_argument("--y-column", default=None, metavar="NAME",
                     help="parquet: the target column (default: y)")
    res.add_argument("--x-columns", nargs="+", default=None, metavar="NAME",
                     help="parquet: embedding column(s): one list-valued column or one "
                     "column per dimension (default: the single list-valued column, else "
                     "every floating-point column but the target)")
    res.set_defaults(func=_cmd_resample)

    bench = sub.add_parser(
        "benchmark", help="run the benchmark grid datasets x methods x seeds",
        description="Run every method on every dataset with every seed (same head, same "
        "split) and write results.json, results.md (tables with mean and spread over seeds, "
        "the device, ratios to SMOTE's time and memory) and plots into --out. Datasets: "
        "'demo' (shipped), 'clinc150' (long-tailed n_max=100 IR=20), 'stsb' (STS-B-DIR "
        "pair features, MSE/MAE/GM per shot group), or an embeddings file (.npz with "
        "X_train, y_train, X_test, y_test, or X and y split 80/20). Shared data are looked "
        "up in $SKLTSYNTH_DATA or a shared/datasets folder.",
    )
    bench.add_argument("--datasets", nargs="+", default=["demo"], metavar="NAME_OR_FILE",
                       help="demo, clinc150, stsb and/or embedding files (default: demo)")
    common(bench, "every method that fits the dataset's task", (0, 1, 2))
    bench.add_argument("--heads", nargs="+", default=None, metavar="HEAD",
                       help="heads fitted after every method: lr svm knn rf mlp (classes; lr = "
                       f"{default_head_text()}), ridge knn hgb mlp (regression); default: "
                       "every head of the dataset's task")
    bench.add_argument("--out", default="benchmark-results", metavar="DIR",
                       help="output folder (default: benchmark-results); "
                       "use docs/benchmark to update the documentation page")
    bench.add_argument("--fast", action="store_true",
                       help="fast settings for the diffusion resamplers, as in the demo: "
                       f"{fast_params_text()} "
                       "(defaults 1000, 25, 512, 3); the guided variants' Epistemic Head "
                       "trains 15 + 10 epochs (defaults 50 + 20); other methods unchanged")
    bench.set_defaults(func=_cmd_benchmark)

    methods = sub.add_parser("methods", help="list the known methods",
                             description="List the methods known to demo, resample and "
                             "benchmark, with what they do.")
    methods.set_defaults(func=_cmd_methods)
    return parser


def _cmd_methods(args):
    bench = _benchmark()
    names = _known_methods()
    width = max(map(len, names), default=0)
    for name in names:
        print(f"{name:{width}s}  {bench.describe_method(name)}")
    return 0


def main(argv=None):
    """Run the ``skltsynth`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success, 2 on a usage or input error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"skltsynth: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"skltsynth: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
