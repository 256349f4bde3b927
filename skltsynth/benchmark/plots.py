"""Charts of a one-head benchmark summary (matplotlib, imported lazily)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .registry import REFERENCE
from .report import best_baselines

__all__ = ["plot_results"]


def plot_results(df, path, title=None):
    """Charts of a :func:`summarise` table (matplotlib, imported lazily).

    One row of panels sharing the method axis (one bar per method, methods
    top to bottom in table order): the main score overall and per shot group
    (accuracy for classes, MSE for regression) with the standard deviation
    over seeds as error bars, then the resample time (log scale, with the
    ratio to the reference method -- SMOTE, SMOTER for regression -- written
    next to each bar; its spread over seeds as error bars) and the peak memory
    of the resampling call (with its ratio).  The best baseline of each
    score panel is a red dotted line: a skltsynth resampler wins on this head
    only to the right of it (left of it for MSE).  Methods that were skipped
    or failed are marked as such.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`summarise` (one dataset).
    path : str or path-like
        Image file to write (format from the suffix: png, pdf, svg).
    title : str, default=None
        First line of the figure title (e.g. the dataset and head).

    Returns
    -------
    path : pathlib.Path
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_results needs matplotlib: pip install 'skltsynth[plots]'"
        ) from exc
    task = df.attrs.get("task") or df["task"].iloc[0]
    regression = task == "regression"
    metric, label = ("mse", "MSE") if regression else ("accuracy", "accuracy")
    groups = [("", "all"), ("many_", "many"), ("medium_", "medium"), ("few_", "few")]
    groups = [(p, g) for p, g in groups if f"{p}{metric}" in df]
    methods = [str(m) for m in df.index]
    n = len(methods)
    ok = (df["n_seeds"] > 0).to_numpy() if "n_seeds" in df else np.ones(n, bool)
    ref = df.attrs.get("reference") or REFERENCE.get(task, "")
    n_seeds = int(df["n_seeds"].max()) if "n_seeds" in df and n else 1
    best = best_baselines(df, [f"{p}{metric}" for p, _ in groups])

    def column(key):
        values = df[key].to_numpy(dtype=float) if key in df else np.full(n, np.nan)
        return np.where(ok, values, np.nan)

    fig = Figure(figsize=(2.3 * (len(groups) + 2) + 1.6, 0.3 * n + (2.0 if title else 1.6)))
    axes = fig.subplots(1, len(groups) + 2, sharey=True)
    pos = np.arange(n)
    better = "lower is better" if regression else "higher is better"
    for ax, (prefix, group) in zip(axes, groups):
        vals = column(f"{prefix}{metric}")
        errs = np.nan_to_num(column(f"{prefix}{metric}_std"))
        ax.errorbar(vals, pos, xerr=errs, fmt="o", color="tab:blue", ms=4, capsize=2,
                    elinewidth=0.8)
        if ref in methods and np.isfinite(vals[methods.index(ref)]):
            ax.axvline(vals[methods.index(ref)], color="tab:green", lw=0.8, ls="--",
                       label=ref)
            ax.plot(vals[methods.index(ref)], methods.index(ref), "o", color="tab:green", ms=5,
                    zorder=3)
        top = best.get(f"{prefix}{metric}")
        if top:
            ax.axvline(top[1], color="tab:red", lw=0.9, ls=":", label="best baseline")
        finite = vals[np.isfinite(vals)]
        if finite.size:
            lo, hi = finite.min(), finite.max()
            pad = max(0.15 * (hi - lo), 0.01 * max(abs(hi), 1e-9))
            left = max(0.0, lo - pad - float(np.nanmax(errs)))
            ax.set_xlim(left, hi + pad + float(np.nanmax(errs)))
        for i in np.flatnonzero(~np.isfinite(vals)):
            status = str(df["status"].iloc[i]) if "status" in df else "n/a"
            ax.text(0.02, i, status, transform=ax.get_yaxis_transform(), va="center",
                    fontsize=7, color="tab:red")
        ax.set_title(f"{label}: {group}" + (f"\n(best baseline: {top[0]})" if top else ""),
                     fontsize=8.5)
        ax.tick_params(axis="x", labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.grid(alpha=0.3)
    axes[0].set_yticks(pos, methods, fontsize=8)
    axes[0].invert_yaxis()

    def ratio_labels(ax, values, ratios, fmt):
        for i, (v, r) in enumerate(zip(values, ratios)):
            if np.isfinite(v) and v > 0:
                text = fmt(v) + (f"  ({r:.0f}x)" if np.isfinite(r) and r >= 10 else
                                 f"  ({r:.2g}x)" if np.isfinite(r) else "")
                ax.text(v, i, " " + text, va="center", fontsize=6.5)

    secs = column("resample_seconds")
    sstd = np.nan_to_num(column("resample_seconds_std"))
    ax_t = axes[len(groups)]
    shown = np.where(secs > 0, secs, np.nan)
    ax_t.barh(pos, np.nan_to_num(shown), xerr=np.where(secs > 0, sstd, 0.0), color="tab:gray",
              capsize=2, error_kw={"elinewidth": 0.8})
    positive = shown[np.isfinite(shown)]
    if positive.size:
        ax_t.set_xscale("log")
        ax_t.set_xlim(positive.min() / 3, positive.max() * 60)
    ratio_labels(ax_t, secs, column("time_ratio"), lambda v: f"{v:.3g} s")
    for i in np.flatnonzero(ok & ~(secs > 0)):
        ax_t.text(0.02, i, "no resampling", transform=ax_t.get_yaxis_transform(),
                  va="center", fontsize=6.5, color="0.4")
    ax_t.set_title(f"resample time (log; x {ref})" if ref else "resample time (log)",
                   fontsize=9)
    ax_t.tick_params(axis="x", labelsize=7)
    mem = column("peak_bytes") / 2**20
    ax_m = axes[len(groups) + 1]
    ax_m.barh(pos, np.nan_to_num(mem), color="tab:orange")
    if np.isfinite(mem).any() and np.nanmax(mem) > 0:
        ax_m.set_xlim(0, np.nanmax(mem) * 1.9)
    ratio_labels(ax_m, mem, column("memory_ratio"), lambda v: f"{v:.3g} MB")
    ax_m.set_title(f"peak memory (MB; x {ref})" if ref else "peak memory (MB)", fontsize=9)
    ax_m.tick_params(axis="x", labelsize=7)
    spread = f"error bars: std over {n_seeds} seeds" if n_seeds > 1 else "one seed"
    if best:
        axes[0].legend(fontsize=6.5, loc="lower left")
    fig.suptitle((f"{title}\n" if title else "")
                 + f"{label} per shot group ({better}; {spread}; red dotted: best baseline); "
                 f"resample time and peak memory, ratio to {ref or 'the reference'} in brackets",
                 fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path

