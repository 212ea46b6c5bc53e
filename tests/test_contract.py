"""The contract: USCC check digits, GB/T 4754 codes, rule ids, and the generated document."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import lendvalue
from lendvalue.contract import (
    TABLES,
    USCC_ALPHABET,
    all_rules,
    is_valid_industry,
    is_valid_uscc,
    to_markdown,
    uscc_check_char,
)

ROOT = Path(__file__).resolve().parents[1]


def test_uscc_reference_code_is_valid() -> None:
    """GB 32100-2015 example from the issue: 91110000600037341L."""
    assert is_valid_uscc("91110000600037341L")
    assert uscc_check_char("91110000600037341") == "L"


def test_uscc_rejects_wrong_length_and_forbidden_letters() -> None:
    for code in (
        "91110000600037341",
        "91110000600037341LL",
        "9111000060003734IL",
        "91110000600037341O",
    ):
        assert not is_valid_uscc(code)


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_char_validates_and_any_other_char_fails(first17: str) -> None:
    check = uscc_check_char(first17)
    assert is_valid_uscc(first17 + check)
    for other in USCC_ALPHABET:
        if other != check:
            assert not is_valid_uscc(first17 + other)


def test_industry_codes_follow_gbt4754_sections() -> None:
    assert is_valid_industry("C3611") and is_valid_industry("A") and is_valid_industry("K70")
    assert not is_valid_industry("C05")  # division 05 belongs to section A
    assert not is_valid_industry("Z12") and not is_valid_industry("C3")


def test_rule_ids_are_unique_and_every_key_column_is_declared() -> None:
    ids = [r.rule_id for r in all_rules()]
    assert len(ids) == len(set(ids))
    for table in TABLES:
        assert set(table.key) <= set(table.column_names)


def test_references_point_to_earlier_tables() -> None:
    """Tables load in contract order, so a parent must come before its children."""
    order = [t.name for t in TABLES]
    for i, table in enumerate(TABLES):
        for col in table.columns:
            if col.references:
                assert order.index(col.references[0]) < i


def test_data_contract_document_is_current() -> None:
    """docs/data-contract.md is generated: `lendvalue contract > docs/data-contract.md`."""
    assert (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8") == to_markdown()


def test_public_names_match_all() -> None:
    public = {n for n in dir(lendvalue) if not n.startswith("_")} - {
        "contract",
        "errors",
        "settings",
        "warehouse",
        "sample",
        "cli",
        "models",
        "tables",
        "valuation",
        "segmentation",
        "strategy",
        "monitoring",
        "reporting",
        "pipeline",
    }
    assert public == set(lendvalue.__all__) - {"__version__"}
