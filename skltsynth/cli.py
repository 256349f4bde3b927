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

Embedding file formats (``.npz``, ``.npy``, parquet): see
:mod:`skltsynth.tooling.embedding_files`.

Rows of the output: every input row, unchanged and in order, then the
synthetic rows.
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import sys
import time

import numpy as np

from .tooling.embedding_files import (
    SUFFIXES,
    EmbeddingFileError,
    format_of,
    read_embeddings,
    write_embeddings,
)
from ._defaults import CLASS_SHOTS, default_head_text, diffusion_defaults_text, fast_params_text

__all__ = ["main", "build_parser", "read_embeddings", "write_embeddings", "parse_params"]


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


# -------------------------------------------------------------------- methods
def _benchmark():
    from . import benchmark

    return benchmark


def _known_methods():
    return list(_benchmark().available_methods())


def _resamples(method):
    """Whether a registered method adds rows (``resample`` accepts it).

    ``none`` and the weighting-only baselines (``class_weight``, ``lds``)
    train the head on the real rows only: ``demo`` and ``benchmark`` compare
    with them, ``resample`` has nothing to write for them.
    """
    return method.name != "none" and method.weighting is None


def _resampling_methods(task=None):
    bench = _benchmark()
    return [m for m in bench.available_methods(task) if _resamples(bench.get_method(m))]


def _unknown_method(names, known):
    return CLIError(
        f"Unknown method(s) {', '.join(map(repr, names))}. Known methods: {', '.join(known)}."
    )


def _infer_task(y, target_type=None):
    if target_type in ("classification", "regression"):
        return target_type
    from sklearn.utils.multiclass import type_of_target

    return "regression" if type_of_target(np.asarray(y)) == "continuous" else "classification"


def make_resampler(name, y, params=None, *, random_state=None, device=None, target_type=None,
                   fast=False, verbose=False):
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
    fast : bool, default=False
        Apply the method's fast settings (those of ``skltsynth demo`` and
        ``skltsynth benchmark --fast``) before ``params``.
    verbose : bool or int, default=False
        ``verbose`` of resamplers that have one (progress bars on stderr).

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
        resampler = bench.make_sampler(name, task, random_state, fast=fast)
    except bench.MethodSkipped as exc:
        raise CLIError(str(exc)) from exc
    except ValueError as exc:  # the method does not support the task
        raise CLIError(
            f"{exc} Resampling methods for {task}: {', '.join(_resampling_methods(task))}"
            + (" (use --target-type to override the inferred task)." if not target_type else ".")
        ) from exc
    if resampler is None:
        samplers = _resampling_methods(task)
        raise CLIError(
            f"Method {name!r} does not resample rows (it only weights the head); choose a "
            f"resampling method, e.g. {', '.join(samplers)}."
        )
    # target_type, device and neighbour counts capped for tiny classes, as the
    # benchmark runner does; the user's --param values come after and win.
    bench.adapt_sampler(resampler, task, np.asarray(y), None, device)
    accepted = resampler.get_params()
    if verbose and "verbose" in accepted:
        resampler.set_params(verbose=verbose)
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
def _progress(args, text):
    """A progress line on stderr, unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr, flush=True)


def _keep_float_dtype(X_res, X):
    """``X_res`` in the floating dtype of the input ``X`` (float32 in, float32 out).

    Some imbalanced-learn samplers (``RandomOverSampler(shrinkage=...)``) add
    float64 noise and so return float64 rows for float32 input.
    """
    dtype = getattr(X, "dtype", None)
    if hasattr(X, "iloc") or dtype is None or dtype.kind != "f":
        return X_res  # a DataFrame is written column by column; its dtypes are kept
    X_res = np.asarray(X_res)
    return X_res.astype(dtype, copy=False) if X_res.dtype.kind == "f" else X_res


def _cmd_resample(args):
    table = read_embeddings(args.input, y_column=args.y_column, x_columns=args.x_columns)
    if format_of(args.output) != table.fmt:
        raise CLIError(
            f"OUTPUT must have the same format as INPUT ({table.fmt}); got "
            f"{pathlib.Path(args.output).suffix!r}."
        )
    resampler = make_resampler(
        args.method, table.y, parse_params(args.param), random_state=args.random_state,
        device=args.device, target_type=None if args.target_type == "auto" else args.target_type,
        fast=args.fast, verbose=0 if args.quiet else 1 + args.verbose,
    )
    n = table.y.shape[0]
    _progress(args, f"resampling {n} rows ({table.X.shape[1]} features) with {args.method}"
              + (f": {resampler!r}" if args.verbose else " ..."))
    start = time.perf_counter()
    try:
        X_res, y_res = resampler.fit_resample(table.X, table.y)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"{args.method} could not resample {args.input!r}: {exc}") from exc
    seconds = time.perf_counter() - start
    X_res = _keep_float_dtype(X_res, table.X)
    m = len(y_res)
    is_synthetic = getattr(resampler, "is_synthetic_", None)
    if is_synthetic is None:  # imbalanced-learn over-samplers append after the originals
        is_synthetic = np.arange(m) >= n
    weight = getattr(resampler, "sample_weight_", None)
    if weight is None:
        weight = np.ones(m)
    _progress(args, f"writing {args.output}")
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
    _progress(args, f"skltsynth demo: {len(methods)} methods x {len(args.seeds)} seed(s) "
              f"({', '.join(methods)}); a line per run as it finishes (--quiet: none)")
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
        p.add_argument("--quiet", action="store_true",
                       help="no progress lines on stderr (the results still go to stdout)")

    demo = sub.add_parser(
        "demo", help="compare resamplers on the demo set shipped with the package",
        description="Compare resamplers on the shipped long-tailed demo set "
        "(skltsynth.datasets.load_demo: 50 CLINC150 intents, MiniLM embeddings, 100 down "
        f"to 5 training rows per class) with {default_head_text()}. "
        f"Prints accuracy overall and per shot group (many >= {CLASS_SHOTS['many']}, medium "
        f"{CLASS_SHOTS['few']}..{CLASS_SHOTS['many'] - 1}, few < {CLASS_SHOTS['few']} "
        "training rows), resample time and peak memory, and their ratios to SMOTE's. "
        "Diffusion resamplers use fast settings unless --full is given (the table "
        "caption says so). One seed by default: about 45 s on two idle CPU cores (the two "
        "diffusion resamplers take most of it), longer on a busy machine; --seeds 0 1 2 "
        "adds the spread over seeds (a run per seed). Progress on stderr: a line per "
        "method as it finishes.",
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
    res.add_argument("--fast", action="store_true",
                     help="the method's fast settings, as in the demo and 'benchmark --fast' "
                     "(diffusion resamplers: a smaller denoiser trained for fewer steps; see "
                     "the caption of 'skltsynth demo'); --param values still win")
    res.add_argument("--random-state", type=int, default=None, metavar="N", help="seed")
    res.add_argument("--device", default=None,
                     help="torch device for skltsynth resamplers (default: the method's, auto)")
    res.add_argument("--quiet", action="store_true",
                     help="no progress on stderr (the summary line still goes to stdout)")
    res.add_argument("--verbose", "-v", action="count", default=0,
                     help="more progress: also print the resampler with its settings (by "
                     "default: a line per step and progress bars on long work)")
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
                       f"{fast_params_text()} (defaults {diffusion_defaults_text()}; "
                       "'auto' sizes the denoiser and its steps to the data); the guided "
                       "variants' Epistemic Head "
                       "trains 15 + 10 epochs (defaults 50 + 20); other methods unchanged")
    bench.set_defaults(func=_cmd_benchmark)

    methods = sub.add_parser("methods", help="list the known methods",
                             description="List the methods known to demo, resample and "
                             "benchmark, with what they do.")
    methods.set_defaults(func=_cmd_methods)
    return parser


def _missing_module(method):
    """The first module ``method`` needs that is not installed, or ``None``.

    Found with ``importlib.util.find_spec``, without importing anything, so
    that ``skltsynth methods`` does not load torch and scikit-learn (the
    registry's ``unavailable_reason`` imports the resampler classes).
    """
    import importlib.util

    factory = method.factory
    modules = list(method.requires)
    if isinstance(factory, str):
        modules.append(factory.partition(":")[0])
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except ImportError:  # a parent package is missing
            return module
    return None


def _cmd_methods(args):
    bench = _benchmark()
    # every registered method, available here or not (the registry keeps them in order)
    methods = bench.registered_methods()
    width = max((len(m.name) for m in methods), default=0)
    groups = (
        ("Resampling methods (resample, demo and benchmark):", True),
        ("Baselines that add no rows (demo and benchmark only; resample refuses them):", False),
    )
    for title, resamples in groups:
        print(title)
        for method in methods:
            if _resamples(method) != resamples:
                continue
            missing = _missing_module(method)
            note = f" (unavailable: needs the {missing!r} package)" if missing else ""
            print(f"  {method.name:{width}s}  {method.description} "
                  f"[{', '.join(method.tasks)}]{note}")
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
        0 on success, 2 on a usage or input error (one line on stderr), 130
        when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CLIError, EmbeddingFileError) as exc:
        print(f"skltsynth: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a missing, unreadable or unwritable file
        print(f"skltsynth: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skltsynth: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
