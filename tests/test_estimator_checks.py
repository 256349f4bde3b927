"""scikit-learn's and imbalanced-learn's estimator checks over every public estimator.

Estimator instances come from ``tests/_estimators.py`` (tiny, fast settings with a
fixed random_state).  The only expected failures are those where accepting a
continuous target (DIR) makes an imbalanced-learn check inapplicable.
"""

import pytest
from imblearn.utils.estimator_checks import estimator_checks_generator
from sklearn.utils.estimator_checks import _get_check_estimator_ids
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from ._estimators import ESTIMATORS, expected_failed_checks

# imbalanced-learn's parametrize_with_checks hands pytest a generator, which pytest
# deprecates (PytestRemovedIn10Warning); the same checks, collected in a list.
IMBLEARN_CHECKS = [
    params
    for estimator in ESTIMATORS
    for params in estimator_checks_generator(
        estimator, legacy=True, mark="xfail",
        expected_failed_checks=expected_failed_checks(estimator),
    )
]


@sklearn_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator, check", IMBLEARN_CHECKS, ids=_get_check_estimator_ids)
def test_imblearn_compatible(estimator, check):
    check(estimator)
