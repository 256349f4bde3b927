import numpy as np
import pytest

from skltsynth.tooling.class_geometry import class_separation, gaussian_kl


def test_gaussian_kl_orders_closer_and_farther_samples():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 100)
    real = rng.standard_normal((200, 20)) + 4.0 * y[:, None]
    twin = rng.standard_normal((200, 20)) + 4.0 * y[:, None]
    shifted = twin + 1.5
    narrow = 0.3 * rng.standard_normal((200, 20)) + 4.0 * y[:, None]
    kl_twin, kl_shift = gaussian_kl(real, y, twin, y), gaussian_kl(real, y, shifted, y)
    kl_narrow = gaussian_kl(real, y, narrow, y)
    assert set(kl_twin) == {0, 1}
    for c in (0, 1):
        assert 0 <= kl_twin[c] < kl_shift[c] and kl_twin[c] < kl_narrow[c]
    # a class missing from the synthetic rows is left out, and few rows stay finite
    few = gaussian_kl(real, y, twin[:3], y[:3])
    assert set(few) == {0} and np.isfinite(few[0])


def test_class_separation_sees_blurred_classes():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 50)
    X = rng.standard_normal((150, 5)) + 6.0 * np.eye(3, 5)[y]
    sharp = class_separation(X, y)
    blurred = class_separation(np.r_[X, rng.standard_normal((150, 5)) * 4], np.r_[y, y])
    assert sharp["ratio"] > blurred["ratio"] and sharp["intra"] < blurred["intra"]
    assert set(sharp["per_class_intra"]) == {0, 1, 2}
    with pytest.raises(ValueError, match="two classes"):
        class_separation(X, np.zeros(150))
