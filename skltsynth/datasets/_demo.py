"""The small long-tailed embedding set shipped inside the package."""

from __future__ import annotations

from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_demo"]

DEMO_FILE = "clinc50_lt_minilm.npz"

DESCR = """\
CLINC50-LT demo embeddings
--------------------------

A small long-tailed intent-classification set in embedding space, shipped with
skltsynth so that examples and ``skltsynth demo`` run without downloads.

* Source: CLINC150 (Larson et al., 2019, "An Evaluation Dataset for Intent
  Classification and Out-of-Scope Prediction", in-scope part), licence
  CC BY 3.0; see ``skltsynth/datasets/data/DEMO_LICENSE.txt``.
* Encoder: sentence-transformers ``all-MiniLM-L6-v2`` (384 dimensions, mean
  pooling), rows L2-normalised, stored as float16 (returned as float32, so
  row norms are 1 to about 1e-3).
* Classes: 50 of the 150 intents, chosen with ``numpy.random.default_rng(0)``;
  labels 0..49 index ``target_names``.
* Train: long-tailed with :func:`skltsynth.datasets.make_long_tailed`
  (n_max=100, imbalance ratio 20, seed 0): class sizes from 100 down to 5
  rows (1,604 rows in all).
* Test: balanced, the 30 CLINC150 test rows of every chosen intent (1,500).
* Shot groups (training rows per class): many >= 50, medium 15..49,
  few < 15.

Built by ``tools/build_demo.py`` from the project's benchmark file.  Only a
classification demo is shipped: STS-B-DIR pair features are 1,536-d and a
useful subset does not fit a small package file; use
:func:`skltsynth.datasets.load_stsb_dir` with the benchmark data instead.
"""


def load_demo():
    """Load the small long-tailed demo embedding set shipped with skltsynth.

    50 CLINC150 intents embedded with all-MiniLM-L6-v2 (384 dims,
    L2-normalised); long-tailed training split (100 down to 5 rows per
    class), balanced test split (30 rows per class).  See ``DESCR`` of the
    returned Bunch for provenance and licence (CC BY 3.0).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X_train`` (float32, (n_train, 384)), ``y_train`` (int64),
        ``X_test`` (float32, (1500, 384)), ``y_test`` (int64),
        ``target_names`` (intent names, indexed by the labels) and
        ``DESCR``.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.datasets import load_demo
    >>> data = load_demo()
    >>> data.X_train.shape[1], data.X_train.dtype
    (384, dtype('float32'))
    >>> counts = np.bincount(data.y_train)
    >>> int(counts.max()), int(counts.min())
    (100, 5)
    """
    ref = resources.files("skltsynth.datasets").joinpath("data", DEMO_FILE)
    with resources.as_file(ref) as file, np.load(file, allow_pickle=False) as raw:
        return Bunch(
            X_train=raw["X_train"].astype(np.float32),
            y_train=raw["y_train"].astype(np.int64),
            X_test=raw["X_test"].astype(np.float32),
            y_test=raw["y_test"].astype(np.int64),
            target_names=raw["target_names"].astype(str),
            DESCR=DESCR,
        )
