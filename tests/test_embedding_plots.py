"""Real vs synthetic rows in 2-D: PCA and t-SNE."""

import numpy as np
import pytest

from skltsynth.tooling.embedding_plots import embed_2d, plot_real_vs_synthetic


def _two_classes():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 15)
    X = rng.normal(size=(30, 8)) * 0.2 + 4.0 * np.eye(2, 8)[y]
    return X, y


def test_pca_places_copies_of_real_rows_on_them():
    X, y = _two_classes()
    real_2d, syn_2d = embed_2d(X, X[:5], "pca")
    np.testing.assert_allclose(syn_2d, real_2d[:5], atol=1e-10)


def test_tsne_keeps_classes_apart_and_synthetic_rows_with_their_class():
    X, y = _two_classes()
    rng = np.random.default_rng(1)
    syn = X + 0.02 * rng.normal(size=X.shape)  # a near copy of each real row
    real_2d, syn_2d = embed_2d(X, syn, "tsne", random_state=0)
    assert real_2d.shape == (30, 2) and syn_2d.shape == (30, 2)
    centre = np.stack([real_2d[y == c].mean(0) for c in (0, 1)])
    nearest = np.argmin(((syn_2d[:, None] - centre[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(nearest, y)  # each synthetic row lands by its class
    again = embed_2d(X, syn, "tsne", random_state=0)
    np.testing.assert_allclose(again[1], syn_2d)  # reproducible


def test_plot_draws_real_and_synthetic_rows_of_each_class():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    X, y = _two_classes()
    fig, axes = plt.subplots(1, 2)
    for ax, method in zip(axes, ("pca", "tsne")):
        out = plot_real_vs_synthetic(X, y, X[::2] + 0.01, y[::2], method=method, ax=ax,
                                     weights=np.linspace(0, 1, 15), names={0: "a", 1: "b"})
        assert out is ax
        offsets = [len(c.get_offsets()) for c in ax.collections]
        assert offsets == [8, 15, 7, 15]  # synthetic then real rows, class by class
    assert "t-SNE" in axes[1].get_title()
    plt.close(fig)


def test_bad_inputs_are_refused():
    X, y = _two_classes()
    with pytest.raises(ValueError, match="method"):
        embed_2d(X, X, "umap")
    with pytest.raises(ValueError, match="t-SNE needs"):
        embed_2d(X[:2], X[:1], "tsne")
    with pytest.raises(ValueError, match="real rows"):
        plot_real_vs_synthetic(X, y, X, y, classes=[7])
