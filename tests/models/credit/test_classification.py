"""五级分类 by the rules of 《商业银行金融资产风险分类办法》(2023): hand cases for every rule and
boundary, worst-of semantics, YAML overrides, and the warehouse inputs on a sample bank."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lendvalue.errors import ConfigError, DataContractError
from lendvalue.models.credit.classification import (
    CLASS_CODES,
    ClassificationRules,
    classify,
    load_classification_rules,
)
from lendvalue.sample import generate_sample
from lendvalue.warehouse.ratings import classification_inputs

AS_OF = "2024-06-30"
RULES = load_classification_rules()

# (case, inputs, expected class, expected rule id)
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("nothing", {}, "normal", "none"),
    ("1 day past due", {"days_past_due": 1}, "special_mention", "overdue"),
    ("90 days is not more than 90", {"days_past_due": 90}, "special_mention", "overdue"),
    ("91 days", {"days_past_due": 91}, "substandard", "overdue_90"),
    ("270 days", {"days_past_due": 270}, "substandard", "overdue_90"),
    ("271 days", {"days_past_due": 271}, "doubtful", "overdue_270"),
    ("360 days", {"days_past_due": 360}, "doubtful", "overdue_270"),
    ("361 days", {"days_past_due": 361}, "loss", "overdue_360"),
    ("defaulted", {"defaulted": True}, "substandard", "defaulted"),
    ("tie: the first rule", {"defaulted": True, "days_past_due": 100}, "substandard",
     "overdue_90"),
    ("20% is not more than 20%", {"cross_default_share": 0.20}, "normal", "none"),
    ("cross-bank share", {"cross_default_share": 0.21}, "substandard", "cross_default_share"),
    ("unknown share", {"cross_default_share": np.nan}, "normal", "none"),
    ("bad debt elsewhere", {"cross_default": True}, "special_mention", "cross_default"),
    ("restructured, observing",
     {"restructured": True, "restructure_date": "2024-01-15", "observation_start": "2024-02-15"},
     "special_mention", "restructured"),
    ("restructured, observation over",
     {"restructured": True, "restructure_date": "2022-01-01", "observation_start": "2022-02-01"},
     "normal", "none"),
    ("restructured, no first due date yet: period from the restructuring",
     {"restructured": True, "restructure_date": "2023-06-30"}, "normal", "none"),
    ("observation ends tomorrow",
     {"restructured": True, "restructure_date": "2023-07-01"}, "special_mention", "restructured"),
    ("restructured and late in the period",
     {"restructured": True, "restructure_date": "2024-01-15", "days_past_due": 5},
     "substandard", "restructured_nonperformance"),
    ("restructured again within the previous period",
     {"restructured": True, "restructure_date": "2024-01-15",
      "previous_restructure_date": "2023-09-01"},
     "substandard", "restructured_nonperformance"),
    ("restructured again long after",
     {"restructured": True, "restructure_date": "2024-01-15",
      "previous_restructure_date": "2021-01-01"},
     "special_mention", "restructured"),
    ("restructured, dates unknown: still observing", {"restructured": True},
     "special_mention", "restructured"),
    ("observation end given",
     {"restructured": True, "restructure_date": "2024-01-15", "observation_end": "2024-05-01"},
     "normal", "none"),
    ("current class kept", {"current_classification": "doubtful", "days_past_due": 100},
     "doubtful", "current_classification"),
    ("current class tied by a rule", {"current_classification": "substandard",
                                      "days_past_due": 100}, "substandard", "overdue_90"),
    ("current class as a label", {"current_classification": "关注"}, "special_mention",
     "current_classification"),
    ("current normal", {"current_classification": "normal"}, "normal", "none"),
]  # fmt: skip


def case_frame(cases: list[tuple[str, dict[str, Any], str, str]]) -> pd.DataFrame:
    rows = []
    for name, inputs, _, _ in cases:
        row: dict[str, Any] = {"case": name, "days_past_due": 0}
        row.update(inputs)
        rows.append(row)
    return pd.DataFrame(rows).set_index("case")


def test_hand_cases() -> None:
    out = classify(case_frame(CASES), as_of=AS_OF)
    got = list(zip(out["classification"], out["rule_id"], strict=True))
    want = [(c, r) for _, _, c, r in CASES]
    assert got == want, [(n, g) for (n, *_), g, w in zip(CASES, got, want, strict=True) if g != w]
    assert list(out.columns) == ["classification", "classification_zh", "rule_id", "rule_zh"]
    labels = dict(zip(out["classification"], out["classification_zh"], strict=True))
    assert labels == {"normal": "正常", "special_mention": "关注", "substandard": "次级",
                      "doubtful": "可疑", "loss": "损失"}  # fmt: skip
    assert out.loc["361 days", "rule_zh"] == "本金、利息或收益逾期超过360天"
    assert out.loc["nothing", "rule_zh"] == "未触发分类规则"


def test_every_default_rule_fires_in_some_case() -> None:
    out = classify(case_frame(CASES), as_of=AS_OF)
    debtor = classify(debtor_frame(), as_of=AS_OF)
    fired = set(out["rule_id"]) | set(debtor["rule_id"])
    assert {r.id for r in RULES.rules} <= fired


def debtor_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["X", "X", "Y", "Y", "Z"],
            "exposure_yuan": [100.0, 500.0, 5.0, 95.0, 0.0],
            "days_past_due": [100, 0, 100, 0, 0],
        }
    )


def test_same_debtor_share_makes_all_its_debt_non_performing() -> None:
    # 第九条 (10% rule): X has 100 / 600 = 16.7% non-performing -> all of X; Y 5% -> not
    out = classify(debtor_frame(), as_of=AS_OF)
    assert out["classification"].tolist() == ["substandard", "substandard", "substandard",
                                              "normal", "normal"]  # fmt: skip
    assert out["rule_id"].tolist() == ["overdue_90", "same_debtor_npl_share", "overdue_90",
                                       "none", "none"]  # fmt: skip
    # without customer_id / exposure_yuan the debtor-level rule cannot be evaluated
    alone = classify(debtor_frame().drop(columns="exposure_yuan"), as_of=AS_OF)
    assert alone["rule_id"].tolist()[1] == "none"


def test_bad_inputs() -> None:
    with pytest.raises(DataContractError, match="needs a days_past_due column"):
        classify(pd.DataFrame({"defaulted": [True]}), as_of=AS_OF)
    with pytest.raises(DataContractError, match="missing or negative"):
        classify(pd.DataFrame({"days_past_due": [1, np.nan]}), as_of=AS_OF)
    with pytest.raises(DataContractError, match=r"\['good'\] are not 五级分类 codes"):
        classify(
            pd.DataFrame({"days_past_due": [0], "current_classification": ["good"]}), as_of=AS_OF
        )


# --- worst-of semantics ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 500),
            st.booleans(),
            st.booleans(),
            st.one_of(st.none(), st.floats(0.0, 1.0)),
            st.one_of(st.none(), st.sampled_from(CLASS_CODES)),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_worst_of_every_fired_rule_and_the_current_class(rows: list[tuple[Any, ...]]) -> None:
    frame = pd.DataFrame(
        rows, columns=["days_past_due", "defaulted", "cross_default", "cross_default_share",
                       "current_classification"],
    )  # fmt: skip
    frame["cross_default_share"] = frame["cross_default_share"].astype(float)
    out = classify(frame, as_of=AS_OF)
    got = np.array([CLASS_CODES.index(c) for c in out["classification"]])
    current = frame["current_classification"].map(
        lambda c: -1 if c is None or c != c else CLASS_CODES.index(c)
    )
    floors = np.maximum.reduce(
        [
            np.where(frame["days_past_due"] > 0, 1, 0),
            np.where(frame["days_past_due"] > 90, 2, 0),
            np.where(frame["days_past_due"] > 270, 3, 0),
            np.where(frame["days_past_due"] > 360, 4, 0),
            np.where(frame["defaulted"], 2, 0),
            np.where(frame["cross_default"], 1, 0),
            np.where(frame["cross_default_share"].fillna(0) > 0.2, 2, 0),
            current.to_numpy(),
        ]
    )
    np.testing.assert_array_equal(got, floors)
    # more days past due never gives a better class
    later = classify(frame.assign(days_past_due=frame["days_past_due"] + 30), as_of=AS_OF)
    assert (np.array([CLASS_CODES.index(c) for c in later["classification"]]) >= got).all()


# --- the rules file --------------------------------------------------------------------------


def default_yaml() -> dict[str, Any]:
    text = (
        resources.files("lendvalue.models.credit")
        .joinpath("defaults", "classification.yaml")
        .read_text("utf-8")
    )
    raw: dict[str, Any] = yaml.safe_load(text)
    return raw


def write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_default_rules_follow_the_2023_measures() -> None:
    by_id = {r.id: r for r in RULES.rules}
    assert (by_id["overdue_90"].threshold_days, by_id["overdue_90"].at_least) == (
        90, "substandard")  # fmt: skip
    assert (by_id["overdue_270"].threshold_days, by_id["overdue_270"].at_least) == (
        270, "doubtful")  # fmt: skip
    assert (by_id["overdue_360"].threshold_days, by_id["overdue_360"].at_least) == (360, "loss")
    assert by_id["cross_default_share"].threshold_share == 0.20
    assert by_id["same_debtor_npl_share"].threshold_share == 0.10
    assert RULES.observation_months == 12
    assert load_classification_rules() is RULES


def test_yaml_override(tmp_path: Path) -> None:
    raw = default_yaml()
    raw["rules"][0]["threshold_days"] = 7  # the 7-day technical-overdue exemption
    raw["observation_months"] = 24
    rules = load_classification_rules(write(tmp_path, raw))
    frame = pd.DataFrame(
        {
            "days_past_due": [5, 8, 0],
            "restructured": [False, False, True],
            "restructure_date": [None, None, "2023-01-15"],
        }
    )
    out = classify(frame, rules, as_of=AS_OF)
    assert out["classification"].tolist() == ["normal", "special_mention", "special_mention"]
    default = classify(frame, as_of=AS_OF)
    assert default["classification"].tolist() == ["special_mention", "special_mention", "normal"]


def _set(path: str, value: Any) -> Any:
    def change(raw: dict[str, Any]) -> None:
        where: Any = raw
        keys = path.split(".")
        for key in keys[:-1]:
            where = where[int(key)] if key.isdigit() else where[key]
        last = keys[-1]
        if value is _DROP:
            del where[int(last) if last.isdigit() else last]
        elif last.isdigit():
            where[int(last)] = value
        else:
            where[last] = value

    return change


_DROP = object()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("rules.1.id", "overdue"), r"rule ids must be unique; repeated: overdue"),
        (_set("rules.1.threshold_days", _DROP), r"rule overdue_90: threshold_days is required"),
        (_set("rules.4.threshold_days", 3), r"rule defaulted: threshold_days is required .* only"),
        (_set("rules.5.threshold_share", 1.5), r"rules\.5\.threshold_share"),
        (_set("rules.0.kind", "rating_downgrade"), r"rules\.0\.kind"),
        (_set("rules.0.at_least", "normal"), r"rule overdue: at_least must be worse than normal"),
        (_set("rules.0.at_least", "次级"), r"rules\.0\.at_least"),
        (_set("rules.0.id", "none"), r"reserved"),
        (_set("observation_months", 0), r"observation_months"),
    ],
)
def test_invalid_rules_raise_config_error(tmp_path: Path, change: Any, message: str) -> None:
    raw = copy.deepcopy(default_yaml())
    change(raw)
    with pytest.raises(ConfigError, match=message):
        load_classification_rules(write(tmp_path, raw))


def test_rules_are_a_pydantic_model() -> None:
    rules = ClassificationRules.model_validate(default_yaml())
    assert [r.id for r in rules.rules] == [r.id for r in RULES.rules]


# --- warehouse inputs ------------------------------------------------------------------------


def test_classification_inputs_by_hand() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE facilities AS SELECT * FROM (VALUES
            ('F1', 'C1', 'active', 'normal', 100.0, DATE '2020-01-01'),
            ('F2', 'C1', 'settled', 'normal', 0.0, DATE '2019-01-01'),
            ('F3', 'C2', 'active', 'special_mention', 50.0, DATE '2022-01-01'),
            ('F4', 'C3', 'active', 'normal', 10.0, DATE '2025-01-01')  -- after as_of
        ) t(facility_id, customer_id, status, classification, drawn_amount, origination_date)"""
    )
    con.execute(
        """CREATE TABLE repayments AS SELECT * FROM (VALUES
            ('F1', DATE '2024-03-01', NULL::DATE, 45),         -- unpaid: 121 days on 2024-06-30
            ('F1', DATE '2024-04-01', DATE '2024-07-15', 105), -- paid after as_of: 90 days
            ('F3', DATE '2024-01-31', DATE '2024-02-05', 5),   -- paid late, before as_of
            ('F3', DATE '2024-02-29', DATE '2024-02-29', 0)    -- first due after restructuring
        ) t(facility_id, due_date, paid_date, days_past_due)"""
    )
    con.execute(
        """CREATE TABLE credit_events AS SELECT * FROM (VALUES
            ('C1', DATE '2024-05-01', 'default', 'F1'),
            ('C2', DATE '2023-09-01', 'restructure', 'F3'),
            ('C2', DATE '2024-02-10', 'restructure', NULL),
            ('C2', DATE '2023-12-01', 'cross_default', NULL),
            ('C1', DATE '2022-01-01', 'cross_default', NULL)  -- more than a year ago
        ) t(customer_id, event_date, event, facility_id)"""
    )
    got = classification_inputs(con, AS_OF).set_index("facility_id")
    assert got.index.tolist() == ["F1", "F2", "F3"]
    assert got["days_past_due"].tolist() == [121, 0, 0]
    assert got["defaulted"].tolist() == [True, False, False]  # F2 was settled
    assert got["restructured"].tolist() == [False, False, True]
    f3 = got.loc["F3"]
    assert str(f3["restructure_date"].date()) == "2024-02-10"
    assert str(f3["previous_restructure_date"].date()) == "2023-09-01"
    assert str(f3["observation_start"].date()) == "2024-02-29"
    assert got["cross_default"].tolist() == [False, False, True]
    assert got["cross_default_share"].isna().all()
    out = classify(got, as_of=AS_OF)
    assert out["classification"].tolist() == ["substandard", "normal", "substandard"]
    assert out["rule_id"].tolist() == ["overdue_90", "none", "restructured_nonperformance"]
    # a restructuring with no installment due since: the period has not started, it runs on
    # (and F3's second restructuring inside the first one's period is 再次重组: 次级)
    early = classification_inputs(con, "2024-02-20").set_index("facility_id")
    assert str(early.loc["F3", "observation_start"].date()) == "2024-02-21"
    assert classify(early, as_of="2024-02-20")["rule_id"].iloc[-1] == "restructured_nonperformance"
    # the facilities table is a load-date snapshot: classifying another day is refused
    with pytest.raises(DataContractError, match="classify as of that date"):
        classification_inputs(con, "2024-03-31", snapshot_date=AS_OF)


@pytest.fixture(scope="module")
def small_bank(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    folder = tmp_path_factory.mktemp("classification")
    generate_sample(folder, customers=4_000, seed=3, fmt="parquet")
    con = duckdb.connect()
    for table in ("facilities", "repayments", "credit_events"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{folder / table}.parquet'")
    return con


def test_sample_bank_is_classified_consistently(small_bank: duckdb.DuckDBPyConnection) -> None:
    inputs = classification_inputs(small_bank, "2025-06-30")
    n_facilities = small_bank.execute("SELECT count(*) FROM facilities").fetchone()
    assert n_facilities is not None and len(inputs) == n_facilities[0]
    out = classify(inputs, as_of="2025-06-30")
    assert out["classification"].isin(CLASS_CODES).all()
    assert out["rule_id"].notna().all()
    idx = out["classification"].map(CLASS_CODES.index)
    assert (idx[inputs["days_past_due"] > 90] >= 2).all()
    assert (idx[inputs["days_past_due"] > 360] == 4).all()
    assert (idx[inputs["defaulted"]] >= 2).all()
    current = inputs["current_classification"].map(CLASS_CODES.index)
    assert (idx >= current).all()  # rules never upgrade
    assert (inputs["days_past_due"] > 90).sum() > 0 and inputs["restructured"].sum() > 0
