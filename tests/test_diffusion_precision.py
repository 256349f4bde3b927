"""Precision of the denoiser's products: float32 or bfloat16 autocast (engines.diffusion)."""

import pytest
import torch

from skltsynth import LongtailGuidance
from skltsynth.engines.diffusion import DiffusionConfig, FeatureDiffusion
from skltsynth.engines.diffusion.precision import (
    MIN_BFLOAT16_WIDTH,
    at_precision,
    resolve_precision,
)


def _data():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(2).repeat_interleave(100)
    X = torch.randn(200, 6, generator=g) + 4.0 * y[:, None]
    return X, y


def test_resolve_precision_and_errors():
    assert resolve_precision("float32", "cpu") == "float32"
    assert resolve_precision("bfloat16", "cpu") == "bfloat16"
    assert resolve_precision("auto", "cpu") in ("float32", "bfloat16")
    assert resolve_precision("auto", "meta") == "float32"
    assert resolve_precision("auto", "cpu", width=MIN_BFLOAT16_WIDTH - 1) == "float32"
    assert resolve_precision("bfloat16", "cpu", width=8) == "bfloat16"  # asked for: kept
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("float16", "cpu")
    with pytest.raises(ValueError, match="precision"):
        DiffusionConfig(precision="half")


def test_at_precision_runs_only_the_module_under_autocast():
    seen = []
    module = lambda x: (seen.append(torch.is_autocast_enabled("cpu")), x @ x)[1]  # noqa: E731
    x = torch.randn(4, 4)
    assert at_precision(module, "float32", "cpu") is module
    out = at_precision(module, "bfloat16", "cpu")(x)
    assert seen == [True] and out.dtype == torch.bfloat16
    assert not torch.is_autocast_enabled("cpu")


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_fit_and_sample_at_each_precision(precision):
    X, y = _data()
    g = torch.Generator().manual_seed(1)
    fd = FeatureDiffusion(train_steps=150, hidden_dim=32, n_layers=1, batch_size=64,
                          precision=precision, early_stopping=False).fit(X, y, generator=g)
    assert fd.precision_ == precision
    assert all(p.dtype == torch.float32 for p in fd.model_.parameters())
    rows = fd.sample(torch.tensor([0] * 50 + [1] * 50), generator=g, sampling_steps=10)
    assert rows.dtype == torch.float32 and bool(torch.isfinite(rows).all())
    # the classes stay apart at either precision (class means 0 and 4 in every feature)
    assert float(rows[:50].mean()) < 2.0 < float(rows[50:].mean())
    z = fd.embed(X[:5], y[:5])
    assert z.dtype == torch.float32


def test_bfloat16_sampling_keeps_guidance_in_float32():
    X, y = _data()
    g = torch.Generator().manual_seed(2)
    fd = FeatureDiffusion(train_steps=60, hidden_dim=32, n_layers=1, batch_size=64,
                          precision="bfloat16", early_stopping=False).fit(X, y, generator=g)
    seen = []

    def signal(x0, cond):
        seen.append((x0.dtype, torch.is_autocast_enabled("cpu")))
        return -x0[:, 0]

    fd.sample(torch.tensor([0, 1, 1]), generator=g, sampling_steps=4,
              guidance=LongtailGuidance(signal, scale=0.5))
    assert seen and all(s == (torch.float32, False) for s in seen)
