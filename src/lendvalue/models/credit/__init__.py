"""Credit risk: PD scorecard and challenger, master scale, 五级分类, rating migration and PD term
structures, LGD, EAD and IRB capital, and the validation of PD models (see docs/credit.md)."""

from lendvalue.models.credit.capital import (
    CN_SME_BOUNDS_10M_YUAN,
    capital_requirement_k,
    corporate_risk_weight,
    expected_loss,
    risk_weighted_assets,
    standardised_risk_weight,
)
from lendvalue.models.credit.classification import classify, load_classification_rules
from lendvalue.models.credit.ead import credit_conversion_factor, exposure_at_default
from lendvalue.models.credit.lgd import LGDModel, collateralised_lgd, lgd_from_table
from lendvalue.models.credit.master_scale import MasterScale, load_master_scale
from lendvalue.models.credit.migration import (
    CohortMigration,
    DurationMigration,
    PDTermStructure,
    customer_pd_term_structure,
    pd_term_structure,
)
from lendvalue.models.credit.scorecard import ChallengerModel, ScorecardModel
from lendvalue.models.credit.validation import (
    auc,
    brier,
    calibration_by_grade,
    gini,
    ks,
    psi,
    validation_report,
)

__all__ = [
    "CN_SME_BOUNDS_10M_YUAN",
    "ChallengerModel",
    "CohortMigration",
    "DurationMigration",
    "LGDModel",
    "MasterScale",
    "PDTermStructure",
    "ScorecardModel",
    "auc",
    "brier",
    "calibration_by_grade",
    "capital_requirement_k",
    "classify",
    "collateralised_lgd",
    "corporate_risk_weight",
    "credit_conversion_factor",
    "customer_pd_term_structure",
    "expected_loss",
    "exposure_at_default",
    "gini",
    "ks",
    "lgd_from_table",
    "load_classification_rules",
    "load_master_scale",
    "pd_term_structure",
    "psi",
    "risk_weighted_assets",
    "standardised_risk_weight",
    "validation_report",
]
