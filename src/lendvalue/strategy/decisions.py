"""Loan application decisions: approve, refer to the credit committee, or decline — with every
reason that led there, specific enough to act on, the price and the limit.

The rules (``decision`` in the policy file), each producing a reason with its figures:

- **decline** — the customer is in default (grade D); its 五级分类 is in
  ``decline_classifications`` (不良 by default); its PD is above ``decline_pd``; the request
  exceeds the limit by more than ``over_limit_refer_share``; the limit is zero (no
  working-capital need, no debt capacity, no large-exposure room — the binding reason says
  which); no price reaches the hurdle (``unpriced``);
- **refer** — its 五级分类 is in ``refer_classifications`` (关注); its PD is at or above
  ``refer_pd``; the request exceeds the limit by at most ``over_limit_refer_share`` (the
  committee may approve the limit or more); its segment is one of ``refer_segments`` (the exit
  cell);
- **approve** — none of the above: the requested amount at the quoted price.

Any decline reason declines; otherwise any refer reason refers. The approved amount of a
referral is the lower of the request and the limit (what the committee can approve without
exceeding the limit).
"""

from __future__ import annotations

from dataclasses import dataclass

from lendvalue.strategy.policy import Policy
from lendvalue.strategy.pricing import Quote

OUTCOMES = {"approve": ("批准", "approve"), "refer": ("提交审批委员会", "refer to committee"),
            "decline": ("拒绝", "decline")}  # fmt: skip


@dataclass(frozen=True)
class Reason:
    """One reason: its code, the outcome it leads to, and the sentence in Chinese and English."""

    code: str
    outcome: str
    zh: str
    en: str


@dataclass(frozen=True)
class Decision:
    outcome: str
    outcome_zh: str
    reasons: tuple[Reason, ...]
    requested_yuan: float
    limit_yuan: float
    approved_yuan: float
    quote: Quote | None

    def summary(self, lang: str = "zh") -> str:
        head = self.outcome_zh if lang == "zh" else OUTCOMES[self.outcome][1]
        lines = [r.zh if lang == "zh" else r.en for r in self.reasons]
        return head + ("：" if lang == "zh" else ": ") + ("；".join(lines) if lang == "zh"
                                                         else "; ".join(lines))  # fmt: skip


def _wan(yuan: float) -> str:
    return f"{yuan / 1e4:,.2f}万元"


def decide(
    *,
    requested_yuan: float,
    limit_yuan: float,
    limit_binding: str,
    grade: str | None,
    pd_1y: float,
    classification: str,
    segment: str,
    policy: Policy,
    quote: Quote | None = None,
    unpriced: str = "",
) -> Decision:
    """Approve, refer or decline an application (module notes); ``limit_binding`` names what
    set the limit (e.g. ``working_capital_need``, ``dscr``, ``group_exposure``)."""
    rules = policy.decision
    reasons: list[Reason] = []
    if grade == "D":
        reasons.append(Reason("in_default", "decline", "客户已违约（评级D）",
                              "the customer is in default (grade D)"))  # fmt: skip
    if classification in rules.decline_classifications:
        reasons.append(Reason(
            "classification", "decline", f"五级分类为{_class_zh(classification)}，不予新增授信",
            f"risk classification is {classification}: no new credit",
        ))  # fmt: skip
    elif classification in rules.refer_classifications:
        reasons.append(Reason(
            "classification", "refer", f"五级分类为{_class_zh(classification)}，需审批委员会审议",
            f"risk classification is {classification}: the committee decides",
        ))  # fmt: skip
    if pd_1y > rules.decline_pd:
        reasons.append(Reason(
            "pd", "decline", f"一年期违约概率 {pd_1y:.2%} 高于拒绝线 {rules.decline_pd:.2%}",
            f"one-year PD {pd_1y:.2%} is above the decline line {rules.decline_pd:.2%}",
        ))  # fmt: skip
    elif pd_1y >= rules.refer_pd:
        reasons.append(Reason(
            "pd", "refer", f"一年期违约概率 {pd_1y:.2%} 不低于审议线 {rules.refer_pd:.2%}",
            f"one-year PD {pd_1y:.2%} is at or above the referral line {rules.refer_pd:.2%}",
        ))  # fmt: skip
    if limit_yuan <= 0:
        reasons.append(Reason(
            "no_limit", "decline", f"可批额度为零（约束：{limit_binding}）",
            f"the limit is zero (bound by {limit_binding})",
        ))  # fmt: skip
    elif requested_yuan > limit_yuan * (1 + rules.over_limit_refer_share):
        reasons.append(Reason(
            "over_limit", "decline",
            f"申请金额 {_wan(requested_yuan)} 超过可批额度 {_wan(limit_yuan)} 的"
            f" {1 + rules.over_limit_refer_share:.0%}（约束：{limit_binding}）",
            f"the request of {requested_yuan:,.0f} yuan exceeds "
            f"{1 + rules.over_limit_refer_share:.0%} of the limit {limit_yuan:,.0f} yuan "
            f"(bound by {limit_binding})",
        ))  # fmt: skip
    elif requested_yuan > limit_yuan:
        reasons.append(Reason(
            "over_limit", "refer",
            f"申请金额 {_wan(requested_yuan)} 超过可批额度 {_wan(limit_yuan)}"
            f"（约束：{limit_binding}）",
            f"the request of {requested_yuan:,.0f} yuan exceeds the limit of "
            f"{limit_yuan:,.0f} yuan (bound by {limit_binding})",
        ))  # fmt: skip
    if unpriced:
        reasons.append(Reason("unpriced", "decline", f"无法定价：{unpriced}",
                              f"cannot be priced: {unpriced}"))  # fmt: skip
    if segment in rules.refer_segments:
        cell = policy.cell(segment)
        reasons.append(Reason(
            "segment", "refer", f"客户分层为{cell.name_zh}：{cell.action_zh}",
            f"segment {cell.name_en}: {cell.action_en}",
        ))  # fmt: skip
    outcome = ("decline" if any(r.outcome == "decline" for r in reasons) else
               "refer" if reasons else "approve")  # fmt: skip
    if outcome == "approve":
        reasons.append(Reason(
            "within_policy", "approve",
            f"在可批额度 {_wan(limit_yuan)} 内，风险与定价符合政策",
            f"within the limit of {limit_yuan:,.0f} yuan; risk and price within policy",
        ))  # fmt: skip
    approved = 0.0 if outcome == "decline" else min(requested_yuan, max(limit_yuan, 0.0))
    return Decision(
        outcome=outcome, outcome_zh=OUTCOMES[outcome][0], reasons=tuple(reasons),
        requested_yuan=float(requested_yuan), limit_yuan=float(limit_yuan),
        approved_yuan=float(approved), quote=quote,
    )  # fmt: skip


def _class_zh(code: str) -> str:
    from lendvalue.contract import CLASSIFICATIONS

    return next((c.zh for c in CLASSIFICATIONS if c.code == code), code)
