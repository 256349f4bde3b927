"""Every public estimator, in tiny fast settings, for the estimator checks.

Method authors: add one factory line per estimator to ``_FACTORIES``.
"""

from ._toy import JitterResampler

# A resampler that accepts continuous targets (DIR) fails imbalanced-learn's
# check_target_type on purpose: that check expects "Unknown label type" for a
# continuous y, which these resamplers handle through DIR bins instead.
DIR_EXPECTED = {
    "check_target_type": "accepts continuous y by design: DIR bins (deep imbalanced regression)",
}


def _factories():
    import skltsynth

    out = [JitterResampler(random_state=0)]
    for name, kwargs in [
        ("VMFKDEResampler", {"random_state": 0}),
        ("LatentDiffusionResampler", {"random_state": 0, "train_steps": 30, "sampling_steps": 5,
                                      "hidden_dim": 32, "n_layers": 1, "batch_size": 32}),
        ("MemoryDDPMResampler", {"random_state": 0, "train_steps": 30, "sampling_steps": 5,
                                 "hidden_dim": 32, "n_layers": 1, "batch_size": 32}),
    ]:
        out.append(getattr(skltsynth, name)(**kwargs))  # every resampler must be exported
    return out


ESTIMATORS = _factories()


def expected_failed_checks(estimator):
    """Checks expected to fail for ``estimator``, with the reason."""
    from skltsynth.resamplers.base import BaseEmbeddingResampler

    if isinstance(estimator, BaseEmbeddingResampler):
        return dict(DIR_EXPECTED)
    return {}
