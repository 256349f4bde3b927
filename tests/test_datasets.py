"""Tests of skltsynth.datasets: long-tailed protocol, loaders, demo set."""

import numpy as np
import pytest

from skltsynth.datasets import (
    find_data_file,
    load_clinc150,
    load_demo,
    load_stsb_dir,
    long_tailed_counts,
    make_long_tailed,
    pair_features,
)
from skltsynth.datasets._loaders import CLINC150_FILE, STSB_DIR_FILE


def _have(filename):
    try:
        find_data_file(filename)
    except FileNotFoundError:
        return False
    return True


needs_clinc = pytest.mark.skipif(not _have(CLINC150_FILE), reason="shared CLINC150 data absent")
needs_stsb = pytest.mark.skipif(not _have(STSB_DIR_FILE), reason="shared STS-B-DIR data absent")


def _balanced(n_classes=6, per_class=20, d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), per_class)
    rng.shuffle(y)
    X = rng.normal(size=(y.size, d))
    return X, y


# ------------------------------------------------------------- long-tailed


def test_long_tailed_counts_formula():
    counts = long_tailed_counts(150, 100, 20)
    expected = [round(100 * 20 ** (-i / 149)) for i in range(150)]
    assert counts.tolist() == expected
    assert counts[0] == 100 and counts[-1] == 5
    assert np.all(np.diff(counts) <= 0)


def test_make_long_tailed_follows_protocol_exactly():
    X, y = _balanced()
    X_lt, y_lt, index = make_long_tailed(X, y, n_max=20, imbalance_ratio=10, random_state=3,
                                         return_index=True)
    # Re-derive the protocol by hand with the same generator calls.
    rng = np.random.default_rng(3)
    order = rng.permutation(np.unique(y))
    counts = long_tailed_counts(6, 20, 10)
    expected = np.sort(np.concatenate([
        rng.choice(np.flatnonzero(y == c), size=counts[i], replace=False)
        for i, c in enumerate(order)
    ]))
    np.testing.assert_array_equal(index, expected)
    np.testing.assert_array_equal(X_lt, X[index])
    np.testing.assert_array_equal(y_lt, y[index])
    assert [int((y_lt == c).sum()) for c in order] == counts.tolist()


def test_make_long_tailed_seeds_and_labels():
    X, y = _balanced()
    labels = np.array(["a", "b", "c", "d", "e", "f"])[y]
    a = make_long_tailed(X, labels, 20, 5, random_state=1)
    b = make_long_tailed(X, labels, 20, 5, random_state=1)
    c = make_long_tailed(X, labels, 20, 5, random_state=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1].dtype == labels.dtype
    assert not np.array_equal(np.sort(a[1]), np.sort(c[1])) or not np.array_equal(a[0], c[0])


def test_make_long_tailed_normalize():
    X, y = _balanced()
    X_lt, _ = make_long_tailed(X * 7, y, 10, 2, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(X_lt, axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_max": 21}, "smallest class"),
        ({"n_max": 0}, "n_max"),
        ({"imbalance_ratio": 0.5}, "imbalance_ratio"),
    ],
)
def test_make_long_tailed_errors(kwargs, match):
    X, y = _balanced()
    with pytest.raises(ValueError, match=match):
        make_long_tailed(X, y, **{"n_max": 10, "imbalance_ratio": 5, **kwargs})


def test_make_long_tailed_shape_errors():
    X, y = _balanced()
    with pytest.raises(ValueError, match="different numbers of rows"):
        make_long_tailed(X[:-1], y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        make_long_tailed(X, np.zeros_like(y), n_max=5)


@pytest.mark.slow
@needs_clinc
def test_make_long_tailed_on_clinc150():
    data = load_clinc150()
    X_lt, y_lt, index = make_long_tailed(data.X_train, data.y_train, 100, 20, 0, return_index=True)
    counts = np.bincount(y_lt, minlength=150)
    assert counts.max() == 100 and counts.min() == 5
    order = np.random.default_rng(0).permutation(150)
    assert counts[order].tolist() == [round(100 * 20 ** (-i / 149)) for i in range(150)]
    assert y_lt.size == 4777
    # Rows are a subset of the original ones, in the original order.
    assert np.all(np.diff(index) > 0)
    np.testing.assert_array_equal(X_lt, data.X_train[index])
    np.testing.assert_array_equal(y_lt, data.y_train[index])
    again = make_long_tailed(data.X_train, data.y_train, 100, 20, 0, return_index=True)[2]
    np.testing.assert_array_equal(index, again)


# ----------------------------------------------------------------- loaders


def test_loader_error_names_places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        load_clinc150(path=tmp_path / "nowhere")
    msg = str(info.value)
    assert "nowhere" in msg and "SKLTSYNTH_DATA" in msg
    monkeypatch.setenv("SKLTSYNTH_DATA", str(tmp_path / "envdir"))
    with pytest.raises(FileNotFoundError, match="envdir"):
        find_data_file("not_a_file.npz")


def test_loaders_resolve_env_and_path(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 8), ("dev", 4), ("test", 4)):
        arrays[f"U_{split}"] = rng.normal(size=(n, 3)).astype(np.float16)
        arrays[f"V_{split}"] = rng.normal(size=(n, 3)).astype(np.float16)
        arrays[f"y_{split}"] = rng.uniform(0, 5, size=n).astype(np.float32)
    np.savez(tmp_path / STSB_DIR_FILE, **arrays)
    monkeypatch.setenv("SKLTSYNTH_DATA", str(tmp_path))
    data = load_stsb_dir()
    assert data.X_train.shape == (8, 12) and data.X_train.dtype == np.float32
    assert data.X_val is data.X_dev and len(data.bin_edges) == 51
    raw = load_stsb_dir(path=tmp_path / STSB_DIR_FILE, features="raw")
    assert "X_train" not in raw and raw.U_train.shape == (8, 3)
    np.testing.assert_allclose(pair_features(raw.U_train, raw.V_train), data.X_train)
    with pytest.raises(ValueError, match="features"):
        load_stsb_dir(features="concat")


def test_pair_features_layout():
    U = np.array([[3.0, 4.0]])
    V = np.array([[1.0, 0.0]])
    X = pair_features(U, V)
    np.testing.assert_allclose(X, [[0.6, 0.8, 1, 0, 0.4, 0.8, 0.6, 0]], atol=1e-6)


@pytest.mark.slow
@needs_clinc
def test_load_clinc150_shapes():
    data = load_clinc150()
    assert data.X_train.shape == (15000, 384) and data.X_train.dtype == np.float32
    assert data.X_val.shape == (3000, 384) and data.X_test.shape == (4500, 384)
    assert len(data.target_names) == 150
    np.testing.assert_allclose(np.linalg.norm(data.X_test, axis=1), 1, rtol=1e-5)


@pytest.mark.slow
@needs_stsb
def test_load_stsb_dir_shapes():
    data = load_stsb_dir()
    assert data.X_train.shape == (5249, 1536) and data.X_test.shape == (1000, 1536)
    assert data.y_train.dtype == np.float32
    assert 0 <= data.y_train.min() and data.y_train.max() <= 5


# -------------------------------------------------------------------- demo


def test_load_demo():
    data = load_demo()
    assert data.X_train.dtype == np.float32 and data.X_test.dtype == np.float32
    assert data.X_train.shape[1] == data.X_test.shape[1] == 384
    counts = np.bincount(data.y_train)
    assert len(counts) == len(data.target_names) == 50
    assert counts.max() == 100 and counts.min() == 5
    assert np.all(np.bincount(data.y_test) == 30)
    np.testing.assert_allclose(np.linalg.norm(data.X_train, axis=1), 1, atol=5e-3)
    assert "CC BY 3.0" in data.DESCR
