"""One way to store ``__init__`` parameters (scikit-learn: ``__init__`` stores only)."""


def store_init_params(estimator, params):
    """Set every ``__init__`` parameter of ``estimator`` from ``params``, unchanged.

    Parameters
    ----------
    estimator : sklearn.base.BaseEstimator
        The estimator being constructed; its signature names the parameters
        (``estimator._get_param_names()``).
    params : dict
        The constructor's ``locals()``.
    """
    for name in estimator._get_param_names():
        setattr(estimator, name, params[name])
