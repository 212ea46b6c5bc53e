"""Application decisions: each rule fires with a specific reason carrying its figures; any
decline declines, otherwise any referral refers; the approved amount never exceeds the limit."""

from __future__ import annotations

from typing import Any

import pytest

from lendvalue.strategy.decisions import decide
from lendvalue.strategy.policy import load_policy

POLICY = load_policy()


def run(**changes: Any) -> Any:
    base: dict[str, Any] = dict(
        requested_yuan=8e6, limit_yuan=1e7, limit_binding="working_capital_need", grade="BBB",
        pd_1y=0.006, classification="normal", segment="mid_value_low_risk", policy=POLICY,
    )  # fmt: skip
    base.update(changes)
    return decide(**base)


def test_a_clean_application_is_approved_in_full() -> None:
    d = run()
    assert d.outcome == "approve" and d.approved_yuan == 8e6
    assert [r.code for r in d.reasons] == ["within_policy"]
    assert "1,000.00万元" in d.reasons[0].zh


@pytest.mark.parametrize(
    ("changes", "outcome", "code", "text"),
    [
        ({"grade": "D"}, "decline", "in_default", "评级D"),
        ({"classification": "substandard"}, "decline", "classification", "五级分类为次级"),
        ({"classification": "loss"}, "decline", "classification", "五级分类为损失"),
        ({"classification": "special_mention"}, "refer", "classification", "五级分类为关注"),
        ({"pd_1y": 0.12}, "decline", "pd", "12.00% 高于拒绝线 10.00%"),
        ({"pd_1y": 0.05}, "refer", "pd", "5.00% 不低于审议线 3.50%"),
        (
            {"requested_yuan": 1.05e7},
            "refer",
            "over_limit",
            "1,050.00万元 超过可批额度 1,000.00万元",
        ),
        ({"requested_yuan": 1.2e7}, "decline", "over_limit", "110%"),
        ({"limit_yuan": 0.0, "limit_binding": "dscr"}, "decline", "no_limit", "约束：dscr"),
        ({"segment": "low_value_high_risk"}, "refer", "segment", "逐步退出"),
    ],
)
def test_each_rule_gives_a_specific_reason(
    changes: dict[str, Any], outcome: str, code: str, text: str
) -> None:
    d = run(**changes)
    assert d.outcome == outcome
    fired = [r for r in d.reasons if r.code == code]
    assert fired and text in fired[0].zh, [r.zh for r in d.reasons]
    assert all(r.en for r in d.reasons)


def test_decline_wins_over_refer_and_every_reason_is_kept() -> None:
    d = run(classification="special_mention", pd_1y=0.2, requested_yuan=1.05e7)
    assert d.outcome == "decline" and d.approved_yuan == 0.0
    assert {r.code for r in d.reasons} == {"classification", "pd", "over_limit"}
    assert d.summary("zh").startswith("拒绝：") and d.summary("en").startswith("decline: ")


def test_a_referral_is_approvable_up_to_the_limit() -> None:
    d = run(requested_yuan=1.05e7)
    assert d.outcome == "refer" and d.approved_yuan == 1e7
