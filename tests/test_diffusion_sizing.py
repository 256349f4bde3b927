"""engine_size: the denoiser size and step budget follow the data's shape."""

import pytest

from skltsynth.engines.diffusion import DiffusionConfig, engine_size


def test_sizes_are_valid_config_fields():
    for n, d, g in [(2, 1, 1), (300, 16, 3), (5000, 384, 50), (20000, 13, 50), (10**6, 1536, 1000)]:
        sizes = engine_size(n, d, g)
        assert set(sizes) == {"hidden_dim", "n_layers", "batch_size", "train_steps"}
        DiffusionConfig(**sizes)  # validates every value


def test_width_follows_dimension_and_small_data():
    assert engine_size(20000, 13)["hidden_dim"] == 128
    assert engine_size(20000, 200)["hidden_dim"] == 256
    assert engine_size(20000, 384)["hidden_dim"] == 512
    assert engine_size(20000, 1536)["hidden_dim"] == 512
    assert engine_size(500, 1536)["hidden_dim"] == 128  # few rows: a smaller net


def test_depth_batch_and_steps_grow_with_the_data():
    assert engine_size(5000, 384)["n_layers"] == 2
    assert engine_size(50000, 384)["n_layers"] == 3
    assert engine_size(100, 8)["batch_size"] == 32
    assert engine_size(400, 8)["batch_size"] == 64
    assert engine_size(10**5, 8)["batch_size"] == 256
    steps = [engine_size(n, 64)["train_steps"] for n in (100, 2000, 5000, 20000, 10**6)]
    assert steps == sorted(steps) and steps[0] == 400 and steps[-1] == 3000
    assert engine_size(5000, 64, 150)["train_steps"] > engine_size(5000, 64, 50)["train_steps"]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_rejects_non_positive_integers(bad):
    with pytest.raises(ValueError, match="positive integer"):
        engine_size(bad, 10)
    with pytest.raises(ValueError, match="n_groups"):
        engine_size(10, 10, bad)


def test_fast_help_states_the_resamplers_own_defaults(capsys):
    import inspect

    from skltsynth import LatentDiffusionResampler, MemoryDDPMResampler
    from skltsynth._defaults import DIFFUSION_FAST_PARAMS, diffusion_defaults_text
    from skltsynth.cli import build_parser

    text = diffusion_defaults_text()
    for cls in (LatentDiffusionResampler, MemoryDDPMResampler):
        signature = inspect.signature(cls.__init__).parameters
        expected = ", ".join(f"{k}={signature[k].default!r}" for k in DIFFUSION_FAST_PARAMS)
        assert text == expected
    assert f"sampling_steps={DiffusionConfig().sampling_steps}" in text
    with pytest.raises(SystemExit):
        build_parser().parse_args(["benchmark", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"(defaults {text};" in help_text and "1000, 25, 512, 3" not in help_text


def test_sdedit_range_models_get_fewer_passes():
    full = engine_size(5000, 384, 50)["train_steps"]
    assert engine_size(5000, 384, 50, strength=0.2)["train_steps"] == full // 2
    assert engine_size(5000, 384, 50, strength=0.5)["train_steps"] == full // 2
    assert full // 2 < engine_size(5000, 384, 50, strength=0.75)["train_steps"] < full
    assert engine_size(300, 16, 3, strength=0.2)["train_steps"] == 400  # the floor stays
    # a continuous condition keeps the whole budget at any strength
    assert engine_size(5000, 384, 50, strength=0.2, continuous=True)["train_steps"] == full
    with pytest.raises(ValueError, match="strength"):
        engine_size(100, 8, 1, strength=0.0)
