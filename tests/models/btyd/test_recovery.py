"""The sample generator's true fee-income parameters are recovered from its transactions by
the warehouse's RFM summary and the estimators (truth.json, section ``transactions``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lendvalue.models import BetaGeoModel, GammaGammaModel
from lendvalue.sample import generate_sample
from lendvalue.warehouse.rfm import rfm_summary

Z_99 = 2.576
"""Two-sided 99% Wald intervals: 4 BG/NBD + 3 Gamma-Gamma parameters on 2 lines are 14 checks,
so 95% intervals would miss one about half the time by chance alone."""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("recovery")
    summary = generate_sample(folder, customers=30_000, seed=5, fmt="parquet")
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    active = pd.read_parquet(folder / "relationships.parquet")
    active = set(active.loc[active["end_date"].isna(), "customer_id"])
    tx = pd.read_parquet(folder / "transactions.parquet")
    tx = tx[tx["customer_id"].isin(active)]
    # the generator's fee transactions are separate events, several a day for busy customers:
    # count each one (grain="transaction"); daily counting biases the purchase rate (see rfm.py)
    rfm = rfm_summary(tx, calibration_end=truth["as_of"], time_unit="week", grain="transaction")
    return rfm, truth


@pytest.mark.parametrize("line", ["settlement", "cash_management"])
def test_bgnbd_and_gamma_gamma_truth_lies_in_the_99pct_intervals(
    sample: tuple[pd.DataFrame, dict],
    line: str,  # type: ignore[type-arg]
) -> None:
    rfm, truth = sample
    true = truth["transactions"]["lines"][line]
    data = rfm[rfm["product_line"] == line]
    assert len(data) > 3000
    model = BetaGeoModel().fit(data)
    for name in ("r", "alpha", "a", "b"):
        est, se = model.params_[name], model.standard_errors_[name]
        assert abs(est - true[name]) < Z_99 * se, (line, name, est, se, true[name])
    spend = GammaGammaModel().fit(data[data["frequency"] > 0])
    for name, key in (("p", "gg_p"), ("q", "gg_q"), ("v", "gg_v")):
        est, se = spend.params_[name], spend.standard_errors_[name]
        assert abs(est - true[key]) < Z_99 * se, (line, name, est, se, true[key])
