"""DaskResampler: any skltsynth resampler on data larger than one machine."""

from __future__ import annotations

import numbers

import dask
import dask.array as da
import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import HasMethods, Interval

from .._torch_utils import resolve_device
from ._diffusion import check_diffusion, diffusion_synthetic_parts, is_diffusion
from ._inputs import as_dask_input
from ._partitions import gather_groups, sample_groups, validated_blocks
from ._plan import distributed_plan
from ._vmf import transfer_groups, vmf_synthetic_parts

__all__ = ["DaskResampler"]

#: Working memory of a group's task, in multiples of the group's rows (rows,
#: their normalised copy in the neighbour search, the pool and the draws).
_GROUP_MEMORY_FACTOR = 4
#: Rows per class or bin gathered to train a diffusion resampler without a memory size.
_DEFAULT_TRAIN_ROWS = 2048


class DaskResampler(BaseEstimator):
    """Run a skltsynth resampler on Dask arrays or DataFrames, on a cluster.

    ``X`` never comes to the driver: the plan (rows per class or DIR bin) is
    made from a count of ``y`` on the workers, and the synthetic rows of every
    class are generated on the workers, each task reading only the rows it
    needs.  With a ``distributed.Client`` active the work runs on its
    workers; without one, on Dask's local scheduler.

    * :class:`~skltsynth.VMFKDEResampler`: the rows of each class (or of
      each DIR bin's seed pool) are gathered on one worker, where their
      nearest neighbours and kernels are computed, then its synthetic rows
      are drawn in seed blocks of ``batch_size`` rows (several tasks for a
      large class).  The result is exactly ``resampler.fit_resample(X, y)``
      computed in memory, for the same ``random_state``, whatever the
      chunking.
    * :class:`~skltsynth.LatentDiffusionResampler`,
      :class:`~skltsynth.MemoryDDPMResampler`: a uniform sample of at most
      ``train_rows_per_group`` rows per class or bin is gathered from all
      chunks, the resampler is trained on it on one worker, and the trained
      engine generates every class's rows on all workers (see
      :doc:`/distributed` for what is and is not as in memory).

    Parameters
    ----------
    resampler : BaseEmbeddingResampler
        An unfitted skltsynth resampler; it is cloned.
    train_rows_per_group : int or None, default=None
        Diffusion resamplers only: most rows per class or bin they are
        trained on; ``None`` uses the resampler's ``memory_size`` when it has
        one (MemoryDDPMResampler), else 2048.
    rows_per_task : int or None, default=None
        Most synthetic rows one generation task returns (bounds a worker's
        memory together with the class size); ``None`` uses the row chunk
        size of ``X``.

    Attributes
    ----------
    resampler_ : BaseEmbeddingResampler
        The clone that was planned with (``sampling_strategy_``,
        ``target_type_``, ``bin_edges_`` set).
    sampling_strategy_ : dict
        Rows generated per class or bin index.
    target_type_ : str
        ``"classification"`` or ``"regression"``.
    bin_edges_ : ndarray or None
        DIR bin edges (regression).
    n_synthetic_ : int
        Number of synthetic rows.
    n_features_in_ : int
        Number of features.

    See Also
    --------
    skltsynth.VMFKDEResampler : Rows identical to this class's output.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skltsynth import VMFKDEResampler
    >>> from skltsynth.distributed import DaskResampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 8))
    >>> y = np.r_[np.zeros(250, dtype=int), np.ones(50, dtype=int)]
    >>> Xd, yd = da.from_array(X, chunks=(100, 8)), da.from_array(y, chunks=100)
    >>> X_res, y_res = DaskResampler(VMFKDEResampler(random_state=0)).fit_resample(Xd, yd)
    >>> X_res.shape, int((y_res == 1).sum().compute())
    ((500, 8), 250)
    >>> X_mem, _ = VMFKDEResampler(random_state=0).fit_resample(X, y)
    >>> bool(np.array_equal(X_res.compute(), X_mem))
    True
    """

    _parameter_constraints: dict = {
        "resampler": [HasMethods(["fit_resample", "_generate"])],
        "train_rows_per_group": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "rows_per_task": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(self, resampler, *, train_rows_per_group=None, rows_per_task=None):
        self.resampler = resampler
        self.train_rows_per_group = train_rows_per_group
        self.rows_per_task = rows_per_task

    def fit_resample(self, X, y):
        """Plan on the workers and return the resampled data, lazily.

        Counts ``y`` now (one pass over ``y``, never ``X``); everything else
        runs when the result is computed.  Errors in ``X`` (NaN, wrong
        dtype) are raised then, with the in-memory message.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
            Embeddings in row chunks (array-like input is wrapped).
        y : dask.array.Array or dask.dataframe.Series of shape (n_samples,)
            Class labels or continuous targets.

        Returns
        -------
        X_resampled : dask.array.Array or dask.dataframe.DataFrame
            Every input row unchanged and in order, then the synthetic rows.
        y_resampled : dask.array.Array or dask.dataframe.Series
            The corresponding targets.
        """
        self._validate_params()
        r = clone(self.resampler)
        r._validate_params()
        data, want = as_dask_input(r, X, y)
        task, layout, strategy, _ = distributed_plan(r, data.y)
        r._init_random_state()
        r.device_ = resolve_device(r.device)  # the driver's; each worker resolves its own
        plan = layout.plan
        r.target_type_, r.sampling_strategy_, r.bin_edges_ = task, strategy, plan.bin_edges
        d = data.X.shape[1]
        r._validate_method_params(np.empty((0, d), dtype=want), plan)
        self.resampler_, self.sampling_strategy_ = r, strategy
        self.target_type_, self.bin_edges_ = task, plan.bin_edges
        self.n_features_in_, self.n_synthetic_ = d, plan.n_synthetic

        blocks = validated_blocks(data, r, want, task)
        y_dtype = np.float64 if task == "regression" else np.asarray(layout.classes).dtype
        n = int(data.X.shape[0])
        X_orig = da.concatenate([da.from_delayed(x, (c, d), want) for (x, _), c
                                 in zip(blocks, data.X.chunks[0])])
        y_orig = da.concatenate([da.from_delayed(yb, (c,), y_dtype) for (_, yb), c
                                 in zip(blocks, data.X.chunks[0])])
        per_task = self.rows_per_task or max(data.X.chunks[0])
        if plan.n_synthetic == 0:
            parts = []
        elif is_diffusion(r):
            check_diffusion(r, task)
            size = self.train_rows_per_group or getattr(r, "memory_size", _DEFAULT_TRAIN_ROWS)
            sample = sample_groups(blocks, layout, task, size, r._seed)
            parts = diffusion_synthetic_parts(r, layout, sample, want, per_task)
        else:
            self._check_group_memory(layout, d, np.dtype(want).itemsize)
            rows = gather_groups(blocks, layout, task, d, want, y_dtype,
                                 groups=transfer_groups(r, layout))
            parts = vmf_synthetic_parts(r, layout, rows, X_orig, n, per_task)
        X_parts = [X_orig] + [da.from_delayed(dask.delayed(_first)(p), (k, d), want)
                              for p, k in parts]
        y_parts = [y_orig] + [da.from_delayed(dask.delayed(_second)(p), (k,), y_dtype)
                              for p, k in parts]
        return self._output(data, da.concatenate(X_parts), da.concatenate(y_parts))

    # ------------------------------------------------------------- helpers
    def _check_group_memory(self, layout, d, itemsize):
        """A clear error, before computing, when a group's rows cannot fit one worker."""
        limit = _worker_memory_limit()
        if limit is None:
            return
        counts = layout.plan.group_counts
        for g, bins in layout.pools.items():
            need = int(counts[bins].sum()) * d * itemsize * _GROUP_MEMORY_FACTOR
            if need > limit:
                value = np.asarray(layout.plan.group_values[g]).tolist()
                raise MemoryError(
                    f"Group {value!r} (index {g}) has {int(counts[bins].sum())} rows of {d} "
                    f"features: its neighbour search and sampling need about {need / 2**30:.2f} "
                    f"GiB on one worker, more than the workers' memory limit of "
                    f"{limit / 2**30:.2f} GiB. Use workers with more memory, or fewer "
                    "features (e.g. float32, a PCA)."
                )

    def _output(self, data, X_res, y_res):
        if data.columns is not None:
            import dask.dataframe as dd

            X_res = dd.from_dask_array(X_res, columns=data.columns).astype(dict(data.dtypes))
        if data.y_is_series:
            import dask.dataframe as dd

            y_res = dd.from_dask_array(y_res, columns=data.y_name)
        return X_res, y_res


def _first(pair):
    return pair[0]


def _second(pair):
    return pair[1]


def _worker_memory_limit():
    """Smallest memory limit of the active client's workers (bytes), or None."""
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        return None
    limits = [w.get("memory_limit") or 0 for w in client.scheduler_info()["workers"].values()]
    limits = [v for v in limits if v > 0]
    return min(limits) if limits else None
