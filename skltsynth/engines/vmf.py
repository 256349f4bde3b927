"""von Mises-Fisher engine: concentration estimates and a batched sampler.

This module is a torch engine (no scikit-learn import).  It provides

* :func:`mean_resultant_length` -- ``A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa)``,
  the expected cosine ``E[mu . x]`` of a vMF draw;
* :func:`kappa_from_cosine` -- a concentration from a cosine similarity
  (moment matching or Banerjee et al. 2005);
* :func:`sample_vmf` -- Wood's (1994) rejection sampler, vectorised over many
  different ``(mu, kappa)`` pairs at once, stable up to ``kappa = 1e6`` and
  ``d = 2048`` and more;
* :func:`nearest_neighbor_cosine` -- for every row the cosine to its nearest
  other row of the same group (or the mean cosine to its ``k`` nearest),
  computed in bounded-memory blocks on a torch device.

The sampler is Wood's (1994) algorithm, the one the vMF-KDE paper uses; the
cancellation-free forms of its steps are written out in ``_WoodConstants``.
"""

from __future__ import annotations

import numbers
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from scipy import special

from .._random import torch_generator

__all__ = [
    "kappa_from_cosine",
    "mean_resultant_length",
    "nearest_neighbor_cosine",
    "sample_vmf",
]

#: Largest cosine used by :func:`kappa_from_cosine` (duplicates give cosine 1).
COSINE_CLIP = 1.0 - 1e-6

# Elements (rows x columns) one block of work may hold (4M: 32 MiB in float64).
_DEFAULT_BLOCK_ELEMENTS = 1 << 22
# Elements of one block of sample_vmf's vector passes (1M: 4 MiB in float32, so the
# Gaussian draw, the row statistics and the final combination reuse it from cache).
_SAMPLE_BLOCK_ELEMENTS = 1 << 20
# Rows whose cosines (the scalar Wood steps) are drawn at once: float64 scalars only,
# 8 bytes x a few per row, so memory stays bounded on very long inputs.
_COSINE_CHUNK_ROWS = 1 << 20
_MAX_REJECTION_ROUNDS = 10_000
# Rows of small groups packed into one similarity block by nearest_neighbor_cosine.
_PACK_ROWS = 256


def _check_dim(d):
    if not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 1:
        raise ValueError(f"The dimension d must be a positive integer; got {d!r}.")
    return int(d)


def _bessel_ratio_recurrence(kappa, nu, steps=64):
    """``I_{nu+1}(kappa) / I_nu(kappa)`` by backward recurrence from the Amos bound."""
    top = nu + steps
    ratio = kappa / ((top + 0.5) + np.sqrt((top + 1.5) ** 2 + kappa**2))
    for j in range(steps - 1, -1, -1):
        ratio = kappa / (2.0 * (nu + j + 1.0) + kappa * ratio)
    return ratio


def mean_resultant_length(kappa, d):
    """Mean resultant length ``A_d(kappa)`` of a von Mises-Fisher distribution.

    ``A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa)`` is the expected cosine
    ``E[mu . x]`` between a draw ``x ~ vMF(mu, kappa)`` on the unit sphere of
    ``R^d`` and its mean direction ``mu``.

    Parameters
    ----------
    kappa : float or array-like of float
        Concentrations (``>= 0``).
    d : int
        Ambient dimension (``>= 1``).

    Returns
    -------
    A : float or ndarray
        Same shape as ``kappa``, values in ``[0, 1)``.

    Notes
    -----
    The ratio of exponentially scaled Bessel functions
    (:func:`scipy.special.ive`) is used where both are representable.  Where
    they underflow (large ``d`` with small ``kappa``: ``ive`` gives 0/0 at
    ``d >= 768`` for ``kappa`` below ~50), the ratio comes from the backward
    recurrence ``R_nu = kappa / (2 (nu + 1) + kappa R_{nu+1})`` run 64 steps
    down from the closed-form Amos-type bound
    ``kappa / ((nu + 1/2) + sqrt((nu + 3/2)^2 + kappa^2))``, ``nu = d/2 - 1``
    (the bound alone is off by up to ~1e-4 relative at ``d = 384``; after the
    recurrence the error is at rounding level in that regime).

    Examples
    --------
    >>> from skltsynth.engines.vmf import mean_resultant_length
    >>> round(float(mean_resultant_length(10.0, 3)), 4)  # coth(10) - 1/10
    0.9
    >>> mean_resultant_length([0.0, 1e6], 384).round(4)
    array([0.    , 0.9998])
    """
    d = _check_dim(d)
    kappa_arr = np.asarray(kappa, dtype=np.float64)
    if np.any(~np.isfinite(kappa_arr)) or np.any(kappa_arr < 0):
        raise ValueError("kappa must be finite and non-negative.")
    nu = d / 2.0 - 1.0
    with np.errstate(all="ignore"):
        num = special.ive(nu + 1.0, kappa_arr)
        den = special.ive(nu, kappa_arr)
        ratio = num / den
    tiny = np.finfo(np.float64).tiny * 1e10
    ok = np.isfinite(ratio) & (num > tiny) & (den > tiny) & (ratio >= 0) & (ratio < 1)
    out = np.where(ok, ratio, _bessel_ratio_recurrence(kappa_arr, nu))
    return out if np.ndim(kappa) else float(out)


def kappa_from_cosine(c, d, method="moment"):
    """Concentration ``kappa`` of a vMF kernel from a cosine similarity.

    Parameters
    ----------
    c : float or array-like of float
        Cosine similarities, typically between a row and its nearest
        neighbour.  Clipped to ``[0, 1 - 1e-6]`` (duplicates give cosine 1).
    d : int
        Ambient dimension.
    method : {"moment", "banerjee"}, default="moment"
        ``"moment"``: moment matching, ``A_d(kappa) ~= c`` through Banerjee's
        approximation ``kappa = c (d - c^2) / (1 - c^2)``: a draw then sits, on
        average, as close to its mean direction as the neighbour does.
        ``"banerjee"``: the same formula on ``r = sqrt((1 + c) / 2)`` (the
        resultant length of the two unit vectors), about four times larger
        (draws much closer to the seed).

    Returns
    -------
    kappa : float or ndarray
        Same shape as ``c``, non-negative and finite.

    Examples
    --------
    >>> from skltsynth.engines.vmf import kappa_from_cosine
    >>> round(float(kappa_from_cosine(0.5, 384)), 2)
    255.83
    >>> kappa_from_cosine(0.5, 384, method="banerjee") > kappa_from_cosine(0.5, 384)
    True
    """
    d = _check_dim(d)
    c_arr = np.asarray(c, dtype=np.float64)
    if np.any(np.isnan(c_arr)):
        raise ValueError("Cosine similarities must not be NaN.")
    c_arr = np.clip(c_arr, 0.0, COSINE_CLIP)
    if method == "moment":
        r = c_arr
    elif method == "banerjee":
        r = np.sqrt((1.0 + c_arr) / 2.0)
    else:
        raise ValueError(f"method must be 'moment' or 'banerjee'; got {method!r}.")
    kappa = r * (d - r**2) / (1.0 - r**2)
    kappa = np.maximum(kappa, 0.0)
    return kappa if np.ndim(c) else float(kappa)


# --------------------------------------------------------------------- sampler
# Rows redrawn per rejected row and round of Wood's step 3-4 after the first proposal.
_RETRY_PROPOSALS = 2
# A row whose tangent part holds less than this fraction of |v|^2 gets its tangent norm
# recomputed from the vectors (the Gram-matrix difference would lose digits there).
_TANGENT_RECOMPUTE = 1.0 / 16.0


def _symmetric_beta(half_m, shape, generator, dtype, device):
    """``Z ~ Beta(m/2, m/2)`` as ``(1 + x_1) / 2`` of a uniform point of ``S^m``.

    ``x_1 = g / sqrt(g^2 + 2 G)`` with ``g ~ N(0, 1)`` and ``G ~ Gamma(m/2)``
    (``2 G ~ chi^2_m``): one Gamma draw per proposal instead of two.
    """
    alpha = torch.full(shape, float(half_m), dtype=dtype, device=device)
    chi2 = 2.0 * torch._standard_gamma(alpha, generator=generator)
    g = torch.randn(shape, dtype=dtype, device=device, generator=generator)
    return (0.5 * (1.0 + g / torch.sqrt(g * g + chi2))).to(torch.float64)


class _WoodConstants:
    """Per-row constants of Wood's steps 1-2 (float64, cancellation-free), ``m = d - 1``."""

    def __init__(self, kappa, m):
        self.m, self.kappa = m, kappa
        self.b = m / (2.0 * kappa + torch.sqrt(4.0 * kappa**2 + float(m) ** 2))
        self.x0 = (1.0 - self.b) / (1.0 + self.b)
        self.log_one_minus_x0sq = np.log(4.0) + torch.log(self.b) - 2.0 * torch.log1p(self.b)
        self.one_minus_x0 = 2.0 * self.b / (1.0 + self.b)

    def propose(self, Z, U, rows=None):
        """``(w, 1 - w, accepted)`` of proposals ``Z`` (Beta) and ``U`` (uniform).

        ``Z`` and ``U`` have shape ``(k,)`` (one proposal for every row) or
        ``(len(rows), r)`` (``r`` proposals for each of ``rows``).
        """
        expand = (lambda a: a) if rows is None else (lambda a: a[rows, None])
        b, x0 = expand(self.b), expand(self.x0)
        denom = 1.0 - (1.0 - b) * Z
        w = (1.0 - (1.0 + b) * Z) / denom
        omw = 2.0 * b * Z / denom  # 1 - w without cancellation
        # Step 4, stable test: kappa (w - x0) + m (log(1 - x0 w) - log(1 - x0^2)) >= log U,
        # with w - x0 = (1 - x0) - (1 - w) and 1 - x0 w = (1 - x0) + x0 (1 - w).
        one_minus_x0 = expand(self.one_minus_x0)
        lhs = expand(self.kappa) * (one_minus_x0 - omw) + self.m * (
            torch.log(one_minus_x0 + x0 * omw) - expand(self.log_one_minus_x0sq))
        return w, omw, lhs >= torch.log(U)


def _wood_cosines(const, Z_first, generator, work_dtype):
    """``W = mu . x`` (and ``1 - W``) of every row by Wood's rejection sampler (float64).

    The first proposal of every row is ``Z_first`` (a ``Beta(m/2, m/2)`` draw,
    see :func:`_vmf_cosines`); each rejected row then gets
    ``_RETRY_PROPOSALS`` proposals a round, all rows at once, until every row
    has accepted one.
    """
    device = Z_first.device
    k = Z_first.shape[0]
    U = torch.rand(k, dtype=torch.float64, device=device, generator=generator)
    W, one_minus_W, accept = const.propose(Z_first, U)
    pending = torch.nonzero(~accept).reshape(-1)
    half_m = const.m / 2.0
    for _ in range(_MAX_REJECTION_ROUNDS):
        if pending.numel() == 0:
            return W, one_minus_W
        shape = (pending.numel(), _RETRY_PROPOSALS)
        Z = _symmetric_beta(half_m, shape, generator, work_dtype, device)
        U = torch.rand(shape, dtype=torch.float64, device=device, generator=generator)
        w, omw, ok = const.propose(Z, U, rows=pending)
        first = torch.argmax(ok.to(torch.int8), dim=1)  # first accepted proposal of each row
        done = ok.any(dim=1)
        pick = first[done, None]
        idx = pending[done]
        W[idx] = torch.gather(w[done], 1, pick)[:, 0]
        one_minus_W[idx] = torch.gather(omw[done], 1, pick)[:, 0]
        pending = pending[~done]
    raise RuntimeError(  # pragma: no cover - acceptance rate is far above 1e-4
        "The vMF rejection sampler did not converge; this is a bug, please report it."
    )


def _rowwise_dot(a, b):
    """``(a * b).sum(1)`` for (k, d) arrays as pairs of 2 x 2 batched products (no (k, d) temporary)."""
    k, d = a.shape
    even = k - k % 2
    out = torch.empty(k, dtype=a.dtype, device=a.device)
    if even:
        pairs = torch.bmm(a[:even].view(even // 2, 2, d), b[:even].view(even // 2, 2, d).transpose(1, 2))
        out[:even] = torch.diagonal(pairs, dim1=1, dim2=2).reshape(even)
    if k % 2:
        out[-1] = a[-1] @ b[-1]
    return out


def _gaussian_statistics(v, mu):
    """``(|v|^2, v . mu, |mu|^2)`` per row (float64); checks ``mu`` on the way."""
    mm = torch.linalg.vector_norm(mu, dim=1).to(torch.float64) ** 2
    if not bool(torch.all(torch.isfinite(mm))):
        raise ValueError("mu must be finite.")
    if bool(torch.any(mm == 0)):
        raise ValueError("mu has a zero row; a mean direction must be non-zero.")
    vv = torch.linalg.vector_norm(v, dim=1).to(torch.float64) ** 2
    return vv, _rowwise_dot(v, mu).to(torch.float64), mm


def _tangent_squared_norms(v, mu, vv, vm, mm):
    """``|v - (v . mu / |mu|^2) mu|^2`` per row, recomputed from the rows where it is small.

    """
    tan2 = vv - vm * vm / mm
    small = torch.nonzero(tan2 < _TANGENT_RECOMPUTE * vv).reshape(-1)
    if small.numel():
        tangent = v[small] - (vm / mm)[small, None].to(v.dtype) * mu[small]
        tan2[small] = torch.linalg.vector_norm(tangent.to(torch.float64), dim=1) ** 2
    return tan2


def _vmf_cosines(kappa, d, generator, work_dtype):
    """``(W, 1 - W)`` with ``W = mu . x`` for every row, float64 (Wood's steps 1-4).

    The scalar half of the sampler, run over all rows of a chunk at once so
    that its many small operations are paid once per chunk, not once per
    block of vectors.  Every row's first proposal is a fresh
    ``Beta(m/2, m/2)`` draw; only rejected rows are redrawn.  ``d == 1``
    (``S^0 = {-1, +1}``): ``W = +-1`` with ``P(W = 1) = 1 / (1 + exp(-2 kappa))``.
    """
    device = kappa.device
    if d == 1:
        u = torch.rand(kappa.shape, dtype=torch.float64, device=device, generator=generator)
        W = torch.where(u < torch.sigmoid(2.0 * kappa), 1.0, -1.0).to(torch.float64)
        return W, 1.0 - W
    const = _WoodConstants(kappa, d - 1)
    Z_first = _symmetric_beta((d - 1) / 2.0, kappa.shape, generator, work_dtype, device)
    return _wood_cosines(const, Z_first, generator, work_dtype)


def _directions(mu, W, one_minus_W, v):
    """Turn the Gaussian rows ``v`` (k, d) into vMF draws with cosines ``W``, in place.

    ``mu`` (k, d) holds the raw (unnormalised) mean directions.  A block is
    small enough to stay in cache across the two passes over it: three row
    statistics, then ``x = W mu / |mu| + sqrt(1 - W^2) t / |t|`` with
    ``t = v - (v . mu / |mu|^2) mu`` formed as ``beta v + alpha mu``
    (``t / |t|`` is uniform on the sphere orthogonal to ``mu`` because ``v`` is
    isotropic).  Uses no random numbers.
    """
    vv, vm, mm = _gaussian_statistics(v, mu)
    sin = torch.sqrt(torch.clamp(one_minus_W * (1.0 + W), min=0.0))
    tan2 = _tangent_squared_norms(v, mu, vv, vm, mm)
    beta = sin / torch.sqrt(torch.clamp(tan2, min=1e-300))
    alpha = W / torch.sqrt(mm) - beta * vm / mm
    v.mul_(beta.to(v.dtype)[:, None]).addcmul_(mu, alpha.to(v.dtype)[:, None])


class _BlockRunner:
    """Runs :func:`_directions` of one block while the caller draws the next block's Gaussians.

    ``torch.randn`` on a CPU generator runs on one thread whatever torch's
    thread setting, so with two or more threads allowed the row statistics
    and the final combination of block ``i`` run on a worker thread while the
    calling thread draws block ``i + 1`` (torch releases the GIL inside its
    kernels).  All random numbers are drawn on the calling thread, in order,
    so the draws do not depend on the overlap.  With one thread, or on an
    accelerator (whose kernels are asynchronous already), blocks run inline.
    """

    def __init__(self, device, n_blocks):
        overlap = device.type == "cpu" and n_blocks > 1 and torch.get_num_threads() > 1
        self._pool = ThreadPoolExecutor(max_workers=1) if overlap else None
        self._pending = None

    def submit(self, fn, *args):
        if self._pool is None:
            fn(*args)
            return
        self.wait()
        self._pending = self._pool.submit(fn, *args)

    def wait(self):
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)


def _finish_block(mu, W, one_minus_W, v, out, rows):
    """:func:`_directions` of one block, then its copy into ``out[rows]`` when ``v`` is a buffer.

    ``mu`` is the block of the caller's mean directions, cast here to ``v``'s
    device and dtype (on the worker thread, off the Gaussian draw's path).
    """
    _directions(mu.to(device=v.device, dtype=v.dtype), W, one_minus_W, v)
    if out is not None:
        out[rows] = v.to(device=out.device, dtype=out.dtype)


def sample_vmf(mu, kappa, random_state=None, *, device=None, generator=None, batch_size=None):
    """Draw one von Mises-Fisher sample per row of ``mu``.

    Wood's (1994) rejection sampler, vectorised over rows: every row has its
    own mean direction and concentration, and only rejected rows are redrawn.
    Steps 1-4 run in float64 in the cancellation-free form (see
    ``_WoodConstants``), so it is stable for ``kappa`` from 0 (uniform on the
    sphere) to ``1e6`` and beyond and for ``d`` in the thousands.

    Parameters
    ----------
    mu : ndarray or torch.Tensor of shape (n, d) or (d,)
        Mean directions (normalised here; zero rows are an error).
    kappa : float or array-like of shape (n,)
        Concentrations, finite and ``>= 0``.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the draws, used when ``generator`` is not given.
    device : str or torch.device, default=None
        Where to compute; default: ``mu``'s device for a tensor, else the
        generator's device, else CPU.
    generator : torch.Generator, default=None
        Explicit torch generator (must live on ``device``); overrides
        ``random_state``.
    batch_size : int, default=None
        Rows per block of the vector passes, bounding memory; default keeps
        a block near 1M elements, small enough to stay in cache.

    Returns
    -------
    x : ndarray or torch.Tensor
        Unit vectors, same shape and dtype as ``mu`` (numpy in -> numpy out,
        tensor in -> tensor on ``device`` out).  float16 is computed in
        float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines.vmf import sample_vmf, mean_resultant_length
    >>> mu = np.tile(np.eye(384)[0], (2000, 1))
    >>> x = sample_vmf(mu, 500.0, random_state=0)
    >>> x.shape, bool(np.allclose(np.linalg.norm(x, axis=1), 1.0))
    ((2000, 384), True)
    >>> bool(abs(x[:, 0].mean() - mean_resultant_length(500.0, 384)) < 0.01)
    True
    """
    is_tensor = isinstance(mu, torch.Tensor)
    if is_tensor:
        mu_t = mu.detach()
    else:
        mu_np = np.asarray(mu)
        if mu_np.dtype.kind != "f":
            mu_np = mu_np.astype(np.float64)
        mu_t = torch.from_numpy(np.ascontiguousarray(mu_np))
    out_dtype = mu_t.dtype
    if out_dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise TypeError(f"mu must hold floating point numbers; got {out_dtype}.")
    single = mu_t.ndim == 1
    if single:
        mu_t = mu_t[None, :]
    if mu_t.ndim != 2 or mu_t.shape[1] < 1:
        raise ValueError(f"mu must have shape (n, d) or (d,); got {tuple(mu_t.shape)}.")
    n, d = mu_t.shape

    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator; got {type(generator).__name__}.")
    if device is None:
        if is_tensor:
            device = mu_t.device
        elif generator is not None:
            device = generator.device
        else:
            device = torch.device("cpu")
    device = torch.device(device)
    if generator is None:
        generator = torch_generator(random_state, device)

    if isinstance(kappa, torch.Tensor):
        kappa_t = kappa.detach().to(device="cpu", dtype=torch.float64)
    else:
        kappa_t = torch.as_tensor(np.asarray(kappa, dtype=np.float64))
    if kappa_t.ndim == 0:
        kappa_t = kappa_t.expand(n)
    if kappa_t.shape != (n,):
        raise ValueError(
            f"kappa must be a scalar or have one value per row of mu ({n}); "
            f"got shape {tuple(kappa_t.shape)}."
        )
    if not bool(torch.all(torch.isfinite(kappa_t))) or bool(torch.any(kappa_t < 0)):
        raise ValueError("kappa must be finite and non-negative.")

    work_dtype = torch.float64 if out_dtype == torch.float64 else torch.float32
    if batch_size is None:
        batch_size = max(1, _SAMPLE_BLOCK_ELEMENTS // max(d, 1))
    batch_size = int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}.")

    out = torch.empty((n, d), dtype=out_dtype, device=device if is_tensor else "cpu")
    kappa_t = kappa_t.to(device)
    # The Gaussian rows are drawn straight into the output when dtype and device allow.
    in_place = out.dtype == work_dtype and out.device == device
    with _BlockRunner(device, -(-n // batch_size)) as runner:
        for chunk in range(0, n, _COSINE_CHUNK_ROWS):
            chunk_stop = min(n, chunk + _COSINE_CHUNK_ROWS)
            W, one_minus_W = _vmf_cosines(kappa_t[chunk:chunk_stop], d, generator, work_dtype)
            for start in range(chunk, chunk_stop, batch_size):
                rows = slice(start, min(chunk_stop, start + batch_size))
                block = slice(start - chunk, rows.stop - chunk)
                v = out[rows] if in_place else torch.empty(
                    (rows.stop - start, d), dtype=work_dtype, device=device)
                v.normal_(generator=generator)
                runner.submit(_finish_block, mu_t[rows], W[block], one_minus_W[block], v,
                              None if in_place else out, rows)
    if single:
        out = out[0]
    return out if is_tensor else out.numpy()


# ------------------------------------------------------------ neighbour search
def nearest_neighbor_cosine(X, groups, *, n_neighbors=1, device=None, block_elements=None):
    """Cosine between every row and its nearest other row(s) of the same group.

    With ``n_neighbors=k > 1`` the value is the mean cosine to the ``k``
    nearest other rows of the group (all of them when the group has ``k`` rows
    or fewer).  Rows are sorted by group.  Small groups are packed together (consecutive
    groups, up to ~256 rows a pack) and each pack is compared with itself in
    one matrix product on ``device``; a large group is compared with itself in
    row blocks.  The work is about ``sum_g n_g^2 d`` and memory stays below
    ``block_elements`` similarities.  The row itself is excluded; a duplicate
    row gives cosine 1.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Rows (normalised here; zero rows have cosine 0 to everything).
    groups : array-like of int, shape (n,)
        Group of each row.
    n_neighbors : int, default=1
        Number of nearest same-group rows whose cosines are averaged, capped
        at the group size minus one.
    device : str or torch.device, default=None
        Where to compute (default CPU).
    block_elements : int, default=None
        Most similarities held at once (default 4M).

    Returns
    -------
    cosine : ndarray of shape (n,), float64
        Nearest-neighbour cosine (mean over the ``n_neighbors`` nearest);
        NaN for a row alone in its group.

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.engines.vmf import nearest_neighbor_cosine
    >>> X = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [5.0, 5.0]])
    >>> nearest_neighbor_cosine(X, [0, 0, 0, 1]).round(2)
    array([0.8, 0.8, 0.6, nan])
    >>> nearest_neighbor_cosine(X, [0, 0, 0, 1], n_neighbors=2).round(2)
    array([0.4, 0.7, 0.3, nan])
    """
    device = torch.device("cpu" if device is None else device)
    X = np.asarray(X)
    groups = np.asarray(groups)
    n = X.shape[0]
    if groups.shape != (n,):
        raise ValueError(f"groups must have shape ({n},); got {groups.shape}.")
    if (not isinstance(n_neighbors, numbers.Integral) or isinstance(n_neighbors, bool)
            or n_neighbors < 1):
        raise ValueError(f"n_neighbors must be a positive integer; got {n_neighbors!r}.")
    n_neighbors = int(n_neighbors)
    budget = int(block_elements or _DEFAULT_BLOCK_ELEMENTS)
    dtype = torch.float64 if X.dtype == np.float64 else torch.float32
    if n == 0:
        return np.zeros(0)
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]

    Xs = torch.as_tensor(np.ascontiguousarray(X[order]), device=device).to(dtype)
    Xs = Xs / torch.clamp(torch.linalg.vector_norm(Xs, dim=1, keepdim=True), min=1e-30)
    gs = torch.as_tensor(sorted_groups, device=device)
    result_sorted = np.full(n, np.nan)
    bounds = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1], True])
    pack_rows = max(1, min(_PACK_ROWS, int(np.sqrt(budget))))

    def block(r0, r1, c0, c1):
        sims = Xs[r0:r1] @ Xs[c0:c1].T
        same = gs[r0:r1, None] == gs[None, c0:c1]
        rows = torch.arange(r0, r1, device=device)
        same[rows - r0, rows - c0] = False
        sims = sims.masked_fill(~same, -torch.inf)
        if n_neighbors == 1:
            best = sims.max(dim=1).values.to(torch.float64).cpu().numpy()
            best[np.isneginf(best)] = np.nan
        else:  # mean over the k nearest that exist (fewer in a small group)
            top = torch.topk(sims, min(n_neighbors, c1 - c0), dim=1).values.to(torch.float64)
            found = torch.isfinite(top)
            count = found.sum(dim=1)
            total = torch.where(found, top, torch.zeros_like(top)).sum(dim=1)
            best = (total / torch.clamp(count, min=1)).cpu().numpy()
            best[count.cpu().numpy() == 0] = np.nan
        result_sorted[r0:r1] = best

    i, n_groups = 0, bounds.size - 1
    while i < n_groups:
        g0 = bounds[i]
        j = i + 1  # pack groups i..j-1 while the pack stays small
        while j < n_groups and bounds[j + 1] - g0 <= pack_rows:
            j += 1
        g1 = bounds[j]
        step = max(1, budget // (g1 - g0))
        for r0 in range(g0, g1, step):
            block(r0, min(g1, r0 + step), g0, g1)
        i = j
    result = np.empty(n)
    result[order] = np.clip(result_sorted, -1.0, 1.0)
    return result
