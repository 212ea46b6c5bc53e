"""Every word a report shows, in Chinese and English: the ``clv_table`` columns (label, one-line
definition, unit), the alert codes, the sheet names, the coded values (tiers, classes, reasons)
and the report's own captions.

``label(name, lang)`` and ``definition(name, lang)`` look a column, an alert code or a sheet up;
an unknown name comes back as it is, so a column added to the table still shows, under its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lendvalue.contract import CLASSIFICATIONS
from lendvalue.errors import ConfigError
from lendvalue.segmentation import RISK_REASONS, RISK_TIERS, SEGMENTS, VALUE_TIERS
from lendvalue.strategy.limits import BINDING_LABELS_ZH

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

Kind = Literal["date", "code", "text", "money", "money_years", "rate", "probability", "bp",
               "months", "count"]  # fmt: skip
"""How a column is shown: ``money`` in 万元 with two decimals (``money_years`` likewise, a sum
of discounted capital-years), ``rate`` and ``probability`` as percentages, ``bp`` and
``months`` and ``count`` as integers, ``code`` a coded value shown in the report language."""


@dataclass(frozen=True)
class ColumnLabel:
    zh: str
    en: str
    kind: Kind
    definition_zh: str
    definition_en: str


def _c(zh: str, en: str, kind: Kind, definition_zh: str, definition_en: str) -> ColumnLabel:
    return ColumnLabel(zh, en, kind, definition_zh, definition_en)


COLUMNS: dict[str, ColumnLabel] = {
    "snapshot_date": _c(
        "数据日期", "Data date", "date",
        "本期管理表的估值基准日，所有数据截至该日。",
        "The valuation date of this table; all data are as of this day."),
    "customer_id": _c(
        "客户编号", "Customer ID", "text",
        "行内客户唯一编号。", "The bank's unique customer number."),
    "customer_name": _c(
        "客户名称", "Customer name", "text",
        "客户的工商登记名称。", "The customer's registered name."),
    "rm_id": _c(
        "客户经理", "Relationship manager", "text",
        "负责该客户的客户经理编号。", "The relationship manager in charge of the customer."),
    "industry": _c(
        "行业", "Industry", "text",
        "客户所属行业（国民经济行业分类 GB/T 4754 代码）。",
        "The customer's industry (GB/T 4754 code)."),
    "region": _c(
        "地区", "Region", "text",
        "客户注册地的行政区划代码。", "Administrative division code of the registered address."),
    "size_class": _c(
        "企业规模", "Firm size", "code",
        "企业划型：大型、中型、小型、微型。", "Firm size class: large, medium, small, micro."),
    "group_id": _c(
        "集团编号", "Group ID", "text",
        "所属集团（关联客户）编号，无则为空。",
        "The group of connected customers it belongs to, blank if none."),
    "realised_12m": _c(
        "近12个月实现贡献", "Realised contribution, last 12 months", "money",
        "过去12个月实际实现的税前贡献：收取的利息减其资金成本，加手续费和存款利差，减核销（万元）。",
        "Actual pre-tax contribution of the last 12 months: interest received less its funding "
        "cost, plus fees and deposit spread, less write-offs (10,000 yuan)."),
    "clv": _c(
        "客户终身价值", "Customer lifetime value", "money",
        "风险调整后的客户终身价值：未来各期经济利润（税后利润减资本占用成本）按关系存续和未违约"
        "概率加权后折现之和，含存款和手续费价值，减维护和获客成本（万元）。",
        "Risk-adjusted customer lifetime value: the discounted sum of future economic profit "
        "(profit after tax less the capital charge), weighted by the chance that the "
        "relationship lasts and the borrower does not default, with deposit and fee value, less "
        "retention and acquisition cost (10,000 yuan)."),
    "clv_low": _c(
        "客户终身价值下限（P10）", "CLV, low (P10)", "money",
        "按模型参数不确定性重估的客户终身价值第10百分位数（万元）。",
        "10th percentile of the CLV revalued under the models' parameter uncertainty "
        "(10,000 yuan)."),
    "clv_high": _c(
        "客户终身价值上限（P90）", "CLV, high (P90)", "money",
        "按模型参数不确定性重估的客户终身价值第90百分位数（万元）。",
        "90th percentile of the CLV revalued under the models' parameter uncertainty "
        "(10,000 yuan)."),
    "current_value": _c(
        "当前价值", "Current value", "money",
        "现有合同至到期及存款带来的价值，不依赖未来决策（万元）。",
        "Value of the running contracts to maturity and of the deposits, independent of future "
        "decisions (10,000 yuan)."),
    "potential_value": _c(
        "潜在价值", "Potential value", "money",
        "续贷、手续费、客户维护和获客带来的价值，取决于未来决策；当前价值加潜在价值等于客户终身价值（万元）。",
        "Value of renewals, fees, retention and acquisition, which depends on future decisions; "
        "current plus potential value equals the CLV (10,000 yuan)."),
    "interest_income": _c(
        "利息收入", "Interest income", "money",
        "按关系存续和未违约概率加权的预期利息收入现值（万元）。",
        "Present value of the expected interest income, weighted by survival and non-default "
        "(10,000 yuan)."),
    "funding_cost": _c(
        "资金成本（FTP）", "Funding cost (FTP)", "money",
        "按内部资金转移价格（FTP）计算的资金成本现值，以负数列示（万元）。",
        "Present value of the funding cost at the funds transfer price, negative "
        "(10,000 yuan)."),
    "net_interest_income": _c(
        "净利息收入", "Net interest income", "money",
        "利息收入与资金成本之和，仅供参考，不重复计入客户终身价值（万元）。",
        "Interest income plus funding cost, shown for reference and not added again to the CLV "
        "(10,000 yuan)."),
    "fee_income": _c(
        "手续费收入", "Fee income", "money",
        "承诺费、续贷前端费和中间业务手续费预期净收入的现值（万元）。",
        "Present value of commitment fees, renewal upfront fees and the expected fee margin of "
        "other services (10,000 yuan)."),
    "deposit_value": _c(
        "存款价值", "Deposit value", "money",
        "客户存款按存款FTP减付息利率计算的利差现值（万元）。",
        "Present value of the spread the customer's deposits earn: deposit FTP less the rate "
        "paid (10,000 yuan)."),
    "expected_loss": _c(
        "预期损失", "Expected loss", "money",
        "逐月违约概率×违约损失率×违约风险暴露的预期损失现值，以负数列示（万元）。",
        "Present value of the monthly expected loss, PD × LGD × EAD, negative (10,000 yuan)."),
    "operating_cost": _c(
        "运营成本", "Operating cost", "money",
        "贷款和存款业务运营管理成本的现值，以负数列示（万元）。",
        "Present value of the cost of running the loans and deposits, negative "
        "(10,000 yuan)."),
    "retention_cost": _c(
        "客户维护成本", "Retention cost", "money",
        "关系存续期间按企业规模计提的客户维护成本现值，以负数列示（万元）。",
        "Present value of the cost of keeping the relationship, by firm size, negative "
        "(10,000 yuan)."),
    "acquisition_cost": _c(
        "获客成本", "Acquisition cost", "money",
        "潜在客户的一次性获客成本，存量客户为零，以负数列示（万元）。",
        "One-off cost of winning a prospect, zero for existing customers, negative "
        "(10,000 yuan)."),
    "tax": _c(
        "所得税", "Tax", "money",
        "税前利润对应的所得税现值，以负数列示（万元）。",
        "Present value of the income tax on the pre-tax profit, negative (10,000 yuan)."),
    "capital_charge": _c(
        "资本占用成本", "Capital charge", "money",
        "内部评级法资本占用按门槛回报率（扣除资本自身税后收益）计算的成本现值，以负数列示（万元）。",
        "Present value of the hurdle rate on the IRB capital held, net of what the capital "
        "itself earns after tax, negative (10,000 yuan)."),
    "raroc": _c(
        "风险调整资本回报率（RAROC）", "RAROC", "rate",
        "全生命周期风险调整后税后利润现值（含资本自身收益）与资本占用现值之比，年化；高于门槛回报率时客户终身价值为正（%）。",
        "Present value of the risk-adjusted profit after tax (with what the capital earns) over "
        "the present value of the capital, annualised; above the hurdle exactly when the CLV is "
        "positive (%)."),
    "eva_12m": _c(
        "未来12个月经济增加值（EVA）", "EVA, next 12 months", "money",
        "第一年的经济利润（税后利润减资本占用成本），不折现（万元）。",
        "Economic profit of the first year (profit after tax less the capital charge), "
        "undiscounted (10,000 yuan)."),
    "capital_pv": _c(
        "资本占用现值", "PV of capital", "money_years",
        "各月经济资本占用的折现值之和除以12，即RAROC的分母（万元·年）。",
        "Discounted sum of the monthly capital held, divided by 12: the denominator of the "
        "RAROC (10,000 yuan-years)."),
    "survival_12m": _c(
        "12个月关系存续概率", "12-month relationship survival", "probability",
        "客户关系在12个月后仍然存续的概率（%）。",
        "Probability that the relationship still exists in 12 months (%)."),
    "pd_1y": _c(
        "一年期违约概率", "One-year PD", "probability",
        "评分卡估计的未来一年违约概率（%）。",
        "Probability of default over the next year, from the scorecard (%)."),
    "grade": _c(
        "模型评级", "Model grade", "text",
        "一年期违约概率在主标尺上对应的等级。", "The master-scale grade of the one-year PD."),
    "rating_grade": _c(
        "内部评级", "Internal rating", "text",
        "行内现行有效的客户信用评级。", "The customer's credit rating in force at the bank."),
    "classification": _c(
        "五级分类", "Five-category class", "code",
        "贷款风险五级分类：正常、关注、次级、可疑、损失。",
        "The five-category loan classification: pass, special mention, substandard, doubtful, "
        "loss."),
    "value_tier": _c(
        "价值分层代码", "Value tier (code)", "text",
        "价值分层代码：high 战略、mid 核心、low 普通。",
        "Value tier code: high strategic, mid core, low ordinary."),
    "value_tier_zh": _c(
        "价值分层", "Value tier (Chinese)", "text",
        "按客户终身价值划分的层级：战略（前10%）、核心（其后30%）、普通（其余及负值）。",
        "Tier by CLV: strategic (top 10%), core (next 30%), ordinary (the rest and negative "
        "values), in Chinese."),
    "risk_tier": _c(
        "风险分层代码", "Risk tier (code)", "text",
        "风险分层代码：low 低风险、medium 中风险、high 高风险。",
        "Risk tier code: low, medium, high."),
    "risk_tier_zh": _c(
        "风险分层", "Risk tier (Chinese)", "text",
        "按评级、违约概率和五级分类中最差者确定的风险层级。",
        "Risk tier set by the worst of grade, PD and classification, in Chinese."),
    "risk_reason": _c(
        "风险分层依据", "Risk tier reason", "code",
        "决定风险分层的规则：违约、五级分类、内部评级、违约概率或无评级。",
        "The rule that set the risk tier: default, classification, grade, PD or unrated."),
    "segment": _c(
        "客户分群代码", "Segment (code)", "text",
        "价值—风险矩阵九宫格的单元代码，如 high_value_low_risk。",
        "Cell of the 3 × 3 value-risk matrix, e.g. high_value_low_risk."),
    "segment_zh": _c(
        "客户分群", "Segment (Chinese)", "text",
        "价值—风险矩阵单元的中文名称，如 战略客户·低风险。",
        "Name of the matrix cell in Chinese, e.g. 战略客户·低风险."),
    "segment_en": _c(
        "客户分群（英文）", "Segment", "text",
        "价值—风险矩阵单元的英文名称。", "Name of the matrix cell, e.g. strategic, low risk."),
    "action_zh": _c(
        "策略动作", "Action (Chinese)", "text",
        "该客户所在分群的经营策略。", "The policy action of the customer's segment, in Chinese."),
    "action_en": _c(
        "策略动作（英文）", "Action", "text",
        "该客户所在分群经营策略的英文表述。", "The policy action of the customer's segment."),
    "review_months": _c(
        "复评周期（月）", "Review every (months)", "months",
        "分群策略规定的客户复评周期（月）。",
        "How often the segment policy reviews the customer (months)."),
    "price_spread_bp": _c(
        "建议加点（BP）", "Recommended spread (bp)", "bp",
        "一年期1,000万元流动资金贷款的建议利率相对一年期LPR的加点（基点）。",
        "Recommended spread over the 1-year LPR of a standard one-year 10-million-yuan "
        "working-capital loan (basis points)."),
    "price_rate": _c(
        "建议利率", "Recommended rate", "rate",
        "上述标准贷款的建议执行利率：LPR加建议加点（%）。",
        "Recommended rate of that standard loan: LPR plus the spread (%)."),
    "limit_yuan": _c(
        "流动资金贷款建议额度", "Working-capital limit", "money",
        "按营运资金需求、偿债能力和大额风险暴露上限测算的流动资金贷款额度（万元）。",
        "Working-capital loan limit from the funding need, debt capacity and large-exposure "
        "caps (10,000 yuan)."),
    "limit_binding": _c(
        "额度约束代码", "Binding constraint (code)", "text",
        "决定额度的约束条件代码。", "Code of the constraint that set the limit."),
    "limit_binding_zh": _c(
        "额度约束", "Binding constraint (Chinese)", "text",
        "决定额度的约束条件。", "The constraint that set the limit, in Chinese."),
    "alert_flags": _c(
        "预警", "Alerts", "code",
        "本期触发的预警类型。", "The early warnings raised this period."),
    "n_alerts": _c(
        "预警数", "Number of alerts", "count",
        "本期触发的预警条数。", "Number of early warnings raised this period."),
}  # fmt: skip
"""Every ``clv_table`` column (:data:`lendvalue.reporting.data.CLV_TABLE_COLUMNS`)."""

COMPONENTS: tuple[str, ...] = (
    "interest_income", "funding_cost", "fee_income", "deposit_value", "expected_loss",
    "operating_cost", "retention_cost", "acquisition_cost", "tax", "capital_charge",
)  # fmt: skip
"""The signed components whose sum is ``clv``, in waterfall order."""

ALERTS: dict[str, tuple[str, str, str, str]] = {
    "clv_decline": (
        "CLV下降", "CLV decline",
        "客户终身价值较上期下降超过阈值比例且金额不低于下限。",
        "The CLV fell since the last snapshot by more than the threshold share and amount."),
    "low_survival": (
        "关系存续概率低", "Low survival",
        "12个月关系存续概率低于阈值。",
        "The 12-month relationship survival probability is below the threshold."),
    "overdue": (
        "逾期", "Overdue",
        "数据日期当日逾期天数达到阈值（达到第二阈值为高等级）。",
        "Days past due on the data date at or above the threshold (high from the second one)."),
    "downgrade": (
        "评级下调", "Downgrade",
        "内部评级较12个月前下调达到阈值级数。",
        "The internal rating is down by at least the threshold notches over 12 months."),
    "classification_worse": (
        "五级分类下迁", "Classification worse",
        "五级分类较上期下迁。", "The five-category class is worse than last snapshot."),
}  # fmt: skip
"""Alert code → label zh, label en, definition zh, definition en."""

SHEETS: dict[str, tuple[str, str]] = {
    "summary": ("汇总", "Summary"),
    "customers": ("客户价值表", "Customer table"),
    "segments": ("分层与策略", "Segments & policy"),
    "alerts": ("预警", "Alerts"),
    "models": ("模型", "Models"),
    "definitions": ("指标说明", "Definitions"),
}

UNITS: dict[Kind, tuple[str, str]] = {
    "date": ("日期", "date"),
    "code": ("—", "—"),
    "text": ("—", "—"),
    "money": ("万元", "10,000 yuan"),
    "money_years": ("万元·年", "10,000 yuan-years"),
    "rate": ("%", "%"),
    "probability": ("%", "%"),
    "bp": ("基点", "bp"),
    "months": ("月", "months"),
    "count": ("个", "count"),
}

_SIZE = {"large": ("大型", "large"), "medium": ("中型", "medium"), "small": ("小型", "small"),
         "micro": ("微型", "micro")}  # fmt: skip
_BINDING_EN = {
    "working_capital_need": "working-capital need", "leverage": "leverage cap",
    "dscr": "DSCR floor", "requested": "requested amount", "single_loan": "single-loan cap",
    "single_exposure": "single-customer exposure cap", "group_exposure": "group exposure cap",
    "no_bank_capital": "bank capital not given",
}  # fmt: skip
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "size_class": _SIZE,
    "classification": {c.code: (c.zh, c.en) for c in CLASSIFICATIONS},
    "risk_reason": {r.code: (r.zh, r.en) for r in RISK_REASONS},
    "value_tier": {t.code: (t.zh, t.en) for t in VALUE_TIERS},
    "risk_tier": {t.code: (t.zh, t.en) for t in RISK_TIERS},
    "segment": {s.code: (s.zh, s.en) for s in SEGMENTS},
    "limit_binding": {
        code: (zh, _BINDING_EN.get(code, code))
        for code, zh in {**BINDING_LABELS_ZH, "no_bank_capital": "未提供资本净额"}.items()
    },
    "severity": {"high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low")},
    "alert": {code: (zh, en) for code, (zh, en, _, _) in ALERTS.items()},
}
"""Coded values → (zh, en), by the column they appear in."""

TEXT: dict[str, tuple[str, str]] = {
    # header block
    "report_title": ("客户终身价值管理表", "Customer lifetime value management table"),
    "html_title": ("客户终身价值分析报告", "Customer lifetime value report"),
    "prepared_by": ("编制单位：", "Prepared by: "),
    "data_date": ("数据日期：", "Data date: "),
    "unit_line": ("金额单位：万元", "Unit: 10,000 yuan"),
    # summary
    "kpis": ("主要指标", "Key figures"),
    "figure": ("指标", "Figure"),
    "value": ("数值", "Value"),
    "customers": ("客户数", "Customers"),
    "total_clv": ("客户终身价值合计", "Total CLV"),
    "total_realised": ("近12个月实现贡献合计", "Total realised contribution, last 12 months"),
    "raroc_weighted": ("资本加权平均RAROC", "Capital-weighted average RAROC"),
    "customers_with_alerts": ("有预警客户数", "Customers with alerts"),
    "alert_count": ("预警条数", "Alerts"),
    "top10_share": ("前10%客户CLV占比", "CLV share of the top 10% of customers"),
    "top20_share": ("前20%客户CLV占比", "CLV share of the top 20% of customers"),
    "assumptions_name": ("估值假设", "Valuation assumptions"),
    "policy_name": ("分群策略", "Segment policy"),
    "created_at": ("生成时间", "Produced at"),
    "by_value_tier": ("按价值分层", "By value tier"),
    "by_risk_tier": ("按风险分层", "By risk tier"),
    "customer_share": ("客户占比", "Share of customers"),
    "clv_share": ("CLV占比", "Share of CLV"),
    "clv_sum": ("客户终身价值合计（万元）", "Total CLV (10,000 yuan)"),
    "clv_mean": ("户均客户终身价值（万元）", "Average CLV (10,000 yuan)"),
    "realised_sum": ("近12个月实现贡献（万元）", "Realised contribution (10,000 yuan)"),
    "total": ("合计", "Total"),
    "share_note": (
        "注：占比以全部客户的客户终身价值净额为分母；存在负值客户时，前若干名客户的占比可超过100%。",
        "Note: shares are of the net total CLV of all customers; with negative CLVs the top "
        "customers' share can exceed 100%.",
    ),
    # segments
    "matrix_count": ("价值—风险矩阵：客户数", "Value-risk matrix: customers"),
    "matrix_value": ("价值—风险矩阵：客户终身价值（万元）", "Value-risk matrix: CLV (10,000 yuan)"),
    "matrix_action": ("价值—风险矩阵：策略动作", "Value-risk matrix: policy action"),
    "segment_totals": ("分群汇总", "Totals by segment"),
    "value_risk": ("价值＼风险", "Value \\ risk"),
    # alerts, models, definitions
    "alert_type": ("预警类型", "Alert"),
    "severity": ("严重程度", "Severity"),
    "alert_value": ("触发值", "Value"),
    "threshold": ("阈值", "Threshold"),
    "detail": ("说明", "Detail"),
    "no_alerts": ("本期无预警。", "No alerts this period."),
    "model": ("模型", "Model"),
    "version": ("版本", "Version"),
    "fitted_at": ("拟合时间", "Fitted at"),
    "n_obs": ("样本量", "Observations"),
    "params": ("参数估计（标准误）", "Parameters (standard error)"),
    "metrics": ("评估指标", "Metrics"),
    "fingerprint": ("数据指纹", "Data fingerprint"),
    "run_id": ("运行编号", "Run ID"),
    "no_models": ("本期无模型记录。", "No model runs this period."),
    "column": ("字段", "Column"),
    "name": ("名称", "Name"),
    "definition": ("定义", "Definition"),
    "unit": ("单位", "Unit"),
    "alert_codes": ("预警类型说明", "Alert types"),
    "code": ("代码", "Code"),
    "notes": ("说明", "Notes"),
    "note_units": (
        "金额以万元列示，保留两位小数；各分项分别四舍五入，合计可能存在尾差。全精度（元）数据见CSV/Parquet导出文件。",
        "Money in 10,000 yuan with two decimals; each item is rounded on its own, so totals "
        "may differ in the last digit. Full precision (yuan) is in the CSV/Parquet exports.",
    ),
    "note_signs": (
        "各价值分项带符号（成本为负），十项之和等于客户终身价值；净利息收入仅供参考，不重复计入。",
        "Components are signed (costs negative) and the ten of them sum to the CLV; net "
        "interest income is shown for reference, not added.",
    ),
    "note_sort": ("客户按客户终身价值从高到低排列。",
                  "Customers are sorted by CLV, highest first."),
    # html
    "no_data": ("暂无数据", "No data"),
    "top_customers": ("客户终身价值前20名客户", "Top 20 customers by CLV"),
    "rank": ("排名", "Rank"),
    "chart_clv_distribution": ("客户终身价值分布", "Distribution of CLV"),
    "axis_clv_wan": ("客户终身价值（万元）", "CLV (10,000 yuan)"),
    "axis_customers": ("客户数", "Customers"),
    "chart_lorenz": ("客户终身价值集中度（洛伦兹曲线）", "Concentration of CLV (Lorenz curve)"),
    "axis_customer_share": ("客户累计占比（按客户终身价值从高到低）",
                            "Cumulative share of customers (highest CLV first)"),
    "axis_clv_share": ("客户终身价值累计占比", "Cumulative share of CLV"),
    "equal_share": ("均匀分布", "Equal shares"),
    "top_share_note": ("前{pct}客户：CLV占比 {share}", "Top {pct}: {share} of CLV"),
    "lorenz_no_total": ("客户终身价值合计不为正，无法计算占比",
                        "Total CLV is not positive: no shares to show"),
    "chart_heatmap_count": ("价值—风险矩阵：客户数", "Value-risk matrix: customers"),
    "chart_heatmap_value": ("价值—风险矩阵：客户终身价值（万元）",
                            "Value-risk matrix: CLV (10,000 yuan)"),
    "axis_value_tier": ("价值分层", "Value tier"),
    "axis_risk_tier": ("风险分层", "Risk tier"),
    "chart_waterfall": ("组合客户终身价值构成（万元）", "Portfolio CLV by component (10,000 yuan)"),
    "axis_wan": ("万元", "10,000 yuan"),
    "chart_retention": ("各客户分群关系存续曲线", "Relationship survival by segment"),
    "axis_month": ("月份", "Month"),
    "axis_survival": ("平均关系存续概率", "Mean survival probability"),
    "chart_btyd_tracking": ("重复交易跟踪：实际与模型预测（累计）",
                            "Repeat transactions: actual and predicted (cumulative)"),
    "axis_period": ("期数", "Period"),
    "axis_cum_transactions": ("累计重复交易次数", "Cumulative repeat transactions"),
    "actual": ("实际", "Actual"),
    "predicted": ("模型预测", "Predicted"),
    "chart_btyd_calibration": ("校准期与观察期：平均交易次数",
                               "Calibration vs holdout: mean transactions"),
    "axis_frequency": ("校准期重复交易次数", "Repeat transactions in the calibration period"),
    "axis_holdout": ("观察期平均交易次数", "Mean transactions in the holdout period"),
    "chart_pd_calibration": ("违约概率校准：各等级平均PD与实际违约率",
                             "PD calibration: mean PD and default rate by grade"),
    "axis_grade": ("等级", "Grade"),
    "axis_rate": ("比率", "Rate"),
    "mean_pd": ("平均PD", "Mean PD"),
    "default_rate": ("实际违约率", "Default rate"),
    "defaults": ("违约数", "Defaults"),
    "verdict": ("检验结论", "Verdict"),
}  # fmt: skip
"""The reports' own captions."""


def check_lang(lang: str) -> Lang:
    """``lang`` if it is ``zh`` or ``en``; otherwise :class:`~lendvalue.errors.ConfigError`."""
    if lang == "zh":
        return "zh"
    if lang == "en":
        return "en"
    raise ConfigError(f"lang must be 'zh' or 'en', got {lang!r}")


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if check_lang(lang) == "zh" else pair[1]


def label(name: str, lang: str = "zh") -> str:
    """The label of a ``clv_table`` column, an alert code or a sheet (``summary``,
    ``customers``, ``segments``, ``alerts``, ``models``, ``definitions``); else ``name``."""
    if name in COLUMNS:
        col = COLUMNS[name]
        return _pick((col.zh, col.en), lang)
    if name in ALERTS:
        zh, en, _, _ = ALERTS[name]
        return _pick((zh, en), lang)
    if name in SHEETS:
        return _pick(SHEETS[name], lang)
    check_lang(lang)
    return name


def definition(name: str, lang: str = "zh") -> str:
    """The one-sentence definition of a ``clv_table`` column or an alert code; else ``name``."""
    if name in COLUMNS:
        col = COLUMNS[name]
        return _pick((col.definition_zh, col.definition_en), lang)
    if name in ALERTS:
        _, _, zh, en = ALERTS[name]
        return _pick((zh, en), lang)
    check_lang(lang)
    return name


def kind(name: str) -> Kind:
    """How column ``name`` is shown (:data:`Kind`); ``text`` for an unknown column."""
    return COLUMNS[name].kind if name in COLUMNS else "text"


def unit(name: str, lang: str = "zh") -> str:
    """The unit column ``name`` is shown in by the reports (万元 for money, % for rates)."""
    return _pick(UNITS[kind(name)], lang)


def text(key: str, lang: str = "zh") -> str:
    """A caption of the reports (:data:`TEXT`); ``key`` itself when unknown."""
    return _pick(TEXT[key], lang) if key in TEXT else key


def value_label(column: str, code: object, lang: str = "zh") -> str:
    """The label of a coded value (``classification`` ``special_mention`` → 关注); the value
    itself as text when it has none, ``""`` for a missing value."""
    if code is None or (isinstance(code, float) and code != code):
        return ""
    key = str(code)
    pairs = VALUES.get(column, {})
    return _pick(pairs[key], lang) if key in pairs else key


def alert_labels(flags: object, lang: str = "zh") -> str:
    """``"overdue,downgrade"`` → ``逾期、评级下调`` (``Overdue, Downgrade``); ``""`` if none."""
    if not isinstance(flags, str) or not flags.strip():
        return ""
    sep = "、" if check_lang(lang) == "zh" else ", "
    return sep.join(value_label("alert", f.strip(), lang) for f in flags.split(",") if f.strip())
