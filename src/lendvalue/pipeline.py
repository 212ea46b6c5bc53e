"""One snapshot end to end: ``lendvalue run --as-of DATE``.

features → fit → value → segment → strategy → alerts → ``clv_table`` and ``snapshots``, every fit
recorded in ``model_runs``, chart data in ``diagnostics`` (docs/pipeline.md). Each stage reads the
warehouse through the ``warehouse`` package and fits, values and decides through the pure
stages; nothing here is a formula of its own. Re-running a date replaces its snapshot in one
transaction; a later date adds one.

- **PD**: a WoE scorecard fitted on the customers performing a year before the date, with their
  defaults of that year, and validated out of time one year earlier (fitted on two years back,
  scored on last year's customers against this year's defaults); PDs calibrated to the
  training default rate. Customers the scorecard cannot score (no statement) take the
  master-scale PD of their grade. PD term structures: the cohort migration matrix of the
  rating histories, each customer's curve scaled to its own PD.
- **Retention**: a Weibull AFT model of the relationships with size, industry group, grade and
  delinquency; each customer's monthly survival from its tenure on.
- **Fees**: a BG/NBD and a Gamma-Gamma model per fee product line (weeks), the expected fee
  margin by month summed over the lines.
- **Band**: 20 parameter draws of the retention model and 20 of the PD level (its relative
  standard error from the training sample's default count).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from lendvalue.errors import DataContractError
from lendvalue.models import BetaGeoModel, GammaGammaModel, WeibullAFTModel
from lendvalue.models.btyd.diagnostics import calibration_vs_holdout, tracking
from lendvalue.models.credit.master_scale import load_master_scale
from lendvalue.models.credit.migration import CohortMigration, pd_term_structure
from lendvalue.models.credit.scorecard import ScorecardModel
from lendvalue.models.credit.validation import validation_report
from lendvalue.monitoring.alerts import AlertRules, detect_alerts, load_alert_rules
from lendvalue.monitoring.registry import data_fingerprint, run_record
from lendvalue.monitoring.store import previous_snapshot, write_snapshot
from lendvalue.segmentation import segment_table
from lendvalue.strategy.limits import credit_limits_where_assessable
from lendvalue.strategy.policy import Policy, load_policy
from lendvalue.strategy.pricing import standard_prices
from lendvalue.valuation import (
    GradePDCurves,
    ProportionalHazardCurves,
    ValuationInputs,
    customer_value,
    facility_book,
    load_assumptions,
)
from lendvalue.valuation.assumptions import Assumptions
from lendvalue.valuation.curves import MarketCurves
from lendvalue.valuation.streams import customer_streams, expected_fee_margins
from lendvalue.valuation.uncertainty import pd_scenarios, scenarios, survival_scenarios
from lendvalue.warehouse.credit_features import FEATURES, credit_features
from lendvalue.warehouse.features import relationship_spells, retention_covariates
from lendvalue.warehouse.ratings import classification_inputs, rating_history
from lendvalue.warehouse.rfm import rfm_summary
from lendvalue.warehouse.strategy_inputs import customer_profiles, limit_inputs
from lendvalue.warehouse.valuation_inputs import (
    active_facilities,
    deposit_positions,
    realised_contribution,
    valuation_customers,
)

STAGES = ("features", "fit", "value", "segment", "strategy", "alerts", "write")
RETENTION_COVARIATES = ("size_medium", "size_small", "size_micro", "industry_cyclical",
                        "industry_manufacturing", "grade_centred", "delinquent")  # fmt: skip
SCORE_FEATURES = tuple(f for f in FEATURES if f not in ("grade_index", "utilisation"))
"""The scorecard's features: utilisation is only known on the load date (not in training), and
the grade is an output of the credit process, not an input of its PD model."""
MIN_DEFAULTS = 20
MIN_EVENTS_PER_LEVEL = 10
STANDARD_PRODUCT, STANDARD_AMOUNT_YUAN, STANDARD_TENOR_MONTHS = "working_capital", 1e7, 12
"""The facility the table's recommended price is for: a 1-year working-capital bullet loan of
1,000万元, unsecured."""


@dataclass(frozen=True)
class RunSummary:
    snapshot_date: dt.date
    customers: int
    total_clv: float
    alerts: int
    seconds: float
    stage_seconds: dict[str, float]


def run_snapshot(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    assumptions: Assumptions | None = None,
    policy: Policy | None = None,
    alert_rules: AlertRules | None = None,
    bank_capital: Any = None,
    bank_name: str = "",
    n_draws: int = 20,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Run every stage for ``as_of`` and write the snapshot (module notes)."""
    a = assumptions or load_assumptions()
    pol = policy or load_policy()
    rules = alert_rules or load_alert_rules()
    started = time.perf_counter()
    clock: dict[str, float] = {}

    def stage(name: str) -> None:
        clock[name] = time.perf_counter()
        if progress is not None:
            progress(name)

    stage("features")
    f = _features(con, as_of)
    stage("fit")
    fits = _fit(f, as_of, a)
    stage("value")
    table, inputs = _value(con, f, fits, as_of, a, n_draws)
    stage("segment")
    scale = load_master_scale()
    grade = scale.grade_of_pd(inputs.pd_1y)
    seg = segment_table(pd.DataFrame({
        "customer_id": table["customer_id"], "clv": table["clv"], "grade": f["rating_grade"],
        "pd_1y": inputs.pd_1y, "classification": f["classification"].to_numpy(object),
    }))  # fmt: skip
    stage("strategy")
    strategy = _strategy(f, table, seg, fits, inputs, as_of, a, pol, bank_capital)
    stage("alerts")
    clv = _clv_table(f, table, seg, strategy, inputs, grade, as_of, pol)
    previous = previous_snapshot(con, as_of)
    alerts = detect_alerts(clv, previous, f["facts"], snapshot_date=as_of, rules=rules)
    flags = alerts.groupby("customer_id")["alert"].agg(",".join)
    clv["alert_flags"] = pd.Series(clv["customer_id"].map(flags), dtype=object).fillna("")
    clv["n_alerts"] = (
        clv["customer_id"].map(alerts.groupby("customer_id").size()).fillna(0).astype(int)
    )
    stage("write")
    snapshot = {
        "snapshot_date": as_of, "created_at": pd.Timestamp(dt.datetime.now()).floor("s"),
        "customers": len(clv), "total_clv": float(clv["clv"].sum()),
        "total_realised": float(clv["realised_12m"].sum()), "assumptions_name": a.name,
        "assumptions_sha256": hashlib.sha256(a.model_dump_json().encode()).hexdigest(),
        "policy_name": pol.name, "bank_name": bank_name,
        "seconds": time.perf_counter() - started,
    }  # fmt: skip
    write_snapshot(con, snapshot, clv, alerts, pd.DataFrame(fits["runs"]), fits["diagnostics"]
                   | {"retention_curves": _retention_curves(inputs, seg, a)})  # fmt: skip
    ends = [*list(clock.values())[1:], time.perf_counter()]
    return RunSummary(
        snapshot_date=as_of, customers=len(clv), total_clv=float(clv["clv"].sum()),
        alerts=len(alerts), seconds=time.perf_counter() - started,
        stage_seconds={k: round(e - s, 3) for (k, s), e in zip(clock.items(), ends,
                                                                strict=True)},
    )  # fmt: skip


# --------------------------------------------------------------------------- features


def _features(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    year_ago = _years_before(as_of, 1)
    customers = valuation_customers(con, as_of)
    if customers.empty:
        raise DataContractError(f"no customer has an active relationship on {as_of}")
    names = con.execute("SELECT customer_id, name AS customer_name FROM customers").df()
    customers = customers.merge(names, on="customer_id", how="left")
    covariates = retention_covariates(con, as_of)
    profiles = customer_profiles(con, as_of).set_index("customer_id")
    grades_then = customer_profiles(con, year_ago).set_index("customer_id")["grade"]
    dpd = classification_inputs(con, as_of).groupby("customer_id")["days_past_due"].max()
    ids = customers["customer_id"]
    return {
        "customers": customers,
        "covariates": customers[["customer_id", "tenure_months"]].merge(
            covariates.drop(columns="tenure_months"), on="customer_id", how="left"
        ),
        # landmark design: relationships alive a year ago, their covariates as known then, what
        # happened in the year since — no covariate measured after the spell it explains
        "spells": relationship_spells(con, as_of, landmark=year_ago).merge(
            retention_covariates(con, year_ago), on="customer_id"
        ),
        "score_now": credit_features(con, as_of),
        "score_train": credit_features(con, year_ago, observed_until=as_of),
        "score_past": credit_features(con, _years_before(as_of, 2), observed_until=year_ago),
        "ratings": rating_history(con, as_of),
        "rfm": rfm_summary(
            con, calibration_end=as_of, time_unit="week", observation_start=_years_before(as_of, 3)
        ),
        "rfm_holdout": rfm_summary(
            con,
            calibration_end=year_ago,
            holdout_end=as_of,
            time_unit="week",
            observation_start=_years_before(as_of, 3),
            by_product_line=True,
        ),
        "transactions": con.execute(
            "SELECT customer_id, ts, product_line FROM transactions WHERE ts < ? AND ts > ?",
            [as_of + dt.timedelta(days=1), _years_before(as_of, 3)],
        ).df(),
        "facilities": active_facilities(con, as_of),
        "deposits": deposit_positions(con, as_of),
        "realised": realised_contribution(con, as_of).set_index("customer_id")["realised"],
        "limit_inputs": limit_inputs(con, as_of),
        "market": MarketCurves.from_frame(con.execute("SELECT * FROM market").df()),
        "rating_grade": ids.map(profiles["grade"]).to_numpy(object),
        "classification": ids.map(profiles["classification"]).fillna("normal"),
        "facts": pd.DataFrame(
            {
                "customer_id": ids,
                "days_past_due": ids.map(dpd).fillna(0),
                "grade_year_ago": ids.map(grades_then),
            }
        ),
    }


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --------------------------------------------------------------------------- fit


def _fit(f: dict[str, Any], as_of: dt.date, a: Assumptions) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    diagnostics: dict[str, pd.DataFrame] = {}
    out: dict[str, Any] = {"runs": runs, "diagnostics": diagnostics}

    # PD: validate out of time, then fit on last year
    scale = load_master_scale()
    train, past = f["score_train"], f["score_past"]
    features = list(SCORE_FEATURES)
    out["scorecard"] = None
    if train["default_flag"].sum() >= MIN_DEFAULTS:
        metrics: dict[str, Any] = {}
        if past["default_flag"].notna().any() and past["default_flag"].sum() >= MIN_DEFAULTS:
            earlier = ScorecardModel().fit(past[features], past["default_flag"])
            tested = train.dropna(subset=["default_flag"])
            pd_test = earlier.predict_pd(tested[features])
            report = validation_report(
                tested["default_flag"],
                pd_test,
                scale.grade_of_pd(pd_test),
                development_pd=earlier.predict_pd(past[features]),
            )
            diagnostics["pd_calibration"] = report.pop("calibration").reset_index()
            metrics = {f"out_of_time_{k}": v for k, v in report.items()}
        card = ScorecardModel().fit(train[features], train["default_flag"])
        out["scorecard"] = card
        runs.append(run_record(
            "ScorecardModel", snapshot_date=as_of,
            params={"intercept": card.intercept_, **card.coef_},
            metrics=metrics | {"dropped": card.dropped_}, n_obs=len(train),
            fingerprint=data_fingerprint(train[[*features, "default_flag"]]),
        ))  # fmt: skip
        n, d = len(train), float(train["default_flag"].sum())
        out["pd_relative_se"] = float(np.sqrt((1 - d / n) / d))
    else:
        out["pd_relative_se"] = 0.25

    # migration
    migration = CohortMigration().fit(f["ratings"], as_of=as_of)
    out["pd_grades"] = pd_term_structure(migration, max(a.horizon_months, 12))
    runs.append(run_record(
        "CohortMigration", snapshot_date=as_of,
        params={"matrix": migration.matrix_.to_numpy() if hasattr(migration.matrix_, "to_numpy")
                else migration.matrix_},
        standard_errors={"matrix": migration.se_.to_numpy() if hasattr(migration.se_, "to_numpy")
                         else migration.se_},
        n_obs=len(f["ratings"]), fingerprint=data_fingerprint(f["ratings"]),
    ))  # fmt: skip

    # retention
    spells = f["spells"]
    covariates, dropped = _estimable(spells, RETENTION_COVARIATES)
    weibull = WeibullAFTModel(covariates=covariates).fit(spells)
    out["weibull"] = weibull
    runs.append(run_record(
        "WeibullAFTModel", snapshot_date=as_of, params=weibull.params_,
        standard_errors=weibull.standard_errors_,
        metrics={"log_likelihood": weibull.log_likelihood_, "dropped_covariates": dropped,
                 "hazard_ratios": weibull.hazard_ratios()["hazard_ratio"].to_dict()},
        n_obs=len(spells), fingerprint=weibull.data_fingerprint_,
    ))  # fmt: skip

    # fees: a BG/NBD and a Gamma-Gamma model per product line
    out["fee_models"] = {}
    for line, rows in f["rfm"].groupby("product_line"):
        if len(rows) < 50 or (rows["frequency"] > 0).sum() < 20:
            continue
        bg = BetaGeoModel().fit(rows)
        gg = GammaGammaModel(nonpositive="exclude").fit(rows[rows["frequency"] > 0])
        out["fee_models"][line] = (bg, gg)
        for model in (bg, gg):
            runs.append(run_record(
                f"{type(model).__name__}[{line}]", snapshot_date=as_of, params=model.params_,
                standard_errors=model.standard_errors_,
                metrics={"log_likelihood": model.log_likelihood_}, n_obs=model.n_customers_,
                fingerprint=model.data_fingerprint_,
            ))  # fmt: skip
    _btyd_diagnostics(f, as_of, diagnostics)
    return out


def _estimable(spells: pd.DataFrame, candidates: tuple[str, ...]
               ) -> tuple[list[str], dict[str, str]]:  # fmt: skip
    """The covariates whose effect the spells can estimate: present, not constant, and — for a
    0/1 covariate — with at least ``MIN_EVENTS_PER_LEVEL`` leavers at each level (with none at
    one level the likelihood has no maximum: the coefficient runs off to infinity)."""
    kept: list[str] = []
    dropped: dict[str, str] = {}
    events = spells["event"] == 1
    for name in candidates:
        if name not in spells or spells[name].nunique() < 2:
            dropped[name] = "absent or constant"
            continue
        values = spells[name]
        if set(values.dropna().unique()) <= {0, 1}:
            per_level = [int((events & (values == v)).sum()) for v in (0, 1)]
            if min(per_level) < MIN_EVENTS_PER_LEVEL:
                dropped[name] = f"leavers per level {per_level}: too few to estimate"
                continue
        kept.append(name)
    return kept, dropped


def _btyd_diagnostics(f: dict[str, Any], as_of: dt.date, diagnostics: dict[str, pd.DataFrame]
                      ) -> None:  # fmt: skip
    """Calibration vs holdout and tracking of a BG/NBD model fitted a year back on the largest
    fee product line."""
    holdout = f["rfm_holdout"]
    if holdout.empty:
        return
    line = holdout["product_line"].value_counts().index[0]
    rows = holdout[holdout["product_line"] == line]
    if (rows["frequency"] > 0).sum() < 20:
        return
    model = BetaGeoModel().fit(rows)
    cal = calibration_vs_holdout(model, rows)
    diagnostics["btyd_calibration"] = cal.rename(columns={"expected": "predicted"})
    log = f["transactions"]
    log = log[log["product_line"] == line]
    start = (pd.Timestamp(as_of) - pd.DateOffset(years=3)).date().isoformat()
    track = tracking(model, log, start=start, end=as_of.isoformat())
    diagnostics["btyd_tracking"] = pd.DataFrame({
        "period": track["period"], "actual": track["actual_cumulative"],
        "predicted": track["expected_cumulative"],
    })  # fmt: skip


# --------------------------------------------------------------------------- value


def _value(
    con: duckdb.DuckDBPyConnection,
    f: dict[str, Any],
    fits: dict[str, Any],
    as_of: dt.date,
    a: Assumptions,
    n_draws: int,
) -> tuple[pd.DataFrame, ValuationInputs]:
    customers = f["customers"]
    ids = customers["customer_id"]
    scale = load_master_scale()
    grade_pd = pd.Series(scale.pd_of_grade(list(scale.codes)), index=list(scale.codes))
    fallback = pd.Series(f["rating_grade"]).map(grade_pd).fillna(grade_pd["BBB"]).to_numpy()
    pd_1y = fallback.astype(np.float64)
    if fits["scorecard"] is not None:
        now = f["score_now"].set_index("customer_id")
        now = now[now["log_total_assets"].notna()]  # no statement: the grade's PD instead
        scored = fits["scorecard"].predict_pd(now[list(SCORE_FEATURES)])
        pd_1y = ids.map(pd.Series(scored, index=now.index)).to_numpy(np.float64)
        pd_1y = np.where(np.isnan(pd_1y), fallback, pd_1y)
    pd_1y = np.clip(pd_1y, a.pd_floor, 0.999)
    grades = fits["pd_grades"]
    # each customer's curve takes the shape of the grade its PD falls in (CCC for the worst)
    performing = list(grades.index)
    codes = [c if c in performing else performing[-1] for c in scale.grade_of_pd(pd_1y)]
    shape_grade = pd.Index(performing).get_indexer(codes)
    pd_curves = GradePDCurves.from_grades(grades.cumulative, shape_grade, pd_1y)
    covs = f["covariates"].fillna(0.0)
    survival = ProportionalHazardCurves.from_model(fits["weibull"], covs)
    fee_margin = _fee_margins(fits["fee_models"], f["rfm"], ids, a.horizon_months)
    streams = customer_streams(customers, f["deposits"], as_of=as_of, market=f["market"],
                               assumptions=a, fee_margin=fee_margin)  # fmt: skip
    inputs = ValuationInputs(as_of=as_of, market=f["market"], customers=customers, pd_1y=pd_1y,
                             survival=survival, pd_curves=pd_curves, streams=streams,
                             realised_12m=f["realised"])  # fmt: skip
    draws = scenarios(
        survival=survival_scenarios(fits["weibull"], covs, n_draws=n_draws),
        pd_curves=pd_scenarios(pd_curves, fits["pd_relative_se"], n_draws=n_draws),
    )
    table = customer_value(f["facilities"], a, inputs, scenarios=draws)
    return table, inputs


def _fee_margins(models: dict[str, Any], rfm: pd.DataFrame, ids: pd.Series, horizon: int
                 ) -> np.ndarray:  # fmt: skip
    """Customers × months of expected fee margin, summed over the product lines."""
    total = np.zeros((len(ids), horizon))
    position = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
    for line, (bg, gg) in models.items():
        rows = rfm[(rfm["product_line"] == line) & rfm["customer_id"].isin(position.index)]
        if rows.empty:
            continue
        spend = np.asarray(gg.expected_average_spend(
            rows.assign(monetary_value=rows["monetary_value"].where(
                rows["monetary_value"] > 0, gg.population_average_spend()))
        ), dtype=np.float64)  # fmt: skip
        stream = expected_fee_margins(bg, rows, spend, horizon)
        np.add.at(total, position.loc[rows["customer_id"]].to_numpy(), stream)
    return total


def _retention_curves(inputs: ValuationInputs, seg: pd.DataFrame, a: Assumptions
                      ) -> pd.DataFrame:  # fmt: skip
    """Mean survival by month for each segment (months 0 … horizon, every 3 months)."""
    rows = np.arange(len(inputs.customers), dtype=np.int64)
    curves = inputs.survival.block(rows, a.horizon_months)
    frame = pd.DataFrame(curves[:, ::3], columns=np.arange(0, a.horizon_months + 1, 3))
    frame["segment"] = seg["segment"].to_numpy()
    mean = frame.groupby("segment").mean()
    return mean.reset_index().melt(id_vars="segment", var_name="month", value_name="survival")


# --------------------------------------------------------------------------- strategy


def _strategy(
    f: dict[str, Any],
    table: pd.DataFrame,
    seg: pd.DataFrame,
    fits: dict[str, Any],
    inputs: ValuationInputs,
    as_of: dt.date,
    a: Assumptions,
    pol: Policy,
    bank_capital: Any,
) -> pd.DataFrame:
    """Recommended price of the standard facility and the working-capital limit per customer."""
    ids = table["customer_id"]
    n = len(ids)
    maturity = pd.Timestamp(as_of) + pd.DateOffset(months=STANDARD_TENOR_MONTHS)
    frame = pd.DataFrame({
        "facility_id": "std-" + ids, "customer_id": ids, "product": STANDARD_PRODUCT,
        "limit_amount": STANDARD_AMOUNT_YUAN, "drawn_amount": STANDARD_AMOUNT_YUAN,
        "currency": "CNY", "origination_date": pd.Timestamp(as_of), "maturity_date": maturity,
        "rate_type": "lpr_1y", "rate": np.nan, "spread_bp": 0.0, "amortization": "bullet",
        "collateral_type": "unsecured", "upfront_fee": 0.0, "commitment_fee_bp": 0.0,
        "classification": "normal", "status": "active",
    })  # fmt: skip
    short = a.model_copy(update={"horizon_months": STANDARD_TENOR_MONTHS})
    market = f["market"].with_scenario((x.date, x.tenor, x.rate) for x in a.lpr_scenario)
    book = facility_book(frame, inputs.customer_rows, as_of, market, short, inputs.pd_1y)
    # the relationship discount is funded by the relationship's value without its deposits: no
    # price depends on deposits (存贷挂钩)
    other = (table["clv"] - table["deposit_value"] * (1 - a.tax_rate)).to_numpy()
    prices = standard_prices(
        book, segments=seg["segment"].to_numpy(), other_value_yuan=other,
        as_of=as_of, assumptions=short, market=market, policy=pol,
        survival=inputs.survival, pd_curves=inputs.pd_curves,
    )  # fmt: skip
    limits_in = f["limit_inputs"].set_index("customer_id").reindex(ids).reset_index()
    limits_in["product"] = "working_capital"
    limits_in["limit_multiplier"] = (
        seg["segment"]
        .map({c: pol.cell(c).limit_multiplier for c in seg["segment"].unique()})
        .to_numpy()
    )
    if bank_capital is None:  # no caps without the bank's capital: not assessed
        limits = pd.DataFrame({"limit_yuan": np.full(n, np.nan), "binding": "no_bank_capital",
                               "binding_zh": "未提供资本净额"})  # fmt: skip
    else:
        limits = credit_limits_where_assessable(limits_in, bank_capital=bank_capital)
    return pd.DataFrame({
        "price_spread_bp": prices["spread_bp"].to_numpy(), "price_rate": prices["rate"].to_numpy(),
        "limit_yuan": limits["limit_yuan"].to_numpy(np.float64),
        "limit_binding": limits["binding"].to_numpy(object),
        "limit_binding_zh": limits["binding_zh"].to_numpy(object),
    })  # fmt: skip


def _clv_table(
    f: dict[str, Any],
    table: pd.DataFrame,
    seg: pd.DataFrame,
    strategy: pd.DataFrame,
    inputs: ValuationInputs,
    grade: np.ndarray,
    as_of: dt.date,
    pol: Policy,
) -> pd.DataFrame:
    customers = f["customers"].reset_index(drop=True)
    out = pd.concat([customers[["customer_id", "customer_name", "rm_id", "industry", "region",
                                "size_class", "group_id"]],
                     table.drop(columns="customer_id")], axis=1)  # fmt: skip
    out.insert(0, "snapshot_date", pd.Timestamp(as_of))
    rows = np.arange(len(customers), dtype=np.int64)
    out["survival_12m"] = inputs.survival.block(rows, 12)[:, 12]
    out["pd_1y"] = inputs.pd_1y
    out["grade"] = grade
    out["rating_grade"] = f["rating_grade"]
    out["classification"] = f["classification"].to_numpy(object)
    for col in ("value_tier", "value_tier_zh", "risk_tier", "risk_tier_zh", "risk_reason",
                "segment", "segment_zh", "segment_en"):  # fmt: skip
        out[col] = seg[col].to_numpy()
    cells = {c: pol.cell(c) for c in out["segment"].unique()}
    out["action_zh"] = out["segment"].map({c: p.action_zh for c, p in cells.items()})
    out["action_en"] = out["segment"].map({c: p.action_en for c, p in cells.items()})
    out["review_months"] = out["segment"].map({c: p.review_months for c, p in cells.items()})
    for col in strategy.columns:
        out[col] = strategy[col].to_numpy()
    out["alert_flags"] = ""
    out["n_alerts"] = 0
    return out
