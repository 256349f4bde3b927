"""The one guidance contract: a guidance object guides with its own settings."""

import numpy as np
import pytest
import torch

from skltsynth import LatentDiffusionResampler, LongtailGuidance, MemoryDDPMResampler
from skltsynth.policy.guidance import as_guidance

from ._toy import three_class_guidance_problem

TINY = dict(train_steps=60, sampling_steps=5, hidden_dim=32, n_layers=1, batch_size=32)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def problem():
    return three_class_guidance_problem(2.5, max_epochs=15, head_max_epochs=5)


@pytest.mark.parametrize("cls", [LatentDiffusionResampler, MemoryDDPMResampler])
def test_guidance_object_guides_with_its_own_scale(problem, cls):
    X, y, head = problem
    n = X.shape[0]
    # LatentDiff's gate drops rows: keep every row so the two runs compare row by row
    kw = {**TINY, "gate_quantile": None} if cls is LatentDiffusionResampler else TINY
    plain = cls(random_state=0, **kw).fit_resample(X, y)[0][n:]
    res = cls(guidance=LongtailGuidance(head, signal="entropy", scale=20.0), random_state=0,
              **kw)
    guided = res.fit_resample(X, y)[0][n:]
    assert res.guidance_scale is None  # the resampler's default: the object's scale applies
    assert not np.allclose(guided, plain)
    sig_plain = head.longtail_score(plain, signal="entropy").mean()
    sig_guided = head.longtail_score(guided, signal="entropy").mean()
    assert sig_guided > sig_plain


@pytest.mark.parametrize("cls", [LatentDiffusionResampler, MemoryDDPMResampler])
def test_zero_scale_is_not_silent(problem, cls):
    X, y, head = problem
    with pytest.warns(UserWarning, match="scale is 0"):
        cls(guidance=LongtailGuidance(head, scale=0.0), random_state=0, **TINY).fit_resample(X, y)
    with pytest.warns(UserWarning, match="scale is 0"):
        cls(guidance=LongtailGuidance(head), guidance_scale=0.0, random_state=0,
            **TINY).fit_resample(X, y)


def test_as_guidance_wraps_overrides_and_refuses():
    g = as_guidance(lambda x0: x0.sum(1))
    assert isinstance(g, LongtailGuidance) and g.scale == "auto" and g.jacobian is False
    base = LongtailGuidance(lambda x0, cond: x0[:, 0], scale=3.0, jacobian=True)
    assert as_guidance(base) is base
    over = as_guidance(base, scale=7.0)
    assert over.scale == 7.0 and over.jacobian is True and base.scale == 3.0
    x = torch.randn(5, 2)
    assert torch.equal(over(x, torch.zeros(5)), x[:, 0])  # two-argument signal gets cond
    with pytest.warns(UserWarning, match="no effect"):
        assert as_guidance(None, scale=2.0) is None
    with pytest.raises(TypeError, match="guidance"):
        as_guidance("not a signal")
    with pytest.raises(ValueError, match="guidance_scale"):
        as_guidance(base, scale=-1.0)
