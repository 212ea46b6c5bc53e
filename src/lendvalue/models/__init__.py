"""Statistical models with a small estimator API: ``fit`` / predictions / ``params_`` /
``covariance_`` / ``standard_errors_``."""

from lendvalue.models.btyd.estimators import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
]
