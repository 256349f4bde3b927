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
