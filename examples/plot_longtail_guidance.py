"""
Longtail Guidance with an Epistemic Head
========================================

:class:`~skltsynth.policy.guidance.LongtailGuidance` steers a diffusion sampler
towards rows a classifier finds *rare*.  The signal comes from an
:class:`~skltsynth.EpistemicHeadClassifier`: copies of a trained linear head,
trained further with a winner-take-all loss, agree where data are plentiful
and disagree where they are rare.

We fit the head on the long-tailed demo set, then draw synthetic rows with
:class:`~skltsynth.MemoryDDPMResampler` with and without guidance and
compare (1) the longtail signal and the head's probability of the intended
class on the synthetic rows and (2) the accuracy of a classifier trained on
them.  Guided rows should have a *higher* signal and a *lower* -- but not
vanishing -- probability of their class.  Training budgets are tiny so the
example runs in seconds.  The guidance scale is ``"auto"`` (the default): the
resampler picks it inside its fit, on a small probe draw, by the
in-distribution rule (signal up by more than 10%, P(class) at least half of
the unguided one), and reports it as ``guidance_scale_``.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeClassifier

from skltsynth import MemoryDDPMResampler
from skltsynth.heads.epistemic import EpistemicHeadClassifier
from skltsynth.datasets import load_demo
from skltsynth.policy.guidance import LongtailGuidance
from skltsynth.tooling.metrics import shot_group_report

FAST = bool(os.environ.get("SKLTSYNTH_FAST"))
n_classes = 20 if FAST else 50

data = load_demo()
train = data.y_train < n_classes
test = data.y_test < n_classes
X_train, y_train = data.X_train[train], data.y_train[train]
X_test, y_test = data.X_test[test], data.y_test[test]

# %%
# The Epistemic Head
# ------------------
head = EpistemicHeadClassifier(max_epochs=15 if FAST else 30, head_max_epochs=10 if FAST else 20, device="cpu",
                               random_state=0).fit(X_train, y_train)
print(f"epistemic head test accuracy {head.score(X_test, y_test):.3f}")

# %%
# Unguided and guided sampling (same seed)
# ----------------------------------------
settings = dict(train_steps=60 if FAST else 300, sampling_steps=10,
                hidden_dim=128 if FAST else 256, n_layers=1 if FAST else 2, random_state=0)
guide = LongtailGuidance(head, signal="epistemic")  # scale="auto"
resamplers = {
    "unguided": MemoryDDPMResampler(**settings),
    "guided": MemoryDDPMResampler(guidance=guide, **settings),
}
signals, probas, reports = {}, {}, {}
for name, res in resamplers.items():
    X_res, y_res = res.fit_resample(X_train, y_train)
    syn = res.is_synthetic_
    X_syn, y_syn = X_res[syn], y_res[syn]
    if name == "guided":
        print(f"guidance scale picked by the probe: {res.guidance_scale_:g}")
    signals[name] = head.longtail_score(X_syn, signal="epistemic")
    cols = np.searchsorted(head.classes_, y_syn)
    probas[name] = head.predict_proba(X_syn)[np.arange(len(y_syn)), cols]
    clf = RidgeClassifier(alpha=1.0).fit(X_res, y_res)
    reports[name] = shot_group_report(y_test, clf.predict(X_test), y_train)
    print(f"{name:9s} signal {signals[name].mean():.4f}  P(class) {probas[name].mean():.3f}  "
          f"accuracy {reports[name]['accuracy']:.3f}  few {reports[name]['few_accuracy']:.3f}")

# %%
# Distributions on the synthetic rows
# -----------------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for name in resamplers:
    axes[0].hist(signals[name], bins=40, alpha=0.6, label=name)
    axes[1].hist(probas[name], bins=40, alpha=0.6, label=name)
axes[0].set_xlabel("epistemic signal (higher = rarer)")
axes[1].set_xlabel("head's probability of the intended class")
axes[0].legend()
fig.tight_layout()
plt.show()
