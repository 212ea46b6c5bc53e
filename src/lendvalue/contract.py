"""The data contract: every input table, its columns, types, keys and rules — one source of truth.

The warehouse compiles these declarations into set-based SQL checks (``warehouse/validation.py``),
``docs/data-contract.md`` is generated from them (``lendvalue contract``), and the sample
generator writes files that follow them. Nothing else declares a column.

Rule identifiers are stable strings, ``<table>.<column>.<kind>`` for column rules and
``<table>.<name>`` for row and key rules; quarantine rows carry them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

DType = Literal["VARCHAR", "DOUBLE", "BIGINT", "DATE", "TIMESTAMP", "BOOLEAN", "MONTH"]
"""Logical column types. ``MONTH`` is a DATE normalised to the first day of its month; it accepts
``YYYY-MM`` as well as a full date."""

RuleKind = Literal[
    "required", "type", "enum", "range", "pattern", "uscc", "industry", "not_future", "reference"
]

# ---------------------------------------------------------------------------------------------
# 统一社会信用代码 (unified social credit code), GB 32100-2015
# ---------------------------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100-2015 (digits and capitals without I, O, Z, S, V); a character's
value is its position."""

USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
"""Weights of the first 17 characters: 3^(i-1) mod 31 for i = 1..17 (GB 32100-2015, 4.2)."""


def uscc_check_char(first17: str) -> str:
    """Check character for the first 17 characters of a USCC.

    .. math:: c_{18} = (31 - \\sum_{i=1}^{17} v(c_i) w_i \\bmod 31) \\bmod 31

    (GB 32100-2015, clause 4.2 and appendix B.)
    """
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """True when ``code`` has 18 characters of the USCC alphabet and a correct check character."""
    if len(code) != 18 or any(ch not in USCC_ALPHABET for ch in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


# ---------------------------------------------------------------------------------------------
# GB/T 4754-2017 industry classification: sections (门类) and the divisions (大类) they hold
# ---------------------------------------------------------------------------------------------

GBT4754_SECTIONS: dict[str, tuple[int, int, str, str]] = {
    "A": (1, 5, "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    "B": (6, 12, "采矿业", "Mining"),
    "C": (13, 43, "制造业", "Manufacturing"),
    "D": (44, 46, "电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water"),
    "E": (47, 50, "建筑业", "Construction"),
    "F": (51, 52, "批发和零售业", "Wholesale and retail"),
    "G": (53, 60, "交通运输、仓储和邮政业", "Transport, storage and post"),
    "H": (61, 62, "住宿和餐饮业", "Accommodation and catering"),
    "I": (63, 65, "信息传输、软件和信息技术服务业", "Information and software services"),
    "J": (66, 69, "金融业", "Finance"),
    "K": (70, 70, "房地产业", "Real estate"),
    "L": (71, 72, "租赁和商务服务业", "Leasing and business services"),
    "M": (73, 75, "科学研究和技术服务业", "Scientific research and technical services"),
    "N": (76, 79, "水利、环境和公共设施管理业", "Water, environment and public facilities"),
    "O": (80, 82, "居民服务、修理和其他服务业", "Resident, repair and other services"),
    "P": (83, 83, "教育", "Education"),
    "Q": (84, 85, "卫生和社会工作", "Health and social work"),
    "R": (86, 90, "文化、体育和娱乐业", "Culture, sports and entertainment"),
    "S": (91, 96, "公共管理、社会保障和社会组织", "Public administration and social organisations"),
    "T": (97, 97, "国际组织", "International organisations"),
}
"""Section letter → (first division, last division, zh name, en name), GB/T 4754-2017 table 1."""

INDUSTRY_PATTERN = r"^[A-T]([0-9]{2}([0-9]{1,2})?)?$"


def is_valid_industry(code: str) -> bool:
    """A GB/T 4754 code: a section letter, optionally followed by a division of that section
    (2 digits) and a group (3rd digit) or class (4th digit): ``C``, ``C36``, ``C361``, ``C3611``."""
    if not re.fullmatch(INDUSTRY_PATTERN, code):
        return False
    if len(code) == 1:
        return True
    first, last, _, _ = GBT4754_SECTIONS[code[0]]
    return first <= int(code[1:3]) <= last


# ---------------------------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    """One value of an enumeration with its Chinese and English labels; labels are accepted on
    input and recoded to the code."""

    code: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    """Other spellings seen in bank files (``大型企业`` for ``large``)."""


@dataclass(frozen=True)
class Column:
    """A column of an input table and the rules on its own value."""

    name: str
    dtype: DType
    zh: str
    en: str
    required: bool = True
    enum: tuple[Code, ...] | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    pattern: str | None = None
    check: Literal["uscc", "industry"] | None = None
    not_future: bool = False
    references: tuple[str, str] | None = None
    default: str | None = None

    @property
    def enum_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.enum or ())


@dataclass(frozen=True)
class RowRule:
    """A rule over several columns of one row.

    ``condition`` is a SQL boolean over the typed columns that must hold; a NULL result passes
    (missing values are the ``required`` rules' job).
    """

    name: str
    condition: str
    zh: str
    en: str


@dataclass(frozen=True)
class Table:
    """An input table: its key, columns and row rules, and the file names that identify it."""

    name: str
    zh: str
    en: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    row_rules: tuple[RowRule, ...] = ()
    aliases: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Rule:
    """A flattened rule as stored in the ``contract_rules`` table and quoted in quarantine."""

    rule_id: str
    table: str
    column: str | None
    kind: str
    zh: str
    en: str


# --- enumerations ----------------------------------------------------------------------------

SIZE_CLASSES = (
    Code("large", "大", "large", ("大型", "大型企业")),
    Code("medium", "中", "medium", ("中型", "中型企业")),
    Code("small", "小", "small", ("小型", "小型企业")),
    Code("micro", "微", "micro", ("微型", "微型企业")),
)
PRODUCTS = (
    Code("term_loan", "固定资产贷款", "term loan"),
    Code("working_capital", "流动资金贷款", "working-capital loan"),
    Code("revolver", "循环贷款", "revolving credit"),
    Code("project_finance", "项目融资", "project finance"),
    Code("trade_finance", "贸易融资", "trade finance"),
    Code("guarantee", "保函", "guarantee"),
    Code("acceptance", "银行承兑汇票", "bank acceptance bill"),
)
CURRENCIES = (
    Code("CNY", "人民币", "Chinese yuan"),
    Code("USD", "美元", "US dollar"),
    Code("EUR", "欧元", "euro"),
    Code("HKD", "港元", "Hong Kong dollar"),
    Code("JPY", "日元", "Japanese yen"),
    Code("GBP", "英镑", "pound sterling"),
)
RATE_TYPES = (
    Code("fixed", "固定利率", "fixed"),
    Code("lpr_1y", "1年期LPR浮动", "1Y LPR floating"),
    Code("lpr_5y", "5年期以上LPR浮动", "5Y LPR floating"),
)
AMORTIZATIONS = (
    Code("annuity", "等额本息", "annuity"),
    Code("linear", "等额本金", "linear"),
    Code("bullet", "到期一次还本", "bullet"),
    Code("custom", "自定义还款计划", "custom schedule"),
)
COLLATERAL_TYPES = (
    Code("unsecured", "信用", "unsecured"),
    Code("guarantee", "保证", "third-party guarantee"),
    Code("real_estate", "房地产抵押", "real-estate mortgage"),
    Code("equipment", "设备抵押", "equipment"),
    Code("receivables", "应收账款质押", "receivables pledge"),
    Code("deposit", "保证金/存单质押", "cash deposit pledge"),
    Code("equity", "股权质押", "equity pledge"),
)
CLASSIFICATIONS = (
    Code("normal", "正常", "pass", ("正常类",)),
    Code("special_mention", "关注", "special mention", ("关注类",)),
    Code("substandard", "次级", "substandard", ("次级类",)),
    Code("doubtful", "可疑", "doubtful", ("可疑类",)),
    Code("loss", "损失", "loss", ("损失类",)),
)
"""五级分类, the five-category loan classification (金融资产风险分类办法, 2023)."""

FACILITY_STATUSES = (
    Code("active", "存续", "active"),
    Code("settled", "结清", "settled"),
    Code("defaulted", "违约", "defaulted"),
    Code("written_off", "核销", "written off"),
)
PRODUCT_LINES = (
    Code("settlement", "结算", "settlement"),
    Code("fx", "外汇", "FX"),
    Code("trade", "国际贸易服务", "trade services"),
    Code("cash_management", "现金管理", "cash management"),
    Code("advisory", "投行顾问", "advisory"),
)
GRADES = (
    Code("AAA", "AAA", "AAA"),
    Code("AA", "AA", "AA"),
    Code("A", "A", "A"),
    Code("BBB", "BBB", "BBB"),
    Code("BB", "BB", "BB"),
    Code("B", "B", "B"),
    Code("CCC", "CCC", "CCC"),
    Code("D", "D(违约)", "D (default)"),
)
"""The default internal master scale: seven performing grades and one default grade."""

RATING_SOURCES = (
    Code("internal", "内部评级", "internal model"),
    Code("external", "外部评级", "external agency"),
    Code("override", "人工调整", "override"),
)
CREDIT_EVENTS = (
    Code("default", "违约", "default"),
    Code("restructure", "重组", "restructuring"),
    Code("overdue_90", "逾期90天以上", "90+ days past due"),
    Code("classification_change", "五级分类调整", "classification change"),
    Code("lawsuit", "涉诉", "lawsuit"),
    Code("cross_default", "交叉违约", "cross default"),
    Code("write_off", "核销", "write-off"),
)
CHANNELS = (
    Code("rm_visit", "客户经理拜访", "RM visit"),
    Code("event", "客户活动", "client event"),
    Code("digital", "线上营销", "digital"),
    Code("phone", "电话营销", "phone"),
    Code("pricing_offer", "价格优惠", "pricing offer"),
)
END_REASONS = (
    Code("moved_bank", "转至他行", "moved to another bank"),
    Code("default", "违约退出", "default"),
    Code("closed", "经营终止", "business closed"),
    Code("merged", "并购重组", "merged or acquired"),
    Code("other", "其他", "other"),
)
CURVES = (
    Code("lpr", "贷款市场报价利率", "loan prime rate"),
    Code("ftp", "贷款FTP", "loan FTP"),
    Code("deposit_ftp", "存款FTP", "deposit FTP"),
    Code("shibor", "SHIBOR", "SHIBOR"),
    Code("cgb", "国债收益率", "government bond yield"),
)
PROVINCES = (
    Code("110000", "北京市", "Beijing"),
    Code("120000", "天津市", "Tianjin"),
    Code("130000", "河北省", "Hebei"),
    Code("140000", "山西省", "Shanxi"),
    Code("150000", "内蒙古自治区", "Inner Mongolia"),
    Code("210000", "辽宁省", "Liaoning"),
    Code("220000", "吉林省", "Jilin"),
    Code("230000", "黑龙江省", "Heilongjiang"),
    Code("310000", "上海市", "Shanghai"),
    Code("320000", "江苏省", "Jiangsu"),
    Code("330000", "浙江省", "Zhejiang"),
    Code("340000", "安徽省", "Anhui"),
    Code("350000", "福建省", "Fujian"),
    Code("360000", "江西省", "Jiangxi"),
    Code("370000", "山东省", "Shandong"),
    Code("410000", "河南省", "Henan"),
    Code("420000", "湖北省", "Hubei"),
    Code("430000", "湖南省", "Hunan"),
    Code("440000", "广东省", "Guangdong"),
    Code("450000", "广西壮族自治区", "Guangxi"),
    Code("460000", "海南省", "Hainan"),
    Code("500000", "重庆市", "Chongqing"),
    Code("510000", "四川省", "Sichuan"),
    Code("520000", "贵州省", "Guizhou"),
    Code("530000", "云南省", "Yunnan"),
    Code("540000", "西藏自治区", "Tibet"),
    Code("610000", "陕西省", "Shaanxi"),
    Code("620000", "甘肃省", "Gansu"),
    Code("630000", "青海省", "Qinghai"),
    Code("640000", "宁夏回族自治区", "Ningxia"),
    Code("650000", "新疆维吾尔自治区", "Xinjiang"),
)
"""Provincial-level divisions of the mainland by GB/T 2260 code."""

TENOR_PATTERN = r"^[0-9]{1,3}[DWMY]$"

# --- tables ----------------------------------------------------------------------------------


def _id(name: str, zh: str, en: str, **kw: object) -> Column:
    return Column(name, "VARCHAR", zh, en, **kw)  # type: ignore[arg-type]


def _money(name: str, zh: str, en: str, *, required: bool = True, positive: bool = False) -> Column:
    return Column(name, "DOUBLE", zh, en, required=required, min=0.0, min_exclusive=positive)


CUSTOMER_REF = ("customers", "customer_id")

TABLES: tuple[Table, ...] = (
    Table(
        "customers",
        "客户",
        "corporate customers",
        key=("customer_id",),
        aliases=("customer", "客户", "客户信息"),
        columns=(
            _id("customer_id", "客户号", "customer id"),
            _id("name", "客户名称", "legal name"),
            _id("uscc", "统一社会信用代码", "unified social credit code", check="uscc"),
            _id("industry", "行业(GB/T 4754)", "industry (GB/T 4754 code)", check="industry"),
            _id("region", "省份(GB/T 2260)", "province (GB/T 2260 code)", enum=PROVINCES),
            _id("size_class", "企业规模", "size class", enum=SIZE_CLASSES),
            _id("group_id", "集团号", "group id", required=False),
            _id("rm_id", "客户经理", "relationship manager id"),
            Column("onboard_date", "DATE", "建立关系日期", "onboarding date", not_future=True),
            _money("acquisition_cost", "获客成本(元)", "acquisition cost (yuan)", required=False),
        ),
    ),
    Table(
        "facilities",
        "授信业务",
        "credit facilities",
        key=("facility_id",),
        aliases=("facility", "loans", "授信", "贷款", "授信业务"),
        columns=(
            _id("facility_id", "业务编号", "facility id"),
            _id("customer_id", "客户号", "customer id", references=CUSTOMER_REF),
            _id("product", "产品", "product", enum=PRODUCTS),
            _money("limit_amount", "授信额度(元)", "limit (yuan)", positive=True),
            _money("drawn_amount", "用信余额(元)", "drawn balance (yuan)"),
            _id("currency", "币种", "currency", enum=CURRENCIES, required=False, default="CNY"),
            Column("origination_date", "DATE", "发放日", "origination date", not_future=True),
            Column("maturity_date", "DATE", "到期日", "maturity date"),
            _id("rate_type", "利率类型", "rate type", enum=RATE_TYPES),
            Column("rate", "DOUBLE", "执行利率", "fixed rate", required=False, min=0.0, max=0.36),
            Column(
                "spread_bp",
                "DOUBLE",
                "LPR加点(bp)",
                "spread over LPR (bp)",
                required=False,
                min=-500.0,
                max=2000.0,
            ),
            _id("amortization", "还款方式", "amortization", enum=AMORTIZATIONS),
            _id("collateral_type", "担保方式", "collateral type", enum=COLLATERAL_TYPES),
            _money("upfront_fee", "前端费用(元)", "upfront fee (yuan)", required=False),
            Column(
                "commitment_fee_bp",
                "DOUBLE",
                "承诺费(bp)",
                "commitment fee (bp)",
                required=False,
                min=0.0,
                max=500.0,
            ),
            _id("classification", "五级分类", "five-category class", enum=CLASSIFICATIONS),
            _id("status", "状态", "status", enum=FACILITY_STATUSES),
        ),
        row_rules=(
            RowRule(
                "maturity_after_origination",
                "maturity_date >= origination_date",
                "到期日不得早于发放日",
                "maturity_date must not precede origination_date",
            ),
            RowRule(
                "drawn_within_limit",
                "drawn_amount <= limit_amount * (1 + 1e-9)",
                "用信余额不得超过授信额度",
                "drawn_amount must not exceed limit_amount",
            ),
            RowRule(
                "fixed_rate_given",
                "rate_type <> 'fixed' OR rate IS NOT NULL",
                "固定利率业务须填写执行利率",
                "a fixed-rate facility needs rate",
            ),
            RowRule(
                "floating_spread_given",
                "rate_type = 'fixed' OR spread_bp IS NOT NULL",
                "LPR浮动利率业务须填写加点(bp)",
                "an LPR-linked facility needs spread_bp",
            ),
        ),
    ),
    Table(
        "repayments",
        "还款记录",
        "repayment schedule and history",
        key=("facility_id", "due_date"),
        aliases=("repayment", "还款", "还款记录"),
        columns=(
            _id("facility_id", "业务编号", "facility id", references=("facilities", "facility_id")),
            Column("due_date", "DATE", "应还日", "due date"),
            Column("paid_date", "DATE", "实还日", "paid date", required=False, not_future=True),
            _money("principal", "本金(元)", "principal (yuan)"),
            _money("interest", "利息(元)", "interest (yuan)"),
            _money("fee", "费用(元)", "fee (yuan)", required=False),
            Column("days_past_due", "BIGINT", "逾期天数", "days past due", min=0.0, max=36500.0),
        ),
    ),
    Table(
        "transactions",
        "中间业务收入",
        "fee-earning transactions",
        key=("customer_id", "ts", "product_line"),
        aliases=("transaction", "fees", "交易", "中收", "中间业务收入"),
        columns=(
            _id("customer_id", "客户号", "customer id", references=CUSTOMER_REF),
            Column("ts", "TIMESTAMP", "交易时间", "timestamp", not_future=True),
            _id("product_line", "业务条线", "product line", enum=PRODUCT_LINES),
            Column(
                "amount", "DOUBLE", "收入(元)", "revenue to the bank (yuan)", min=-1e12, max=1e12
            ),
        ),
    ),
    Table(
        "deposits",
        "存款",
        "monthly deposit balances",
        key=("customer_id", "month"),
        aliases=("deposit", "存款", "存款日均"),
        columns=(
            _id("customer_id", "客户号", "customer id", references=CUSTOMER_REF),
            Column("month", "MONTH", "月份", "month", not_future=True),
            _money("avg_balance", "月日均余额(元)", "average daily balance (yuan)"),
            Column("rate", "DOUBLE", "付息率", "rate paid", required=False, min=0.0, max=0.2),
        ),
    ),
    Table(
        "financials",
        "财务报表",
        "financial statements",
        key=("customer_id", "period_end"),
        aliases=("financial", "财报", "财务报表"),
        columns=(
            _id("customer_id", "客户号", "customer id", references=CUSTOMER_REF),
            Column("period_end", "DATE", "报告期末", "period end", not_future=True),
            _money("revenue", "营业收入(元)", "revenue (yuan)"),
            Column("ebitda", "DOUBLE", "息税折旧摊销前利润(元)", "EBITDA (yuan)", required=False),
            Column("net_income", "DOUBLE", "净利润(元)", "net income (yuan)", required=False),
            _money("total_assets", "总资产(元)", "total assets (yuan)", positive=True),
            _money("total_liabilities", "总负债(元)", "total liabilities (yuan)"),
            _money("current_assets", "流动资产(元)", "current assets (yuan)", required=False),
            _money(
                "current_liabilities", "流动负债(元)", "current liabilities (yuan)", required=False
            ),
            _money("interest_expense", "利息支出(元)", "interest expense (yuan)", required=False),
            _money("debt_service", "应还本息(元)", "debt service (yuan)", required=False),
            Column(
                "operating_cash_flow",
                "DOUBLE",
                "经营活动现金流(元)",
                "operating cash flow (yuan)",
                required=False,
            ),
        ),
        row_rules=(
            RowRule(
                "current_assets_within_total",
                "current_assets <= total_assets * (1 + 1e-9)",
                "流动资产不得超过总资产",
                "current_assets must not exceed total_assets",
            ),
        ),
    ),
    Table(
        "ratings",
        "评级",
        "rating history",
        key=("customer_id", "rating_date"),
        aliases=("rating", "评级", "评级历史"),
        columns=(
            _id("customer_id", "客户号", "customer id", references=CUSTOMER_REF),
            Column("rating_date", "DATE", "评级日期", "rating date", not_future=True),
            _id("grade", "评级", "grade (master scale)", enum=GRADES),
            _id(
                "source",
                "评级来源",
                "source",
                enum=RATING_SOURCES,
                default="internal",
                required=False,
            ),
        ),
    ),
    Table(
        "credit_events",
        "信用事件",
        "credit events",
        key=("customer_id", "event_date", "event"),
        aliases=("credit_event", "events", "信用事件"),
        columns=(
            _id("customer_id", "客户号", "customer id", references=CUSTOMER_REF),
            Column("event_date", "DATE", "事件日期", "event date", not_future=True),
            _id("event", "事件", "event", enum=CREDIT_EVENTS),
            _id(
                "facility_id",
                "业务编号",
                "facility id",
                required=False,
                references=("facilities", "facility_id"),
            ),
            _money("amount", "涉及金额(元)", "amount (yuan)", required=False),
            _id("detail", "说明", "detail", required=False),
        ),
    ),
    Table(
        "marketing",
        "营销投入",
        "marketing spend",
        key=("campaign_id", "date", "customer_id", "segment"),
        aliases=("campaigns", "营销", "营销投入"),
        columns=(
            _id("campaign_id", "活动编号", "campaign id"),
            _id("customer_id", "客户号", "customer id", required=False, references=CUSTOMER_REF),
            _id("segment", "客群", "segment", required=False),
            Column("date", "DATE", "日期", "date", not_future=True),
            _id("channel", "渠道", "channel", enum=CHANNELS),
            _money("cost", "成本(元)", "cost (yuan)"),
            Column("treated", "BOOLEAN", "是否实验组", "in the treatment group", required=False),
        ),
        row_rules=(
            RowRule(
                "customer_or_segment",
                "(customer_id IS NULL) <> (segment IS NULL)",
                "客户号与客群须且仅须填写一项",
                "exactly one of customer_id and segment must be given",
            ),
        ),
    ),
    Table(
        "relationships",
        "客户关系",
        "relationship spells",
        key=("customer_id",),
        aliases=("relationship", "客户关系"),
        columns=(
            _id("customer_id", "客户号", "customer id", references=CUSTOMER_REF),
            Column("start_date", "DATE", "关系开始日", "start date", not_future=True),
            Column(
                "end_date",
                "DATE",
                "关系结束日",
                "end date (empty while active)",
                required=False,
                not_future=True,
            ),
            _id("end_reason", "结束原因", "end reason", enum=END_REASONS, required=False),
        ),
        row_rules=(
            RowRule(
                "end_after_start",
                "end_date >= start_date",
                "关系结束日不得早于开始日",
                "end_date must not precede start_date",
            ),
            RowRule(
                "end_reason_iff_ended",
                "(end_date IS NULL) = (end_reason IS NULL)",
                "结束原因须且仅须在关系结束时填写",
                "end_reason is given exactly when end_date is",
            ),
        ),
    ),
    Table(
        "market",
        "市场利率",
        "market curves",
        key=("date", "curve", "tenor"),
        aliases=("curves", "rates", "利率", "市场利率"),
        columns=(
            Column("date", "DATE", "日期", "date", not_future=True),
            _id("curve", "曲线", "curve", enum=CURVES),
            _id("tenor", "期限", "tenor (e.g. 1Y, 3M)", pattern=TENOR_PATTERN),
            Column("rate", "DOUBLE", "利率", "rate (decimal)", min=-0.05, max=0.5),
        ),
    ),
)
"""Every input table, in load order: a table comes after every table it references."""

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def get_table(name: str) -> Table:
    """The declaration of input table ``name``; raises ``DataContractError`` for unknown names."""
    from lendvalue.errors import DataContractError

    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        known = ", ".join(TABLES_BY_NAME)
        raise DataContractError(f"unknown table {name!r}; the contract has: {known}") from None


def column_rules(table: Table, col: Column) -> Iterator[Rule]:
    """The rules a single column carries, in the order they are checked."""
    t = table.name

    def rule(kind: str, zh: str, en: str) -> Rule:
        return Rule(f"{t}.{col.name}.{kind}", t, col.name, kind, zh, en)

    if col.required:
        yield rule("required", f"{col.zh}不能为空", f"{col.name} is required")
    type_en = {"MONTH": "a month (YYYY-MM or a date)", "BOOLEAN": "true/false or 1/0"}.get(
        col.dtype, col.dtype
    )
    if col.dtype != "VARCHAR":
        yield rule("type", f"{col.zh}格式错误，应为{col.dtype}", f"{col.name} must be {type_en}")
    if col.enum:
        codes = ", ".join(col.enum_codes)
        yield rule("enum", f"{col.zh}取值不在代码表内", f"{col.name} must be one of: {codes}")
    if col.min is not None or col.max is not None:
        lo = "-inf" if col.min is None else f"{col.min:g}"
        hi = "inf" if col.max is None else f"{col.max:g}"
        bracket = "(" if col.min_exclusive else "["
        yield rule(
            "range",
            f"{col.zh}超出范围{bracket}{lo}, {hi}]",
            f"{col.name} must lie in {bracket}{lo}, {hi}]",
        )
    if col.pattern:
        yield rule("pattern", f"{col.zh}格式错误", f"{col.name} must match {col.pattern}")
    if col.check == "uscc":
        yield rule(
            "uscc",
            f"{col.zh}校验位错误(GB 32100-2015)",
            f"{col.name} must be 18 characters with a valid GB 32100-2015 check character",
        )
    if col.check == "industry":
        yield rule(
            "industry",
            f"{col.zh}不是有效的GB/T 4754行业代码",
            f"{col.name} must be a GB/T 4754-2017 code whose division lies in its section",
        )
    if col.not_future:
        yield rule("not_future", f"{col.zh}不能晚于加载日", f"{col.name} must not be in the future")
    if col.references:
        parent, pcol = col.references
        yield rule(
            "reference",
            f"{col.zh}在{parent}表中不存在",
            f"{col.name} must exist in {parent}.{pcol}",
        )


def table_rules(table: Table) -> Iterator[Rule]:
    """Every rule of ``table``: column rules, then row rules, then key uniqueness."""
    for col in table.columns:
        yield from column_rules(table, col)
    for rr in table.row_rules:
        yield Rule(f"{table.name}.{rr.name}", table.name, None, "row", rr.zh, rr.en)
    yield Rule(
        f"{table.name}.key.unique",
        table.name,
        None,
        "key",
        f"主键({', '.join(table.key)})在同一文件内重复",
        f"key ({', '.join(table.key)}) appears more than once in the file",
    )


def all_rules() -> list[Rule]:
    """Every rule of every table, for the ``contract_rules`` table and the documentation."""
    return [r for t in TABLES for r in table_rules(t)]


# ---------------------------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _labels(code: Code) -> str:
    return "、".join(dict.fromkeys((code.zh, *code.aliases)))


def _column_rules_text(col: Column) -> str:
    parts = []
    if col.enum:
        parts.append("one of " + ", ".join(f"`{c.code}` ({_labels(c)})" for c in col.enum))
    if col.min is not None or col.max is not None:
        lo = "−∞" if col.min is None else f"{col.min:g}"
        hi = "∞" if col.max is None else f"{col.max:g}"
        parts.append(f"{'(' if col.min_exclusive else '['}{lo}, {hi}]")
    if col.pattern:
        parts.append(f"matches `{col.pattern}`")
    if col.check == "uscc":
        parts.append("GB 32100-2015 check character")
    if col.check == "industry":
        parts.append("GB/T 4754-2017 code, division within its section")
    if col.not_future:
        parts.append("not after the load date")
    if col.references:
        parts.append(f"exists in `{col.references[0]}.{col.references[1]}`")
    if col.default:
        parts.append(f"empty means `{col.default}`")
    return "; ".join(parts)


def to_markdown() -> str:
    """The data-contract document, generated; ``docs/data-contract.md`` must equal this text."""
    out = [
        "# Data contract",
        "",
        "<!-- generated by `lendvalue contract > docs/data-contract.md`; do not edit -->",
        "",
        "Every input table lendvalue reads, with its key, columns, types and rules. A row that",
        "breaks any rule goes to the `quarantine` table with the ids of every rule it broke; all",
        "other rows load. Money is in yuan, rates are decimals (0.0345 = 3.45%), dates are ISO",
        "(`2025-06-30`; `2025/06/30` and `20250630` are also read). Enumerations accept the code,",
        "its Chinese label or its English label, in any letter case. A bank's own column names",
        "and codes are translated by a mapping file (see `docs/mapping.md`).",
        "",
        "Types: `VARCHAR` text, `DOUBLE` number, `BIGINT` whole number, `DATE`, `TIMESTAMP`,",
        "`BOOLEAN` (true/false, 1/0, 是/否), `MONTH` (a month, `2025-06` or any date in it).",
        "",
        "Tables load in this order, so a file may reference tables above it.",
        "",
    ]
    for t in TABLES:
        out += [
            f"## `{t.name}` — {t.zh} ({t.en})",
            "",
            f"Key: ({', '.join(f'`{k}`' for k in t.key)}). "
            f"File names recognised: `{t.name}*`" + "".join(f", `{a}*`" for a in t.aliases) + ".",
            "",
            "| column | 中文 | type | required | rules |",
            "| --- | --- | --- | --- | --- |",
        ]
        for c in t.columns:
            out.append(
                f"| `{c.name}` | {_cell(c.zh)} | {c.dtype} | {'yes' if c.required else 'no'} "
                f"| {_cell(_column_rules_text(c))} |"
            )
        out.append("")
        if t.row_rules:
            out += ["Row rules:", ""]
            for rr in t.row_rules:
                out.append(f"- `{t.name}.{rr.name}` — {rr.en} ({rr.zh}): `{rr.condition}`")
            out.append("")
    out += [
        "## Rule identifiers",
        "",
        "| rule | kind | message | 说明 |",
        "| --- | --- | --- | --- |",
    ]
    for r in all_rules():
        out.append(f"| `{r.rule_id}` | {r.kind} | {_cell(r.en)} | {_cell(r.zh)} |")
    out.append("")
    return "\n".join(out)


__all__ = [
    "TABLES",
    "TABLES_BY_NAME",
    "Code",
    "Column",
    "RowRule",
    "Rule",
    "Table",
    "all_rules",
    "get_table",
    "is_valid_industry",
    "is_valid_uscc",
    "to_markdown",
    "uscc_check_char",
]
