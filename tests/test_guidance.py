import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from skltsynth.engines.diffusion import FeatureDiffusion
from skltsynth.heads.epistemic import EpistemicHeadClassifier
from skltsynth.policy.guidance import LongtailGuidance, refit_sampler, select_guidance_scale
from skltsynth.policy.guidance_scale import MIN_SIGNAL_RATIO


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def problem():
    X, y = make_blobs(n_samples=400, centers=4, n_features=8, cluster_std=2.5, random_state=0)
    X = X.astype(np.float32)
    clf = EpistemicHeadClassifier(
        max_epochs=30, head_max_epochs=10, device="cpu", random_state=0
    ).fit(X, y)
    fd = FeatureDiffusion(train_steps=300, hidden_dim=64, n_layers=2, sampling_steps=20).fit(
        torch.from_numpy(X), torch.from_numpy(y), generator=torch.Generator().manual_seed(0)
    )
    cond = torch.arange(4).repeat_interleave(50)
    return X, y, clf, fd, cond


def _sample(fd, cond, guidance):
    return fd.sample(cond, generator=torch.Generator().manual_seed(1), guidance=guidance).numpy()


def _p_class(clf, X, cond):
    return clf.predict_proba(X)[np.arange(len(cond)), cond.numpy()]


@pytest.mark.parametrize(
    "signal, scale, jacobian",
    [("entropy", 5.0, False), ("entropy", 5.0, True), ("epistemic", 300.0, False)],
)
def test_guided_rows_are_harder_but_in_class(problem, signal, scale, jacobian):
    _, _, clf, fd, cond = problem
    plain = _sample(fd, cond, None)
    guided = _sample(fd, cond, LongtailGuidance(clf, signal=signal, scale=scale, jacobian=jacobian))
    assert clf.longtail_score(guided, signal).mean() > 1.5 * clf.longtail_score(plain, signal).mean()
    p_plain, p_guided = _p_class(clf, plain, cond).mean(), _p_class(clf, guided, cond).mean()
    assert p_guided < p_plain - 0.05
    assert p_guided > 0.3 * p_plain


def test_guidance_callable_and_protocols(problem):
    X, _, clf, _, _ = problem
    x = torch.from_numpy(X[:5]).double().requires_grad_(True)
    g = LongtailGuidance(clf, signal="energy", scale=2.0)
    out = g(x, None)
    assert out.shape == (5,) and out.dtype == torch.float64  # module follows the dtype
    np.testing.assert_allclose(out.detach().numpy(), clf.longtail_score(X[:5], "energy"), rtol=1e-4)
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert grad.abs().sum() > 0
    assert g.with_scale(7.0).scale == 7.0 and g.scale == 2.0
    assert next(clf.module_.parameters()).dtype == torch.float32  # estimator untouched
    plain = LongtailGuidance(lambda t: -t[:, 0], scale=1.0)
    assert torch.equal(plain(torch.ones(3, 2), None), -torch.ones(3))
    clone = pickle.loads(pickle.dumps(g))
    assert clone.scale == 2.0
    bad = LongtailGuidance(lambda t: t, scale=1.0)
    with pytest.raises(ValueError, match=r"shape \(n,\)"):
        bad(torch.ones(3, 2), None)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"signal": "variance"}, ValueError, "signal"),
        ({"scale": -1.0}, ValueError, "scale"),
        ({"jacobian": "yes"}, TypeError, "jacobian"),
    ],
)
def test_guidance_validation(problem, kwargs, exc, match):
    clf = problem[2]
    with pytest.raises(exc, match=match):
        LongtailGuidance(clf, **kwargs)
    with pytest.raises(TypeError, match="torch_signal"):
        LongtailGuidance(object())


def test_select_guidance_scale_in_distribution_rule(problem):
    _, _, clf, fd, cond = problem
    labels = cond.numpy()

    def sample_fn(guidance):
        return _sample(fd, cond, guidance), labels

    sel = select_guidance_scale(sample_fn, clf, signal="entropy", target_ratio=0.5,
                                scales=(0.5, 2.0, 5.0, 20.0))
    ratios = {row["scale"]: row["p_ratio"] for row in sel.table}
    assert sel.scale in ratios and 0.5 <= ratios[sel.scale] < 1.0
    assert ratios[20.0] < ratios[0.5]
    assert sel.unguided["p_class"] > 0.8
    chosen = next(row for row in sel.table if row["scale"] == sel.scale)
    assert chosen["accepted"] and chosen["signal"] > 1.1 * sel.unguided["signal"]
    # of the accepted scales, the one with the hardest rows
    assert chosen["signal_ratio"] == max(r["signal_ratio"] for r in sel.table if r["accepted"])
    for row in sel.table:  # both halves of the rule, thresholds from one place
        assert row["accepted"] == (row["signal_ratio"] > MIN_SIGNAL_RATIO
                                   and 0.5 <= row["p_ratio"] < 1.0)
    with pytest.raises(ValueError, match="target_ratio"):
        select_guidance_scale(sample_fn, clf, target_ratio=1.5)


def test_refit_sampler_needs_guidance_parameter():
    from tests._toy import JitterResampler

    with pytest.raises(TypeError, match="guidance"):
        refit_sampler(JitterResampler(), np.zeros((4, 2)), np.array([0, 0, 1, 1]))


class _FakeModel:
    """P(class) falls with the scale while the longtail signal falls too."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        p = np.clip(X[:, 0], 0.0, 1.0)
        return np.column_stack([1 - p, p])

    def longtail_score(self, X, signal="epistemic"):
        return X[:, 0]

    def torch_signal(self, signal):
        return lambda x: x[:, 0]


def test_select_guidance_scale_needs_the_signal_to_rise():
    X = np.full((10, 1), 0.9)
    y = np.ones(10, dtype=int)

    def sample_fn(guidance):  # larger scale: lower P(class) but also a lower signal
        s = 0.0 if guidance is None else guidance.scale
        return X / (1.0 + 0.1 * s), y

    sel = select_guidance_scale(sample_fn, _FakeModel(), signal="entropy", scales=(0.5, 1.0, 2.0))
    assert sel.scale == 0.0  # P(class) is in range, but the rows are not harder
    assert all(0.5 <= row["p_ratio"] < 1.0 and not row["accepted"] for row in sel.table)
