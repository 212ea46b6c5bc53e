"""The true parameters of the synthetic portfolio, and the business assumptions around them.

Everything a later stage is meant to recover (migration matrix, Weibull survival, BG/NBD and
Gamma-Gamma per product line, financial-ratio coefficients, treatment effect) is declared here
once, and :func:`truth_parameters` writes the same numbers to ``truth.json``. The other modules
of :mod:`lendvalue.sample` read these constants and nothing else.

Order of every per-grade tuple: the performing grades of the master scale, AAA … CCC
(``contract.GRADES`` without D).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lendvalue.contract import GRADES, PRODUCT_LINES, PRODUCTS, SIZE_CLASSES

GRADE_CODES = tuple(g.code for g in GRADES)
"""Master scale, best first; the last one (``D``) is default."""
PERFORMING_GRADES = GRADE_CODES[:-1]
DEFAULT_GRADE_INDEX = len(GRADE_CODES) - 1
GRADE_CENTRE = 3
"""Index of BBB: grades enter the survival model centred on it (AAA = -3 … CCC = +3)."""
SIZES = tuple(s.code for s in SIZE_CLASSES)
PRODUCT_CODES = tuple(p.code for p in PRODUCTS)
LINE_CODES = tuple(p.code for p in PRODUCT_LINES)

# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------

SIZE_SHARES = (0.05, 0.20, 0.45, 0.30)
"""large / medium / small / micro."""
GROUP_SHARE = 0.15
"""Share of customers that belong to a corporate group (集团客户)."""
CUSTOMERS_PER_RM = 60
ONBOARD_YEARS = 15.0
"""Onboarding dates spread over this many years before ``as_of``."""
ONBOARD_MEAN_AGE_YEARS = 6.0
"""Relationship age is exponential with this mean, truncated to ``ONBOARD_YEARS``: recent
onboardings are more common."""
ACQUISITION_COST_MEDIAN_YUAN = (80_000.0, 25_000.0, 8_000.0, 2_000.0)
ACQUISITION_COST_LOG_SD = 0.5

# ---------------------------------------------------------------------------------------------
# Credit quality: latent score, initial grade, annual migration
# ---------------------------------------------------------------------------------------------

QUALITY_SIZE_SHIFT = (0.6, 0.25, 0.0, -0.3)
"""Added to the latent quality q ~ N(0, 1) by size class before the grade cut points."""
INITIAL_GRADE_CUTS = (1.75, 1.15, 0.5, -0.3, -1.0, -1.9)
"""Initial grade = number of cut points at or above q + size shift: AAA when above 1.75, AA in
(1.15, 1.75], … CCC at or below -1.9."""

MIGRATION_MATRIX: tuple[tuple[float, ...], ...] = (
    (0.8999, 0.0698, 0.0210, 0.0063, 0.0019, 0.0006, 0.0002, 0.0003),
    (0.0348, 0.8900, 0.0522, 0.0157, 0.0047, 0.0014, 0.0004, 0.0008),
    (0.0112, 0.0374, 0.8700, 0.0561, 0.0168, 0.0050, 0.0015, 0.0020),
    (0.0037, 0.0124, 0.0414, 0.8501, 0.0622, 0.0186, 0.0056, 0.0060),
    (0.0014, 0.0045, 0.0151, 0.0505, 0.8101, 0.0757, 0.0227, 0.0200),
    (0.0005, 0.0016, 0.0052, 0.0174, 0.0581, 0.7700, 0.0872, 0.0600),
    (0.0002, 0.0006, 0.0019, 0.0063, 0.0210, 0.0701, 0.6999, 0.2000),
    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
)
"""True one-year migration matrix over AAA … CCC, D (rows: grade at a review, columns: grade at
the next review a year later; D absorbing). The last column is the one-year PD per grade."""

MAX_REVIEWS = 16
"""Annual steps simulated from onboarding: enough for a 15-year relationship plus the partial
year after the last review."""

# ---------------------------------------------------------------------------------------------
# Relationship survival (Weibull proportional hazards) and the marketing experiment
# ---------------------------------------------------------------------------------------------

WEIBULL_SHAPE = 1.2
WEIBULL_SCALE_MONTHS = 200.0
WEIBULL_BETA: dict[str, float] = {
    "size_medium": 0.15,
    "size_small": 0.35,
    "size_micro": 0.55,
    "industry_risk": 0.30,
    "grade_centred": 0.10,
}
"""Log hazard ratios. ``size_*`` are dummies against ``large``; ``industry_risk`` is 1 for the
industries in :data:`RISKY_SECTIONS` / :data:`RISKY_MANUFACTURING_DIVISIONS`; ``grade_centred``
is the initial grade index minus 3 (AAA = -3 … CCC = +3)."""
GAMMA_TREAT = -0.4
"""Log hazard ratio of attrition from the date a customer is first treated by a campaign."""

RISKY_SECTIONS = ("B", "E", "H", "K")
"""Mining, construction, accommodation & catering, real estate."""
RISKY_MANUFACTURING_DIVISIONS = (30, 31, 32)
"""Non-metallic minerals, ferrous and non-ferrous metals (over-capacity industries)."""

END_REASON_SHARES = {"moved_bank": 0.5, "closed": 0.2, "merged": 0.15, "other": 0.15}
"""Reasons of relationships that end by attrition; a relationship ended by default says
``default``."""
WORKOUT_DAYS = (90, 540)
"""After a default the relationship ends this many days later (uniform), if before as_of."""

CAMPAIGN_MONTHS_BEFORE_AS_OF = (10, 6, 2)
"""Three campaigns, launched on the 15th of the month this many months before as_of."""
CAMPAIGN_TARGET_SHARE = 0.30
"""Share of the customers alive at a campaign date that the campaign targets."""
CAMPAIGN_TREAT_SHARE = 0.5
"""Randomised: each targeted customer is treated with this probability, else control."""
CHANNEL_COST_MEDIAN_YUAN = {
    "rm_visit": 800.0,
    "event": 1_500.0,
    "digital": 30.0,
    "phone": 80.0,
    "pricing_offer": 3_000.0,
}
CHANNEL_SHARES_BY_SIZE = {
    "large": (0.45, 0.25, 0.05, 0.05, 0.20),
    "medium": (0.35, 0.20, 0.15, 0.10, 0.20),
    "small": (0.20, 0.15, 0.30, 0.20, 0.15),
    "micro": (0.05, 0.05, 0.55, 0.30, 0.05),
}
"""Over ``contract.CHANNELS`` (rm_visit, event, digital, phone, pricing_offer)."""

# ---------------------------------------------------------------------------------------------
# Facilities
# ---------------------------------------------------------------------------------------------

FACILITY_EXTRA_MEAN = (2.5, 1.5, 0.8, 0.4)
"""Facilities per customer = 1 + min(4, Poisson(mean by size class))."""
PRODUCT_SHARES_BY_SIZE = {
    "large": (0.18, 0.18, 0.15, 0.10, 0.12, 0.12, 0.15),
    "medium": (0.15, 0.27, 0.12, 0.03, 0.13, 0.12, 0.18),
    "small": (0.10, 0.42, 0.08, 0.01, 0.10, 0.08, 0.21),
    "micro": (0.05, 0.57, 0.05, 0.00, 0.05, 0.05, 0.23),
}
"""Over ``contract.PRODUCTS`` (term_loan, working_capital, revolver, project_finance,
trade_finance, guarantee, acceptance)."""
TENOR_MONTHS = {
    "term_loan": (36, 48, 60, 84, 96, 120),
    "working_capital": (12,),
    "revolver": (12, 24, 36),
    "project_finance": (120, 144, 180, 240),
    "trade_finance": (3, 4, 6),
    "guarantee": (12, 24, 36),
    "acceptance": (6,),
}
LIMIT_MEDIAN_BY_SIZE_YUAN = (2.0e8, 3.0e7, 5.0e6, 1.0e6)
LIMIT_PRODUCT_FACTOR = {
    "term_loan": 1.5,
    "working_capital": 1.0,
    "revolver": 1.2,
    "project_finance": 5.0,
    "trade_finance": 0.5,
    "guarantee": 0.6,
    "acceptance": 0.8,
}
LIMIT_LOG_SD = 0.7
CURRENT_FACILITY_SHARE = 0.6
"""A facility of a customer still alive at as_of is, with this probability, originated within
one tenor before as_of (a renewal of the running book); otherwise uniformly over the
relationship."""
FIXED_RATE_SHARE = 0.30
LPR_5Y_ABOVE_MONTHS = 60
"""Floating facilities longer than five years reference the 5Y LPR, the others the 1Y LPR."""
SPREAD_BP_BY_GRADE = (-30.0, 0.0, 30.0, 70.0, 120.0, 180.0, 250.0)
"""Mean spread over the LPR at origination, by the grade at origination."""
SPREAD_NOISE_BP = 15.0
SPREAD_PRODUCT_BP = {
    "term_loan": 10.0,
    "working_capital": 0.0,
    "revolver": 5.0,
    "project_finance": 20.0,
    "trade_finance": -20.0,
}
AMORTIZATION_SHARES = {
    "term_loan": {"annuity": 0.5, "linear": 0.5},
    "working_capital": {"bullet": 0.6, "annuity": 0.2, "linear": 0.2},
    "project_finance": {"linear": 0.7, "annuity": 0.3},
}
"""Products not listed repay in one bullet at maturity."""
COLLATERAL_SHARES = {
    "term_loan": (0.15, 0.20, 0.40, 0.20, 0.00, 0.00, 0.05),
    "working_capital": (0.25, 0.35, 0.25, 0.05, 0.08, 0.02, 0.00),
    "revolver": (0.45, 0.25, 0.20, 0.00, 0.10, 0.00, 0.00),
    "project_finance": (0.00, 0.15, 0.35, 0.10, 0.15, 0.00, 0.25),
    "trade_finance": (0.10, 0.15, 0.05, 0.00, 0.50, 0.20, 0.00),
    "guarantee": (0.30, 0.20, 0.10, 0.00, 0.00, 0.40, 0.00),
    "acceptance": (0.05, 0.15, 0.10, 0.00, 0.00, 0.70, 0.00),
}
"""Over ``contract.COLLATERAL_TYPES`` (unsecured, guarantee, real_estate, equipment,
receivables, deposit, equity); the unsecured weight is scaled by size class below."""
UNSECURED_FACTOR_BY_SIZE = (2.5, 1.2, 0.7, 0.4)
REVOLVER_UTILISATION = (0.30, 0.90)
DEFAULT_REVOLVER_UTILISATION = (0.85, 1.00)
CURRENCY_BLANK_SHARE = 0.10
"""Facilities whose currency is left empty (the contract's default, CNY, applies); every
facility is in CNY because the market table carries no FX rates."""
WRITE_OFF_SHARE = 0.5
"""Defaulted customers whose defaulted facilities are written off, 365-720 days after default,
when that date is before as_of."""

# ---------------------------------------------------------------------------------------------
# Repayment behaviour
# ---------------------------------------------------------------------------------------------

REPAYMENT_WINDOW_YEARS = 3
LATE_PAYMENT_PROB_BY_GRADE = (0.002, 0.003, 0.005, 0.010, 0.020, 0.040, 0.080)
"""Chance that an installment is paid 1-29 days late, by the grade at its due date."""
FIRST_MISSED_DAYS_BEFORE_DEFAULT = 91
"""The first unpaid installment falls this many days before the default date (default = 90+
days past due); every installment from then on is unpaid."""
PRE_DEFAULT_LATE_DAYS = 92
"""Installments due in this many days before the first missed one are paid late, with days past
due rising towards ~60."""
PENALTY_RATE_PER_DAY = 0.0005
"""Late fee (罚息) per day past due on the installment amount."""
SERVICE_FEE_SHARE = 0.03

# ---------------------------------------------------------------------------------------------
# Fee-earning transactions: BG/NBD with Gamma-Gamma spend, per product line
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineParameters:
    """True parameters of one product line.

    BG/NBD (Fader, Hardie & Lee 2005, Marketing Science 24(2), section 2): while alive, repeat
    transactions follow a Poisson process with rate ``lambda ~ Gamma(r, rate alpha)`` per week;
    after each repeat transaction the customer drops out with probability ``p ~ Beta(a, b)``.
    Gamma-Gamma spend (Fader, Hardie & Lee 2005, J. Marketing Research 42(4); Colombo & Jiang
    1999): ``nu ~ Gamma(q, rate v)`` per customer and each amount ``~ Gamma(p, rate nu)`` yuan,
    so the mean amount of a customer is ``p / nu`` and of the population ``p v / (q - 1)``.
    """

    r: float
    alpha: float
    a: float
    b: float
    gg_p: float
    gg_q: float
    gg_v: float
    usage_by_size: tuple[float, float, float, float]


LINE_PARAMETERS: dict[str, LineParameters] = {
    "settlement": LineParameters(1.2, 4.8, 0.6, 18.0, 2.5, 6.0, 600.0, (0.98, 0.95, 0.90, 0.80)),
    "fx": LineParameters(0.6, 6.0, 0.8, 10.0, 2.0, 4.0, 3_000.0, (0.70, 0.45, 0.20, 0.08)),
    "trade": LineParameters(0.5, 6.0, 0.7, 8.0, 3.0, 5.0, 6_000.0, (0.60, 0.35, 0.15, 0.05)),
    "cash_management": LineParameters(
        2.0, 9.0, 0.4, 20.0, 5.0, 8.0, 1_400.0, (0.80, 0.50, 0.20, 0.05)
    ),
    "advisory": LineParameters(0.3, 60.0, 1.0, 3.0, 1.5, 3.0, 200_000.0, (0.30, 0.10, 0.02, 0.005)),
}
TRANSACTION_WINDOW_YEARS = 3
BIRTH_OFFSET_WEEKS = 8.0
"""A line's first transaction falls uniformly this many weeks after the start of its window,
max(onboard_date, as_of - 3 years)."""
BUSINESS_DAY_SECONDS = (8 * 3600, 18 * 3600)
"""Transaction timestamps fall uniformly in 08:00-18:00 of their day."""

# ---------------------------------------------------------------------------------------------
# Deposits
# ---------------------------------------------------------------------------------------------

DEPOSIT_MONTHS = 36
DEPOSIT_MEDIAN_BY_SIZE_YUAN = (2.0e8, 2.0e7, 2.0e6, 3.0e5)
DEPOSIT_CUSTOMER_LOG_SD = 0.8
DEPOSIT_AR1_PHI = 0.8
DEPOSIT_AR1_SD = 0.25
DEPOSIT_RATE_RANGE = (0.002, 0.015)
DEPOSIT_AFTER_DEFAULT_FACTOR = 0.2

# ---------------------------------------------------------------------------------------------
# Financial statements
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatioModel:
    """One generated ratio: ``link(ratio) = intercept + per_notch * (3 - grade) + on_q * q +
    sd * eps`` with ``grade`` the grade index at the statement date (AAA = 0 … CCC = 6), ``q``
    the customer's latent quality and ``eps ~ N(0, 1)``."""

    link: str
    intercept: float
    per_notch: float
    on_q: float
    sd: float


RATIO_MODELS: dict[str, RatioModel] = {
    "leverage": RatioModel("logit", 0.35, -0.15, -0.10, 0.35),
    "asset_turnover": RatioModel("log", -0.36, 0.03, 0.02, 0.30),
    "ebitda_margin": RatioModel("identity", 0.10, 0.015, 0.01, 0.04),
    "revenue_growth": RatioModel("identity", 0.06, 0.02, 0.02, 0.10),
    "current_ratio": RatioModel("log", 0.18, 0.06, 0.05, 0.25),
    "current_asset_share": RatioModel("logit", 0.0, 0.05, 0.0, 0.5),
    "cost_of_debt": RatioModel("identity", 0.047, -0.004, 0.0, 0.003),
}
"""leverage = total_liabilities / total_assets; asset_turnover = revenue / total_assets;
ebitda_margin = ebitda / revenue; revenue_growth = revenue_t / revenue_(t-1) - 1 (total assets
grow at the same rate); current_ratio = current_assets / current_liabilities (current
liabilities capped at 95% of total liabilities); current_asset_share = current_assets /
total_assets (capped at 0.95); cost_of_debt = interest_expense / interest-bearing debt."""
TURNOVER_SECTION_FACTOR = {"F": 2.0, "K": 0.3, "D": 0.4, "B": 0.5, "G": 0.8, "E": 1.1}
ASSETS_MEDIAN_BY_SIZE_YUAN = (5.0e9, 5.0e8, 5.0e7, 5.0e6)
ASSETS_LOG_SD = 0.6
INTEREST_BEARING_SHARE = 0.6
"""Share of total liabilities that bears interest."""
DEPRECIATION_RATE = 0.02
"""Depreciation and amortisation as a share of total assets."""
TAX_RATE = 0.25
PRINCIPAL_DUE_SHARE = 0.12
"""Principal due within the year as a share of interest-bearing debt (enters debt_service)."""
CASH_CONVERSION_SD = 0.03
"""operating_cash_flow = ebitda - tax - 0.1 * growth * current_assets + N(0, sd) * revenue."""
STATEMENT_YEARS = (3, 4, 5)
STATEMENT_YEARS_SHARES = (0.3, 0.3, 0.4)

# ---------------------------------------------------------------------------------------------
# Ratings and early warning
# ---------------------------------------------------------------------------------------------

RATING_HISTORY_YEARS = 5
RATING_SOURCE_SHARES = {"internal": 0.92, "external": 0.05, "override": 0.03}

# ---------------------------------------------------------------------------------------------
# Credit events
# ---------------------------------------------------------------------------------------------

RESTRUCTURE_SHARE = 0.25
LAWSUIT_SHARE = 0.20

# ---------------------------------------------------------------------------------------------
# Market curves (FTP is synthetic)
# ---------------------------------------------------------------------------------------------

FTP_BASE_SPREAD_BP = -80.0
"""Loan FTP = 1Y LPR in effect at the month end + this + the term premium of the tenor."""
FTP_TERM_PREMIUM_BP = {
    "1M": -40.0,
    "3M": -30.0,
    "6M": -15.0,
    "1Y": 0.0,
    "3Y": 20.0,
    "5Y": 35.0,
    "10Y": 55.0,
}
DEPOSIT_FTP_BASE_SPREAD_BP = -100.0
DEPOSIT_FTP_TERM_PREMIUM_BP = {
    "1M": -60.0,
    "3M": -45.0,
    "6M": -30.0,
    "1Y": -15.0,
    "2Y": 0.0,
    "3Y": 10.0,
}
FTP_FIRST_MONTH = (2019, 8)


def truth_parameters() -> dict[str, Any]:
    """Every true parameter of the generator as plain JSON-ready values, each model with a
    one-line description and its units."""
    pd_1y = {g: row[-1] for g, row in zip(PERFORMING_GRADES, MIGRATION_MATRIX, strict=False)}
    return {
        "master_scale": {
            "grades": list(GRADE_CODES),
            "performing": list(PERFORMING_GRADES),
            "default_grade": GRADE_CODES[-1],
        },
        "credit": {
            "description": (
                "latent quality q ~ N(0,1); initial grade from q + size shift by cut points; "
                "then one step per annual review (anniversary of onboard_date) of a Markov chain "
                "with the migration matrix (D absorbing); a step into D defaults on a day "
                "uniform within that year"
            ),
            "unit": "one step per year",
            "quality_size_shift": dict(zip(SIZES, QUALITY_SIZE_SHIFT, strict=True)),
            "initial_grade_cuts": list(INITIAL_GRADE_CUTS),
            "grade_order": list(GRADE_CODES),
            "migration_matrix": [list(row) for row in MIGRATION_MATRIX],
            "pd_1y": pd_1y,
        },
        "relationship_survival": {
            "description": (
                "Weibull proportional hazards for attrition: S(t|z) = exp(-(t/lambda)^k "
                "exp(beta'z)), t in months since start_date; from the date a customer is first "
                "treated by a campaign the hazard is multiplied by exp(gamma_treat). Default is a "
                "competing risk: a defaulted customer leaves with end_reason 'default' after a "
                "workout; censor attrition at the default date when fitting"
            ),
            "unit": "months (1 month = 365.25/12 days)",
            "k": WEIBULL_SHAPE,
            "lambda_months": WEIBULL_SCALE_MONTHS,
            "beta": dict(WEIBULL_BETA),
            "gamma_treat": GAMMA_TREAT,
            "covariates": {
                "size_medium/size_small/size_micro": "size_class dummies, large is the base",
                "industry_risk": (
                    f"1 when the industry section is one of {list(RISKY_SECTIONS)} or the "
                    f"manufacturing division is one of {list(RISKY_MANUFACTURING_DIVISIONS)}"
                ),
                "grade_centred": (
                    "initial grade index (AAA=0 … CCC=6, the grade at onboard_date) minus 3"
                ),
            },
            "end_reason_shares": dict(END_REASON_SHARES),
            "workout_days_after_default": list(WORKOUT_DAYS),
        },
        "transactions": {
            "description": (
                "per customer and product line a BG/NBD process in weeks (Fader, Hardie & Lee "
                "2005): first transaction at max(onboard_date, as_of - 3 years) + U(0, 8) weeks, "
                "repeat transactions at Poisson rate lambda ~ Gamma(r, rate alpha) while alive, "
                "dropout with probability p ~ Beta(a, b) after each repeat transaction; amounts "
                "Gamma-Gamma: nu ~ Gamma(gg_q, rate gg_v), amount ~ Gamma(gg_p, rate nu) yuan"
            ),
            "time_unit": "week",
            "amount_unit": "yuan",
            "window_years": TRANSACTION_WINDOW_YEARS,
            "birth_offset_weeks": [0.0, BIRTH_OFFSET_WEEKS],
            "lines": {name: asdict(lp) for name, lp in LINE_PARAMETERS.items()},
            "note": (
                "observation stops at as_of or at the relationship's end_date, whichever is "
                "first; the end is independent of the BG/NBD latents, but recover the parameters "
                "on customers whose relationship is still active (end_date empty) so that the "
                "calibration period ends at as_of for everyone. usage_by_size is the chance that "
                "a customer of size large/medium/small/micro uses the line at all"
            ),
        },
        "facilities": {
            "description": (
                "1 + min(4, Poisson(extra_mean by size)) facilities; product by size class; "
                "limit lognormal(median by size x product factor, sd); floating rate = LPR of the "
                "reference tenor in effect at the last origination anniversary + spread_bp; fixed "
                "rate = LPR at origination + spread_bp (spread_bp is also given for fixed loans); "
                "guarantees and acceptances are fixed with rate 0 (their income is the upfront "
                "fee); annuity principal follows the schedule at the origination rate"
            ),
            "extra_mean_by_size": dict(zip(SIZES, FACILITY_EXTRA_MEAN, strict=True)),
            "product_shares_by_size": {
                s: dict(zip(PRODUCT_CODES, v, strict=True))
                for s, v in PRODUCT_SHARES_BY_SIZE.items()
            },
            "tenor_months": {k: list(v) for k, v in TENOR_MONTHS.items()},
            "limit_median_by_size_yuan": dict(zip(SIZES, LIMIT_MEDIAN_BY_SIZE_YUAN, strict=True)),
            "limit_product_factor": dict(LIMIT_PRODUCT_FACTOR),
            "limit_log_sd": LIMIT_LOG_SD,
            "fixed_rate_share": FIXED_RATE_SHARE,
            "spread_bp_by_grade": dict(zip(PERFORMING_GRADES, SPREAD_BP_BY_GRADE, strict=True)),
            "spread_noise_bp": SPREAD_NOISE_BP,
            "spread_product_bp": dict(SPREAD_PRODUCT_BP),
            "revolver_utilisation": list(REVOLVER_UTILISATION),
            "write_off_share": WRITE_OFF_SHARE,
            "pre_reform_reference": (
                "facilities originated before the first LPR fixing (2019-08-20) are priced off "
                "that first fixing"
            ),
            "currency": "all CNY; about 10% leave currency empty (the contract default is CNY)",
        },
        "repayments": {
            "description": (
                "monthly installments for annuity/linear, quarterly interest with principal at "
                "maturity for bullet, one payment at maturity for acceptances, none for "
                "guarantees; interest = balance x rate x months/12; rows due from max(origination,"
                " as_of - 3 years) to min(maturity, as_of); a prepayment row at the relationship "
                "end settles facilities still running when a customer leaves"
            ),
            "late_payment_prob_by_grade": dict(
                zip(PERFORMING_GRADES, LATE_PAYMENT_PROB_BY_GRADE, strict=True)
            ),
            "first_missed_days_before_default": FIRST_MISSED_DAYS_BEFORE_DEFAULT,
            "penalty_rate_per_day": PENALTY_RATE_PER_DAY,
        },
        "deposits": {
            "description": (
                "monthly average balance, log AR(1) around a customer level: log b_t = mu + "
                "phi (log b_(t-1) - mu) + sd eps; mu = log(median by size) + N(0, customer sd)"
            ),
            "unit": "yuan per month",
            "median_by_size_yuan": dict(zip(SIZES, DEPOSIT_MEDIAN_BY_SIZE_YUAN, strict=True)),
            "customer_log_sd": DEPOSIT_CUSTOMER_LOG_SD,
            "phi": DEPOSIT_AR1_PHI,
            "sd": DEPOSIT_AR1_SD,
            "rate_range": list(DEPOSIT_RATE_RANGE),
            "after_default_factor": DEPOSIT_AFTER_DEFAULT_FACTOR,
        },
        "financials": {
            "description": (
                "annual statements at 31 December; each ratio's link is linear in "
                "(3 - grade index at the statement date) and the latent quality q, plus normal "
                "noise; accounts follow from total_assets (lognormal by size for the latest year, "
                "earlier years deflated by revenue growth)"
            ),
            "ratios": {name: asdict(m) for name, m in RATIO_MODELS.items()},
            "turnover_section_factor": dict(TURNOVER_SECTION_FACTOR),
            "assets_median_by_size_yuan": dict(zip(SIZES, ASSETS_MEDIAN_BY_SIZE_YUAN, strict=True)),
            "assets_log_sd": ASSETS_LOG_SD,
            "interest_bearing_share": INTEREST_BEARING_SHARE,
            "depreciation_rate": DEPRECIATION_RATE,
            "tax_rate": TAX_RATE,
            "principal_due_share": PRINCIPAL_DUE_SHARE,
            "identities": [
                "total_liabilities = leverage * total_assets",
                "revenue = asset_turnover * total_assets",
                "ebitda = ebitda_margin * revenue",
                "interest_expense = cost_of_debt * interest_bearing_share * total_liabilities",
                "net_income = (ebitda - depreciation_rate * total_assets - interest_expense) * "
                "(1 - tax_rate when positive)",
                "debt_service = interest_expense + principal_due_share * interest_bearing_share"
                " * total_liabilities",
            ],
        },
        "ratings": {
            "description": (
                "one row per annual review (onboard anniversaries) from max(onboard_date, as_of -"
                " 5 years) until as_of, the relationship end or default, plus a D row at the "
                "default date; the grade is the true grade whatever the source"
            ),
            "source_shares": dict(RATING_SOURCE_SHARES),
        },
        "marketing": {
            "description": (
                "campaigns target a random share of customers alive (and not in default) at the "
                "launch date; treatment is randomised 50/50 within the target; treated customers "
                "cost money, controls cost 0; segment-level rows carry brand spend"
            ),
            "target_share": CAMPAIGN_TARGET_SHARE,
            "treat_share": CAMPAIGN_TREAT_SHARE,
            "gamma_treat": GAMMA_TREAT,
            "channel_cost_median_yuan": dict(CHANNEL_COST_MEDIAN_YUAN),
        },
        "market": {
            "description": (
                "lpr: the published 1Y and 5Y LPR fixings up to as_of; ftp and deposit_ftp are "
                "SYNTHETIC month-end curves built from the 1Y LPR in effect"
            ),
            "ftp_synthetic": True,
            "ftp_base_spread_bp": FTP_BASE_SPREAD_BP,
            "ftp_term_premium_bp": dict(FTP_TERM_PREMIUM_BP),
            "deposit_ftp_base_spread_bp": DEPOSIT_FTP_BASE_SPREAD_BP,
            "deposit_ftp_term_premium_bp": dict(DEPOSIT_FTP_TERM_PREMIUM_BP),
        },
    }
