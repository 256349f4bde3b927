"""pandas output keeps the input's index; synthetic rows get labels that cannot collide.

Also: a class with a single row that gets synthetic rows is warned about.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from skltsynth import VMFKDEResampler
from skltsynth._pandas_index import synthetic_index


def _data(n_major=20, n_minor=6, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_major + n_minor, d))
    y = np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]
    return X, y


@pytest.mark.parametrize(
    "index",
    [
        pd.Index(np.arange(500, 526)[::-1]),                     # integers, not 0..n-1
        pd.Index([f"row{i}" for i in range(25)] + ["synthetic_0"]),  # strings, one taken
        pd.date_range("2024-01-01", periods=26, freq="D"),
        pd.MultiIndex.from_arrays([np.arange(26) % 3, np.arange(26)], names=["a", "b"]),
    ],
    ids=["int", "str", "datetime", "multi"],
)
def test_original_rows_keep_their_index_and_new_labels_are_unique(index):
    X, y = _data()
    frame = pd.DataFrame(X, index=index, columns=list("abcd"))
    target = pd.Series(y, index=index, name="label")
    X_res, y_res = VMFKDEResampler(random_state=0).fit_resample(frame, target)
    n = len(frame)
    assert X_res.index[:n].equals(index) and y_res.index.equals(X_res.index)
    assert X_res.index.is_unique and len(X_res) > n
    assert not X_res.index[n:].isin(index).any()
    pd.testing.assert_frame_equal(X_res.iloc[:n], frame, check_index_type=False)
    assert y_res.name == "label"
    joined = X_res.iloc[:n].join(pd.Series(np.arange(n), index=index, name="meta"))
    np.testing.assert_array_equal(joined["meta"], np.arange(n))


def test_integer_index_continues_after_max():
    labels = synthetic_index(pd.Index([7, -3, 40]), 3)
    assert list(labels) == [41, 42, 43]


def test_series_y_index_kept_with_array_x():
    X, y = _data()
    target = pd.Series(y, index=np.arange(100, 126))
    X_res, y_res = VMFKDEResampler(random_state=0).fit_resample(X, target)
    assert isinstance(X_res, np.ndarray)
    assert list(y_res.index[:26]) == list(range(100, 126))
    assert list(y_res.index[26:28]) == [126, 127]


def test_arrays_in_arrays_out_unchanged():
    X, y = _data()
    X_res, y_res = VMFKDEResampler(random_state=0).fit_resample(X, y)
    assert isinstance(X_res, np.ndarray) and isinstance(y_res, np.ndarray)
    np.testing.assert_array_equal(X_res[: len(X)], X)


def test_one_row_class_warns_with_class_and_count():
    X, y = _data()
    y = y.copy()
    y[-1] = 2  # class 2: a single row
    with pytest.warns(UserWarning, match=r"single row.*class 2: 19 synthetic rows"):
        VMFKDEResampler(random_state=0).fit_resample(X, y)


def test_no_warning_without_one_row_classes():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VMFKDEResampler(random_state=0).fit_resample(X, y)
