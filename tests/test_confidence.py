"""Tests of the confidence-adaptive cost-sensitive weights."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skltsynth.policy.confidence import class_cost_weights, confidence_scores, synthetic_weights


def test_class_cost_weights_max_one_and_order():
    g = class_cost_weights([100, 20, 5])
    assert g.max() == 1.0 and g[2] == 1.0
    assert np.all(np.diff(g) > 0)
    gs = class_cost_weights([100, 25], "sqrt_inverse")
    assert np.allclose(gs, [0.5, 1.0])
    assert np.allclose(class_cost_weights([3, 7], "none"), 1.0)
    with pytest.raises(ValueError, match="positive"):
        class_cost_weights([0, 3])
    with pytest.raises(ValueError, match="class cost"):
        class_cost_weights([1, 3], "log")


def test_cosine_confidence():
    means = np.array([[1.0, 0.0], [0.0, 3.0]])
    X = np.array([[2.0, 0.0], [-1.0, 0.0], [1.0, 1.0]])
    conf = confidence_scores(X, [0, 0, 1], "cosine", means=means)
    assert np.allclose(conf, [1.0, -1.0, np.sqrt(0.5)])
    with pytest.raises(ValueError, match="class means"):
        confidence_scores(X, [0, 0, 1], "cosine")


def test_entropy_confidence_high_near_centres_low_between():
    rng = np.random.default_rng(0)
    centres = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
    y = np.repeat(np.arange(3), 30)
    X = centres[y] + rng.normal(size=(90, 2))
    head = LogisticRegression().fit(X, y)
    conf = confidence_scores(np.array([[6.0, 0.0], [0.0, 1.3]]), [0, 0], "entropy", head=head)
    assert np.all((conf >= 0) & (conf <= 1))
    assert conf[0] > 0.8 > conf[1]
    with pytest.raises(ValueError, match="head"):
        confidence_scores(X, y, "entropy")
    with pytest.raises(ValueError, match="cosine"):
        confidence_scores(X, y, "kl")


def test_synthetic_weights_positive_and_bounded():
    rng = np.random.default_rng(0)
    conf = rng.uniform(-1, 1, 200)
    groups = rng.integers(0, 3, 200)
    w = synthetic_weights(conf, groups, [50, 10, 5], floor=0.01)
    gamma = class_cost_weights([50, 10, 5])[groups]
    assert np.all(w > 0) and np.all(w <= gamma + 1e-12)
    assert np.allclose(w[conf < 0.01], 0.01 * gamma[conf < 0.01])
    assert np.allclose(synthetic_weights(None, groups, [50, 10, 5]), gamma)
    with pytest.raises(ValueError, match="floor"):
        synthetic_weights(conf, groups, [50, 10, 5], floor=0)
