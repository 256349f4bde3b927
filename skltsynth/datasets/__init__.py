"""Datasets: the long-tailed protocol, benchmark loaders and a shipped demo set.

* :func:`make_long_tailed` -- subsample a balanced training split into a
  long-tailed one (the benchmark protocol);
* :func:`load_clinc150`, :func:`load_clinc150_lt`, :func:`load_stsb_dir` --
  the benchmark embedding files (not shipped; found via ``path``, the
  ``SKLTSYNTH_DATA`` environment variable or a ``shared/datasets`` folder);
* :func:`load_randhie_dir`, :func:`load_fair_dir` -- real tabular DIR tasks
  from tables statsmodels ships, split by :func:`make_dir_splits`;
* :func:`load_demo` -- a small long-tailed embedding set inside the package.
"""

from ._demo import load_demo
from ._loaders import (
    STSB_BIN_EDGES,
    find_data_file,
    load_clinc150,
    load_clinc150_lt,
    load_stsb_dir,
    pair_features,
)
from ._long_tailed import long_tailed_counts, make_long_tailed
from ._tabular_dir import load_fair_dir, load_randhie_dir, make_dir_splits

__all__ = [
    "STSB_BIN_EDGES",
    "find_data_file",
    "load_clinc150",
    "load_clinc150_lt",
    "load_demo",
    "load_fair_dir",
    "load_randhie_dir",
    "load_stsb_dir",
    "long_tailed_counts",
    "make_dir_splits",
    "make_long_tailed",
    "pair_features",
]
