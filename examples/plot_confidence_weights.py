"""
Confidence-weighted synthetic rows with ResampledEstimator
==========================================================

:class:`~skltsynth.MemoryDDPMResampler` gives every synthetic row a weight,
``class cost x confidence``: the confidence is the cosine between the row and
its class mean, and the class cost is larger for rarer classes.  Real rows
weigh 1.  The weights are exposed as ``sample_weight_`` after
``fit_resample``.

An imbalanced-learn ``Pipeline`` cannot pass them on (it unpacks exactly two
outputs of ``fit_resample``); :class:`~skltsynth.ResampledEstimator` resamples
and then calls ``estimator.fit(X, y, sample_weight=resampler.sample_weight_)``.
This example compares both on the shipped long-tailed demo set.

The diffusion model is trained for very few steps here so the example runs
in seconds on a CPU; real use keeps the defaults (or a GPU).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import RidgeClassifier

from skltsynth import MemoryDDPMResampler, ResampledEstimator
from skltsynth.datasets import load_demo
from skltsynth.tooling.metrics import shot_group_report

FAST = bool(os.environ.get("SKLTSYNTH_FAST"))
n_classes = 25 if FAST else 50

data = load_demo()
train = data.y_train < n_classes
test = data.y_test < n_classes
X_train, y_train = data.X_train[train], data.y_train[train]
X_test, y_test = data.X_test[test], data.y_test[test]

# Fast settings: a small denoiser, a short training run, few DDIM steps.
resampler = MemoryDDPMResampler(
    memory_size=128, train_steps=60 if FAST else 300, sampling_steps=10,
    hidden_dim=128 if FAST else 256, n_layers=1 if FAST else 2, random_state=0,
)

# %%
# Pipeline (weights dropped) versus ResampledEstimator (weights used)
# -------------------------------------------------------------------
head = RidgeClassifier(alpha=1.0)
models = {
    "no resampling": head,
    "pipeline (weights dropped)": make_pipeline(resampler, head),
    "ResampledEstimator": ResampledEstimator(resampler, head),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    r = shot_group_report(y_test, model.predict(X_test), y_train)
    print(f"{name:28s} accuracy {r['accuracy']:.3f}  few {r['few_accuracy']:.3f}  "
          f"macro-F1 {r['macro_f1']:.3f}")

# %%
# The weights the estimator was fitted with
# -----------------------------------------
fitted = models["ResampledEstimator"]
syn = fitted.resampler_.is_synthetic_
weights = fitted.sample_weight_[syn]
print(f"{syn.sum()} synthetic rows; weights from {weights.min():.2f} to {weights.max():.2f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.hist(weights, bins=40)
ax.set_xlabel("sample_weight_ of a synthetic row (real rows: 1)")
ax.set_ylabel("synthetic rows")
ax.set_title("class cost x confidence")
fig.tight_layout()

# %%
# ``ResampledEstimator`` is a regular scikit-learn estimator: its parameters
# are ``resampler__...`` and ``estimator__...`` for ``GridSearchCV``.
print(sorted(k for k in ResampledEstimator(resampler, head).get_params()
             if k.startswith("resampler__confidence") or k == "estimator__alpha"))
plt.show()
