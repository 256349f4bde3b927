"""VMFKDEResampler on Dask: neighbours within a group, then sampling, group by group.

The graph calls the resampler's own per-group methods (``_group_kappa``,
``_fallback_kappa``, ``_generate_group``) with the rows of one group (or of
one DIR bin's seed pool), so it draws exactly the rows of the in-memory path
for the same ``random_state``, whatever the chunking.
"""

from __future__ import annotations

import dask
import numpy as np

from .._torch_utils import resolve_device

__all__ = ["transfer_groups", "vmf_synthetic_parts"]


def _on_worker(resampler):
    """The worker's device for a resampler with ``device="auto"`` (its GPU when present)."""
    resampler.device_ = resolve_device(resampler.device)
    return resampler


def _kappa(resampler, rows):
    return _on_worker(resampler)._group_kappa(rows[0])


def _fallback(resampler, kappas, n):
    return resampler._fallback_kappa(np.concatenate(kappas), n, None)


def _pool(parts, kappas, bins):
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    groups = np.repeat(np.asarray(bins, dtype=np.int64), [len(p[0]) for p in parts])
    return X, y, groups, np.concatenate(kappas)


def _summary(resampler, b, rows):
    return resampler._class_summary(b, rows[0])


def _table(resampler, keys, summaries, plan):
    return resampler._transfer_table(dict(zip(keys, summaries)), plan)


def _draw(resampler, g, pool, fallback, plan, blocks, table):
    return _on_worker(resampler)._generate_group(g, *pool, fallback, plan, blocks=blocks,
                                                 transfer=None if table is None else table[g])


def transfer_groups(resampler, layout):
    """Groups whose rows the VMF graph reads: the needed ones, or all for transfer rows."""
    if resampler._transfer_fraction(layout.plan.task) > 0:
        return [int(b) for b in np.flatnonzero(layout.chunk_counts.sum(axis=0))]
    return layout.needed


def vmf_synthetic_parts(resampler, layout, rows, X, n, rows_per_task):
    """Delayed synthetic parts ``[(delayed (X_new, y_new), n_rows), ...]`` in output order.

    Parameters
    ----------
    resampler : VMFKDEResampler
        With ``_seed`` set (a delayed copy travels to the workers).
    layout : GroupLayout
    rows : dict of int to Delayed
        ``(X_b, y_b)`` of every group of :func:`transfer_groups` (see
        ``gather_groups``).
    X : dask.array.Array
        Validated rows (read only for the global fallback, ``FALLBACK_ROWS`` rows).
    n : int
        Number of rows.
    rows_per_task : int
        Synthetic rows per task (whole seed blocks; at least one block).
    """
    plan = layout.plan
    counts = plan.group_counts
    r = dask.delayed(resampler, pure=True)
    p = dask.delayed(plan, pure=True)
    kappas = {b: dask.delayed(_kappa, pure=True)(r, rows[b]) for b in layout.needed}
    fallback = None
    if isinstance(resampler.kappa, str) and np.any(counts[layout.needed] == 1):
        if np.any(counts[layout.needed] >= 2):  # the median of all seed rows' values
            fallback = dask.delayed(_fallback, pure=True)(r, list(kappas.values()), n)
        else:  # every seed row is alone in its group: global fallback on a subsample
            fallback = resampler._fallback_kappa(np.empty(0), n, lambda idx: X[idx].compute())
    table = None
    if resampler._transfer_fraction(plan.task) > 0:  # class summaries, then the small table
        keys = sorted(rows)
        summaries = [dask.delayed(_summary, pure=True)(r, b, rows[b]) for b in keys]
        table = dask.delayed(_table, pure=True)(r, keys, summaries, p)
    step = resampler._block_rows(X.shape[1])
    per_task = max(1, rows_per_task // step)
    parts = []
    for g, n_new in plan.n_new.items():
        bins = layout.pools[g]
        pool = dask.delayed(_pool, pure=True)([rows[b] for b in bins], [kappas[b] for b in bins],
                                              bins)
        n_blocks = -(-n_new // step)
        for first in range(0, n_blocks, per_task):
            blocks = list(range(first, min(n_blocks, first + per_task)))
            size = min(n_new, (blocks[-1] + 1) * step) - blocks[0] * step
            parts.append((dask.delayed(_draw, pure=True)(r, g, pool, fallback, p, blocks, table),
                          size))
    return parts
