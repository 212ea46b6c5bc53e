"""RFM summaries: the published CDNOW summary reproduced, the warehouse and the frame paths
agreeing, the holdout columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lendvalue.errors import DataContractError
from lendvalue.sample import generate_sample
from lendvalue.warehouse.ingest import ingest_paths
from lendvalue.warehouse.rfm import rfm_summary
from lendvalue.warehouse.store import connect

DATA = Path(__file__).resolve().parents[1] / "data" / "btyd"


def cdnow_log() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
        names=["master_id", "customer", "date", "cds", "dollars"],
    )  # fmt: skip
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw


def test_cdnow_summary_is_reproduced() -> None:
    """Fader, Hardie & Lee (2005): 39-week calibration ending 1997-09-30, weeks; the published
    summary prints recency and T to 0.01 weeks, hence the tolerance 0.005."""
    summary = rfm_summary(
        cdnow_log(), calibration_end="1997-09-30", customer_col="customer", date_col="date",
        amount_col="dollars", product_line_col=None,
    )  # fmt: skip
    summary = summary.assign(ID=summary["customer_id"].astype(int)).sort_values("ID")
    ref = pd.read_csv(DATA / "cdnow_customers_summary.csv")
    assert summary["ID"].tolist() == ref["ID"].tolist()
    assert np.array_equal(summary["frequency"].to_numpy(), ref["frequency"].to_numpy())
    assert np.allclose(summary["recency"], ref["recency"], atol=0.005)
    assert np.allclose(summary["T"], ref["T"], atol=0.005)
    spend = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    repeat = spend["x"].to_numpy() > 0
    assert np.allclose(
        summary["monetary_value"].to_numpy()[repeat], spend["zbar"][repeat], atol=0.005
    )
    assert summary.attrs["time_unit"] == "week"


def test_holdout_columns() -> None:
    summary = rfm_summary(
        cdnow_log(), calibration_end="1997-09-30", holdout_end="1998-06-30",
        customer_col="customer", date_col="date", amount_col="dollars", product_line_col=None,
    )  # fmt: skip
    assert summary["duration_holdout"].iloc[0] == pytest.approx(273 / 7)
    # every holdout transaction day of the log is counted once
    log = cdnow_log()
    days = log[log["date"] > "1997-09-30"].groupby(["customer", "date"]).ngroups
    assert summary["frequency_holdout"].sum() == days


def test_warehouse_and_frame_paths_agree(tmp_path: Path) -> None:
    generate_sample(tmp_path / "data", customers=400, seed=11, fmt="csv")
    con = connect(tmp_path / "w.duckdb")
    ingest_paths(con, [tmp_path / "data"])
    kwargs = {"calibration_end": "2024-12-31", "holdout_end": "2025-06-30", "time_unit": "day"}
    from_store = rfm_summary(con, **kwargs)
    con.close()
    frame = pd.read_csv(tmp_path / "data" / "transactions.csv", dtype={"customer_id": str})
    from_frame = rfm_summary(frame, **kwargs)
    assert len(from_store) > 100
    pd.testing.assert_frame_equal(from_store, from_frame)


def test_bad_arguments_say_what_is_expected() -> None:
    with pytest.raises(DataContractError, match="time_unit"):
        rfm_summary(cdnow_log(), calibration_end="1997-09-30", time_unit="fortnight")
    with pytest.raises(DataContractError, match="no column"):
        rfm_summary(cdnow_log(), calibration_end="1997-09-30")
    with pytest.raises(DataContractError, match="must come after"):
        rfm_summary(
            cdnow_log(), calibration_end="1997-09-30", holdout_end="1997-01-01",
            customer_col="customer", date_col="date", amount_col="dollars", product_line_col=None,
        )  # fmt: skip


def test_transaction_grain_counts_each_timestamp() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B"],
            "ts": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-01 15:00", "2024-01-08 09:00", "2024-01-05 12:00"]
            ),
            "amount": [10.0, 20.0, 30.0, 5.0],
        }
    )
    by_day = rfm_summary(log, calibration_end="2024-01-14", time_unit="day", product_line_col=None)
    by_event = rfm_summary(
        log, calibration_end="2024-01-14", time_unit="day", product_line_col=None,
        grain="transaction",
    )  # fmt: skip
    a_day, a_event = by_day.iloc[0], by_event.iloc[0]
    assert (a_day["frequency"], a_event["frequency"]) == (1, 2)
    assert a_day["recency"] == 7 and a_event["recency"] == pytest.approx(7.0)
    assert a_day["T"] == 13 and a_event["T"] == pytest.approx(14 - 9 / 24)
    assert a_day["monetary_value"] == 30 and a_event["monetary_value"] == pytest.approx(25)
