"""Relationship retention models: cohort (sBG, beta-discrete-Weibull) and survival with
covariates (Weibull AFT, Cox PH), with their validation."""

from lendvalue.models.retention.cohort import (
    BetaDiscreteWeibullModel,
    ShiftedBetaGeoModel,
    survivors_to_lifetimes,
)
from lendvalue.models.retention.survival import CoxPHModel, WeibullAFTModel

__all__ = [
    "BetaDiscreteWeibullModel",
    "CoxPHModel",
    "ShiftedBetaGeoModel",
    "WeibullAFTModel",
    "survivors_to_lifetimes",
]
