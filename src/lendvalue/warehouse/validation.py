"""The data contract compiled to one set-based SQL query per input file.

Given a relation of source rows (any column types) the query returns, for every row, its
position, its typed contract columns, the rule ids it breaks (NULL when the row is good), and
the row as read. No Python touches a row: DuckDB evaluates every rule vectorised.

Semantics (the sample generator's ``--bad-share`` follows them exactly):

- text is trimmed and an empty value is NULL; ``required`` fails on NULL;
- ``type`` fails on a non-empty value that does not parse as the column's type (a NULL does not);
- enumerations are recoded from code / Chinese label / English label, in any letter case, and
  from the mapping file's codes, before the ``enum`` check;
- a column rule on a NULL value does not fire (only ``required`` speaks for NULLs);
- row rules hold when their SQL condition is true or NULL; they see typed values, so a value
  that breaks ``type`` is NULL to them (an unparsable ``spread_bp`` is also a missing one);
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


INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
THOUSANDS = r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?"
"""A number written with thousands separators, ``1,234,567.89``; other commas are not stripped."""


def source_kind(source_type: str) -> str:
    """What a source column holds: text, int, float, decimal, date, timestamp, bool or other."""
    t = source_type.upper()
    if t.startswith("VARCHAR"):
        return "text"
    if t in INTEGER_TYPES:
        return "int"
    if t in FLOAT_TYPES:
        return "float"
    if t.startswith("DECIMAL"):
        return "decimal"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    return "bool" if t == "BOOLEAN" else "other"


def column_sql(
    col: Column, raw: str, source_type: str, recode: AbcMapping[str, str], pre: str, norm: str
) -> tuple[str, str, str]:
    """``(pre, normalised, typed)`` SQL for one contract column read from ``raw``.

    ``pre`` is the value trimmed once (text) or taken natively; the normalised value, written
    over the column ``pre``, adds recoding and defaults and is what the ``required`` and ``type``
    rules look at; the typed value, written over the column ``norm``, is what is stored. A source
    column whose type already fits (a Parquet DOUBLE for a DOUBLE, a DATE for a DATE …) is taken
    natively; anything else goes through its text, exactly as the same value in a CSV would.
    """
    kind = source_kind(source_type)
    if not (col.enum or recode):
        native = _native_typed(col, kind, norm)
        if native is not None:
            value = f"CASE WHEN isnan({raw}) THEN NULL ELSE {raw} END" if kind == "float" else raw
            return value, pre, native
    normalised = pre
    if col.enum or recode:
        normalised = _recoded(col, pre, recode)
    if col.default is not None:
        normalised = f"COALESCE({normalised}, {literal(col.default)})"
    return f"NULLIF(TRIM({_as_text(raw, kind)}), '')", normalised, _typed_from_text(col, norm)


def _as_text(raw: str, kind: str) -> str:
    """A source value as the text a CSV would hold: whole numbers without ``.0``."""
    if kind == "text":
        return raw
    if kind in ("float", "decimal"):
        number = f"CAST({raw} AS DOUBLE)"
        whole = f"isfinite({number}) AND {number} = trunc({number}) AND abs({number}) < 1e15"
        return (
            f"CASE WHEN {whole} THEN CAST(CAST({number} AS BIGINT) AS VARCHAR) "
            f"ELSE CAST({raw} AS VARCHAR) END"
        )
    return f"CAST({raw} AS VARCHAR)"


def _recoded(col: Column, text: str, recode: AbcMapping[str, str]) -> str:
    """Mapping codes and the enumeration's labels (any letter case) recoded to contract codes;
    values that already are codes skip the lookup; an unknown value passes through to the
    ``enum`` rule; a value recoded to nothing is NULL."""
    pairs: dict[str, str] = {}
    for code in col.enum or ():
        for alias in (code.code, code.zh, code.en, *code.aliases):
            pairs.setdefault(alias.casefold(), code.code)
    for bank, ours in recode.items():
        pairs[bank.strip().casefold()] = ours
    whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in pairs.items())
    out = f"NULLIF(CASE lower({text}) {whens} ELSE {text} END, '')"
    codes = ", ".join(literal(c) for c in col.enum_codes if c.casefold() not in recode)
    return f"CASE WHEN {text} IN ({codes}) THEN {text} ELSE {out} END" if codes else out


def _native_typed(col: Column, kind: str, n: str) -> str | None:
    """The typed value straight from a native source type, or None when it must go via text."""
    target = col.dtype
    if target == "DOUBLE" and kind in ("int", "float", "decimal"):
        value = f"CAST({n} AS DOUBLE)"
        return f"CASE WHEN isfinite({value}) THEN {value} END"
    if target == "BIGINT" and kind == "int":
        return f"TRY_CAST({n} AS BIGINT)"
    if target == "BIGINT" and kind in ("float", "decimal"):
        return _integral(f"CAST({n} AS DOUBLE)")
    if target == "DATE" and kind in ("date", "timestamp"):
        return f"CAST({n} AS DATE)"
    if target == "MONTH" and kind in ("date", "timestamp"):
        return f"CAST(date_trunc('month', CAST({n} AS DATE)) AS DATE)"
    if target == "TIMESTAMP" and kind in ("date", "timestamp"):
        return f"CAST({n} AS TIMESTAMP)"
    if target == "BOOLEAN" and kind == "bool":
        return n
    if target == "BOOLEAN" and kind == "int":
        return f"CASE {n} WHEN 1 THEN TRUE WHEN 0 THEN FALSE END"
    return None


def _typed_from_text(col: Column, n: str) -> str:
    """The normalised text parsed as the contract type; NULL where it does not parse."""
    if col.dtype == "VARCHAR":
        return n
    if col.dtype == "DOUBLE":
        plain = (
            f"CASE WHEN contains({n}, ',') THEN CASE WHEN regexp_full_match({n}, "
            f"{literal(THOUSANDS)}) THEN replace({n}, ',', '') END ELSE {n} END"
        )
        value = f"TRY_CAST({plain} AS DOUBLE)"
        return f"CASE WHEN isfinite({value}) THEN {value} END"
    if col.dtype == "BIGINT":
        return _integral(f"TRY_CAST({n} AS DOUBLE)")
    if col.dtype == "BOOLEAN":
        t = ", ".join(literal(w) for w in TRUE_WORDS)
        f = ", ".join(literal(w) for w in FALSE_WORDS)
        return f"CASE WHEN lower({n}) IN ({t}) THEN TRUE WHEN lower({n}) IN ({f}) THEN FALSE END"
    date_formats = "['%Y/%m/%d', '%Y%m%d', '%Y.%m.%d']"
    if col.dtype == "DATE":
        return f"COALESCE(TRY_CAST({n} AS DATE), CAST(try_strptime({n}, {date_formats}) AS DATE))"
    if col.dtype == "MONTH":
        value = (
            f"COALESCE(TRY_CAST({n} AS DATE), CAST(try_strptime({n}, {date_formats}) AS DATE), "
            f"TRY_CAST({n} || '-01' AS DATE), CAST(try_strptime({n}, ['%Y%m', '%Y/%m']) AS DATE))"
        )
        return f"CAST(date_trunc('month', {value}) AS DATE)"
    if col.dtype == "TIMESTAMP":
        formats = "['%Y/%m/%d %H:%M:%S', '%Y%m%d %H:%M:%S', '%Y/%m/%d', '%Y%m%d', '%Y.%m.%d']"
        return f"COALESCE(TRY_CAST({n} AS TIMESTAMP), try_strptime({n}, {formats}))"
    raise AssertionError(f"unhandled contract type {col.dtype}")


def _integral(number: str) -> str:
    """A number as BIGINT when it is whole (``12`` or ``12.0``), else NULL: DuckDB's own cast
    would round ``12.5`` to 13 and so change the data silently."""
    return (
        f"CASE WHEN isfinite({number}) AND {number} = trunc({number}) "
        f"THEN TRY_CAST({number} AS BIGINT) END"
    )


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
    """SQL boolean that is TRUE when the row breaks the column rule of this ``kind``
    (``reference`` looks across tables: :func:`cross_row_rules`)."""
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
        if col.dtype in ("DATE", "MONTH"):
            return f"{typed} > DATE '{load_date.isoformat()}'"
        next_day = load_date + dt.timedelta(days=1)
        return f"{typed} >= TIMESTAMP '{next_day.isoformat()}'"
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

    Rules that look across rows or tables — ``reference`` and ``key.unique`` — run afterwards on
    the materialised result (:func:`cross_row_rules`).

    Parameters
    ----------
    table : the contract table the source holds.
    source_sql : a FROM-able SQL expression of the source rows with their position ``__lv_pos``.
    source_types : source column -> its DuckDB type (without ``__lv_pos``).
    columns : contract column -> source column, for the contract columns present.
    recodes : contract column -> {bank value: contract value} from the mapping file.
    load_date : the date ``not_future`` compares with.

    Returns
    -------
    SQL producing ``_pos`` (the row's 0-based position in the file), every contract column typed,
    ``_rules`` (the sorted ids of the rules the row breaks; NULL for a good row), ``_h`` (a hash
    of the complete key) and ``_raw`` (the row as read, as JSON, for rows that break a rule).
    """
    pre_cols, norm_cols, typed_cols = [], [], []
    broken: list[tuple[str, str]] = []  # (SQL that is TRUE when the rule is broken, rule id)
    for col in table.columns:
        src = columns.get(col.name)
        p, n = quote("p$" + col.name), quote("n$" + col.name)
        if src is None:
            pre_expr = "NULL"
            norm_expr = literal(col.default) if col.default is not None else "NULL"
            typed_expr = f"CAST({norm_expr} AS {NATIVE_TYPES[col.dtype]})"
        else:
            raw = quote("r$" + src)
            recode = {k.strip().casefold(): v for k, v in recodes.get(col.name, {}).items()}
            pre_expr, norm_expr, typed_expr = column_sql(col, raw, source_types[src], recode, p, n)
        pre_cols.append(f"{pre_expr} AS {p}")
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
SELECT _pos, {names},
       CASE WHEN _bad THEN list_sort(list_filter([{cases}], lambda x: x IS NOT NULL)) END AS _rules,
       CASE WHEN {complete_key} THEN hash({key}) END AS _h,
       CASE WHEN _bad THEN {_row_json(source_types)} END AS _raw
FROM (
    SELECT *, {any_broken} AS _bad
    FROM (
        SELECT _pos, {raw_names}, {norm_names}, {", ".join(typed_cols)}
        FROM (
            SELECT _pos, {raw_names}, {", ".join(norm_cols)}
            FROM (
                SELECT _pos, {raw_names}, {", ".join(pre_cols)}
                FROM ({_raw_columns(source_sql, source_types)})
            )
        )
    )
)
"""


def _raw_columns(source_sql: str, source_types: AbcMapping[str, str]) -> str:
    cols = ", ".join(f"s.{quote(c)} AS {quote('r$' + c)}" for c in source_types)
    return f"SELECT s.__lv_pos AS _pos, {cols} FROM {source_sql} s"


def _row_json(source_types: AbcMapping[str, str]) -> str:
    """The row as read, as JSON with the file's own column names."""
    return (
        "to_json(struct_pack("
        + ", ".join(f"{quote(c)} := {quote('r$' + c)}" for c in source_types)
        + "))"
    )


def raw_rows_sql(source_sql: str, source_types: AbcMapping[str, str]) -> str:
    """Each source row as read, as JSON ``_raw``, with its position ``_pos``."""
    return (
        f"SELECT _pos, {_row_json(source_types)} AS _raw "
        f"FROM ({_raw_columns(source_sql, source_types)})"
    )


def cross_row_rules(table: Table, checked: str) -> str:
    """SQL listing ``(_pos, rule)`` for the rules that compare a row with others, over the
    materialised result ``checked`` of :func:`checked_query`.

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
                f"SELECT _pos, {literal(f'{table.name}.{col.name}.reference')} AS rule "
                f"FROM {checked} WHERE {c} IS NOT NULL AND {c} NOT IN "
                f"(SELECT {quote(pcol)} FROM {quote(parent)} WHERE {quote(pcol)} IS NOT NULL)"
            )
    keys = ", ".join(quote(k) for k in table.key)
    parts.append(
        f"""SELECT _pos, {literal(table.name + ".key.unique")} AS rule FROM (
                SELECT _pos, count(*) OVER (PARTITION BY {keys}) AS copies
                FROM {checked}
                WHERE _h IN (SELECT _h FROM {checked} WHERE _h IS NOT NULL
                             GROUP BY _h HAVING count(*) > 1)
            ) WHERE copies > 1"""
    )
    return "\nUNION ALL\n".join(parts)
