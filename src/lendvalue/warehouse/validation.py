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
        codes = ", ".join(literal(c) for c in col.enum_codes if c not in recode)
        pairs: dict[str, str] = {}
        for code in col.enum or ():
            for alias in (code.code, code.zh, code.en):
                pairs.setdefault(alias.casefold(), code.code)
        for bank, ours in recode.items():
            pairs[bank.strip().casefold()] = ours
        whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in pairs.items())
        # labels are matched case-insensitively; an unknown value passes through to the enum rule
        recoded = f"CASE lower({text}) {whens} ELSE {text} END"
        # values that already are codes (the usual case) skip the recoding
        fast = codes and _is_text(source_type)
        out = f"CASE WHEN {expr} IN ({codes}) THEN {expr} ELSE {recoded} END" if fast else recoded
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
        if col.dtype == "BIGINT" and source_type.upper() in ("DOUBLE", "FLOAT", "REAL"):
            return _integral(norm)
        if source_type.upper() == target:
            return norm
        return f"TRY_CAST({norm} AS {target})"
    if col.dtype == "DOUBLE":
        value = f"TRY_CAST(replace({norm}, ',', '') AS DOUBLE)"
        return f"CASE WHEN isfinite({value}) THEN {value} END"
    if col.dtype == "BIGINT":
        return _integral(f"TRY_CAST({norm} AS DOUBLE)")
    if col.dtype == "BOOLEAN":
        t = ", ".join(literal(w) for w in TRUE_WORDS)
        f = ", ".join(literal(w) for w in FALSE_WORDS)
        return (
            f"CASE WHEN lower({norm}) IN ({t}) THEN TRUE WHEN lower({norm}) IN ({f}) THEN FALSE END"
        )
    if col.dtype in ("DATE", "MONTH"):
        value = (
            f"COALESCE(TRY_CAST({norm} AS DATE), "
            f"CAST(try_strptime({norm}, ['%Y/%m/%d', '%Y%m%d', '%Y.%m.%d']) AS DATE)"
            + (
                f", TRY_CAST({norm} || '-01' AS DATE), CAST(try_strptime({norm}, '%Y%m') AS DATE)"
                if col.dtype == "MONTH"
                else ""
            )
            + ")"
        )
        return f"CAST(date_trunc('month', {value}) AS DATE)" if col.dtype == "MONTH" else value
    if col.dtype == "TIMESTAMP":
        return (
            f"COALESCE(TRY_CAST({norm} AS TIMESTAMP), "
            f"try_strptime({norm}, ['%Y/%m/%d %H:%M:%S', '%Y%m%d %H:%M:%S', '%Y/%m/%d']))"
        )
    raise AssertionError(f"unhandled contract type {col.dtype}")


def _integral(number: str) -> str:
    """A number as BIGINT when it is whole (``12`` or ``12.0``), else NULL: DuckDB's own cast
    would round ``12.5`` to 13 and so change the data silently."""
    return f"CASE WHEN {number} = trunc({number}) THEN CAST({number} AS BIGINT) END"


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
) -> str:
    """The validation query for one source: every rule that looks at one row alone.

    The query only projects, so DuckDB keeps the file's row order and the ``rowid`` of the table
    it is materialised into is the row's position in the file (DuckDB, "Order preservation").
    Rules that look across rows or tables — ``reference`` and ``key.unique`` — run afterwards on
    that table (:func:`cross_row_rules`).

    Parameters
    ----------
    table : the contract table the source holds.
    source_sql : a FROM-able SQL expression of the source rows, aliased ``s`` by the query.
    source_types : source column -> its DuckDB type.
    columns : contract column -> source column, for the contract columns present.
    recodes : contract column -> {bank value: contract value} from the mapping file.
    load_date : the date ``not_future`` compares with.

    Returns
    -------
    SQL producing every contract column typed, ``_rules`` (the sorted ids of the rules the row
    breaks; NULL for a good row), ``_h`` (a hash of the complete key) and ``_raw`` (the row as
    read, a struct of the source columns, for rows that break a rule).
    """
    norm_cols, typed_cols = [], []
    broken: list[tuple[str, str]] = []  # (SQL that is TRUE when the rule is broken, rule id)
    for col in table.columns:
        src = columns.get(col.name)
        n = quote("n$" + col.name)
        if src is None:
            norm_expr = literal(col.default) if col.default is not None else "NULL"
            typed_expr = f"CAST({norm_expr} AS {NATIVE_TYPES[col.dtype]})"
        else:
            src_type = source_types[src]
            norm_expr = _normalized(col, quote("r$" + src), src_type, recodes.get(col.name, {}))
            typed_expr = _typed(col, n, src_type)
        norm_cols.append(f"{norm_expr} AS {n}")
        typed_cols.append(f"{typed_expr} AS {quote(col.name)}")
        for rule in column_rules(table, col):
            if rule.kind == "reference" or (rule.kind == "type" and src is None):
                continue
            broken.append((_violation(col, rule.kind, quote(col.name), n, load_date), rule.rule_id))
    for rr in table.row_rules:
        broken.append((f"NOT COALESCE(({rr.condition}), TRUE)", f"{table.name}.{rr.name}"))

    any_broken = " OR ".join(f"COALESCE({cond}, FALSE)" for cond, _ in broken)
    cases = ", ".join(f"CASE WHEN {cond} THEN {literal(rid)} END" for cond, rid in broken)
    key = ", ".join(quote(k) for k in table.key)
    # a row missing a required key part already breaks `required` or `type`: it duplicates nothing
    complete_key = " AND ".join(
        [f"{quote(k)} IS NOT NULL" for k in table.key if table.column(k).required] or ["TRUE"]
    )
    names = ", ".join(quote(c.name) for c in table.columns)
    norm_names = ", ".join(quote("n$" + c.name) for c in table.columns)
    raw_names = ", ".join(quote("r$" + c) for c in source_types)
    # the rule list and the row as read are built only for rows that break something
    return f"""
SELECT {names},
       CASE WHEN _bad THEN list_sort(list_filter([{cases}], lambda x: x IS NOT NULL)) END AS _rules,
       CASE WHEN {complete_key} THEN hash({key}) END AS _h,
       CASE WHEN _bad THEN {_row_json(source_types)} END AS _raw
FROM (
    SELECT *, {any_broken} AS _bad
    FROM (
        SELECT {raw_names}, {norm_names}, {", ".join(typed_cols)}
        FROM (
            SELECT {raw_names}, {", ".join(norm_cols)}
            FROM (SELECT {_raw_columns(source_types)} FROM {source_sql} s)
        )
    )
)
"""


def _raw_columns(source_types: AbcMapping[str, str]) -> str:
    return ", ".join(f"s.{quote(c)} AS {quote('r$' + c)}" for c in source_types)


def _row_json(source_types: AbcMapping[str, str]) -> str:
    """The row as read, as JSON with the file's own column names."""
    return (
        "to_json(struct_pack("
        + ", ".join(f"{quote(c)} := {quote('r$' + c)}" for c in source_types)
        + "))"
    )


def raw_rows_sql(source_sql: str, source_types: AbcMapping[str, str]) -> str:
    """Each source row as read, as JSON ``_raw``, in file order."""
    return (
        f"SELECT {_row_json(source_types)} AS _raw "
        f"FROM (SELECT {_raw_columns(source_types)} FROM {source_sql} s)"
    )


def cross_row_rules(table: Table, checked: str) -> str:
    """SQL listing ``(_pos, rule)`` for the rules that compare a row with others, over the
    materialised result ``checked`` of :func:`checked_query` (``_pos`` is its ``rowid``).

    ``reference``: a non-null value absent from the parent table already in the store.
    ``key.unique``: every copy of a complete key that occurs more than once; candidates come from
    grouping the 64-bit key hash, confirmed on the exact key.
    """
    parts = []
    for col in table.columns:
        if col.references:
            parent, pcol = col.references
            c = quote(col.name)
            parts.append(
                f"SELECT rowid AS _pos, {literal(f'{table.name}.{col.name}.reference')} AS rule "
                f"FROM {checked} WHERE {c} IS NOT NULL AND {c} NOT IN "
                f"(SELECT {quote(pcol)} FROM {quote(parent)} WHERE {quote(pcol)} IS NOT NULL)"
            )
    keys = ", ".join(quote(k) for k in table.key)
    parts.append(
        f"""SELECT _pos, {literal(table.name + ".key.unique")} AS rule FROM (
                SELECT rowid AS _pos, count(*) OVER (PARTITION BY {keys}) AS copies
                FROM {checked}
                WHERE _h IN (SELECT _h FROM {checked} WHERE _h IS NOT NULL
                             GROUP BY _h HAVING count(*) > 1)
            ) WHERE copies > 1"""
    )
    return "\nUNION ALL\n".join(parts)
