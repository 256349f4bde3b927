"""Tests of skltsynth.tooling._profiling (memory bands only, no timing assertions)."""

import tracemalloc

import numpy as np
import pytest
import torch

from skltsynth import _profiling
from skltsynth.tooling._profiling import measure, measure_call

MB = 2**20


def _numpy_alloc(mb):
    a = np.ones(mb * MB // 8)
    return float(a[::4096].sum())


def _torch_alloc(mb):
    t = torch.ones(mb * MB // 4)
    return float(t[::4096].sum())


def _numpy_200mb():
    return _numpy_alloc(200)


def _torch_200mb():
    return _torch_alloc(200)


@pytest.mark.parametrize("fn", [_numpy_alloc, _torch_alloc])
def test_peak_grows_with_the_allocation(fn):
    result, _, peak = measure(fn, 200)
    assert result == 200 * MB // 8 // 4096 if fn is _numpy_alloc else result == 200 * MB // 4 // 4096
    _, _, small = measure(fn, 50)
    assert peak > 150 * MB
    # Against a 50 MB call of the same kind in the same process: the 150 MB more are
    # counted once (double counting would give ~300 MB; missing them, ~0).
    assert 100 * MB < peak - small < 200 * MB


def test_torch_is_seen_by_rss_not_tracemalloc():
    m = measure_call(_torch_200mb)
    assert m.host_rss_bytes > 150 * MB
    assert m.tracemalloc_bytes < 10 * MB
    assert m.peak_bytes == max(m.host_rss_bytes, m.tracemalloc_bytes) + m.cuda_bytes


def test_small_call_reports_small_peak_and_passes_arguments():
    result, _, peak = measure(lambda a, b=0: a + b, 2, b=3)
    assert result == 5 and peak < 50 * MB


def test_tracemalloc_state_restored_and_errors_propagate():
    assert not tracemalloc.is_tracing()
    with pytest.raises(ZeroDivisionError):
        measure(lambda: 1 / 0)
    assert not tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        measure(_numpy_200mb)
        assert tracemalloc.is_tracing()  # a caller's tracing is left on
    finally:
        tracemalloc.stop()


def test_sampling_fallback_without_kernel_high_water_mark(monkeypatch):
    # Force the sampling thread alone (as on kernels without clear_refs).
    monkeypatch.setattr(_profiling, "_reset_hwm", lambda read: False)
    m = measure_call(_torch_200mb, use_tracemalloc=False)
    assert m.tracemalloc_bytes == 0 and m.host_rss_bytes > 150 * MB


def test_tracemalloc_only_without_proc(monkeypatch):
    monkeypatch.setattr(_profiling, "_rss_reader", lambda: None)
    m = measure_call(_numpy_200mb)
    assert m.host_rss_bytes == 0 and m.peak_bytes > 150 * MB
    with pytest.raises(ValueError, match="sample_interval"):
        measure_call(_numpy_200mb, sample_interval=0)
