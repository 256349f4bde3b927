"""Loaders of the benchmark embedding files (CLINC150 and STS-B-DIR, MiniLM).

The files are not shipped with the package (they are ~26 MB); they live in a
data folder found as follows, first hit wins:

1. the ``path`` argument (the ``.npz`` file itself or the folder holding it);
2. the folder named by the environment variable ``SKLTSYNTH_DATA``;
3. ``shared/datasets`` in the current directory or any of its parents, then
   in the package's directory or any of its parents (a checkout at
   ``/work/main`` finds ``/work/shared/datasets``; a checkout with
   ``shared/`` inside finds that).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._long_tailed import _l2_normalize, make_long_tailed

__all__ = [
    "CLINC150_FILE",
    "STSB_DIR_FILE",
    "STSB_BIN_EDGES",
    "find_data_file",
    "load_clinc150",
    "load_clinc150_lt",
    "load_stsb_dir",
    "pair_features",
]

CLINC150_FILE = "clinc150_minilm.npz"
STSB_DIR_FILE = "stsb_dir_minilm.npz"
ENV_VAR = "SKLTSYNTH_DATA"
#: DIR bins of STS-B-DIR: width 0.1 on [0, 5]; a score of exactly 5 falls in
#: the last bin (as in the reference code of Yang et al. 2021).
STSB_BIN_EDGES = np.linspace(0.0, 5.0, 51)


def _candidates(filename, path=None):
    """Ordered list of (description, candidate file path)."""
    out = []
    if path is not None:
        p = Path(path).expanduser()
        out.append(("path argument", p / filename if p.is_dir() or not p.suffix else p))
        return out
    env = os.environ.get(ENV_VAR)
    if env:
        out.append((f"${ENV_VAR}", Path(env).expanduser() / filename))
    starts = [Path.cwd(), Path(__file__).resolve().parent]
    seen = set()
    for start in starts:
        for folder in [start, *start.parents]:
            cand = folder / "shared" / "datasets" / filename
            if cand not in seen:
                seen.add(cand)
                out.append(("search", cand))
    return out


def find_data_file(filename, path=None):
    """Locate a benchmark data file.

    Parameters
    ----------
    filename : str
        File name, e.g. ``"clinc150_minilm.npz"``.
    path : str or path-like, default=None
        The file itself or a folder holding it.  When given, no other place
        is searched.

    Returns
    -------
    path : pathlib.Path
        An existing file.

    Raises
    ------
    FileNotFoundError
        Naming every place that was tried and how to point at the data.

    Examples
    --------
    >>> from skltsynth.datasets import find_data_file
    >>> try:
    ...     found = find_data_file("clinc150_minilm.npz").name
    ... except FileNotFoundError:
    ...     found = "clinc150_minilm.npz"
    >>> found
    'clinc150_minilm.npz'
    """
    tried = _candidates(filename, path)
    for _, cand in tried:
        if cand.is_file():
            return cand
    places = "\n  ".join(str(c) for _, c in tried)
    raise FileNotFoundError(
        f"Could not find the data file {filename!r}. Looked in:\n  {places}\n"
        f"Pass path=... (the file or its folder), or set the environment variable "
        f"{ENV_VAR} to the folder holding it (the project keeps it in shared/datasets/)."
    )


def _load_npz(filename, path):
    file = find_data_file(filename, path)
    with np.load(file, allow_pickle=False) as data:
        return file, {k: data[k] for k in data.files}


def load_clinc150(path=None, normalize=True):
    """Load the CLINC150 intent embeddings (all-MiniLM-L6-v2, 384 dims).

    CLINC150 (Larson et al., 2019; in-scope part; CC BY 3.0): 150 balanced
    intents with 100 train / 20 validation / 30 test rows each.

    Parameters
    ----------
    path : str or path-like, default=None
        ``clinc150_minilm.npz`` or its folder; default: see
        :func:`find_data_file`.
    normalize : bool, default=True
        L2-normalise the rows (the benchmark protocol does).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X_train (15000, 384)``, ``y_train``, ``X_val (3000, 384)``,
        ``y_val``, ``X_test (4500, 384)``, ``y_test`` (float32 features,
        int64 labels indexing ``target_names``), ``target_names`` (intent
        names), ``filename`` and ``DESCR``.

    Examples
    --------
    >>> from skltsynth.datasets import load_clinc150
    >>> try:
    ...     data = load_clinc150()
    ... except FileNotFoundError:
    ...     data = None
    >>> data is None or data.X_train.shape == (15000, 384)
    True
    """
    file, raw = _load_npz(CLINC150_FILE, path)
    out = Bunch(filename=str(file), target_names=np.asarray(raw["labels"]).astype(str))
    for split in ("train", "val", "test"):
        X = raw[f"X_{split}"].astype(np.float32)
        out[f"X_{split}"] = _l2_normalize(X) if normalize else X
        out[f"y_{split}"] = raw[f"y_{split}"].astype(np.int64)
    out["DESCR"] = (
        "CLINC150 intent classification (Larson et al. 2019, CC BY 3.0), in-scope part, "
        "embedded with sentence-transformers all-MiniLM-L6-v2 (384 dims, mean pooling"
        + (", L2-normalised" if normalize else ", not normalised")
        + "). 150 balanced classes: 100 train / 20 val / 30 test rows each."
    )
    return out


def load_clinc150_lt(path=None, n_max=100, imbalance_ratio=20, random_state=0):
    """CLINC150 with the long-tailed training protocol of the benchmark.

    L2-normalised rows; the training split is subsampled with
    :func:`make_long_tailed` (validation and test stay balanced).

    Parameters
    ----------
    path : str or path-like, default=None
        Data file or folder (see :func:`find_data_file`).
    n_max : int, default=100
        Rows of the largest class.
    imbalance_ratio : float, default=20
        Largest / smallest class size.
    random_state : int, default=0
        Seed of the protocol.

    Returns
    -------
    data : sklearn.utils.Bunch
        As :func:`load_clinc150`, with the long-tailed ``X_train, y_train``
        and ``train_index`` (rows kept from the full training split).

    Examples
    --------
    >>> from skltsynth.datasets import load_clinc150_lt
    >>> try:
    ...     data = load_clinc150_lt()
    ... except FileNotFoundError:
    ...     data = None
    >>> data is None or int(data.y_train.size) < 15000
    True
    """
    data = load_clinc150(path, normalize=True)
    X, y, index = make_long_tailed(
        data.X_train, data.y_train, n_max, imbalance_ratio, random_state, return_index=True
    )
    data.update(X_train=X, y_train=y, train_index=index)
    data["DESCR"] += (
        f" Long-tailed training split: n_max={n_max}, imbalance ratio={imbalance_ratio}, "
        f"seed={random_state} ({y.size} rows)."
    )
    return data


def pair_features(U, V):
    """Sentence-pair features ``concat(u, v, |u - v|, u * v)`` of L2-normalised rows.

    Parameters
    ----------
    U, V : array-like of shape (n_pairs, d)
        Embeddings of the first and second sentences (normalised here).

    Returns
    -------
    X : ndarray of shape (n_pairs, 4 * d), dtype float32

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.datasets import pair_features
    >>> pair_features(np.ones((2, 3)), np.ones((2, 3))).shape
    (2, 12)
    """
    U = _l2_normalize(np.asarray(U, dtype=np.float32))
    V = _l2_normalize(np.asarray(V, dtype=np.float32))
    if U.shape != V.shape or U.ndim != 2:
        raise ValueError(f"U and V must be 2-D of the same shape, got {U.shape} and {V.shape}.")
    return np.concatenate([U, V, np.abs(U - V), U * V], axis=1)


def load_stsb_dir(path=None, features="pair"):
    """Load STS-B-DIR sentence-pair embeddings (deep imbalanced regression).

    The imbalanced STS Benchmark split of Yang et al. (ICML 2021; MIT
    licence): a long-tailed training set and dev / test sets balanced over
    the similarity score range ``[0, 5]``, embedded with all-MiniLM-L6-v2.

    Parameters
    ----------
    path : str or path-like, default=None
        ``stsb_dir_minilm.npz`` or its folder (see :func:`find_data_file`).
    features : {"pair", "raw"}, default="pair"
        ``"pair"``: ``X_*`` = :func:`pair_features` (1536 dims).  ``"raw"``:
        the two sentence embeddings ``U_*`` and ``V_*`` (384 dims each, not
        normalised) instead.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X_train (5249, 1536)`` (or ``U_train, V_train``), ``y_train``,
        ``X_dev``/``y_dev`` (1000; also reachable as ``X_val``/``y_val``),
        ``X_test``/``y_test`` (1000), float32; ``bin_edges`` (the 50 DIR
        bins of width 0.1 on [0, 5]), ``filename`` and ``DESCR``.

    Examples
    --------
    >>> from skltsynth.datasets import load_stsb_dir
    >>> try:
    ...     data = load_stsb_dir()
    ... except FileNotFoundError:
    ...     data = None
    >>> data is None or data.X_train.shape == (5249, 1536)
    True
    """
    if features not in ("pair", "raw"):
        raise ValueError(f"features must be 'pair' or 'raw', got {features!r}.")
    file, raw = _load_npz(STSB_DIR_FILE, path)
    out = Bunch(filename=str(file), bin_edges=STSB_BIN_EDGES.copy())
    for split in ("train", "dev", "test"):
        U = raw[f"U_{split}"].astype(np.float32)
        V = raw[f"V_{split}"].astype(np.float32)
        if features == "pair":
            out[f"X_{split}"] = pair_features(U, V)
        else:
            out[f"U_{split}"], out[f"V_{split}"] = U, V
        out[f"y_{split}"] = raw[f"y_{split}"].astype(np.float32)
    for prefix in ("X", "U", "V", "y"):
        if f"{prefix}_dev" in out:
            out[f"{prefix}_val"] = out[f"{prefix}_dev"]
    out["DESCR"] = (
        "STS-B-DIR (Yang et al. 2021, MIT; STS Benchmark sentence pairs, scores 0..5), "
        "embedded with all-MiniLM-L6-v2. Train is long-tailed, dev and test are balanced. "
        + (
            "X = concat(u, v, |u-v|, u*v) of L2-normalised pairs (1536 dims)."
            if features == "pair"
            else "U, V = raw (not normalised) sentence embeddings (384 dims)."
        )
        + " DIR bins: width 0.1 on [0, 5] (bin_edges); shot groups many > 100, "
        "medium 20..100, few < 20 training rows in the bin."
    )
    return out
