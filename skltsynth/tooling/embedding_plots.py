"""Real vs synthetic rows of a few classes in two dimensions (PCA or t-SNE).

The memory-DDPM paper checks synthetic features by eye next to its measures
(section 3: a 2-D embedding of real and generated features).  A linear
projection (:class:`~sklearn.decomposition.PCA`, fitted on the real rows)
shows where synthetic rows sit along the directions the real rows spread in;
:class:`~sklearn.manifold.TSNE` (fitted on real and synthetic rows together:
it cannot place new rows into an existing map) shows neighbourhoods --
whether synthetic rows mix with their own class or form islands of their own.
matplotlib is imported lazily.
"""

from __future__ import annotations

import numpy as np

__all__ = ["embed_2d", "plot_real_vs_synthetic"]

METHODS = ("pca", "tsne")


def embed_2d(X_real, X_syn, method="pca", *, perplexity=30.0, random_state=0):
    """Two-dimensional coordinates of real and synthetic rows.

    Parameters
    ----------
    X_real : array-like of shape (n_real, d)
    X_syn : array-like of shape (n_syn, d)
    method : {"pca", "tsne"}, default="pca"
        ``"pca"``: PCA fitted on the real rows, applied to both;
        ``"tsne"``: t-SNE of the real and synthetic rows together (PCA
        initialisation).
    perplexity : float, default=30.0
        t-SNE perplexity, lowered to ``(n - 1) / 3`` for small sets (t-SNE
        needs it below the number of rows).
    random_state : int, default=0

    Returns
    -------
    real_2d : ndarray of shape (n_real, 2)
    syn_2d : ndarray of shape (n_syn, 2)

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.tooling.embedding_plots import embed_2d
    >>> rng = np.random.default_rng(0)
    >>> real, syn = rng.normal(size=(20, 5)), rng.normal(size=(10, 5))
    >>> [a.shape for a in embed_2d(real, syn, "tsne")]
    [(20, 2), (10, 2)]
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    X_real = np.asarray(X_real, dtype=np.float64)
    X_syn = np.asarray(X_syn, dtype=np.float64).reshape(-1, X_real.shape[1])
    if X_real.ndim != 2 or X_real.shape[0] < 2:
        raise ValueError("X_real must be a 2-D array with at least 2 rows.")
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=random_state).fit(X_real)
        return pca.transform(X_real), (pca.transform(X_syn) if len(X_syn)
                                       else np.empty((0, 2)))
    from sklearn.manifold import TSNE

    both = np.vstack([X_real, X_syn])
    if both.shape[0] < 4:
        raise ValueError("t-SNE needs at least 4 rows (real and synthetic together).")
    perplexity = min(float(perplexity), (both.shape[0] - 1) / 3.0)
    coords = TSNE(n_components=2, perplexity=perplexity, init="pca",
                  random_state=random_state).fit_transform(both)
    return coords[:len(X_real)], coords[len(X_real):]


def plot_real_vs_synthetic(X_real, y_real, X_syn, y_syn, *, classes=None, method="pca",
                           weights=None, names=None, ax=None, random_state=0):
    """Scatter real rows (stars) and synthetic rows (dots) of some classes in 2-D.

    Parameters
    ----------
    X_real, y_real : array-like
        Real rows and their classes.
    X_syn, y_syn : array-like
        Synthetic rows and their classes.
    classes : sequence, default=None
        Classes to draw (default: the four with the fewest real rows).
    method : {"pca", "tsne"}, default="pca"
        See :func:`embed_2d` (computed on the drawn classes' rows only).
    weights : array-like of shape (n_syn,), default=None
        Per synthetic row weight in [0, 1] (e.g. ``sample_weight_``): the dot
        size grows with it.
    names : mapping or sequence, default=None
        Class label -> name for the legend.
    ax : matplotlib Axes, default=None
        Where to draw (a new figure when None).
    random_state : int, default=0

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skltsynth.tooling.embedding_plots import plot_real_vs_synthetic
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 10)
    >>> X = rng.normal(size=(20, 4)) + 3 * y[:, None]
    >>> ax = plot_real_vs_synthetic(X, y, X + 0.1, y, method="tsne")
    >>> len(ax.collections)  # real and synthetic rows of each class
    4
    """
    import matplotlib.pyplot as plt

    y_real, y_syn = np.asarray(y_real), np.asarray(y_syn)
    X_real, X_syn = np.asarray(X_real), np.asarray(X_syn)
    if classes is None:
        labels, counts = np.unique(y_real, return_counts=True)
        classes = labels[np.argsort(counts, kind="stable")[:4]]
    classes = list(classes)
    real_mask, syn_mask = np.isin(y_real, classes), np.isin(y_syn, classes)
    if not real_mask.any():
        raise ValueError(f"None of the classes {classes} has real rows.")
    real_2d, syn_2d = embed_2d(X_real[real_mask], X_syn[syn_mask], method,
                               random_state=random_state)
    size = np.full(int(syn_mask.sum()), 0.5) if weights is None \
        else np.asarray(weights, dtype=np.float64)[syn_mask]
    if ax is None:
        ax = plt.subplots(figsize=(7, 6))[1]
    colors = plt.cm.tab10(np.arange(len(classes)) % 10)
    for color, c in zip(colors, classes):
        name = c if names is None else names[c]
        r, s = y_real[real_mask] == c, y_syn[syn_mask] == c
        ax.scatter(syn_2d[s, 0], syn_2d[s, 1], s=10 + 60 * size[s], color=color, alpha=0.35,
                   marker="o", label=f"{name} synthetic ({int(s.sum())})")
        ax.scatter(real_2d[r, 0], real_2d[r, 1], s=80, color=color, edgecolor="black",
                   marker="*", label=f"{name} real ({int(r.sum())})")
    ax.set_title(f"real (stars) vs synthetic rows ({'PCA' if method == 'pca' else 't-SNE'})")
    ax.legend(fontsize=7, loc="best")
    return ax
