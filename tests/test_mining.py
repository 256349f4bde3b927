"""The Longtail Guidance mining loop and the diffusion resamplers' warm start."""

import warnings

import numpy as np
import pytest

from skltsynth import LatentDiffusionResampler, MemoryDDPMResampler, mine_longtail
from skltsynth.heads.epistemic import EpistemicHeadClassifier

TINY = dict(train_steps=40, sampling_steps=5, hidden_dim=32, n_layers=1, batch_size=32)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 20, 8])
    X = rng.standard_normal((y.size, 4)) + 2.5 * np.eye(3, 4)[y]
    return X, y


@pytest.mark.parametrize("cls", [LatentDiffusionResampler, MemoryDDPMResampler])
def test_warm_start_reuses_the_engine(cls):
    X, y = _data()
    res = cls(warm_start=True, random_state=0, **TINY)
    res.fit_resample(X, y)
    first = res.engine_
    res.set_params(random_state=1)
    out = res.fit_resample(X, y)[0]
    assert res.engine_ is first  # not retrained
    assert out.shape[0] > X.shape[0]
    cold = cls(warm_start=False, random_state=0, **TINY)
    cold.fit_resample(X, y)
    engine = cold.engine_
    cold.fit_resample(X, y)
    assert cold.engine_ is not engine
    res.fit_resample(X[:-1], y[:-1])  # other training rows: trained again
    assert res.engine_ is not first


def test_mine_longtail_rounds_retrain_and_guide():
    X, y = _data()
    head = EpistemicHeadClassifier(max_epochs=15, head_max_epochs=5, device="cpu", random_state=0)
    out = mine_longtail(MemoryDDPMResampler(**TINY), head, X, y, rounds=3, scale=5.0,
                        signal="entropy", random_state=0)
    per_round = [h["n_rows"] for h in out.history]
    assert per_round == [60 * 2 - 20 - 8] * 3
    assert out.X_synthetic.shape == (sum(per_round), X.shape[1])
    np.testing.assert_array_equal(np.bincount(out.round_), per_round)
    assert set(np.unique(out.y_synthetic)) == {1, 2}
    assert all(np.isfinite(h["signal"]) for h in out.history)
    # rounds draw different rows, and the final model saw them
    first, second = out.X_synthetic[out.round_ == 0], out.X_synthetic[out.round_ == 1]
    assert not np.allclose(first, second)
    assert out.model.n_features_in_ == X.shape[1] and hasattr(out.model, "module_")


def test_mine_longtail_auto_scale_is_picked_every_round():
    X, y = _data()
    head = EpistemicHeadClassifier(max_epochs=2, head_max_epochs=1, device="cpu")
    with warnings.catch_warnings():  # a tiny model may find no passing scale: it warns
        warnings.simplefilter("ignore", UserWarning)
        out = mine_longtail(MemoryDDPMResampler(**TINY), head, X, y, rounds=2, random_state=0)
    scales = [h["scale"] for h in out.history]
    assert len(scales) == 2 and all(np.isfinite(s) and s >= 0 for s in scales)
    with pytest.raises(ValueError, match="'auto' or a positive number"):
        mine_longtail(MemoryDDPMResampler(**TINY), head, X, y, scale="big")


def test_mine_longtail_refuses_bad_settings():
    X, y = _data()
    head = EpistemicHeadClassifier(max_epochs=2, head_max_epochs=1, device="cpu")
    with pytest.raises(ValueError, match="scale"):
        mine_longtail(MemoryDDPMResampler(**TINY), head, X, y, scale=0.0)
    with pytest.raises(ValueError, match="rounds"):
        mine_longtail(MemoryDDPMResampler(**TINY), head, X, y, rounds=0)
    with pytest.raises(TypeError, match="torch_signal"):
        mine_longtail(MemoryDDPMResampler(**TINY), object(), X, y)
    from tests._toy import JitterResampler

    with pytest.raises(TypeError, match="guidance"):
        mine_longtail(JitterResampler(), head, X, y)


def test_split_rows_spends_one_resampling_budget_over_the_rounds():
    X, y = _data()
    head = EpistemicHeadClassifier(max_epochs=5, head_max_epochs=2, device="cpu", random_state=0)
    out = mine_longtail(MemoryDDPMResampler(**TINY), head, X, y, rounds=3, scale=5.0,
                        signal="entropy", split_rows=True, random_state=0)
    one_fit = 60 * 2 - 20 - 8  # the rows one fit_resample adds
    assert sum(h["n_rows"] for h in out.history) == len(out.y_synthetic) == one_fit
    np.testing.assert_array_equal(np.bincount(out.y_synthetic, minlength=3), [0, 40, 52])
    # the resampler's weights come along: real rows, then every mined row
    assert out.sample_weight.shape == (len(y) + one_fit,)
    assert np.all((out.sample_weight > 0) & (out.sample_weight <= 1))
