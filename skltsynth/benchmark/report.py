"""Summaries of comparison results: mean and spread over seeds, ratios, Markdown tables.

:func:`summarise` turns the result rows of
:func:`~skltsynth.benchmark.run_comparison` into one row per (head, method)
with the mean and standard deviation over seeds and the time / memory
ratios to SMOTE's (SMOTER's for regression) on the same dataset and head;
:func:`format_table` renders one table per head as Markdown and marks the
best baseline of every score column: a method "wins" on a head only where
it beats that.
"""

from __future__ import annotations

import math
import numbers

from .._defaults import BIN_SHOTS, CLASS_SHOTS
from .registry import REFERENCE, get_method

__all__ = ["best_baselines", "format_table", "is_ours", "split_by_head", "summarise"]

_COUNT_KEYS = ("n_train", "n_synthetic", "resample_seconds", "peak_bytes", "fit_seconds")
_ID_KEYS = ("dataset", "task", "head", "method", "seed", "status", "note")
_CLASS_COLUMNS = [
    ("accuracy", "Acc"), ("many_accuracy", "Many"), ("medium_accuracy", "Medium"),
    ("few_accuracy", "Few"), ("macro_f1", "Macro-F1"), ("few_macro_f1", "Few F1"),
]
_REG_COLUMNS = [
    ("mse", "MSE"), ("many_mse", "Many MSE"), ("medium_mse", "Med. MSE"),
    ("few_mse", "Few MSE"), ("mae", "MAE"), ("few_mae", "Few MAE"), ("gm", "GM"),
    ("few_gm", "Few GM"),
]
_QUALITY_COLUMNS = [
    ("q_precision", "Precision"), ("q_recall", "Recall"), ("q_coverage", "Coverage"),
    ("q_copy_fraction", "Copies"),
]


def is_ours(method):
    """True for a registered skltsynth resampler (``Method.ours``); False otherwise."""
    try:
        return get_method(str(method)).ours
    except KeyError:
        return False


def _metric_keys(results):
    keys = []
    for row in results:
        for key, value in row.items():
            if (key in _ID_KEYS or key in _COUNT_KEYS or key.endswith("_n")
                    or not isinstance(value, numbers.Real) or key in keys):
                continue
            keys.append(key)
    return keys


def _mean_std(part, key):
    import pandas as pd

    vals = part[key].astype(float).dropna() if key in part else pd.Series(dtype=float)
    return (vals.mean(), vals.std(ddof=0)) if len(vals) else (math.nan, math.nan)


def _ratios(summary):
    """Time / memory ratios to the reference method of each (dataset, head)."""
    summary["time_ratio"] = math.nan
    summary["memory_ratio"] = math.nan
    found = False
    for _, part in summary.groupby(["dataset", "head"], sort=False):
        ref = REFERENCE.get(part["task"].iloc[0])
        ref_row = part[(part["method"] == ref) & (part["n_seeds"] > 0)]
        if ref_row.empty:
            continue
        found = True
        t_ref = float(ref_row["resample_seconds"].iloc[0])
        m_ref = float(ref_row["peak_bytes"].iloc[0])
        idx = part.index
        summary.loc[idx, "time_ratio"] = part["resample_seconds"] / t_ref if t_ref > 0 else math.nan
        summary.loc[idx, "memory_ratio"] = part["peak_bytes"] / m_ref if m_ref > 0 else math.nan
    return summary if found else summary.drop(columns=["time_ratio", "memory_ratio"])


def summarise(results):
    """Mean and spread over seeds of every (head, method)'s results.

    Parameters
    ----------
    results : list of dict
        Output of :func:`~skltsynth.benchmark.run_comparison` (one dataset,
        or several with a ``dataset`` field; rows without ``head`` count as
        one unnamed head).

    Returns
    -------
    summary : pandas.DataFrame
        One row per (head, method), in first-seen order.  Index ``method``
        when the results have one head, else ``(head, method)``; a
        ``dataset`` column when they span several datasets.  Columns:
        ``task``, ``head``, ``n_seeds`` (successful runs), every metric (mean
        over seeds) and ``{metric}_std`` (standard deviation, ``ddof=0``),
        ``n_synthetic``, ``resample_seconds`` (and ``_std``), ``peak_bytes``,
        ``fit_seconds``, ``time_ratio`` and ``memory_ratio`` (resample time and
        peak memory divided by SMOTE's -- SMOTER's for regression -- on the same
        dataset and head; present when that method ran), ``status`` and
        ``note``.  ``attrs`` holds ``task`` and ``reference``.
    """
    import pandas as pd

    if not results:
        raise ValueError("No results to summarise.")
    frame = pd.DataFrame(results)
    for key in ("dataset", "head"):
        if key not in frame:
            frame[key] = None
        frame[key] = frame[key].fillna("")
    metrics = _metric_keys(results)
    rows = []
    for (dataset, head, method), part in frame.groupby(["dataset", "head", "method"],
                                                        sort=False):
        ok = part[part["status"] == "ok"]
        row = {"dataset": dataset, "head": head, "method": method,
               "task": part["task"].iloc[0], "n_seeds": int(len(ok))}
        for key in metrics:
            row[key], row[f"{key}_std"] = _mean_std(ok, key)
        for key in ("n_synthetic", "resample_seconds", "peak_bytes", "fit_seconds"):
            row[key] = _mean_std(ok, key)[0]
        row["resample_seconds_std"] = _mean_std(ok, "resample_seconds")[1]
        bad = part[part["status"] != "ok"]
        row["status"] = "ok" if bad.empty else ("partial" if len(ok) else bad["status"].iloc[0])
        notes = [n for n in part["note"].fillna("").astype(str) if n]
        row["note"] = notes[0] if notes else ""
        rows.append(row)
    summary = _ratios(pd.DataFrame(rows))
    tasks = summary["task"].unique().tolist()
    if summary["dataset"].nunique() <= 1:
        summary = summary.drop(columns="dataset")
    index = ["method"] if summary["head"].nunique() <= 1 else ["head", "method"]
    summary = summary.set_index(index, drop=False).rename_axis(index)
    summary = summary.drop(columns=index)
    if "head" not in index:
        summary["head"] = frame["head"].iloc[0]
    summary.attrs["task"] = tasks[0] if len(tasks) == 1 else "mixed"
    summary.attrs["reference"] = REFERENCE.get(summary.attrs["task"])
    return summary


def split_by_head(summary):
    """``{head: summary of that head}`` (index ``method``), in first-seen order."""
    if summary.index.nlevels == 1:
        return {str(summary["head"].iloc[0]) if len(summary) else "": summary}
    out = {}
    for head in dict.fromkeys(summary.index.get_level_values("head")):
        part = summary.xs(head, level="head").copy()
        part["head"] = head
        part.attrs = dict(summary.attrs)
        out[head] = part
    return out


def _lower_is_better(key):
    return key.endswith(("mse", "mae", "gm"))


def best_baselines(df, keys=None):
    """The best baseline (not ``ours``) of each score column of a one-head summary.

    Parameters
    ----------
    df : pandas.DataFrame
        A :func:`summarise` table of one head (index ``method``).
    keys : list of str, default=None
        Score columns (default: the table columns of the task that ``df`` has).

    Returns
    -------
    best : dict
        ``{key: (method, value)}`` (lower is better for MSE / MAE / GM).
    """
    task = df.attrs.get("task") or "classification"
    if keys is None:
        keys = [k for k, _ in (_REG_COLUMNS if task == "regression" else _CLASS_COLUMNS)
                if k in df]
    base = df[[not is_ours(m) for m in df.index]]
    base = base[base["n_seeds"] > 0] if "n_seeds" in base else base
    best = {}
    for key in keys:
        vals = base[key].astype(float).dropna() if key in base else []
        if len(vals):
            method = vals.idxmin() if _lower_is_better(key) else vals.idxmax()
            best[key] = (method, float(vals[method]))
    return best


def _fmt(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _caption(task, seeds, ref, ratios, quality):
    if task == "regression":
        what = ("MSE / MAE / GM on the test split; shot groups by the training count of the "
                f"test row's DIR bin: many > {BIN_SHOTS['many']}, medium "
                f"{BIN_SHOTS['few']}..{BIN_SHOTS['many']}, few < {BIN_SHOTS['few']}")
    else:
        what = ("accuracy and macro-F1 on the test split; shot groups by the training count "
                f"of the test row's class: many >= {CLASS_SHOTS['many']}, medium "
                f"{CLASS_SHOTS['few']}..{CLASS_SHOTS['many'] - 1}, few < {CLASS_SHOTS['few']}")
    return (
        f"{what}. Mean{' ± std' if seeds > 1 else ''} over {seeds} seed(s). **Bold**: the "
        "best baseline of the column; ▲: a skltsynth resampler above it. Resample time "
        "and peak memory of the resampling call"
        + (f"; ratios to {ref}'s." if ratios else ".")
        + (" Precision / recall / coverage (k=5 manifolds) and the fraction of exact "
           "copies of synthetic rows, against the real rows of their class or bin."
           if quality else "")
    )


def _score_cell(row, method, key, best, multi):
    text = _fmt(row[key])
    std = row.get(f"{key}_std")
    if text == "-":
        return text
    if key in best and best[key][0] == method:
        text = f"**{text}**"
    elif key in best and is_ours(method):
        value, top = float(row[key]), best[key][1]
        if (value < top) if _lower_is_better(key) else (value > top):
            text += " ▲"
    if multi and std is not None and not math.isnan(std):
        text += f" ± {std:.3f}"
    return text


def format_table(df, *, caption=True):
    """Render a :func:`summarise` table as Markdown (one table per head).

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`summarise` (one dataset).
    caption : bool, default=True
        Add a line explaining the columns, the best baseline per column and
        the notes of skipped / failed methods.

    Returns
    -------
    table : str
        Markdown: scores as ``mean ± std`` over seeds (std omitted for a
        single seed), the best baseline of each score column in bold and a
        ▲ on skltsynth resamplers above it, synthetic rows, resample time,
        peak memory and the ratios to the reference method.  Several heads
        give one ``### head`` section each.
    """
    parts = split_by_head(df)
    if len(parts) > 1:
        return "\n\n".join(f"### Head `{head}`\n\n{format_table(part, caption=caption)}"
                           for head, part in parts.items())
    task = df.attrs.get("task") or (df["task"].iloc[0] if "task" in df else "classification")
    columns = _REG_COLUMNS if task == "regression" else _CLASS_COLUMNS
    scores = [k for k, _ in columns if k in df]
    columns = [(k, h) for k, h in columns + _QUALITY_COLUMNS if k in df]
    best = best_baselines(df, scores)
    multi = "n_seeds" in df and df["n_seeds"].max() > 1
    ref = df.attrs.get("reference") or REFERENCE.get(task, "")
    head = ["Method"] + [h for _, h in columns] + ["Synthetic rows", "Resample (s)", "Peak MB"]
    ratios = "time_ratio" in df
    if ratios:
        head += [f"Time / {ref}", f"Memory / {ref}"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for method, row in df.iterrows():
        label = f"{row['dataset']}: {method}" if "dataset" in df else str(method)
        cells = [label] + [_score_cell(row, method, key, best if key in scores else {}, multi)
                           for key, _ in columns]
        ok = row.get("n_seeds", 1) > 0
        # methods that make no resampling call: nothing to time
        resampled = ok and not (row["resample_seconds"] == 0 and row["peak_bytes"] == 0
                                and row["n_synthetic"] == 0)
        cells.append(f"{row['n_synthetic']:.0f}" if ok and not math.isnan(row["n_synthetic"])
                     else "-")
        cells.append(_fmt(row["resample_seconds"], 2) if resampled else "-")
        cells.append(_fmt(row["peak_bytes"] / 2**20, 1) if resampled else "-")
        if ratios:
            cells += ([_fmt(row["time_ratio"], 2), _fmt(row["memory_ratio"], 2)] if resampled
                      else ["-", "-"])
        lines.append("| " + " | ".join(cells) + " |")
    if caption:
        seeds = int(df["n_seeds"].max()) if "n_seeds" in df else 1
        lines += ["", _caption(task, seeds, ref, ratios, "q_precision" in df)]
        for key, (method, value) in best.items():
            if key in ("accuracy", "few_accuracy", "mse", "few_mse"):
                lines.append(f"- best baseline, {key}: {method} ({value:.3f})")
        for method, row in df.iterrows():
            if row.get("note"):
                lines.append(f"- {method}: {row['status']} - {row['note']}")
    return "\n".join(lines)
