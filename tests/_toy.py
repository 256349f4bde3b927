"""A minimal resampler on the shared base, used to test the base itself."""

import numpy as np

from skltsynth.resamplers.base import BaseEmbeddingResampler, SyntheticRows
from skltsynth.policy.plan import draw_seed_rows


class JitterResampler(BaseEmbeddingResampler):
    """Copies a random seed row of the group and adds small gaussian noise."""

    def __init__(
        self,
        *,
        scale=0.01,
        sampling_strategy="auto",
        target_type="auto",
        n_bins=None,
        bin_width=None,
        synthetic_target="centre",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        super().__init__(
            sampling_strategy=sampling_strategy,
            target_type=target_type,
            n_bins=n_bins,
            bin_width=bin_width,
            synthetic_target=synthetic_target,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.scale = scale

    def _generate(self, X, y, plan):
        groups = plan.new_groups()
        seeds = draw_seed_rows(groups, plan.seed_pool(), self._rng)
        noise = self._rng.standard_normal((len(groups), X.shape[1])) * self.scale
        return SyntheticRows(X[seeds] + noise, plan.synthetic_targets(groups, self._rng), None)


def three_class_guidance_problem(separation, max_epochs, head_max_epochs):
    """``(X, y, head)``: 60 / 30 / 10 rows of three 4-d classes ``separation`` apart,
    and an epistemic head fitted on them (the guidance tests' shared problem)."""
    from skltsynth.heads.epistemic import EpistemicHeadClassifier

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 30, 10])
    X = rng.standard_normal((y.size, 4)) + separation * np.eye(3, 4)[y]
    head = EpistemicHeadClassifier(max_epochs=max_epochs, head_max_epochs=head_max_epochs,
                                   device="cpu", random_state=0).fit(X, y)
    return X, y, head
