"""The data contract compiled to one set-based SQL query per input file.

Given a relation of source rows (any column types) the query returns, for every row, its line
number, its typed contract columns, the list of rule ids it breaks (empty when the row is good),
and the row as read. No Python touches a row: DuckDB evaluates every rule vectorised.

Semantics (the sample generator's ``--bad-share`` follows them exactly):

- text is trimmed and an empty value is NULL; ``required`` fails on NULL;
- ``type`` fails on a non-empty value that does not parse as the column's type (a NULL does not);
- enumerations are recoded from code / Chinese label / English label, in any letter case, and
  from the mapping file's codes, before the ``enum`` check;
- a rule on a column whose value is NULL does not fire (only ``required`` speaks for NULLs);
- row rules hold when their SQL condition is true or NULL;
- ``not_future`` compares with the load date; ``reference`` looks the value up in the parent table
  already in the store; ``key.unique`` marks every copy of a key repeated within the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping as AbcMapping

from lendvalue.contract import USCC_ALPHABET, USCC_WEIGHTS, Column, Table, column_rules

NATIVE_TYPES = {
    "VARCHAR": "VARCHAR",
    "DOUBLE": "DOUBLE",
    "BIGINT": "BIGINT",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "BOOLEAN": "BOOLEAN",
    "MONTH": "DATE",
}
"""Contract type -> DuckDB storage type."""

TRUE_WORDS = ("true", "t", "1", "yes", "y", "是", "真")
FALSE_WORDS = ("false", "f", "0", "no", "n", "否", "假")


def quote(name: str) -> str:
    """A SQL identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _is_text(source_type: str) -> bool:
    return source_type.upper().startswith("VARCHAR")


def _normalized(col: Column, expr: str, source_type: str, recode: AbcMapping[str, str]) -> str:
    """The raw value made comparable: trimmed text with empty as NULL (or a native value with NaN
    as NULL), recoded by the mapping file and the enumeration's labels, default filled in."""
    if _is_text(source_type):
        out = f"NULLIF(TRIM({expr}), '')"
    elif source_type.upper() in ("DOUBLE", "FLOAT", "REAL"):
        out = f"CASE WHEN isnan({expr}) THEN NULL ELSE {expr} END"
    else:
        out = expr
    if col.enum or recode:
        text = out if _is_text(source_type) else f"CAST({out} AS VARCHAR)"
        pairs: dict[str, str] = {}
        for code in col.enum or ():
            for alias in (code.code, code.zh, code.en):
                pairs.setdefault(alias.casefold(), code.code)
        for bank, ours in recode.items():
            pairs[bank.strip().casefold()] = ours
        whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in pairs.items())
        # labels are matched case-insensitively; an unknown value passes through to the enum rule
        out = f"CASE lower({text}) {whens} ELSE {text} END"
    if col.default is not None:
        out = f"COALESCE({out}, {literal(col.default)})"
    return out


def _typed(col: Column, norm: str, source_type: str) -> str:
    """The normalised value cast to the contract type; NULL where it does not parse."""
    target = NATIVE_TYPES[col.dtype]
    text_source = _is_text(source_type) or bool(col.enum)
    if col.dtype == "VARCHAR":
        return norm if text_source else f"CAST({norm} AS VARCHAR)"
    if not text_source:
        if col.dtype == "MONTH":
            return f"CAST(date_trunc('month', TRY_CAST({norm} AS DATE)) AS DATE)"
        if col.dtype == "DOUBLE":
            value = f"TRY_CAST({norm} AS DOUBLE)"
            return f"CASE WHEN isfinite({value}) THEN {value} END"
        if source_type.upper() == target:
            return norm
        return f"TRY_CAST({norm} AS {target})"
    if col.dtype == "DOUBLE":
        value = f"TRY_CAST(replace({norm}, ',', '') AS DOUBLE)"
        return f"CASE WHEN isfinite({value}) THEN {value} END"
    if col.dtype == "BIGINT":
        return f"COALESCE(TRY_CAST({norm} AS BIGINT), TRY_CAST(TRY_CAST({norm} AS DECIMAL(38, 9)) AS BIGINT))"
    if col.dtype == "BOOLEAN":
        t = ", ".join(literal(w) for w in TRUE_WORDS)
        f = ", ".join(literal(w) for w in FALSE_WORDS)
        return f"CASE WHEN lower({norm}) IN ({t}) THEN TRUE WHEN lower({norm}) IN ({f}) THEN FALSE END"
    if col.dtype in ("DATE", "MONTH"):
        value = (
            f"COALESCE(TRY_CAST({norm} AS DATE), "
            f"CAST(try_strptime({norm}, ['%Y/%m/%d', '%Y%m%d', '%Y.%m.%d']) AS DATE)"
            + (f", TRY_CAST({norm} || '-01' AS DATE), CAST(try_strptime({norm}, '%Y%m') AS DATE)"
               if col.dtype == "MONTH" else "")
            + ")"
        )
        return f"CAST(date_trunc('month', {value}) AS DATE)" if col.dtype == "MONTH" else value
    if col.dtype == "TIMESTAMP":
        return (
            f"COALESCE(TRY_CAST({norm} AS TIMESTAMP), "
            f"try_strptime({norm}, ['%Y/%m/%d %H:%M:%S', '%Y%m%d %H:%M:%S', '%Y/%m/%d']))"
        )
    raise AssertionError(f"unhandled contract type {col.dtype}")


def uscc_valid_sql(expr: str) -> str:
    """SQL boolean: ``expr`` is a valid 统一社会信用代码 (GB 32100-2015), from the same alphabet and
    weights as :func:`lendvalue.contract.uscc_check_char`."""
    alphabet = literal(USCC_ALPHABET)
    weights = "[" + ", ".join(str(w) for w in USCC_WEIGHTS) + "]"
    total = (
        f"list_sum(list_transform(range(17), lambda i: "
        f"(strpos({alphabet}, substr({expr}, i + 1, 1)) - 1) * {weights}[i + 1]))"
    )
    return (
        f"(regexp_full_match({expr}, '[0-9A-HJ-NPQRTUWXY]{{18}}') "
        f"AND substr({alphabet}, CAST((31 - {total} % 31) % 31 AS INTEGER) + 1, 1) "
        f"= substr({expr}, 18, 1))"
    )


def industry_valid_sql(expr: str) -> str:
    """SQL boolean: ``expr`` is a GB/T 4754-2017 code whose division lies in its section."""
    from lendvalue.contract import GBT4754_SECTIONS, INDUSTRY_PATTERN

    ranges = " ".join(
        f"WHEN {literal(s)} THEN TRY_CAST(substr({expr}, 2, 2) AS INTEGER) BETWEEN {lo} AND {hi}"
        for s, (lo, hi, _, _) in GBT4754_SECTIONS.items()
    )
    return (
        f"(regexp_full_match({expr}, {literal(INDUSTRY_PATTERN)}) AND "
        f"(length({expr}) = 1 OR CASE substr({expr}, 1, 1) {ranges} ELSE FALSE END))"
    )


def _violation(col: Column, kind: str, typed: str, norm: str, load_date: dt.date) -> str:
    """SQL boolean that is TRUE when the row breaks the column rule of this ``kind``."""
    if kind == "required":
        return f"{norm} IS NULL"
    if kind == "type":
        return f"{norm} IS NOT NULL AND {typed} IS NULL"
    if kind == "enum":
        codes = ", ".join(literal(c) for c in col.enum_codes)
        return f"{typed} NOT IN ({codes})"
    if kind == "range":
        parts = []
        if col.min is not None:
            parts.append(f"{typed} {'<=' if col.min_exclusive else '<'} {col.min!r}")
        if col.max is not None:
            parts.append(f"{typed} > {col.max!r}")
        return " OR ".join(parts)
    if kind == "pattern":
        return f"NOT regexp_full_match({typed}, {literal(col.pattern or '')})"
    if kind == "uscc":
        return f"NOT {uscc_valid_sql(typed)}"
    if kind == "industry":
        return f"NOT {industry_valid_sql(typed)}"
    if kind == "not_future":
        bound = "DATE" if col.dtype in ("DATE", "MONTH") else "TIMESTAMP"
        limit = load_date.isoformat() if bound == "DATE" else f"{load_date.isoformat()} 23:59:59"
        return f"{typed} > {bound} '{limit}'"
    if kind == "reference":
        return f"{typed} IS NOT NULL AND {quote('ref$' + col.name)} IS NULL"
    raise AssertionError(f"unhandled rule kind {kind}")


def checked_query(
    table: Table,
    source_sql: str,
    source_types: AbcMapping[str, str],
    columns: AbcMapping[str, str],
    recodes: AbcMapping[str, AbcMapping[str, str]],
    load_date: dt.date,
    line_sql: str,
) -> str:
    """The validation query for one source.

    Parameters
    ----------
    table : the contract table the source holds.
    source_sql : a FROM-able SQL expression of the source rows, aliased ``s`` by the query.
    source_types : source column -> its DuckDB type.
    columns : contract column -> source column, for the contract columns present.
    recodes : contract column -> {bank value: contract value} from the mapping file.
    load_date : the date ``not_future`` compares with.
    line_sql : SQL for the row's line number in its file, evaluated over ``s`` in source order.

    Returns
    -------
    SQL producing ``_line``, every contract column typed, ``_rules`` (VARCHAR[]) and ``_raw``
    (the row as read, a struct of the source columns).
    """
    raw_struct = ", ".join(f"{quote(c)} := s.{quote(c)}" for c in source_types)
    norm_cols, typed_cols, checks = [], [], []
    for col in table.columns:
        src = columns.get(col.name)
        n = quote("n$" + col.name)
        if src is None:
            norm_expr = literal(col.default) if col.default is not None else "NULL"
            typed_expr = f"CAST({norm_expr} AS {NATIVE_TYPES[col.dtype]})"
            src_type = "VARCHAR"
        else:
            src_type = source_types[src]
            norm_expr = _normalized(col, f"_raw.{quote(src)}", src_type, recodes.get(col.name, {}))
            typed_expr = _typed(col, n, src_type)
        norm_cols.append(f"{norm_expr} AS {n}")
        typed_cols.append(f"{typed_expr} AS {quote(col.name)}")
        for rule in column_rules(table, col):
            if rule.kind == "type" and src is None:
                continue
            cond = _violation(col, rule.kind, quote(col.name), n, load_date)
            checks.append(f"CASE WHEN {cond} THEN {literal(rule.rule_id)} END")
    for rr in table.row_rules:
        rid = literal(f"{table.name}.{rr.name}")
        checks.append(f"CASE WHEN NOT COALESCE(({rr.condition}), TRUE) THEN {rid} END")
    checks.append(f"CASE WHEN {quote('dup$')} THEN {literal(table.name + '.key.unique')} END")

    key = ", ".join(quote(k) for k in table.key)
    # a row missing a required key part already breaks `required` or `type`: it duplicates nothing
    complete_key = " AND ".join(
        [f"{quote(k)} IS NOT NULL" for k in table.key if table.column(k).required] or ["TRUE"]
    )
    key_match = " AND ".join(f"t.{quote(k)} IS NOT DISTINCT FROM d.{quote(k)}" for k in table.key)
    ref_joins = []
    for col in table.columns:
        if col.references:
            parent, pcol = col.references
            alias = quote("r$" + col.name)
            ref_joins.append(
                f"LEFT JOIN (SELECT DISTINCT {quote(pcol)} AS {quote('ref$' + col.name)} "
                f"FROM {quote(parent)}) {alias} "
                f"ON t.{quote(col.name)} = {alias}.{quote('ref$' + col.name)}"
            )
    names = ", ".join(f"t.{quote(c.name)}" for c in table.columns)
    norm_names = ", ".join(quote("n$" + c.name) for c in table.columns)
    return f"""
WITH src AS (
    SELECT {line_sql} AS _line, struct_pack({raw_struct}) AS _raw FROM {source_sql} s
),
n AS (SELECT _line, _raw, {", ".join(norm_cols)} FROM src),
t AS (SELECT _line, _raw, {norm_names}, {", ".join(typed_cols)} FROM n),
d AS (
    SELECT {key}, TRUE AS {quote("dup$")} FROM t WHERE {complete_key}
    GROUP BY {key} HAVING count(*) > 1
),
v AS (
    SELECT t.*, COALESCE(d.{quote("dup$")}, FALSE) AS {quote("dup$")}
    FROM t LEFT JOIN d ON {key_match}
)
SELECT t._line, {names},
       list_filter([{", ".join(checks)}], lambda x: x IS NOT NULL) AS _rules,
       t._raw
FROM v t
{" ".join(ref_joins)}
"""
