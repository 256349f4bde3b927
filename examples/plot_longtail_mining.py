"""
The Longtail Guidance mining loop
=================================

Longtail Guidance does not stop at one guided draw: the predictive model
guides the diffusion model towards rows that are rare or hard *for it*, the
rows join its training set, it is retrained, and the next round is guided by
the improved model (the paper's data-mining loop).
:func:`skltsynth.heads.mining.mine_longtail` runs that loop in one call, here
with an :class:`~skltsynth.EpistemicHeadClassifier` guiding
:class:`~skltsynth.MemoryDDPMResampler` (trained once; each round only
samples again, under the new model's guidance).

With ``split_rows=True`` the rounds share the rows one resampling would add,
so a head trained on the mined rows sees as many synthetic rows as one
trained on unguided rows.  We compare (1) the longtail signal of each round's
rows and (2) the few-shot accuracy of a logistic-regression head trained on
real rows only, on real + unguided rows and on real + mined rows.  Budgets are
tiny so the example runs in seconds; measure on your own validation split
before relying on it.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from skltsynth import MemoryDDPMResampler
from skltsynth._defaults import default_head
from skltsynth.benchmark.guided import GUIDANCE_SCALE
from skltsynth.datasets import load_demo
from skltsynth.heads.epistemic import EpistemicHeadClassifier
from skltsynth.heads.mining import mine_longtail
from skltsynth.tooling.metrics import shot_group_report

FAST = bool(os.environ.get("SKLTSYNTH_FAST"))
n_classes = 15 if FAST else 50

data = load_demo()
train, test = data.y_train < n_classes, data.y_test < n_classes
X_train, y_train = data.X_train[train], data.y_train[train]
X_test, y_test = data.X_test[test], data.y_test[test]

resampler = MemoryDDPMResampler(
    train_steps=40 if FAST else 300, sampling_steps=5 if FAST else 20,
    hidden_dim=64 if FAST else 256, n_layers=1 if FAST else 2, random_state=0)
head = EpistemicHeadClassifier(max_epochs=10 if FAST else 30, head_max_epochs=5 if FAST else 20,
                               device="cpu", random_state=0)


def few_shot(X, y, weight=None):
    """Accuracy of the default head (overall, few-shot) on the test split."""
    clf = default_head().fit(X, y, sample_weight=weight)
    report = shot_group_report(y_test, clf.predict(X_test), y_train)
    return report["accuracy"], report["few_accuracy"]


# %%
# Unguided rows, then three mining rounds
# ---------------------------------------
# The guidance weight is the benchmark's (chosen on this demo set with
# :func:`~skltsynth.policy.guidance.select_guidance_scale`); guided rows are
# kept in the real rows' region by the resampler.
X_res, y_res = resampler.fit_resample(X_train, y_train)
scores = {"real only": few_shot(X_train, y_train),
          "real + unguided": few_shot(X_res, y_res, resampler.sample_weight_)}

mined = mine_longtail(resampler, head, X_train, y_train, rounds=3, scale=GUIDANCE_SCALE,
                      signal="epistemic", split_rows=True, random_state=0)
X_mined = np.concatenate([X_train, mined.X_synthetic])
y_mined = np.concatenate([y_train, mined.y_synthetic])
scores["real + mined"] = few_shot(X_mined, y_mined, mined.sample_weight)
for h in mined.history:
    print(f"round {h['round']}: {h['n_rows']} rows, mean epistemic signal {h['signal']:.4f}")
for name, (acc, few) in scores.items():
    print(f"{name:16s} accuracy {acc:.3f}  few-shot {few:.3f}")
print(f"Epistemic Head after mining: test accuracy {mined.model.score(X_test, y_test):.3f}")

# %%
# Signal per round and few-shot accuracy
# --------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].bar([f"round {h['round']}" for h in mined.history],
            [h["signal"] for h in mined.history], color="tab:purple")
axes[0].set_ylabel("mean epistemic signal of the round's rows")
axes[1].barh(list(scores), [few for _, few in scores.values()], color="tab:green")
axes[1].set_xlabel("few-shot accuracy (test split)")
fig.tight_layout()
plt.show()
