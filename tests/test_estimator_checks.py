"""scikit-learn's and imbalanced-learn's estimator checks over every public estimator.

Estimator instances come from ``tests/_estimators.py`` (tiny, fast settings with a
fixed random_state).  The only expected failures are those where accepting a
continuous target (DIR) makes an imbalanced-learn check inapplicable.
"""

from imblearn.utils.estimator_checks import parametrize_with_checks as imblearn_checks
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from ._estimators import ESTIMATORS, expected_failed_checks


@sklearn_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@imblearn_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_imblearn_compatible(estimator, check):
    check(estimator)
