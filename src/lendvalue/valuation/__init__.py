"""Valuation: the risk-adjusted CLV of every customer from its facilities, deposits and fee
streams, with every component, RAROC, EVA and an uncertainty band (docs/valuation.md)."""

from lendvalue.valuation.assumptions import Assumptions, load_assumptions
from lendvalue.valuation.book import FacilityBook, facility_book
from lendvalue.valuation.curves import MarketCurves
from lendvalue.valuation.customer import (
    CLV_COMPONENTS,
    Scenario,
    ValuationInputs,
    customer_value,
    facility_values,
)
from lendvalue.valuation.customer_curves import (
    GradePDCurves,
    MatrixCurves,
    ProportionalHazardCurves,
    no_attrition,
)
from lendvalue.valuation.engine import COMPONENTS, FacilityValues, project_cash_flows
from lendvalue.valuation.streams import CustomerStreams, expected_fee_margins, fee_margins

__all__ = [
    "CLV_COMPONENTS",
    "COMPONENTS",
    "Assumptions",
    "CustomerStreams",
    "FacilityBook",
    "FacilityValues",
    "GradePDCurves",
    "MarketCurves",
    "MatrixCurves",
    "ProportionalHazardCurves",
    "Scenario",
    "ValuationInputs",
    "customer_value",
    "expected_fee_margins",
    "facility_book",
    "facility_values",
    "fee_margins",
    "load_assumptions",
    "no_attrition",
    "project_cash_flows",
]
