"""Value tiers, risk tiers and the value–risk matrix: cut points by hand, every risk rule and the
worst-of semantics, the nine cells, YAML overrides and bad files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import lendvalue.segmentation as seg
from lendvalue.errors import ConfigError, DataContractError
from lendvalue.models.credit.master_scale import load_master_scale
from lendvalue.segmentation import (
    SEGMENT_CODES,
    SEGMENTS,
    TierRules,
    load_tier_rules,
    matrix_summary,
    risk_tier,
    segment,
    segment_labels,
    segment_table,
    value_tier,
)

NAN = float("nan")


def counts(tiers: np.ndarray) -> dict[str, int]:
    return {t: int((tiers == t).sum()) for t in ("high", "mid", "low")}


def write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "tiers.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


# --- the package ------------------------------------------------------------------------------


def test_public_names_match_all() -> None:
    public = {n for n in dir(seg) if not n.startswith("_")} - {"clusters", "tiers"}
    assert public == set(seg.__all__)


def test_packaged_yaml_is_the_model_defaults() -> None:
    """The documented file and the pydantic defaults (used for fields a bank leaves out) agree."""
    text = resources.files("lendvalue.segmentation").joinpath("defaults", "tiers.yaml")
    raw = yaml.safe_load(text.read_text("utf-8"))
    assert TierRules.model_validate(raw) == TierRules() == load_tier_rules()


# --- value tiers ------------------------------------------------------------------------------


def test_quantile_tiers_by_hand() -> None:
    """CLV 1..100: 91..100 are the top 10% (high), 61..90 the next 30% (mid), 1..60 low."""
    clv = np.arange(1.0, 101.0)
    tiers = value_tier(clv)
    assert counts(tiers) == {"high": 10, "mid": 30, "low": 60}
    assert (tiers[clv >= 91] == "high").all()
    assert (tiers[(clv >= 61) & (clv <= 90)] == "mid").all()
    assert (tiers[clv <= 60] == "low").all()


def test_quantile_tiers_do_not_depend_on_row_order() -> None:
    clv = np.arange(1.0, 101.0)
    perm = np.random.default_rng(7).permutation(clv.size)
    np.testing.assert_array_equal(value_tier(clv[perm]), value_tier(clv)[perm])


def test_ties_share_a_tier_and_go_to_the_lower_one() -> None:
    # 10 customers, one high slot: three tied at the top take 30% of the book -> all mid
    clv = np.array([9.0, 9.0, 9.0, 5, 4, 3, 2, 1, 0, 0])
    tiers = value_tier(clv)
    assert list(tiers[:3]) == ["mid"] * 3
    assert counts(tiers)["high"] == 0
    assert tiers[3] == "mid"  # 4 customers worth >= 5: 40% = high + mid shares
    assert (tiers[4:] == "low").all()
    assert (value_tier(np.full(50, 1e6)) == "low").all()  # nobody stands out


def test_small_book_has_no_high_tier() -> None:
    assert counts(value_tier([5.0, 4.0, 3.0, 2.0, 1.0])) == {"high": 0, "mid": 2, "low": 3}


def test_negative_clv_is_always_low() -> None:
    clv = np.array([-1.0, -2, -3, -4, -5, -6, -7, -8, -9, -10])
    assert (value_tier(clv) == "low").all()  # the top 10% of a loss-making book is still low
    assert value_tier([-1.0], {"value": {"method": "absolute"}})[0] == "low"
    rules = {"value": {"method": "absolute", "high_min_yuan": 1.0, "mid_min_yuan": 0.0}}
    assert list(value_tier([-0.01, 0.0, 1.0], rules)) == ["low", "mid", "high"]


def test_absolute_thresholds() -> None:
    clv = [5_000_000.0, 4_999_999.0, 500_000.0, 499_999.0, 0.0, -1e7, 1e9]
    tiers = value_tier(clv, {"value": {"method": "absolute"}})
    assert list(tiers) == ["high", "mid", "mid", "low", "low", "low", "high"]


def test_missing_clv_raises() -> None:
    with pytest.raises(DataContractError, match="clv has 1 missing"):
        value_tier([1.0, NAN, 3.0])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=200))
def test_value_tier_is_monotone_and_tiers_hold_at_most_their_share(clv: list[float]) -> None:
    x = np.array(clv)
    rank = pd.Series(value_tier(x)).map({"high": 2, "mid": 1, "low": 0}).to_numpy()
    order = np.argsort(x, kind="stable")
    assert (np.diff(rank[order]) >= 0).all()  # more CLV never means a lower tier
    assert (rank == 2).sum() <= 0.10 * x.size + 1e-9
    assert (rank >= 1).sum() <= 0.40 * x.size + 1e-9


# --- risk tiers -------------------------------------------------------------------------------

# (case, grade, pd_1y, classification, tier, reason)
RISK_CASES: list[tuple[str, Any, float, Any, str, str]] = [
    ("all low", "AAA", 0.0003, "normal", "low", "grade"),
    ("grade only", "A", NAN, None, "low", "grade"),
    ("PD only", None, 0.001, None, "low", "pd"),
    ("grade medium", "BBB", 0.001, "normal", "medium", "grade"),
    ("PD worse than grade", "AAA", 0.02, "normal", "medium", "pd"),
    ("PD high", "BBB", 0.05, "normal", "high", "pd"),
    ("grade high", "CCC", 0.2, "normal", "high", "grade"),
    ("grade B high", "B", NAN, None, "high", "grade"),
    ("关注 lifts to medium", "A", 0.001, "special_mention", "medium", "classification"),
    ("关注 in Chinese", "AA", 0.001, "关注", "medium", "classification"),
    ("次级 is high", "AA", 0.0005, "substandard", "high", "classification"),
    ("可疑类 alias", "AA", 0.0005, "可疑类", "high", "classification"),
    ("loss", "A", 0.001, "LOSS", "high", "classification"),
    ("tie: classification before grade", "BB", 0.02, "special_mention", "medium",
     "classification"),
    ("tie: grade before PD", "BBB", 0.005, None, "medium", "grade"),
    ("default grade", "D", NAN, None, "high", "defaulted"),
    ("default beats classification", "D", 1.0, "loss", "high", "defaulted"),
    ("PD = 1 is default", "BBB", 1.0, None, "high", "defaulted"),
    ("nothing", None, NAN, None, "medium", "unrated"),
    ("blank grade", "", NAN, "", "medium", "unrated"),
    ("unrated, class normal", None, NAN, "normal", "medium", "unrated"),
    ("unrated, 关注", None, NAN, "special_mention", "medium", "classification"),
    ("unrated, 可疑", None, NAN, "doubtful", "high", "classification"),
    ("PD edge 0.35% is medium", None, 0.0035, None, "medium", "pd"),
    ("PD just below 3.5%", None, 0.0349999, None, "medium", "pd"),
    ("PD edge 3.5% is high", None, 0.035, None, "high", "pd"),
    ("PD 0", None, 0.0, None, "low", "pd"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("grade", "pd_1y", "classification", "tier", "reason"),
    [case[1:] for case in RISK_CASES],
    ids=[case[0] for case in RISK_CASES],
)
def test_risk_rules(grade: Any, pd_1y: float, classification: Any, tier: str, reason: str) -> None:
    got_tier, got_reason = risk_tier([grade], [pd_1y], [classification])
    assert (got_tier[0], got_reason[0]) == (tier, reason)


def test_risk_tier_is_vectorised_over_the_cases() -> None:
    grade, pd_1y, cls = ([c[i] for c in RISK_CASES] for i in (1, 2, 3))
    tier, reason = risk_tier(pd.Series(grade), np.array(pd_1y), pd.Series(cls, dtype=object))
    assert list(tier) == [c[4] for c in RISK_CASES]
    assert list(reason) == [c[5] for c in RISK_CASES]


def test_pd_thresholds_agree_with_the_master_scale() -> None:
    """A customer whose PD lies anywhere in its grade's band gets the grade's tier by PD too."""
    scale = load_master_scale()
    grades = list(scale.performing_codes)
    by_grade, _ = risk_tier(grades, [NAN] * len(grades), [None] * len(grades))
    for points in (scale.pd_lower[:-1], scale.representative_pd[:-1], scale.pd_upper[:-1] - 1e-9):
        by_pd, _ = risk_tier([None] * len(grades), points, [None] * len(grades))
        assert list(by_pd) == list(by_grade)
    assert list(by_grade) == ["low"] * 3 + ["medium"] * 2 + ["high"] * 2
    assert set(load_tier_rules().risk.default_grades) == {scale.default_code}


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_a_higher_pd_never_lowers_the_risk_tier(p1: float, p2: float) -> None:
    lo, hi = sorted((p1, p2))
    order = {"low": 0, "medium": 1, "high": 2}
    tiers, _ = risk_tier(["A", "A"], [lo, hi], ["normal", "normal"])
    assert order[tiers[0]] <= order[tiers[1]]


def test_bad_risk_inputs_raise() -> None:
    with pytest.raises(DataContractError, match=r"unknown grade value\(s\) \['BBB\+'\]"):
        risk_tier(["BBB+"], [0.01], [None])
    with pytest.raises(DataContractError, match=r"unknown classification value\(s\) \['Watch'\]"):
        risk_tier(["A"], [0.01], ["Watch"])
    with pytest.raises(DataContractError, match="pd_1y must lie in"):
        risk_tier(["A"], [1.5], [None])
    with pytest.raises(DataContractError, match="one value per customer"):
        risk_tier(["A", "B"], [0.01], [None])


# --- the matrix -------------------------------------------------------------------------------


def nine_customers() -> pd.DataFrame:
    """One customer per cell (absolute rules): value by CLV, risk by grade."""
    clv = {"high": 8e6, "mid": 1e6, "low": 1e5}
    grade = {"low": "AA", "medium": "BB", "high": "CCC"}
    pd_1y = {"low": 0.001, "medium": 0.02, "high": 0.2}
    rows = [
        {"customer_id": f"C{i}", "clv": clv[s.value_tier], "grade": grade[s.risk_tier],
         "pd_1y": pd_1y[s.risk_tier], "classification": "normal"}
        for i, s in enumerate(SEGMENTS)
    ]  # fmt: skip
    return pd.DataFrame(rows, index=pd.Index(range(100, 109), name="row"))


ABSOLUTE = {"value": {"method": "absolute"}}


def test_segments_are_the_nine_cells_in_matrix_order() -> None:
    assert len(SEGMENTS) == 9 == len(set(SEGMENT_CODES))
    assert SEGMENT_CODES[0] == "high_value_low_risk"
    assert SEGMENT_CODES[-1] == "low_value_high_risk"
    assert [s.value_tier for s in SEGMENTS] == ["high"] * 3 + ["mid"] * 3 + ["low"] * 3
    assert [s.risk_tier for s in SEGMENTS] == ["low", "medium", "high"] * 3
    assert SEGMENTS[0].zh == "战略客户·低风险" and SEGMENTS[0].en == "strategic, low risk"
    assert SEGMENTS[4].zh == "核心客户·中风险"
    assert SEGMENTS[8].zh == "普通客户·高风险"


def test_every_cell_is_reachable_through_segment_table() -> None:
    frame = nine_customers()
    table = segment_table(frame, ABSOLUTE)
    assert list(table.columns) == [
        "customer_id", "value_tier", "value_tier_zh", "risk_tier", "risk_tier_zh",
        "risk_reason", "segment", "segment_zh", "segment_en",
    ]  # fmt: skip
    assert table.index.equals(frame.index)
    assert list(table["segment"]) == list(SEGMENT_CODES)
    assert list(table["segment_zh"]) == [s.zh for s in SEGMENTS]
    assert list(table["segment_en"]) == [s.en for s in SEGMENTS]
    assert list(table["value_tier_zh"][:3]) == ["战略"] * 3
    assert list(table["risk_tier_zh"][:3]) == ["低风险", "中风险", "高风险"]
    assert (table["risk_reason"] == "grade").all()


def test_matrix_summary_counts_and_sums() -> None:
    frame = nine_customers()
    frame = pd.concat([frame, frame.iloc[[0]].assign(customer_id="extra", clv=1e7)])
    table = segment_table(frame, ABSOLUTE)
    n, total = matrix_summary(table, frame["clv"])
    assert list(n.index) == ["high", "mid", "low"] and n.index.name == "value_tier"
    assert list(n.columns) == ["low", "medium", "high"] and n.columns.name == "risk_tier"
    expected = np.ones((3, 3), dtype=int)
    expected[0, 0] = 2
    np.testing.assert_array_equal(n.to_numpy(), expected)
    assert total.loc["high", "low"] == 8e6 + 1e7
    assert total.loc["low", "high"] == 1e5
    assert total.to_numpy().sum() == pytest.approx(frame["clv"].sum(), rel=1e-12)
    with pytest.raises(DataContractError, match="one value per row"):
        matrix_summary(table, frame["clv"].iloc[:3])


def test_segment_function() -> None:
    assert segment("mid", "high") == "mid_value_high_risk"
    assert list(segment(["high", "low"], ["medium", "low"])) == [
        "high_value_medium_risk",
        "low_value_low_risk",
    ]
    assert list(segment_labels(["low_value_medium_risk"], "en")) == ["ordinary, medium risk"]
    with pytest.raises(DataContractError, match="unknown risk tier"):
        segment("high", "severe")


def test_segment_table_checks_its_frame() -> None:
    frame = nine_customers()
    with pytest.raises(DataContractError, match="missing pd_1y"):
        segment_table(frame.drop(columns="pd_1y"))
    with pytest.raises(DataContractError, match="customer_id must be unique"):
        segment_table(pd.concat([frame, frame.iloc[[0]]]))


def test_segment_table_accepts_missing_values_and_chinese_classes() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "clv": [3.0, 2.0, -1.0],
            "grade": ["AAA", None, pd.NA],
            "pd_1y": [0.0003, None, 0.01],
            "classification": ["正常", "次级", None],
        }
    )
    table = segment_table(frame)
    assert list(table["risk_tier"]) == ["low", "high", "medium"]
    assert list(table["risk_reason"]) == ["grade", "classification", "pd"]
    # a book of 3 has no 10% tier; the best customer is a third of it, within 10% + 30%
    assert list(table["value_tier"]) == ["mid", "low", "low"]


# --- YAML ------------------------------------------------------------------------------------


def test_yaml_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "version": 1,
            "value": {"method": "absolute", "high_min_yuan": 1_000_000, "mid_min_yuan": 100_000},
            "risk": {
                "grades": {"low": ["AAA", "AA"], "medium": ["A", "BBB", "BB"]},
                "pd_low_below": 0.0012,
                "unrated": "high",
            },
        },
    )
    rules = load_tier_rules(path)
    assert rules.risk.classification == TierRules().risk.classification  # left out: default
    assert list(value_tier([2e6, 2e5, 5e4], path)) == ["high", "mid", "low"]
    tier, reason = risk_tier(["A", None, None], [NAN, 0.002, NAN], [None] * 3, path)
    assert list(tier) == ["medium", "medium", "high"]
    assert list(reason) == ["grade", "pd", "unrated"]
    assert TierRules.from_yaml(path) == rules
    frame = nine_customers()
    assert segment_table(frame, rules)["value_tier"].iloc[4] == "high"  # 1e6 is now strategic


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"value": {"high_share": 1.5}}, "value.high_share"),
        ({"value": {"method": "ranked"}}, "value.method"),
        ({"value": {"mid_share": 0.95}}, "value: high_share + mid_share"),
        ({"value": {"high_min_yuan": 100, "mid_min_yuan": 200}}, "value: mid_min_yuan"),
        ({"value": {"bogus": 1}}, "value.bogus"),
        ({"risk": {"grades": {"low": ["AAA", "BBB"]}}}, "risk: each grade belongs to one list"),
        ({"risk": {"classification": {"doubtful": "medium"}}}, "risk.classification"),
        ({"risk": {"pd_low_below": 0.05}}, "risk: pd_low_below"),
        ({"risk": {"unrated": "unknown"}}, "risk.unrated"),
        ({"version": 2}, "version"),
    ],
)
def test_bad_yaml_names_the_field(tmp_path: Path, raw: dict[str, Any], field: str) -> None:
    path = write(tmp_path, raw)
    with pytest.raises(ConfigError, match=str(path)) as info:
        load_tier_rules(path)
    assert field in str(info.value)


def test_unreadable_yaml(tmp_path: Path) -> None:
    path = tmp_path / "tiers.yaml"
    path.write_text("value: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        value_tier([1.0], path)
