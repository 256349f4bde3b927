"""Resampling on Dask: data larger than one machine (``pip install skltsynth[distributed]``).

:class:`DaskResampler` runs a skltsynth resampler on dask arrays or
DataFrames in row chunks, on a ``distributed`` cluster or Dask's local
scheduler; see :doc:`/distributed`.
"""

from .resampler import DaskResampler

__all__ = ["DaskResampler"]
