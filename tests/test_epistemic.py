import pathlib
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.utils.estimator_checks import parametrize_with_checks

from skltsynth.heads.epistemic import (
    EpistemicHeadClassifier,
    EpistemicHeadRegressor,
    EpistemicHeadModule,
    LongtailSignal,
    OracleLoss,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


FAST = dict(max_epochs=15, head_max_epochs=10, batch_size=64, device="cpu")


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=240, centers=4, n_features=6, cluster_std=2.0, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return EpistemicHeadClassifier(random_state=0, **FAST).fit(X, y)


def test_api_and_proba(fitted, data):
    X, y = data
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(proba >= 0)
    assert fitted.n_features_in_ == 6
    np.testing.assert_array_equal(fitted.classes_, np.arange(4))
    assert np.mean(fitted.predict(X) == y) > 0.8
    assert next(fitted.module_.parameters()).device.type == "cpu"
    assert len(fitted.base_history_) == FAST["max_epochs"]
    assert len(fitted.head_history_) == FAST["head_max_epochs"]
    for signal in ("epistemic", "entropy", "energy"):
        s = fitted.longtail_score(X, signal=signal)
        assert s.shape == (len(X),) and np.all(np.isfinite(s))
    assert np.all(fitted.longtail_score(X, "entropy") <= np.log(4) + 1e-6)


def test_string_labels_and_pandas(data):
    X, y = data
    labels = np.array(["ant", "bee", "cat", "dog"])[y]
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = EpistemicHeadClassifier(random_state=0, **FAST).fit(df, labels)
    assert list(clf.classes_) == ["ant", "bee", "cat", "dog"]
    pred = clf.predict(df)
    assert pred.dtype == labels.dtype and np.mean(pred == labels) > 0.8
    assert list(clf.feature_names_in_) == list(df.columns)


def test_reproducible_and_global_rng_untouched(data):
    X, y = data
    state = torch.random.get_rng_state()
    a = EpistemicHeadClassifier(random_state=1, **FAST).fit(X, y)
    b = EpistemicHeadClassifier(random_state=1, **FAST).fit(X, y)
    c = EpistemicHeadClassifier(random_state=2, **FAST).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_heads_are_copies_then_diverge(data):
    X, y = data
    params = {**FAST, "head_max_epochs": 0, "head_init_noise": 0.0}
    stage1 = EpistemicHeadClassifier(random_state=0, **params).fit(X, y).module_
    w_base = stage1.base_head.weight
    for k in range(stage1.n_heads):
        assert torch.equal(stage1.head_weight[k], w_base)
        assert torch.equal(stage1.head_bias[k], stage1.base_head.bias)
    # Identical heads: no epistemic signal anywhere.
    x = torch.from_numpy(X)
    np.testing.assert_allclose(stage1.longtail_signal(x, "epistemic").numpy(), 0.0, atol=1e-5)

    both = EpistemicHeadClassifier(random_state=0, head_init_noise=0.0, **FAST).fit(X, y).module_
    # Same seed -> identical base stage; the oracle stage left the base frozen ...
    assert torch.equal(both.base_head.weight, w_base)
    # ... and moved the heads apart.
    spread = (both.head_weight - both.head_weight.mean(dim=0)).abs().amax()
    assert spread > 1e-3


def test_epistemic_small_where_heads_agree(fitted, data):
    X, _ = data
    # Mutual information never exceeds the total entropy.
    epi = fitted.longtail_score(X, "epistemic")
    assert np.all(epi <= fitted.longtail_score(X, "entropy") + 1e-6)
    module = fitted.module_
    # Making two heads identical copies of one gives exactly zero signal.
    twin = EpistemicHeadModule(6, 4, n_heads=2)
    with torch.no_grad():
        twin.head_weight.copy_(module.head_weight[:1].expand(2, -1, -1))
        twin.head_bias.copy_(module.head_bias[:1].expand(2, -1))
    np.testing.assert_allclose(
        twin.longtail_signal(torch.from_numpy(X), "epistemic").detach().numpy(), 0.0, atol=1e-5
    )


def test_signal_definitions(fitted, data):
    X, _ = data
    x = torch.from_numpy(X[:20])
    with torch.no_grad():
        logits = fitted.module_.head_logits(x)
    p = torch.softmax(logits.double(), dim=-1).numpy()
    mean_p = p.mean(axis=1)
    h_mean = -(mean_p * np.log(mean_p)).sum(-1)
    h_each = -(p * np.log(p)).sum(-1).mean(1)
    energy = (-torch.logsumexp(logits.double(), dim=-1)).mean(1).numpy()
    np.testing.assert_allclose(fitted.longtail_score(X[:20], "entropy"), h_mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        fitted.longtail_score(X[:20], "epistemic"), np.maximum(h_mean - h_each, 0), atol=1e-5
    )
    np.testing.assert_allclose(fitted.longtail_score(X[:20], "energy"), energy, rtol=1e-4)
    np.testing.assert_allclose(fitted.heads_predict_proba(X[:20]), mean_p, atol=1e-5)


def test_torch_signal_is_differentiable_and_detached_copy(fitted, data):
    X, _ = data
    fn = fitted.torch_signal("entropy")
    assert isinstance(fn, LongtailSignal)
    x = torch.from_numpy(X[:10]).double().requires_grad_(True)
    out = fn(x)
    assert out.shape == (10,)
    np.testing.assert_allclose(
        out.detach().numpy(), fitted.longtail_score(X[:10], "entropy"), rtol=1e-4, atol=1e-6
    )
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert grad.shape == x.shape and torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert fn.module is not fitted.module_
    with pytest.raises(ValueError, match="signal"):
        fitted.torch_signal("variance")


def test_oracle_loss_only_best_head_gets_gradient():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]], requires_grad=True)
    loss = OracleLoss()(logits, torch.tensor([1]))
    loss.backward()
    assert torch.all(logits.grad[0, 0] == 0) and torch.all(logits.grad[0, 2] == 0)
    assert logits.grad[0, 1].abs().sum() > 0
    np.testing.assert_allclose(loss.item(), np.log1p(np.exp(-2.0)), rtol=1e-6)


def test_pickle_round_trip(fitted, data):
    X, _ = data
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(clone.predict_proba(X), fitted.predict_proba(X))


def test_hidden_layer(data):
    X, y = data
    clf = EpistemicHeadClassifier(hidden_layer_size=16, random_state=0, **FAST).fit(X, y)
    assert np.mean(clf.predict(X) == y) > 0.8
    assert isinstance(clf.module_.trunk, torch.nn.Sequential)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_heads": 0}, "n_heads"),
        ({"lr": -1.0}, "lr"),
        ({"hidden_layer_size": 2.5}, "hidden_layer_size"),
        ({"batch_size": "big"}, "batch_size"),
    ],
)
def test_parameter_validation(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        EpistemicHeadClassifier(**params).fit(X, y)


def test_input_errors(fitted, data):
    X, y = data
    with pytest.raises(ValueError, match="2 classes"):
        EpistemicHeadClassifier(**FAST).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :3])
    with pytest.raises(ValueError, match="signal"):
        fitted.longtail_score(X, signal="variance")  # a regression signal
    with pytest.raises(ValueError, match="signal"):
        fitted.longtail_score(X, signal="bogus")


@parametrize_with_checks([EpistemicHeadClassifier(random_state=0, **FAST),
                          EpistemicHeadRegressor(random_state=0, **{**FAST, "max_epochs": 50})])
def test_sklearn_compatible(estimator, check):
    check(estimator)


DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "datasets" / "clinc150_minilm.npz"
DATA_LOCAL = pathlib.Path(__file__).resolve().parents[1] / "shared" / "datasets" / "clinc150_minilm.npz"


@pytest.mark.slow
def test_clinc150_epistemic_flags_few_shot():
    path = DATA_LOCAL if DATA_LOCAL.exists() else DATA
    if not path.exists():
        pytest.skip(reason="shared benchmark file clinc150_minilm.npz absent (not shipped)")
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    from benchmarks.bench_epistemic import run

    row = run(0, {"device": "cpu"})
    assert row["acc"] > 0.8
    assert row["few_epistemic"] > 0.6 and row["wrong_epistemic"] > 0.7


def test_head_init_noise_perturbs_copies_reproducibly():
    """Exact copies tie (one head trains); a perturbation makes the copies differ."""
    from skltsynth.heads.epistemic import EpistemicHeadModule

    module = EpistemicHeadModule(6, 3, n_heads=4, generator=torch.Generator().manual_seed(0))
    module.copy_base_to_heads()
    assert torch.equal(module.head_weight[0], module.head_weight[3])
    module.copy_base_to_heads(0.1, torch.Generator().manual_seed(1))
    first = module.head_weight.detach().clone()
    assert not torch.equal(first[0], first[3])
    spread = ((first - module.base_head.weight).std() / module.base_head.weight.std()).detach()
    assert 0.05 < float(spread) < 0.2
    module.copy_base_to_heads(0.1, torch.Generator().manual_seed(1))
    assert torch.equal(first, module.head_weight)


def test_near_constant_column_does_not_dominate():
    """A column with a tiny spread is not blown up by the input standardisation."""
    rng = np.random.default_rng(0)
    X, y = make_blobs(n_samples=300, centers=3, n_features=6, random_state=0)
    X = np.c_[X, 1.0 + 1e-9 * rng.standard_normal(len(X))]  # near-constant column
    clf = EpistemicHeadClassifier(max_epochs=20, head_max_epochs=5, device="cpu",
                                  random_state=0).fit(X, y)
    X_off = X.copy()
    X_off[:, -1] += 0.01  # a small shift in the near-constant direction only
    assert np.mean(clf.predict(X_off) == clf.predict(X)) > 0.95


def test_default_heads_are_not_degenerate(data):
    """With the default perturbation, every head wins rows and moves during training."""
    X, y = data
    clf = EpistemicHeadClassifier(random_state=0, **FAST).fit(X, y)
    module = clf.module_
    with torch.no_grad():
        logits = module.head_logits(torch.from_numpy(X))
        ce = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), torch.as_tensor(y).repeat_interleave(
                module.n_heads), reduction="none").view(len(X), module.n_heads)
    winners = np.bincount(ce.argmin(dim=1).numpy(), minlength=module.n_heads)
    assert (winners > 0).sum() >= 3, winners  # exact copies would give all rows to head 0
    assert clf.longtail_score(X, "epistemic").max() > 1e-4


def test_predictions_come_from_the_base_model(fitted, data):
    X, _ = data
    with torch.no_grad():
        base = torch.softmax(fitted.module_.base_logits(torch.from_numpy(X)), -1).double().numpy()
    np.testing.assert_allclose(fitted.predict_proba(X), base, rtol=1e-5, atol=1e-7)
    assert not np.allclose(fitted.heads_predict_proba(X), fitted.predict_proba(X))


def test_base_signals_and_energy_temperature(fitted, data):
    X, _ = data
    x = torch.from_numpy(X[:30])
    with torch.no_grad():
        z = fitted.module_.base_logits(x).double()
    p = torch.softmax(z, -1)
    np.testing.assert_allclose(fitted.longtail_score(X[:30], "base_entropy"),
                               -(p * p.log()).sum(-1).numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fitted.longtail_score(X[:30], "base_energy"),
                               (-torch.logsumexp(z, -1)).numpy(), rtol=1e-4, atol=1e-5)
    hot = EpistemicHeadClassifier(random_state=0, energy_temperature=4.0, **FAST).fit(*data)
    np.testing.assert_allclose(hot.longtail_score(X[:30], "base_energy"),
                               (-4.0 * torch.logsumexp(hot.module_.base_logits(x).double() / 4.0,
                                                      -1)).numpy(), rtol=1e-4, atol=1e-5)
    sig = hot.torch_signal("base_energy")
    assert sig.temperature == 4.0


def test_regressor_variance_flags_rare_targets():
    from skltsynth.heads.epistemic import EpistemicHeadRegressor

    rng = np.random.default_rng(0)
    dense = rng.normal(0.0, 1.0, (400, 3))
    rare = rng.normal(4.0, 1.0, (8, 3))
    X = np.r_[dense, rare]
    y = np.sin(X[:, 0]) * 2 + X[:, 1]
    reg = EpistemicHeadRegressor(hidden_layer_size=32, max_epochs=40, head_max_epochs=20,
                                 batch_size=64, device="cpu", random_state=0).fit(X, y)
    assert reg.score(dense, y[:400]) > 0.5
    probe_dense = rng.normal(0.0, 1.0, (100, 3))
    probe_rare = rng.normal(4.0, 1.0, (100, 3))
    assert reg.longtail_score(probe_rare).mean() > 2 * reg.longtail_score(probe_dense).mean()
    fn = reg.torch_signal()
    x = torch.tensor(probe_rare[:5], dtype=torch.float32, requires_grad=True)
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    assert grad.abs().sum() > 0
    with pytest.raises(ValueError, match="signal"):
        reg.longtail_score(X, signal="entropy")
