"""CORAL at the resampler level: the contrastive loss separates classes in the bottleneck.

The engine has its own unconditional check (tests/test_diffusion_model.py); this one goes
through MemoryDDPMResampler (class-conditional model, balanced batches, memory bank) and
embeds the real rows with the null condition, so the class embedding cannot do the
separating by itself.
"""

import numpy as np
import torch
from sklearn.metrics import silhouette_score

from skltsynth import MemoryDDPMResampler

SETTINGS = dict(train_steps=400, sampling_steps=5, hidden_dim=64, n_layers=2, batch_size=128)


def _silhouette(Z, labels):
    return silhouette_score(Z.numpy(), labels, metric="cosine")


def test_contrastive_weight_raises_bottleneck_silhouette():
    rng = np.random.default_rng(0)
    counts = [80, 60, 40, 20]
    y = np.repeat(np.arange(4), counts)
    centres = rng.normal(scale=0.8, size=(4, 8))
    X = centres[y] + rng.normal(size=(len(y), 8))
    sil = {}
    for w in (0.0, 0.5):
        res = MemoryDDPMResampler(random_state=0, contrastive_weight=w, **SETTINGS)
        res.fit_resample(X, y)
        fd = res.engine_
        assert (fd.projection_head_ is not None) == (w > 0)
        Xt = torch.as_tensor(X, dtype=torch.float32)
        sil[w] = (_silhouette(fd.embed(Xt, project=False), y), _silhouette(fd.embed(Xt), y))
    # the projected bottleneck with CORAL separates classes better than the bottleneck of
    # the model trained without it (measured here: 0.23 vs 0.16).  In this class-conditional
    # model the raw bottleneck under the null condition is not reliably shaped, so only the
    # projection is asserted.
    assert sil[0.5][1] > sil[0.0][0] + 0.03, sil
