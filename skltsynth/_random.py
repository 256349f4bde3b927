"""The one random-state path of the package.

``random_state`` (sklearn style) becomes a :class:`numpy.random.Generator`
through :func:`check_random_state`, once per fit.  Everything random below it
is derived from that generator, never from global state:

* :func:`draw_seed` takes one 63-bit seed from a generator;
* :func:`derive_rng` makes an independent numpy stream from a seed and a
  tuple of non-negative integer keys (a class index, a seed block), with
  :class:`numpy.random.SeedSequence` spawn keys.  A stream depends only on
  the seed and its keys, not on the order in which streams are made, so the
  in-memory and the distributed paths draw the same rows for a class;
* :func:`torch_generator` makes an explicitly seeded :class:`torch.Generator`
  on a device;
* :func:`random_subset` picks a sorted random subset of rows, the one way
  the package bounds the rows a fit or a summary reads.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_random_state",
    "child_torch_generator",
    "derive_rng",
    "draw_seed",
    "random_subset",
    "torch_generator",
]

#: Seeds are drawn below this bound (fits torch's and SeedSequence's ranges).
_SEED_BOUND = 2**63 - 1


def check_random_state(random_state=None):
    """A :class:`numpy.random.Generator` from any sklearn-style ``random_state``.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        ``None`` gives fresh OS entropy; an int a fixed seed; a RandomState
        instance is consumed (one draw), so sklearn's convention of a shared
        RandomState keeps working; a Generator is used as it is.

    Returns
    -------
    rng : numpy.random.Generator

    Examples
    --------
    >>> from skltsynth._random import check_random_state
    >>> bool(check_random_state(0).integers(10) == check_random_state(0).integers(10))
    True
    """
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        if random_state is not None and int(random_state) < 0:
            raise ValueError(f"random_state must be a non-negative int; got {random_state}.")
        return np.random.default_rng(None if random_state is None else int(random_state))
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(
        f"random_state must be None, an int, a RandomState or a Generator; got {random_state!r}."
    )


def draw_seed(random_state=None):
    """One integer seed in ``[0, 2**63 - 1)`` drawn from ``random_state``.

    Parameters
    ----------
    random_state : None, int, RandomState or Generator
        Converted with :func:`check_random_state` (a Generator advances).

    Returns
    -------
    seed : int
    """
    return int(check_random_state(random_state).integers(0, _SEED_BOUND))


def random_subset(random_state, population, size):
    """A sorted random subset of ``size`` items of ``population``, without replacement.

    Parameters
    ----------
    random_state : None, int, RandomState, Generator or callable
        Source of the draw (:func:`check_random_state`); a callable returning
        one is called only when a draw is needed, so a caller can defer
        making a stream.  Not used when ``size`` covers the population.
    population : int or array-like of int
        ``n`` for the indices ``0 .. n - 1``, or the indices to choose from.
    size : int
        How many to keep.

    Returns
    -------
    subset : ndarray of int64
        Every item of ``population`` in order when ``size`` is at least its
        length; otherwise ``size`` of them, sorted.

    Examples
    --------
    >>> from skltsynth._random import random_subset
    >>> random_subset(0, 4, 10).tolist()
    [0, 1, 2, 3]
    >>> picked = random_subset(0, 100, 5)
    >>> len(picked), bool((picked[1:] > picked[:-1]).all())
    (5, True)
    """
    items = (np.arange(int(population), dtype=np.int64)
             if isinstance(population, (numbers.Integral, np.integer))
             else np.asarray(population, dtype=np.int64))
    if int(size) >= items.size:
        return items
    rng = random_state() if callable(random_state) else check_random_state(random_state)
    return np.sort(rng.choice(items, size=int(size), replace=False))


def derive_rng(seed, *keys):
    """An independent numpy stream for ``keys`` under a root ``seed``.

    Parameters
    ----------
    seed : int
        Root seed (from :func:`draw_seed`).
    *keys : int
        Non-negative integers naming the stream (e.g. a purpose id, then a
        class index).  Same seed and keys give the same stream, whatever
        other streams were made before.

    Returns
    -------
    rng : numpy.random.Generator

    Examples
    --------
    >>> from skltsynth._random import derive_rng
    >>> a = derive_rng(7, 0, 3).standard_normal(2)
    >>> b = derive_rng(7, 0, 3).standard_normal(2)
    >>> bool((a == b).all()), bool((a != derive_rng(7, 0, 4).standard_normal(2)).all())
    (True, True)
    """
    keys = tuple(int(k) for k in keys)
    if any(k < 0 for k in keys):
        raise ValueError(f"stream keys must be non-negative integers; got {keys}.")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=keys))


def torch_generator(random_state=None, device="cpu"):
    """A fresh ``torch.Generator`` on ``device`` seeded from ``random_state``.

    Parameters
    ----------
    random_state : None, int, RandomState or Generator
        Source of the seed: one :func:`draw_seed` draw (an int is used
        through a generator, so ``torch_generator(0)`` and
        ``torch_generator(1)`` are unrelated streams).
    device : torch.device or str, default="cpu"

    Returns
    -------
    generator : torch.Generator
    """
    import torch

    generator = torch.Generator(device=torch.device(device))
    generator.manual_seed(draw_seed(random_state))
    return generator


def child_torch_generator(generator, device=None):
    """A ``torch.Generator`` on ``device`` seeded by one draw from ``generator``.

    The torch engines take one explicit generator and derive the streams
    they need (parameter initialisation, start noise, CORAL head) with this,
    so that each stream depends only on its parent's state, not on the
    device the work runs on or how it is chunked.

    Parameters
    ----------
    generator : torch.Generator
        Parent generator (advances by one draw).
    device : torch.device, str or None, default=None
        Device of the child; defaults to the parent's.

    Returns
    -------
    generator : torch.Generator
    """
    import torch

    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
    device = generator.device if device is None else torch.device(device)
    return torch.Generator(device=device).manual_seed(seed)
