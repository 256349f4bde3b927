"""
Drop-in replacement for SMOTE in a pipeline
===========================================

A skltsynth resampler is an imbalanced-learn sampler, so it replaces
:class:`~imblearn.over_sampling.SMOTE` in an :func:`imblearn.pipeline.make_pipeline`
without any other change.  Here both over-sample the rare classes of the
shipped long-tailed demo set (sentence embeddings of intents) before a
linear classifier, and we compare accuracy per *shot group*: classes with
many, medium or few training rows (the thresholds of
:func:`skltsynth.tooling.metrics.shot_group_report`, printed below).
"""

# %%
# Data: a long-tailed slice of the demo set
# -----------------------------------------
# The demo set has 50 intents with 100 down to 5 training rows each and a
# balanced test set (with ``SKLTSYNTH_FAST=1`` only the first 25 intents are
# used).
import os

import matplotlib.pyplot as plt
import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import RidgeClassifier

from skltsynth._defaults import CLASS_SHOTS
from skltsynth.resamplers import VMFKDEResampler
from skltsynth.datasets import load_demo
from skltsynth.tooling.metrics import shot_group_report

FAST = bool(os.environ.get("SKLTSYNTH_FAST"))
n_classes = 25 if FAST else 50

data = load_demo()
train = data.y_train < n_classes
test = data.y_test < n_classes
X_train, y_train = data.X_train[train], data.y_train[train]
X_test, y_test = data.X_test[test], data.y_test[test]
print("training rows per class:", np.bincount(y_train))
print("shot groups: many >= {many}, few < {few} training rows".format(**CLASS_SHOTS))

# %%
# Three pipelines, one line apart
# -------------------------------
# Any classifier works as the head; a ridge classifier keeps the example fast
# (the benchmark's default head is :func:`skltsynth._defaults.default_head`).
head = RidgeClassifier(alpha=1.0)
models = {
    "no resampling": make_pipeline(head),
    "SMOTE": make_pipeline(SMOTE(k_neighbors=4, random_state=0), head),
    "vMF-KDE": make_pipeline(VMFKDEResampler(random_state=0), head),
}

reports = {}
for name, model in models.items():
    model.fit(X_train, y_train)
    reports[name] = shot_group_report(y_test, model.predict(X_test), y_train)
    r = reports[name]
    print(f"{name:14s} accuracy {r['accuracy']:.3f}  many {r['many_accuracy']:.3f}  "
          f"medium {r['medium_accuracy']:.3f}  few {r['few_accuracy']:.3f}")

# %%
# Accuracy per shot group
# -----------------------
# Over-sampling helps the few-shot classes most; vMF-KDE draws new rows on
# the unit sphere around each seed instead of on the chord between two
# neighbours.
groups = ["accuracy", "many_accuracy", "medium_accuracy", "few_accuracy"]
width = 0.8 / len(reports)
fig, ax = plt.subplots(figsize=(7, 3.5))
for i, (name, r) in enumerate(reports.items()):
    ax.bar(np.arange(len(groups)) + i * width, [r[g] for g in groups], width, label=name)
ax.set_xticks(np.arange(len(groups)) + width * (len(reports) - 1) / 2)
ax.set_xticklabels(["all", "many", "medium", "few"])
ax.set_ylim(0.4, 1.0)
ax.set_ylabel("test accuracy")
ax.legend(loc="lower left")
fig.tight_layout()
plt.show()
