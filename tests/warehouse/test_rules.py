"""Every contract rule, with a row that breaks it: the row lands in quarantine with exactly that
rule (and only that rule), the good row beside it loads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from lendvalue.contract import TABLES, Rule, Table, get_table, table_rules
from lendvalue.warehouse.ingest import ingest_paths
from tests.conftest import GOOD_ROWS, write_csv

ROW_RULE_BREAKS: dict[str, dict[str, str]] = {
    "facilities.maturity_after_origination": {"maturity_date": "2019-01-01"},
    "facilities.drawn_within_limit": {"drawn_amount": "2000000"},
    "facilities.fixed_rate_given": {"rate_type": "fixed", "rate": ""},
    "facilities.floating_spread_given": {"spread_bp": ""},
    "financials.current_assets_within_total": {"current_assets": "9e8"},
    "marketing.customer_or_segment": {"segment": "中型制造业"},
    "relationships.end_after_start": {"end_date": "2010-01-01", "end_reason": "other"},
    "relationships.end_reason_iff_ended": {"end_date": "2020-01-01"},
}
"""Row rules: the change to the good row that breaks each one."""

COLUMN_OVERRIDES: dict[str, dict[str, str]] = {
    # keep the row rules that share the column satisfied
    "facilities.origination_date.not_future": {
        "origination_date": "2099-01-01",
        "maturity_date": "2100-01-01",
    },
    "facilities.limit_amount.range": {"limit_amount": "0", "drawn_amount": "0"},
    "financials.total_assets.range": {"total_assets": "0", "current_assets": "0"},
    "relationships.end_date.not_future": {"end_date": "2099-01-01", "end_reason": "other"},
    "relationships.end_reason.enum": {"end_date": "2020-01-01", "end_reason": "zzz"},
    "relationships.start_date.not_future": {"start_date": "2099-01-01"},
    "marketing.customer_id.reference": {"customer_id": "NOPE"},
    # an unparsable spread is a missing spread for the floating-rate rule: test it on a fixed loan
    "facilities.spread_bp.type": {"spread_bp": "abc", "rate_type": "fixed", "rate": "0.04"},
}


def _breaking_value(table: Table, rule: Rule) -> dict[str, str]:
    """The change to the good row that breaks a column rule and nothing else."""
    if rule.rule_id in COLUMN_OVERRIDES:
        return COLUMN_OVERRIDES[rule.rule_id]
    assert rule.column is not None
    col = table.column(rule.column)
    value = {
        "required": "",
        "type": "abc",
        "enum": "zzz",
        "pattern": "??",
        "uscc": "91110000600037341M",
        "industry": "C99",
        "reference": "NOPE",
    }.get(rule.kind)
    if rule.kind == "range":
        if col.max is not None:
            value = repr(col.max * 10 + 1)
        else:
            assert col.min is not None
            value = repr(col.min) if col.min_exclusive else repr(col.min - 1)
    if rule.kind == "not_future":
        value = {"TIMESTAMP": "2099-01-01 00:00:00", "MONTH": "2099-01"}.get(
            col.dtype, "2099-01-01"
        )
    assert value is not None, rule
    return {rule.column: value}


def _vary_key(table: str, row: dict[str, str], i: int) -> dict[str, str]:
    """A copy of the good row with a key no other case uses."""
    row = dict(row)
    day = dt.timedelta(days=i)
    if table in ("customers", "facilities", "marketing"):
        first = {
            "customers": "customer_id",
            "facilities": "facility_id",
            "marketing": "campaign_id",
        }
        row[first[table]] = f"X{i}"
    elif table == "relationships":
        row["customer_id"] = f"C{i + 1}"
    elif table == "transactions":
        row["ts"] = (dt.datetime.fromisoformat(row["ts"]) + dt.timedelta(seconds=i)).isoformat(" ")
    elif table == "deposits":
        year, month = divmod(2019 * 12 + i, 12)
        row["month"] = f"{year}-{month + 1:02d}"
    else:
        date_col = {
            "repayments": "due_date",
            "financials": "period_end",
            "ratings": "rating_date",
            "credit_events": "event_date",
            "market": "date",
        }[table]
        row[date_col] = (dt.date.fromisoformat(row[date_col]) + day).isoformat()
    return row


def _cases(table: Table) -> list[tuple[str, list[dict[str, str]]]]:
    """(rule id, rows breaking it) for every rule of the table."""
    cases = []
    for i, rule in enumerate(table_rules(table), start=1):
        base = _vary_key(table.name, GOOD_ROWS[table.name], i)
        if rule.kind == "key":
            cases.append((rule.rule_id, [base, dict(base)]))
        elif rule.kind == "row":
            cases.append((rule.rule_id, [{**base, **ROW_RULE_BREAKS[rule.rule_id]}]))
        else:
            cases.append((rule.rule_id, [{**base, **_breaking_value(table, rule)}]))
    return cases


@pytest.mark.parametrize("table_name", [t.name for t in TABLES])
def test_each_rule_quarantines_the_row_that_breaks_it(
    parents: duckdb.DuckDBPyConnection, tmp_path: Path, table_name: str
) -> None:
    table = get_table(table_name)
    cases = _cases(table)
    rows = [GOOD_ROWS[table_name]]
    expected: dict[int, str] = {}
    for rule_id, case_rows in cases:
        for row in case_rows:
            rows.append(row)
            expected[len(rows) + 1] = rule_id  # header is line 1
    path = write_csv(tmp_path / f"{table_name}_cases.csv", rows, list(table.column_names))
    [result] = ingest_paths(parents, [path])

    got = {
        line: rules
        for line, rules in parents.execute(
            "SELECT line_number, rules FROM quarantine WHERE load_id = ?", [result.load_id]
        ).fetchall()
    }
    assert {line: [rule] for line, rule in expected.items()} == got
    assert result.rows_read == len(rows)
    assert result.rows_loaded == 1 and result.rows_quarantined == len(rows) - 1


def test_every_rule_has_a_case() -> None:
    """A new rule in the contract without a breaking row here fails this test."""
    for table in TABLES:
        ids = {rule_id for rule_id, _ in _cases(table)}
        assert ids == {r.rule_id for r in table_rules(table)}
