"""Guided rows stay on the data: the real rows' region and its projection."""

import numpy as np
import pytest
import torch

from skltsynth import LatentDiffusionResampler, LongtailGuidance, MemoryDDPMResampler
from skltsynth.policy.data_region import DataRegion

TINY = dict(train_steps=60, sampling_steps=5, hidden_dim=32, n_layers=1, batch_size=32)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _unit_rows():
    """Three classes of L2-normalised rows (like sentence embeddings), one rare."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 30, 10])
    X = rng.standard_normal((y.size, 6)) * 0.3 + 2.0 * np.eye(3, 6)[y]
    return X / np.linalg.norm(X, axis=1, keepdims=True), y


def test_region_records_the_real_rows_and_projects_into_them():
    X, y = _unit_rows()
    region = DataRegion.from_rows(X, y)
    assert region.n_groups == 3
    assert region.norm_range == pytest.approx((1.0, 1.0))
    assert region.contains(X, y).all()
    far = torch.tensor(X[:5] * 4.0 + 1.0, dtype=torch.float64)  # off the data
    cond = torch.tensor(y[:5])
    assert not region.contains(far.numpy(), y[:5]).any()
    pulled = region.project(far, cond)
    assert region.contains(pulled.numpy(), y[:5]).all()
    inside = torch.tensor(X[:5])
    assert torch.allclose(region.project(inside, cond), inside)  # rows in the region stay
    # one group (a continuous condition): only the global ball and the norm range apply
    one = DataRegion.from_rows(X)
    assert one.n_groups == 1
    assert one.contains(one.project(far, torch.zeros(5)).numpy()).all()
    with pytest.raises(ValueError, match="groups"):
        DataRegion.from_rows(X, y[:-1])


def _push_out(x0):
    """A signal that grows without bound off the data: the row's norm."""
    return x0.norm(dim=1)


def _stats(res, X, y):
    X_res, y_res = res.fit_resample(X, y)
    syn = res.is_synthetic_
    return np.asarray(X_res)[syn], np.asarray(y_res)[syn]


@pytest.mark.parametrize("cls", [LatentDiffusionResampler, MemoryDDPMResampler])
def test_guided_rows_stay_in_the_real_rows_region(cls, monkeypatch):
    X, y = _unit_rows()
    region = DataRegion.from_rows(X, y)
    kw = {**TINY, "gate_quantile": None} if cls is LatentDiffusionResampler else TINY
    guide = LongtailGuidance(_push_out, scale=1e4)
    res = cls(guidance=guide, random_state=0, **kw)
    X_new, y_new = _stats(res, X, y)
    assert len(y_new) > 0
    assert region.contains(X_new, y_new).all()
    assert res.n_projected_ > 0  # the safety acted, and says so
    # without the projection the same guidance takes the rows off the data
    monkeypatch.setattr(DataRegion, "project", lambda self, x, cond=None: x)
    off = cls(guidance=guide, random_state=0, **kw)
    X_off, y_off = _stats(off, X, y)
    assert np.linalg.norm(X_off, axis=1).max() > 1.5
    assert not region.contains(X_off, y_off).all()


def test_unguided_rows_are_not_projected():
    X, y = _unit_rows()
    res = MemoryDDPMResampler(random_state=0, **TINY)
    res.fit_resample(X, y)
    assert res.n_projected_ == 0


def test_warm_start_samples_the_rows_of_a_cold_fit():
    # regenerating with the engine of the previous call (the mining loop,
    # refit_sampler) draws the same noise as training afresh would
    X, y = _unit_rows()
    res = MemoryDDPMResampler(warm_start=True, random_state=0, **TINY)
    first = _stats(res, X, y)[0]
    engine = res.engine_
    again = _stats(res, X, y)[0]
    assert res.engine_ is engine
    np.testing.assert_array_equal(first, again)
