"""Wall time and peak memory of a call, for the comparison runner.

:func:`measure` runs ``fn(*args, **kwargs)`` once and reports its wall time
and the peak memory it added above what the process held when it started.

Method
------
Memory is measured three ways; the largest wins:

* **Resident set size (RSS).**  Torch CPU tensors (and any C/C++ allocation)
  are invisible to :mod:`tracemalloc`, so the process's RSS is followed while
  ``fn`` runs: where Linux allows it, the kernel's high-water mark is reset
  (``/proc/self/clear_refs``) and ``VmHWM`` read afterwards (exact); in any
  case a background thread samples ``/proc/self/statm`` every
  ``sample_interval`` seconds (2 ms).  Without ``/proc`` the thread uses
  :mod:`psutil` when it is installed.  Peak = max(RSS) - RSS at the start.
* **tracemalloc.**  Python and numpy allocations are traced exactly
  (``tracemalloc.get_traced_memory()[1]`` after ``reset_peak``); this also
  catches memory that the allocator reuses without growing the RSS.
* **CUDA.**  When ``device`` is a CUDA device (or, by default, when torch has
  initialised CUDA), ``torch.cuda.max_memory_allocated`` above its value at
  the start is *added* (it is a different memory).

Limits
------
* The measure is per process: memory allocated by other threads while ``fn``
  runs is counted too.
* RSS only grows when the allocator asks the OS for pages: memory freed
  before the call and reused by it is not seen by RSS (tracemalloc covers
  numpy and Python objects, not torch CPU tensors).  Conversely pages the
  allocator keeps after freeing are not returned, so a second call may
  report less than the first.  Peaks shorter than the sampling interval are
  missed unless the kernel high-water mark is available.
* tracemalloc slows allocation-heavy Python code; pass
  ``use_tracemalloc=False`` to :func:`measure_call` for timings that must not
  include that overhead.
* The CUDA figure counts tensors allocated by the caching allocator, not the
  cache itself nor the CUDA context.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import tracemalloc
from typing import Any, NamedTuple

__all__ = ["Measurement", "measure", "measure_call"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_STATM = "/proc/self/statm"


class Measurement(NamedTuple):
    """Outcome of :func:`measure_call`.

    Attributes
    ----------
    result : object
        What the call returned.
    seconds : float
        Wall time of the call.
    peak_bytes : int
        ``max(host_rss_bytes, tracemalloc_bytes) + cuda_bytes``.
    host_rss_bytes : int
        Peak resident set size above the starting one (0 if unavailable).
    tracemalloc_bytes : int
        Peak traced allocation during the call (0 if not traced).
    cuda_bytes : int
        Peak CUDA memory allocated above the starting value (0 off CUDA).
    """

    result: Any
    seconds: float
    peak_bytes: int
    host_rss_bytes: int
    tracemalloc_bytes: int
    cuda_bytes: int


def _rss_reader():
    """A zero-argument function returning the current RSS in bytes, or None."""
    try:
        with open(_STATM) as fh:
            int(fh.read().split()[1])

        def read_statm():
            with open(_STATM) as fh:
                return int(fh.read().split()[1]) * _PAGE

        return read_statm
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    proc = psutil.Process()
    return lambda: proc.memory_info().rss


def _reset_hwm(read):
    """Reset the kernel's peak-RSS counter; True when that demonstrably worked."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    hwm = _read_hwm()
    # A kernel that ignores the request keeps the lifetime peak: do not trust it.
    return hwm is not None and hwm <= read() + 2**20


def _read_hwm():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class _RSSSampler(threading.Thread):
    def __init__(self, read, interval):
        super().__init__(name="skltsynth-rss-sampler", daemon=True)
        self._read = read
        self._interval = interval
        self._stop_event = threading.Event()
        self.peak = read()

    def run(self):
        while not self._stop_event.is_set():
            self.peak = max(self.peak, self._read())
            self._stop_event.wait(self._interval)

    def stop(self):
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, self._read())
        return self.peak


def _cuda_device(device):
    """The CUDA device to watch, or None."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if device is None or (isinstance(device, str) and device == "auto"):
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            return torch.device("cuda", torch.cuda.current_device())
        return None
    device = torch.device(device)
    return device if device.type == "cuda" else None


def measure_call(
    fn,
    args=(),
    kwargs=None,
    *,
    device=None,
    sample_interval=0.002,
    use_tracemalloc=True,
):
    """Run ``fn(*args, **kwargs)`` once and measure wall time and peak memory.

    See the module documentation for the method and its limits.

    Parameters
    ----------
    fn : callable
        The call to measure.
    args : tuple, default=()
        Positional arguments of ``fn``.
    kwargs : dict, default=None
        Keyword arguments of ``fn``.
    device : str, torch.device or None, default=None
        Where ``fn`` computes.  A CUDA device adds its peak allocated memory;
        ``None`` or ``"auto"`` watches the current CUDA device only when torch
        has already initialised CUDA.
    sample_interval : float, default=0.002
        Seconds between RSS samples.
    use_tracemalloc : bool, default=True
        Also trace Python/numpy allocations (slower allocation-heavy code).

    Returns
    -------
    measurement : Measurement

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.tooling._profiling import measure_call
    >>> m = measure_call(np.ones, (10_000_000,))
    >>> m.result.shape, m.peak_bytes > 50_000_000
    ((10000000,), True)
    """
    kwargs = {} if kwargs is None else kwargs
    if not sample_interval > 0:
        raise ValueError(f"sample_interval must be positive, got {sample_interval!r}.")
    cuda = _cuda_device(device)
    torch = sys.modules.get("torch") if cuda is not None else None
    if cuda is not None:
        torch.cuda.synchronize(cuda)
        cuda_start = torch.cuda.memory_allocated(cuda)
        torch.cuda.reset_peak_memory_stats(cuda)

    started_tracing = False
    if use_tracemalloc:
        if not tracemalloc.is_tracing():
            tracemalloc.start()
            started_tracing = True
        traced_start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()

    read = _rss_reader()
    sampler = None
    hwm = False
    if read is not None:
        rss_start = read()
        hwm = _reset_hwm(read)
        sampler = _RSSSampler(read, sample_interval)
        sampler.start()

    t0 = time.perf_counter()
    try:
        result = fn(*args, **kwargs)
        if cuda is not None:
            torch.cuda.synchronize(cuda)
        seconds = time.perf_counter() - t0
    finally:
        rss_peak = sampler.stop() if sampler is not None else None
        if use_tracemalloc:
            traced_peak = tracemalloc.get_traced_memory()[1]
            if started_tracing:
                tracemalloc.stop()

    host = 0
    if rss_peak is not None:
        if hwm:
            rss_peak = max(rss_peak, _read_hwm() or 0)
        host = max(0, rss_peak - rss_start)
    traced = max(0, traced_peak - traced_start) if use_tracemalloc else 0
    gpu = 0
    if cuda is not None:
        gpu = max(0, torch.cuda.max_memory_allocated(cuda) - cuda_start)
    return Measurement(
        result=result,
        seconds=seconds,
        peak_bytes=int(max(host, traced) + gpu),
        host_rss_bytes=int(host),
        tracemalloc_bytes=int(traced),
        cuda_bytes=int(gpu),
    )


def measure(fn, *args, **kwargs):
    """Wall time and peak memory of ``fn(*args, **kwargs)``.

    A shorthand for :func:`measure_call` with its defaults (CUDA memory is
    added when torch has initialised CUDA).

    Parameters
    ----------
    fn : callable
        The call to measure.
    *args, **kwargs
        Passed to ``fn``.

    Returns
    -------
    result : object
        What ``fn`` returned.
    seconds : float
        Wall time.
    peak_bytes : int
        Peak memory above the starting level (see :func:`measure_call`).

    Examples
    --------
    >>> import numpy as np
    >>> from skltsynth.tooling._profiling import measure
    >>> result, seconds, peak = measure(np.zeros, (1000, 1000))
    >>> result.shape, seconds >= 0, peak >= 0
    ((1000, 1000), True, True)
    """
    m = measure_call(fn, args, kwargs)
    return m.result, m.seconds, m.peak_bytes
