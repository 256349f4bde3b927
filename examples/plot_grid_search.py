"""
Tuning a resampler with GridSearchCV
====================================

Resampler parameters are ordinary estimator parameters, so
:class:`~sklearn.model_selection.GridSearchCV` tunes them together with the
classifier's.  The resampler only acts on the training folds: validation
folds are scored on real rows.  Here we tune the kernel width of
:class:`~skltsynth.VMFKDEResampler` (``span_scale``: how far, in the span of
a row's class neighbours, its synthetic rows may move) and the classifier's regularisation (a ridge classifier, fast to refit).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skltsynth.resamplers import VMFKDEResampler
from skltsynth.datasets import load_demo

FAST = bool(os.environ.get("SKLTSYNTH_FAST"))
n_classes = 20 if FAST else 50

data = load_demo()
train = data.y_train < n_classes
test = data.y_test < n_classes
X_train, y_train = data.X_train[train], data.y_train[train]
X_test, y_test = data.X_test[test], data.y_test[test]

# %%
# The search
# ----------
# Pipeline step names are the lowercased class names, so the resampler's
# parameters are ``vmfkderesampler__<name>``.  The smallest classes have 5
# rows, hence 3 folds.  Balanced accuracy weighs every class equally, as a
# long-tailed task should.
pipe = make_pipeline(VMFKDEResampler(random_state=0), RidgeClassifier())
grid = {
    "vmfkderesampler__span_scale": [0.25, 0.5, 1.0] if not FAST else [0.25, 1.0],
    "ridgeclassifier__alpha": [0.3, 3.0],
}
search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                      scoring="balanced_accuracy", n_jobs=1)
search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"cross-validated balanced accuracy {search.best_score_:.3f}, "
      f"test accuracy {search.score(X_test, y_test):.3f}")

# %%
# Scores over the grid
# --------------------
res = search.cv_results_
fig, ax = plt.subplots(figsize=(6, 3.5))
for alpha in grid["ridgeclassifier__alpha"]:
    rows = np.asarray(res["param_ridgeclassifier__alpha"], dtype=float) == alpha
    bw = np.asarray(res["param_vmfkderesampler__span_scale"], dtype=float)[rows]
    order = np.argsort(bw)
    ax.errorbar(bw[order], res["mean_test_score"][rows][order],
                yerr=res["std_test_score"][rows][order], marker="o", capsize=3,
                label=f"ridge alpha = {alpha:g}")
ax.set_xscale("log", base=2)
ax.set_xlabel("span_scale")
ax.set_ylabel("CV balanced accuracy")
ax.legend()
fig.tight_layout()
plt.show()
