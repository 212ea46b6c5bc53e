"""Relationship retention models: cohort (sBG, beta-discrete-Weibull) and survival with
covariates (Weibull AFT, Cox PH), their validation, and the choice between them."""

from lendvalue.models.retention.cohort import (
    BetaDiscreteWeibullModel,
    ShiftedBetaGeoModel,
    survivors_to_lifetimes,
)
from lendvalue.models.retention.selection import (
    RetentionChoice,
    choose_cohort_model,
    choose_retention_model,
    choose_survival_model,
)
from lendvalue.models.retention.survival import CoxPHModel, WeibullAFTModel

__all__ = [
    "BetaDiscreteWeibullModel",
    "CoxPHModel",
    "RetentionChoice",
    "ShiftedBetaGeoModel",
    "WeibullAFTModel",
    "choose_cohort_model",
    "choose_retention_model",
    "choose_survival_model",
    "survivors_to_lifetimes",
]
