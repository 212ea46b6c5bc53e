"""EAD with credit conversion factors by product: hand-computed cases, bounds, monotonicity,
the YAML table and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lendvalue.contract import PRODUCTS
from lendvalue.errors import ConfigError, DataContractError
from lendvalue.models.credit.ead import (
    PRODUCT_CODES,
    CCFTable,
    credit_conversion_factor,
    exposure_at_default,
    load_ccf_table,
)

PROPERTY = settings(max_examples=60, deadline=None)
amount = st.floats(0.0, 1e12)
product = st.sampled_from(PRODUCT_CODES)


def _table(ccf: float) -> dict[str, object]:
    """A mapping table giving every product the same CCFs (drawn and committed undrawn) under
    both approaches."""
    column = {
        p: {"drawn_ccf": ccf, "undrawn_is_commitment": True, "undrawn_ccf": ccf, "item_zh": p,
            "source": "test"}
        for p in PRODUCT_CODES
    }  # fmt: skip
    return {"version": 1, "standardised": column, "firb": column}


def test_products_are_the_contract_codes() -> None:
    assert (
        tuple(p.code for p in PRODUCTS)
        == PRODUCT_CODES
        == (
            "term_loan",
            "working_capital",
            "revolver",
            "project_finance",
            "trade_finance",
            "guarantee",
            "acceptance",
        )
    )
    table = load_ccf_table()
    assert set(table.standardised) == set(table.firb) == set(PRODUCT_CODES)


def test_default_ccfs() -> None:
    """Defaults (defaults/ccf.yaml): money lent 100%; non-financing guarantees 50% and
    acceptances 100% of their face amount (CRE20.93-101, 《资本管理办法》2023 表外项目); the
    undrawn part of a revolver is a commitment at 40%, that of the other products is not (an
    amortising loan's limit − drawn is repaid principal); F-IRB = SA under Basel III final."""
    drawn = [1.0, 1.0, 1.0, 1.0, 1.0, 0.50, 1.00]
    undrawn = [0.0, 0.0, 0.40, 0.0, 0.0, 0.0, 0.0]
    codes = list(PRODUCT_CODES)
    for approach in ("standardised", "firb"):
        assert credit_conversion_factor(codes, approach=approach) == pytest.approx(drawn)
        got = credit_conversion_factor(codes, approach=approach, part="undrawn")
        assert got == pytest.approx(undrawn)
    assert credit_conversion_factor("acceptance") == 1.0
    with pytest.raises(DataContractError, match="part must be"):
        credit_conversion_factor("revolver", part="both")


def test_hand_computed_ead() -> None:
    """EAD = drawn CCF × drawn + committed-undrawn CCF × (limit − drawn):
    revolver 60 of 100 drawn → 60 + 0.4 × 40 = 76; a guarantee (保函) with 20 of face amount
    outstanding → 0.5 × 20 = 10; an acceptance (承兑汇票) with 100 outstanding → 100; an
    amortising term loan with 80 left of its original 100 → 80 (the 20 repaid is no
    commitment); funded trade finance 30 of a 50 line → 30."""
    ead = exposure_at_default(
        [60.0, 20.0, 100.0, 30.0, 80.0],
        [100.0, 100.0, 100.0, 50.0, 100.0],
        ["revolver", "guarantee", "acceptance", "trade_finance", "term_loan"],
    )
    assert ead == pytest.approx([76.0, 10.0, 100.0, 30.0, 80.0])
    scalar = exposure_at_default(60.0, 100.0, "revolver")
    assert isinstance(scalar, float) and scalar == pytest.approx(76.0)
    grid = exposure_at_default(np.array([[0.0], [50.0]]), 100.0, ["revolver", "acceptance"])
    assert grid.shape == (2, 2)
    assert grid == pytest.approx(np.array([[40.0, 0.0], [70.0, 50.0]]))


@PROPERTY
@given(amount, amount, product, st.sampled_from(["standardised", "firb"]))
def test_ead_at_most_the_limit(a: float, b: float, prod: str, approach: str) -> None:
    """With the default CCFs (all ≤ 1) EAD lies between 0 and the limit, and a loan's EAD is
    at least its drawn balance."""
    drawn, limit = sorted((a, b))
    ead = exposure_at_default(drawn, limit, prod, approach=approach)
    assert 0.0 <= ead <= limit * (1 + 1e-15)
    if prod not in ("guarantee", "acceptance"):
        assert ead >= drawn


@PROPERTY
@given(amount, amount, product, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_ead_monotone_in_ccf(a: float, b: float, prod: str, c1: float, c2: float) -> None:
    drawn, limit = sorted((a, b))
    lo, hi = sorted((c1, c2))
    assert exposure_at_default(drawn, limit, prod, _table(lo)) <= exposure_at_default(
        drawn, limit, prod, _table(hi)
    )


def test_drawn_above_limit() -> None:
    """The contract rule drawn_within_limit: drawn ≤ limit × (1 + 1e-9); within it the
    facility counts as fully drawn."""
    assert exposure_at_default(100.0 * (1 + 5e-10), 100.0, "revolver") == 100.0 * (1 + 5e-10)
    with pytest.raises(DataContractError, match=r"exceeds limit_yuan in 1 row\(s\) \(first at 1"):
        exposure_at_default([10.0, 101.0], [100.0, 100.0], "revolver")


def test_unknown_product_names_it_and_lists_valid_codes() -> None:
    with pytest.raises(DataContractError, match=r"'overdraft'.*term_loan, working_capital"):
        exposure_at_default([1.0, 1.0], [2.0, 2.0], ["revolver", "overdraft"])


@pytest.mark.parametrize(
    ("args", "name"),
    [((-1.0, 10.0), "drawn_yuan"), ((1.0, np.nan), "limit_yuan"), ((np.inf, 1.0), "drawn_yuan")],
)
def test_bad_amounts(args: tuple[float, float], name: str) -> None:
    with pytest.raises(DataContractError, match=rf"^{name} "):
        exposure_at_default(*args, "revolver")


def test_bad_approach() -> None:
    with pytest.raises(DataContractError, match="approach must be one of standardised, firb"):
        exposure_at_default(1.0, 2.0, "revolver", approach="airb")


def test_yaml_override(tmp_path: Path) -> None:
    """A bank's own table, e.g. unconditionally cancellable revolvers at 10% and the
    2012 初级法 75% for commitments under F-IRB."""
    raw = load_ccf_table().model_dump()
    raw["standardised"]["revolver"]["undrawn_ccf"] = 0.10
    raw["firb"]["revolver"]["undrawn_ccf"] = 0.75
    path = tmp_path / "ccf.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert exposure_at_default(0.0, 100.0, "revolver", path) == pytest.approx(10.0)
    assert exposure_at_default(0.0, 100.0, "revolver", str(path), approach="firb") == 75.0
    table = CCFTable.model_validate(raw)
    assert exposure_at_default(0.0, 100.0, "revolver", table) == pytest.approx(10.0)
    assert exposure_at_default(0.0, 100.0, "revolver") == pytest.approx(40.0)  # default intact


def test_malformed_yaml_names_the_field(tmp_path: Path) -> None:
    raw = load_ccf_table().model_dump()
    raw["standardised"]["revolver"]["drawn_ccf"] = 1.5
    path = tmp_path / "ccf.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"standardised\.revolver\.drawn_ccf") as err:
        exposure_at_default(0.0, 100.0, "revolver", path)
    assert "1.5" in str(err.value) and str(path) in str(err.value)

    del raw["standardised"]["revolver"]["drawn_ccf"]
    raw["firb"]["overdraft"] = raw["firb"]["revolver"]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_ccf_table(path)
    assert "standardised.revolver.drawn_ccf" in str(err.value)
    assert "unknown ['overdraft']" in str(err.value)

    path.write_text("version: 1\nstandardised: {revolver: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_ccf_table(path)
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="top level"):
        load_ccf_table(path)
