"""Rows of one group from all row chunks, and bounded per-group samples.

A chunk is split once into the rows of every group a request needs (one
task per chunk); each piece travels on its own, so a group's worker receives
only that group's rows, never a whole chunk.  For the diffusion resamplers a
bounded uniform sample per group is drawn instead: a reservoir per chunk
(:class:`skltsynth.engines.memory.ClassMemoryBank`, Algorithm R), then reservoirs
merged pairwise in a tree (a merge of two uniform samples of disjoint
streams is again uniform: the number taken from each side is
hypergeometric).
"""

from __future__ import annotations

import operator

import dask
import numpy as np

from .._random import derive_rng
from ..engines.memory import ClassMemoryBank
from ._inputs import check_X_block, check_y_block
from ._plan import group_index

__all__ = ["gather_groups", "merge_samples", "sample_groups", "validated_blocks"]

#: Stream purposes of the distributed path (beside the resampler's own).
_RESERVOIR_STREAM, _MERGE_STREAM = 100, 101


def validated_blocks(data, resampler, want, task):
    """Delayed (X, y) row chunks, each validated once (shared by every consumer)."""
    Xs = data.X.to_delayed()[:, 0]
    ys = data.y.to_delayed()
    check_x = dask.delayed(check_X_block, pure=True)
    check_y = dask.delayed(check_y_block, pure=True)
    return [(check_x(x, resampler, want), check_y(y, resampler, task)) for x, y in zip(Xs, ys)]


def _split(X, y, task, classes, edges, wanted):
    groups = group_index(y, task, classes, edges)
    return {int(b): (X[groups == b], y[groups == b]) for b in wanted if np.any(groups == b)}


def _join(pieces, d, dtype, y_dtype):
    if not pieces:
        return np.empty((0, d), dtype=dtype), np.empty(0, dtype=y_dtype)
    return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])


def gather_groups(blocks, layout, task, d, dtype, y_dtype, groups=None):
    """Delayed ``(X_b, y_b)`` of every needed group ``b`` (or of ``groups``), rows in input order."""
    needed = layout.needed if groups is None else list(groups)
    edges = layout.plan.bin_edges
    splits = [dask.delayed(_split, pure=True, nout=None)(x, y, task, layout.classes, edges,
                                                         needed)
              for x, y in blocks]
    out = {}
    for b in needed:
        chunks = np.flatnonzero(layout.chunk_counts[:, b])
        pieces = [dask.delayed(operator.getitem, pure=True)(splits[i], b) for i in chunks]
        out[b] = dask.delayed(_join, pure=True)(pieces, d, dtype, y_dtype)
    return out


def _reservoir(X, y, task, classes, edges, size, seed, index):
    groups = group_index(y, task, classes, edges)
    bank = ClassMemoryBank("reservoir", size)
    if X.shape[0]:
        bank.update(X, groups, derive_rng(seed, _RESERVOIR_STREAM, index),
                    payload=y if task == "regression" else None)
    return _bank_sample(bank)


def _bank_sample(bank):
    """``{group: (rows, targets, n_seen)}`` of a bank (targets: the payload)."""
    if not len(bank):
        return {}
    X, keys, payload = bank.rows(with_payload=True)
    return {int(k): (X[keys == k], payload[keys == k], int(bank.n_seen_[k]))
            for k in np.unique(keys)}


def merge_samples(a, b, size, rng):
    """Merge two uniform per-group samples of disjoint streams into one of at most ``size``.

    Parameters
    ----------
    a, b : dict of int to (ndarray, ndarray, int)
        Group -> (rows, targets, rows seen), each a uniform sample without
        replacement of ``min(size, seen)`` rows of its stream.
    size : int
    rng : numpy.random.Generator

    Returns
    -------
    merged : dict
        A uniform sample of ``min(size, seen_a + seen_b)`` rows of the union.
    """
    out = dict(a)
    for g, (Xb, yb, nb) in b.items():
        if g not in out:
            out[g] = (Xb, yb, nb)
            continue
        Xa, ya, na = out[g]
        m = min(size, na + nb)
        from_a = int(rng.hypergeometric(na, nb, m)) if na and nb else (m if na else 0)
        ia = np.sort(rng.choice(len(Xa), size=from_a, replace=False))
        ib = np.sort(rng.choice(len(Xb), size=m - from_a, replace=False))
        out[g] = (np.concatenate([Xa[ia], Xb[ib]]), np.concatenate([ya[ia], yb[ib]]), na + nb)
    return out


def _merge(a, b, size, seed, level, index):
    return merge_samples(a, b, size, derive_rng(seed, _MERGE_STREAM, level, index))


def sample_groups(blocks, layout, task, size, seed):
    """Delayed ``{group: (rows, targets, seen)}``: a uniform sample of at most ``size`` per group.

    One reservoir per row chunk, merged pairwise in a tree (memory per task:
    two samples).  The sample depends on the chunking (each chunk has its
    own stream), not on the scheduling.
    """
    edges = layout.plan.bin_edges
    level = [dask.delayed(_reservoir, pure=True)(x, y, task, layout.classes, edges, size, seed,
                                                 i)
             for i, (x, y) in enumerate(blocks)]
    depth = 0
    while len(level) > 1:
        nxt = [dask.delayed(_merge, pure=True)(level[i], level[i + 1], size, seed, depth, i)
               for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level, depth = nxt, depth + 1
    return level[0]
