"""The resampling plan from a distributed count of ``y``.

The counts are computed chunk by chunk on the workers; the plan itself is
made by the package's planning code (:func:`skltsynth.policy.plan.make_plan`
through the resampler's base ``_plan``) on a label vector with those counts,
so ``sampling_strategy`` means exactly what it means in memory.  The driver
holds that vector briefly (one label per row, 8 bytes a row: 80 MB for 10M
rows), never ``X``.
"""

from __future__ import annotations

from dataclasses import dataclass

import dask
import numpy as np
from sklearn.base import clone

from ..policy.plan import ResamplingPlan
from ..policy.targets import _check_edges, assign_bins, bin_edges
from ._inputs import check_y_block

__all__ = ["GroupLayout", "distributed_plan", "group_index"]


@dataclass
class GroupLayout:
    """Where the rows of every group are, and which groups each request reads.

    Attributes
    ----------
    plan : ResamplingPlan
        The plan, with an empty ``groups`` (row groups live on the workers).
    chunk_counts : ndarray of shape (n_chunks, n_groups), int64
        Rows of every group in every row chunk.
    pools : dict of int to list of int
        Requested group -> the groups whose rows form its seed pool (itself,
        or for a sparse DIR bin the neighbouring bins, in bin order).
    classes : ndarray or None
        Sorted class labels (classification).
    """

    plan: ResamplingPlan
    chunk_counts: np.ndarray
    pools: dict
    classes: np.ndarray | None

    @property
    def needed(self):
        """Groups whose rows some request reads, sorted."""
        return sorted({b for bins in self.pools.values() for b in bins})


def group_index(y_block, task, classes=None, edges=None):
    """Group index of every row of a chunk: its class's index, or its DIR bin."""
    if task == "classification":
        return np.searchsorted(classes, y_block).astype(np.int64)
    return assign_bins(y_block, edges)


def _chunk_task(resampler, block):
    return resampler._resolve_task(np.asarray(block))


def _chunk_classes(resampler, block):
    block = check_y_block(block, resampler, "classification")
    values, counts = np.unique(block, return_counts=True)
    return values, counts, block.dtype


def _chunk_range(resampler, block):
    block = check_y_block(block, resampler, "regression")
    return float(block.min()), float(block.max())


def _chunk_bins(resampler, block, edges):
    block = check_y_block(block, resampler, "regression")
    return np.bincount(assign_bins(block, edges), minlength=len(edges) - 1)


def _resolve_task(resampler, y):
    if resampler.target_type != "auto":
        return resampler.target_type
    parts = [dask.delayed(_chunk_task)(resampler, b) for b in y.to_delayed()]
    kinds = dask.compute(*parts)
    return "regression" if "regression" in kinds else "classification"


def _classification_counts(resampler, y):
    parts = dask.compute(*[dask.delayed(_chunk_classes)(resampler, b) for b in y.to_delayed()])
    classes = np.unique(np.concatenate([p[0] for p in parts]))
    counts = np.zeros((len(parts), len(classes)), dtype=np.int64)
    for i, (values, c, _) in enumerate(parts):
        counts[i, np.searchsorted(classes, values)] = c
    return classes, counts


def _regression_edges(resampler, y):
    """DIR bin edges as in memory: from the range alone, or (auto rule, callable) from y."""
    if resampler.n_bins is not None and not isinstance(resampler.n_bins, (int, np.integer)):
        edges = _check_edges(resampler.n_bins)
        needs_y = callable(resampler.sampling_strategy)
    else:
        ranges = dask.compute(*[dask.delayed(_chunk_range)(resampler, b)
                                for b in y.to_delayed()])
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        needs_y = callable(resampler.sampling_strategy) or (
            resampler.n_bins is None and resampler.bin_width is None)
        edges = None
        if not needs_y:
            edges = bin_edges(np.array([lo, hi]), n_bins=resampler.n_bins,
                              width=resampler.bin_width)
    return edges, needs_y


def distributed_plan(resampler, y):
    """Task, counts and plan for a dask ``y`` (row chunks), without reading ``X``.

    Parameters
    ----------
    resampler : BaseEmbeddingResampler
        With parameters validated; its ``target_type``, ``sampling_strategy``
        and binning parameters are used.
    y : dask.array.Array of shape (n,)

    Returns
    -------
    task : str
    layout : GroupLayout
    strategy : dict
        The resolved ``sampling_strategy_``.
    y_values : ndarray
        A label vector with the counts of ``y`` (sorted; or ``y`` itself when
        the plan needs the values: a callable strategy, the automatic bin
        count rule).
    """
    task = _resolve_task(resampler, y)
    planner = clone(resampler).set_params(target_type=task)
    classes = None
    if task == "classification":
        classes, chunk_counts = _classification_counts(resampler, y)
        y_values = np.repeat(classes, chunk_counts.sum(axis=0))
    else:
        edges, needs_y = _regression_edges(resampler, y)
        if needs_y:
            y_values = np.concatenate(dask.compute(*[
                dask.delayed(check_y_block)(b, resampler, "regression") for b in y.to_delayed()
            ]))
            if edges is None:
                edges = bin_edges(y_values, n_bins=resampler.n_bins, width=resampler.bin_width)
        chunk_counts = np.stack(dask.compute(*[dask.delayed(_chunk_bins)(resampler, b, edges)
                                               for b in y.to_delayed()]))
        if not needs_y:
            centres = (edges[:-1] + edges[1:]) / 2.0
            y_values = np.repeat(centres, chunk_counts.sum(axis=0))
        planner.set_params(n_bins=edges, bin_width=None)
    # the global checks of the in-memory path (two classes, a non-constant target)
    summary = classes if task == "classification" else np.array([y_values.min(), y_values.max()])
    planner._check_inputs(np.zeros((len(summary), 1)), summary)
    # the resampler's own plan, as in memory (LatentDiff's per-bin caps need only the
    # counts); a priority over a model's errors needs the rows and is not applied
    # (check_diffusion warns)
    if "priority_lambda" in planner.get_params():
        planner.set_params(priority_lambda=None)
    plan, strategy = planner._plan(None, y_values, task)
    rep = plan.seed_pool(min_rows=2)
    pools = {g: np.unique(plan.groups[rows]).tolist() for g, rows in rep.items()}
    plan.groups = np.zeros(0, dtype=np.int64)
    return task, GroupLayout(plan, chunk_counts, pools, classes), strategy, y_values
