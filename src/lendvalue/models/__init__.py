"""Statistical models with a small estimator API: ``fit`` / predictions / ``params_`` /
``covariance_`` / ``standard_errors_``."""

from lendvalue.models.btyd.estimators import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)
from lendvalue.models.retention import (
    BetaDiscreteWeibullModel,
    CoxPHModel,
    ShiftedBetaGeoModel,
    WeibullAFTModel,
)

__all__ = [
    "BetaDiscreteWeibullModel",
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "CoxPHModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "WeibullAFTModel",
]
