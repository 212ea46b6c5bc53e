"""Model choice by the data at hand: cohort models on survivor counts (Fader & Hardie 2007's
data, years 1-7 to fit, 8-12 to judge), covariate models on warehouse spells with a later
holdout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from lendvalue.errors import DataContractError
from lendvalue.models import BetaDiscreteWeibullModel, WeibullAFTModel
from lendvalue.models.retention import (
    choose_cohort_model,
    choose_retention_model,
    choose_survival_model,
)
from lendvalue.warehouse.features import relationship_spells, retention_covariates
from tests.models.retention.conftest import INDUSTRY_RISK

DATA = Path(__file__).resolve().parents[2] / "data" / "retention"
COVARIATES = ["size_medium", "size_small", "size_micro", "industry_risk", "grade_centred"]


@pytest.fixture(scope="module")
def fh07() -> pd.DataFrame:
    return pd.read_csv(DATA / "fader_hardie_2007_retention.csv")


@pytest.mark.parametrize(
    ("segment", "sbg_mae", "bdw_mae"), [("regular", 0.29, 0.26), ("high_end", 1.19, 0.52)]
)
def test_cohort_choice_on_fader_hardie_2007(
    fh07: pd.DataFrame, segment: str, sbg_mae: float, bdw_mae: float
) -> None:
    """Fitted on years 1-7, the projection errors on years 8-12 are those of the cohort tests
    (test_cohort.py: sBG 0.29 / 1.19, BdW 0.26 / 0.52 percentage points), so BdW is chosen
    for both segments, then refitted on all twelve years."""
    survivors = fh07[f"{segment}_survivors_of_1000"]
    choice = choose_cohort_model(survivors, calibration_periods=7)
    table = choice.table
    assert table.loc["sbg", "holdout_mae_pp"] == pytest.approx(sbg_mae, abs=0.01)
    assert table.loc["bdw", "holdout_mae_pp"] == pytest.approx(bdw_mae, abs=0.01)
    assert choice.kind == "cohort" and choice.chosen == "bdw"
    assert table["chosen"].tolist() == [False, True]
    assert isinstance(choice.model, BetaDiscreteWeibullModel)
    assert choice.model.n_customers_ == 1000
    refit = BetaDiscreteWeibullModel().fit_survivors(survivors)
    assert choice.model.params_ == pytest.approx(refit.params_)
    assert "periods 8+" in choice.reason
    assert {"log_likelihood", "n_params", "aic", "holdout_max_error_pp"} <= set(table.columns)


def test_cohort_choice_without_holdout_is_by_aic(fh07: pd.DataFrame) -> None:
    choice = choose_retention_model(fh07["regular_survivors_of_1000"].iloc[:8])
    assert choice.chosen == str(choice.table["aic"].idxmin())
    assert "holdout_mae_pp" not in choice.table.columns and "AIC" in choice.reason


def test_several_cohorts_are_judged_together() -> None:
    """Two cohorts, one too short to reach the holdout: only the longer one is scored."""
    cohorts = {"2019": [1000, 700, 560, 480, 425, 385], "2022": [800, 560, 450]}
    choice = choose_cohort_model(cohorts, calibration_periods=3)
    assert choice.model.n_customers_ == 1800
    for name in ("sbg", "bdw"):
        fitted = choice.table.loc[name]
        assert np.isfinite(fitted["holdout_mae_pp"])


@pytest.fixture(scope="module")
def landmark_data(bank: tuple[duckdb.DuckDBPyConnection, Any]) -> tuple[pd.DataFrame, ...]:
    """Train: the year after the 2023-06-30 landmark; holdout: those alive on 2024-06-30."""
    con = bank[0]
    train = relationship_spells(con, "2024-06-30", landmark="2023-06-30").merge(
        retention_covariates(con, "2023-06-30", industry_groups=INDUSTRY_RISK), on="customer_id"
    )
    test = relationship_spells(con, "2025-06-30", landmark="2024-06-30")
    test = test.groupby("customer_id", as_index=False).agg(
        entry=("entry", "min"), duration=("duration", "max"), event=("event", "max")
    )
    test = test.merge(
        retention_covariates(con, "2024-06-30", industry_groups=INDUSTRY_RISK), on="customer_id"
    )
    return train, test


def test_survival_choice_on_warehouse_spells(landmark_data: tuple[pd.DataFrame, ...]) -> None:
    """The generator's survival depends on size, industry and grade: a covariate model beats
    the Weibull without covariates on the holdout, and the table shows why."""
    train, test = landmark_data
    choice = choose_retention_model(train, test, covariates=COVARIATES)
    table = choice.table
    assert choice.kind == "survival"
    assert list(table.index) == ["weibull_aft", "cox_ph", "weibull_no_covariates"]
    assert choice.chosen in ("weibull_aft", "cox_ph")
    assert table.loc[choice.chosen, "brier"] == table["brier"].min()
    assert (
        table.loc["weibull_no_covariates", "concordance"] < table.loc[choice.chosen, "concordance"]
    )
    assert np.isnan(table.loc["cox_ph", "aic"])
    assert table["holdout_customers"].nunique() == 1
    assert "Brier" in choice.reason
    # the chosen model is the fitted estimator: it predicts for the holdout directly
    alive = choice.model.probability_alive_at(
        test.assign(duration=test["entry"]), np.full(len(test), 12.0)
    )
    assert np.all((alive > 0) & (alive <= 1))


def test_survival_choice_without_holdout_is_by_aic(
    landmark_data: tuple[pd.DataFrame, ...],
) -> None:
    train, _ = landmark_data
    choice = choose_survival_model(train, covariates=COVARIATES)
    assert list(choice.table.index) == ["weibull_aft", "weibull_no_covariates"]
    assert choice.chosen == "weibull_aft" and isinstance(choice.model, WeibullAFTModel)


def test_wrong_inputs_are_named(
    fh07: pd.DataFrame, landmark_data: tuple[pd.DataFrame, ...]
) -> None:
    train, test = landmark_data
    counts = fh07["regular_survivors_of_1000"]
    with pytest.raises(DataContractError, match="calibration_periods, not a holdout"):
        choose_retention_model(counts, test)
    with pytest.raises(DataContractError, match="whole number ≥ 1"):
        choose_cohort_model(counts, calibration_periods=0)
    with pytest.raises(DataContractError, match="needs covariates"):
        choose_survival_model(train, test, covariates=[])
    with pytest.raises(DataContractError, match="lack column"):
        choose_survival_model(train, test.drop(columns="event"), covariates=COVARIATES)
