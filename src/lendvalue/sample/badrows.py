"""Rows that break the data contract on purpose (``bad_share > 0``).

Each bad row is a copy of a good row of the same chunk with a NEW key (so it collides with no
good row) and exactly one rule broken; ``key.unique`` adds two new rows sharing one new key.
Good rows are never touched. The semantics follow the warehouse's validation
(:mod:`lendvalue.warehouse.validation`): text is trimmed and empty means NULL; only ``required``
speaks for a NULL; a value that fails ``type`` is NULL for the row rules; an unknown enumeration
value stays as it is; row rules pass when NULL; ``not_future`` compares with the load date (bad
dates are in 2099); a row missing a required key part duplicates nothing.

A bad row is placed so that it breaks only its own rule: for example a future origination date
moves the maturity date with it, an unparsable rate goes on a floating-rate facility (whose rate
may be NULL), and a relationships row needs a customer that has no relationship yet, so each one
gets a *host*: an extra, valid customers row with a new id and no other data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lendvalue.contract import USCC_ALPHABET, Column, Rule, Table, table_rules
from lendvalue.sample.dates import (
    BoolArray,
    IntArray,
    add_months,
    day_number,
    december_31,
    rank_within_runs,
    year_of,
)
from lendvalue.sample.names import StrArray, uscc_codes
from lendvalue.sample.output import ARROW_TYPES, Format, is_money, to_text

FAR_FUTURE = day_number(dt.date(2099, 1, 1))
HOST_USCC_SERIAL = 50_000_000
BAD_USCC_SERIAL = 60_000_000

UNPARSABLE = {
    "DOUBLE": ("abc", "#N/A", "1.2.3"),
    "BIGINT": ("abc", "#N/A"),
    "DATE": ("abc", "2024-13-45"),
    "MONTH": ("abc", "2024-13"),
    "TIMESTAMP": ("abc", "2024-99-99 00:00:00"),
    "BOOLEAN": ("maybe", "abc"),
}
INVALID_CODES = ("INVALID", "n.a.", "未知代码")
INVALID_INDUSTRIES = ("C99", "K12", "Z123", "c3611", "3611")
OUT_OF_RANGE = {
    ("facilities", "limit_amount"): (0.0,),
    ("facilities", "rate"): (0.4, -0.01),
    ("facilities", "spread_bp"): (2500.0, -600.0),
    ("facilities", "commitment_fee_bp"): (600.0, -5.0),
    ("repayments", "days_past_due"): (-1.0, 40_000.0),
    ("transactions", "amount"): (2e12, -2e12),
    ("deposits", "rate"): (0.25, -0.001),
    ("market", "rate"): (0.6, -0.1),
}
"""Out-of-range values for the columns that are not plain non-negative money."""

DATE_KEYS: dict[str, tuple[str, str, str]] = {
    "repayments": ("facility_id", "due_date", "day"),
    "transactions": ("customer_id", "ts", "second"),
    "deposits": ("customer_id", "month", "month"),
    "financials": ("customer_id", "period_end", "year"),
    "ratings": ("customer_id", "rating_date", "day"),
    "credit_events": ("customer_id", "event_date", "day"),
}
"""Tables keyed by a parent and a date: a bad copy moves the date before every good date of its
parent (parent, key date column, unit)."""


@dataclass
class BadCounters:
    """Running numbers for new ids, continued across chunks."""

    customers: int = 0
    hosts: int = 0
    facilities: int = 0
    campaigns: int = 0
    missing: int = 0
    tenors: int = 0


@dataclass(frozen=True)
class Injected:
    """A chunk's rows of one table with its bad rows mixed in."""

    table: pa.Table
    """Good and bad rows in file order: text for CSV, typed for Parquet."""
    positions: IntArray
    """0-based row positions of the bad rows within ``table``."""
    rules: StrArray
    """The rule id each bad row breaks, aligned with ``positions``."""
    hosts: pa.Table | None = None
    """Extra customers rows the relationships bad rows point at (relationships only)."""


def _np(data: pa.Table, name: str) -> np.ndarray:
    """A column as NumPy: dates as day numbers, timestamps as seconds, text as objects."""
    col = data.column(name).combine_chunks()
    if pa.types.is_date32(col.type):
        return pc.fill_null(col.cast(pa.int32()), 0).to_numpy().astype(np.int64)
    if pa.types.is_timestamp(col.type):
        return pc.fill_null(col.cast(pa.int64()), 0).to_numpy()
    return col.to_numpy(zero_copy_only=False)


def _null(data: pa.Table, name: str) -> BoolArray:
    out: BoolArray = data.column(name).is_null().to_numpy(zero_copy_only=False)
    return out


def _ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    digits = pc.utf8_lpad(
        pc.cast(pa.array(np.arange(start + 1, start + n + 1)), pa.string()),
        width=width,
        padding="0",
    )
    return pc.binary_join_element_wise(prefix, digits, "")


@dataclass
class Context:
    """What a rule breaker may use besides the rows it edits."""

    rng: np.random.Generator
    table: Table
    rank: IntArray
    """Rank of each row among the bad rows of its parent (date-keyed tables)."""
    counters: BadCounters


Edit = dict[str, pa.Array]
"""Column → replacement values (typed, or text where the column must hold unparsable text)."""


@dataclass(frozen=True)
class Breaker:
    """How to break one rule: which good rows may be the source, and the edit."""

    eligible: Callable[[pa.Table], BoolArray]
    typed: Callable[[pa.Table, Context], Edit]
    text: Callable[[pa.Table, Context], Edit] = lambda sub, ctx: {}


def _everyone(data: pa.Table) -> BoolArray:
    return np.ones(data.num_rows, dtype=bool)


def _cycle(values: tuple[object, ...], n: int) -> np.ndarray:
    """``values`` repeated to length ``n``."""
    return np.resize(np.array(values, dtype=object), n)


def _typed_values(col: Column, values: np.ndarray) -> pa.Array:
    dtype = ARROW_TYPES[col.dtype]
    if pa.types.is_date32(dtype):
        return pa.array(np.asarray(values, dtype=np.int32), pa.date32())
    if pa.types.is_timestamp(dtype):
        return pa.array(np.asarray(values, dtype=np.int64), dtype)
    if pa.types.is_integer(dtype):
        return pa.array(np.asarray(values, dtype=np.float64).astype(np.int64), dtype)
    return pa.array(values, dtype)


def _set(
    col: Column, fn: Callable[[pa.Table, Context], np.ndarray]
) -> Callable[[pa.Table, Context], Edit]:
    return lambda sub, ctx: {col.name: _typed_values(col, fn(sub, ctx))}


# --- eligibility predicates used by several rules ----------------------------------------------


def _fixed_with_rate_and_spread(data: pa.Table) -> BoolArray:
    out: BoolArray = (
        (_np(data, "rate_type") == "fixed") & ~_null(data, "rate") & ~_null(data, "spread_bp")
    )
    return out


def _ended(data: pa.Table) -> BoolArray:
    return ~_null(data, "end_date")


def _active(data: pa.Table) -> BoolArray:
    return _null(data, "end_date")


SPECIAL_ELIGIBILITY: dict[str, Callable[[pa.Table], BoolArray]] = {
    "facilities.rate_type.required": _fixed_with_rate_and_spread,
    "facilities.rate_type.enum": _fixed_with_rate_and_spread,
    "facilities.rate.type": lambda d: _null(d, "rate"),
    "facilities.spread_bp.type": lambda d: (
        (_np(d, "rate_type") == "fixed") & ~_null(d, "spread_bp")
    ),
    "facilities.limit_amount.range": lambda d: _np(d, "drawn_amount") == 0.0,
    "facilities.fixed_rate_given": lambda d: _np(d, "rate_type") == "fixed",
    "facilities.floating_spread_given": lambda d: _np(d, "rate_type") != "fixed",
    "relationships.end_date.type": _active,
    "relationships.start_date.not_future": _active,
    "relationships.end_date.not_future": _ended,
    "relationships.end_reason.enum": _ended,
    "relationships.end_after_start": _ended,
    "marketing.customer_id.reference": lambda d: ~_null(d, "customer_id"),
    "marketing.customer_or_segment": lambda d: ~_null(d, "customer_id"),
}


def _column_breaker(table: Table, rule: Rule) -> Breaker:
    col = table.column(rule.column or "")
    eligible = SPECIAL_ELIGIBILITY.get(rule.rule_id, _everyone)
    kind = rule.kind
    if kind == "required":
        if col.dtype == "VARCHAR":  # one in three is blank rather than empty: trimmed to NULL
            return Breaker(
                eligible, _set(col, lambda s, c: _cycle((None, None, "   "), s.num_rows))
            )
        dtype = ARROW_TYPES[col.dtype]
        return Breaker(eligible, lambda s, c: {col.name: pa.nulls(s.num_rows, dtype)})
    if kind == "type":
        bad = UNPARSABLE[col.dtype]
        return Breaker(
            eligible,
            lambda s, c: {},
            lambda s, c: {col.name: pa.array(_cycle(bad, s.num_rows), pa.string())},
        )
    if kind == "enum":
        return Breaker(eligible, _set(col, lambda s, c: _cycle(INVALID_CODES, s.num_rows)))
    if kind == "range":
        return _range_breaker(table, col, eligible)
    if kind == "pattern":

        def pattern(s: pa.Table, c: Context) -> Edit:
            start = c.counters.tenors
            c.counters.tenors += s.num_rows
            return {col.name: _ids("BAD", start, s.num_rows, 1)}

        return Breaker(eligible, pattern)
    if kind == "uscc":
        return Breaker(eligible, _set(col, _broken_uscc))
    if kind == "industry":
        return Breaker(eligible, _set(col, lambda s, c: _cycle(INVALID_INDUSTRIES, s.num_rows)))
    if kind == "not_future":
        return _future_breaker(table, col, eligible)
    if kind == "reference":
        prefix = "CMISS" if col.references == ("customers", "customer_id") else "FMISS"

        def missing(s: pa.Table, c: Context) -> pa.Array:
            start = c.counters.missing
            c.counters.missing += s.num_rows
            return _ids(prefix, start, s.num_rows, 7)

        return Breaker(eligible, lambda s, c: {col.name: missing(s, c)})
    raise AssertionError(f"no breaker for rule kind {kind!r}")


def _range_breaker(table: Table, col: Column, eligible: Callable[[pa.Table], BoolArray]) -> Breaker:
    values: tuple[float, ...]
    if (table.name, col.name) in OUT_OF_RANGE:
        values = OUT_OF_RANGE[(table.name, col.name)]
    elif is_money(table, col) and col.min == 0.0:
        values = (0.0, -250.0) if col.min_exclusive else (-0.01, -250.0)
    else:
        raise AssertionError(f"no out-of-range values for {table.name}.{col.name}")
    setter = _set(col, lambda s, c: _cycle(values, s.num_rows))
    if (table.name, col.name) == ("financials", "total_assets"):
        # a non-positive total would make current_assets exceed it: drop current_assets too
        def with_ca(s: pa.Table, c: Context) -> Edit:
            return {**setter(s, c), "current_assets": pa.nulls(s.num_rows, pa.float64())}

        return Breaker(eligible, with_ca)
    return Breaker(eligible, setter)


def _uscc_chars(data: pa.Table) -> np.ndarray:
    """The USCCs of ``data`` as an (n, 18) array of single ASCII characters."""
    codes = np.asarray(_np(data, "uscc").astype(np.str_), dtype="S18")
    return codes.view("S1").reshape(len(codes), 18)


def _broken_uscc(sub: pa.Table, ctx: Context) -> np.ndarray:
    """Three ways to fail GB 32100-2015: a wrong check character, 17 characters, an ``I``."""
    chars = _uscc_chars(sub).copy()
    n = len(chars)
    alphabet = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype="S1")
    position = np.searchsorted(np.sort(alphabet), chars[:, 17])
    ordered = np.argsort(alphabet)  # alphabet index of each sorted character
    wrong = alphabet[(ordered[position] + 1) % len(alphabet)]
    how = np.arange(n) % 3
    chars[:, 17] = np.where(how == 0, wrong, chars[:, 17])
    chars[:, 4] = np.where(how == 2, b"I", chars[:, 4])
    text = chars.view("S18").ravel().astype(np.str_)
    return np.where(how == 1, text.astype("<U17"), text).astype(object)


def _future_breaker(
    table: Table, col: Column, eligible: Callable[[pa.Table], BoolArray]
) -> Breaker:
    key_date = DATE_KEYS.get(table.name, ("", "", ""))
    if key_date[1] == col.name:
        unit = key_date[2]

        def future_key(s: pa.Table, c: Context) -> np.ndarray:
            r = c.rank
            if unit == "second":
                return FAR_FUTURE * 86_400 + r
            if unit == "month":
                return add_months(np.full(len(r), FAR_FUTURE), r)
            if unit == "year":
                return december_31(2099 + r)
            return FAR_FUTURE + r

        return Breaker(eligible, _set(col, future_key))
    if (table.name, col.name) == ("facilities", "origination_date"):

        def future_origination(s: pa.Table, c: Context) -> Edit:
            orig = _np(s, "origination_date")
            tenor = _np(s, "maturity_date") - orig
            new = FAR_FUTURE + c.rng.integers(0, 300, s.num_rows)
            return {
                "origination_date": pa.array(new.astype(np.int32), pa.date32()),
                "maturity_date": pa.array((new + tenor).astype(np.int32), pa.date32()),
            }

        return Breaker(eligible, future_origination)
    if col.dtype == "TIMESTAMP":
        return Breaker(eligible, _set(col, lambda s, c: np.full(s.num_rows, FAR_FUTURE * 86_400)))
    return Breaker(
        eligible, _set(col, lambda s, c: FAR_FUTURE + c.rng.integers(0, 365, s.num_rows))
    )


def _row_breaker(table: Table, rule: Rule) -> Breaker:
    eligible = SPECIAL_ELIGIBILITY.get(rule.rule_id, _everyone)
    name = rule.rule_id.split(".", 1)[1]
    date32 = pa.date32()

    def shift_back(column: str, base: str) -> Callable[[pa.Table, Context], Edit]:
        def edit(s: pa.Table, c: Context) -> Edit:
            new = _np(s, base) - c.rng.integers(1, 366, s.num_rows)
            return {column: pa.array(new.astype(np.int32), date32)}

        return edit

    if name == "maturity_after_origination":
        return Breaker(eligible, shift_back("maturity_date", "origination_date"))
    if name == "end_after_start":
        return Breaker(eligible, shift_back("end_date", "start_date"))
    if name == "drawn_within_limit":
        return Breaker(
            eligible,
            lambda s, c: {
                "drawn_amount": pa.array(np.round(_np(s, "limit_amount") * 1.2 + 100.0, 2))
            },
        )
    if name in ("fixed_rate_given", "floating_spread_given"):
        column = "rate" if name == "fixed_rate_given" else "spread_bp"
        return Breaker(eligible, lambda s, c: {column: pa.nulls(s.num_rows, pa.float64())})
    if name == "current_assets_within_total":
        return Breaker(
            eligible,
            lambda s, c: {
                "current_assets": pa.array(np.round(_np(s, "total_assets") * 1.2 + 1.0, 2))
            },
        )
    if name == "customer_or_segment":

        def both_or_neither(s: pa.Table, c: Context) -> Edit:
            both = np.arange(s.num_rows) % 2 == 0
            return {
                "segment": pa.array(np.full(s.num_rows, "中型制造业"), pa.string(), mask=~both),
                "customer_id": pc.if_else(
                    pa.array(both), s.column("customer_id"), pa.scalar(None, pa.string())
                ),
            }

        return Breaker(eligible, both_or_neither)
    if name == "end_reason_iff_ended":
        return Breaker(
            eligible,
            lambda s, c: {
                "end_reason": pa.array(np.full(s.num_rows, "other"), pa.string(), mask=_ended(s))
            },
        )
    raise AssertionError(f"no breaker for row rule {rule.rule_id}")


def breakers(table: Table, fmt: Format) -> dict[str, Breaker]:
    """A breaker for every rule of ``table`` (``type`` only for CSV: Parquet columns are typed)."""
    out: dict[str, Breaker] = {}
    for rule in table_rules(table):
        if rule.kind == "type" and fmt == "parquet":
            continue
        if rule.kind == "key":
            out[rule.rule_id] = Breaker(_everyone, lambda s, c: {})
        elif rule.kind == "row":
            out[rule.rule_id] = _row_breaker(table, rule)
        else:
            out[rule.rule_id] = _column_breaker(table, rule)
    return out


# ---------------------------------------------------------------------------------------------
# Planning and new keys
# ---------------------------------------------------------------------------------------------


@dataclass
class BadRowMaker:
    """Adds about ``share`` × rows bad rows to each table, covering every rule at least once
    over the whole file (in the first chunk that has a suitable source row)."""

    fmt: Format
    share: float
    counters: BadCounters = field(default_factory=BadCounters)
    covered: dict[str, set[str]] = field(default_factory=dict)
    _breakers: dict[str, dict[str, Breaker]] = field(default_factory=dict)

    def rule_ids(self, table: Table) -> list[str]:
        return list(self._table_breakers(table))

    def _table_breakers(self, table: Table) -> dict[str, Breaker]:
        if table.name not in self._breakers:
            self._breakers[table.name] = breakers(table, self.fmt)
        return self._breakers[table.name]

    def inject(
        self,
        table: Table,
        good: pa.Table,
        rng: np.random.Generator,
        customers: pa.Table | None = None,
    ) -> Injected:
        """Mix bad rows into ``good`` (typed rows of one chunk). For relationships pass the
        chunk's ``customers`` rows: the hosts are copied from them."""
        rule_ids, sources = self._plan(table, good, rng)
        sub = good.take(pa.array(sources))
        rank = self._parent_rank(table, good, sources)
        sub, hosts = self._renew_keys(table, sub, rule_ids, good, sources, rank, customers)
        pieces: list[pa.Table] = []
        piece_rules: list[StrArray] = []
        for rid in dict.fromkeys(rule_ids.tolist()):
            rows = np.flatnonzero(rule_ids == rid)
            piece = sub.take(pa.array(rows))
            ctx = Context(rng, table, rank[rows], self.counters)
            brk = self._table_breakers(table)[rid]
            for name, values in brk.typed(piece, ctx).items():
                piece = _replace(piece, name, values)
            if self.fmt == "csv":
                piece = to_text(table, piece)
                for name, values in brk.text(piece, ctx).items():
                    piece = _replace(piece, name, values)
            if rid.endswith(".key.unique"):
                piece = pa.concat_tables([piece, piece])
            pieces.append(piece)
            piece_rules.append(np.full(piece.num_rows, rid))
        out_good = to_text(table, good) if self.fmt == "csv" else good
        if not pieces:
            return Injected(
                out_good, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.str_), hosts
            )
        bad = pa.concat_tables(pieces)
        rules = np.concatenate(piece_rules)
        total = out_good.num_rows + bad.num_rows
        positions = np.sort(rng.choice(total, size=bad.num_rows, replace=False))
        which = rng.permutation(bad.num_rows)
        order = np.empty(total, dtype=np.int64)
        is_bad = np.zeros(total, dtype=bool)
        is_bad[positions] = True
        order[~is_bad] = np.arange(out_good.num_rows)
        order[positions] = out_good.num_rows + which
        mixed = pa.concat_tables([out_good, bad.cast(out_good.schema)]).take(pa.array(order))
        return Injected(mixed, positions, rules[which], hosts)

    def _plan(
        self, table: Table, good: pa.Table, rng: np.random.Generator
    ) -> tuple[StrArray, IntArray]:
        """Rule and source row of each bad slot: every rule not yet covered first, then random
        rules until about ``share`` × rows bad rows."""
        brks = self._table_breakers(table)
        covered = self.covered.setdefault(table.name, set())
        pools = {rid: np.flatnonzero(b.eligible(good)) for rid, b in brks.items()}
        usable = np.array([rid for rid, pool in pools.items() if pool.size], dtype=np.str_)
        first = usable[~np.isin(usable, list(covered))] if usable.size else usable
        covered.update(first.tolist())
        budget = round(self.share * good.num_rows)
        used = first.size + int(np.char.endswith(first, ".key.unique").sum())
        extra = (
            usable[rng.choice(usable.size, size=max(budget - used, 0))] if usable.size else usable
        )
        rule_ids = np.concatenate([first, extra]).astype(np.str_)
        sources = np.zeros(rule_ids.size, dtype=np.int64)
        for rid in dict.fromkeys(rule_ids.tolist()):
            rows = np.flatnonzero(rule_ids == rid)
            sources[rows] = rng.choice(pools[rid], size=rows.size)
        return rule_ids, sources

    def _parent_rank(self, table: Table, good: pa.Table, sources: IntArray) -> IntArray:
        """Rank of each slot among the slots of the same parent (0 for tables without one)."""
        if table.name not in DATE_KEYS or sources.size == 0:
            return np.zeros(len(sources), dtype=np.int64)
        parent = DATE_KEYS[table.name][0]
        codes = _parent_codes(good, parent)[sources]
        order = np.argsort(codes, kind="stable")
        rank = np.empty(len(sources), dtype=np.int64)
        rank[order] = rank_within_runs(codes[order])
        return rank

    def _renew_keys(
        self,
        table: Table,
        sub: pa.Table,
        rule_ids: StrArray,
        good: pa.Table,
        sources: IntArray,
        rank: IntArray,
        customers: pa.Table | None,
    ) -> tuple[pa.Table, pa.Table | None]:
        """Give every slot a key no good row has (a ``key.unique`` pair shares its slot's)."""
        n = sub.num_rows
        c = self.counters
        hosts = None
        if table.name == "customers":
            sub = _replace(sub, "customer_id", _ids("CB", c.customers, n, 7))
            sub = _replace(sub, "uscc", _fresh_uscc(sub, BAD_USCC_SERIAL + c.customers))
            c.customers += n
        elif table.name == "facilities":
            sub = _replace(sub, "facility_id", _ids("FB", c.facilities, n, 8))
            c.facilities += n
        elif table.name == "marketing":
            sub = _replace(sub, "campaign_id", _ids("MKTBAD", c.campaigns, n, 6))
            c.campaigns += n
        elif table.name == "market":
            serial = np.arange(c.tenors, c.tenors + n)
            c.tenors += n
            if serial.size and serial.max() >= 1998:
                raise AssertionError("too many bad market rows for distinct new tenors")
            number = pc.cast(pa.array(serial % 999 + 1), pa.string())
            unit = pa.array(np.where(serial < 999, "D", "W"), pa.string())
            sub = _replace(sub, "tenor", pc.binary_join_element_wise(number, unit, ""))
        elif table.name == "relationships":
            sub, hosts = self._hosts(sub, rule_ids, customers)
        elif table.name in DATE_KEYS:
            sub = _move_key_date(table, sub, good, sources, rank)
        return sub, hosts

    def _hosts(
        self, sub: pa.Table, rule_ids: StrArray, customers: pa.Table | None
    ) -> tuple[pa.Table, pa.Table | None]:
        """Point relationships bad rows at new customers with no relationship of their own."""
        own_key = ["relationships.customer_id.required", "relationships.customer_id.reference"]
        need = ~np.isin(rule_ids, own_key)
        rows = np.flatnonzero(need)
        if rows.size == 0 or customers is None:
            return sub, None
        c = self.counters
        host_ids = _ids("CH", c.hosts, rows.size, 7)
        where = pc.index_in(
            sub.column("customer_id").take(pa.array(rows)), customers.column("customer_id")
        )
        hosts = customers.take(where)
        hosts = _replace(hosts, "customer_id", host_ids)
        hosts = _replace(hosts, "uscc", _fresh_uscc(hosts, HOST_USCC_SERIAL + c.hosts))
        c.hosts += rows.size
        ids = sub.column("customer_id").combine_chunks().to_numpy(zero_copy_only=False).copy()
        ids[rows] = host_ids.to_numpy(zero_copy_only=False)
        return _replace(sub, "customer_id", pa.array(ids, pa.string())), hosts


def _replace(data: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return data.set_column(data.schema.get_field_index(name), name, values)


def _fresh_uscc(data: pa.Table, first_serial: int) -> pa.Array:
    """Valid, unused USCCs keeping each row's admin-division code."""
    admin = _uscc_chars(data)[:, 2:8].copy().view("S6").ravel().astype(np.str_)
    serial = np.arange(first_serial, first_serial + data.num_rows, dtype=np.int64)
    return pa.array(uscc_codes(serial, admin), pa.string())


def _parent_codes(good: pa.Table, parent: str) -> IntArray:
    encoded = pc.dictionary_encode(good.column(parent).combine_chunks())
    out: IntArray = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return out


def _move_key_date(
    table: Table, sub: pa.Table, good: pa.Table, sources: IntArray, rank: IntArray
) -> pa.Table:
    """Move each copy's key date before every good date of its parent, one unit per earlier
    copy of the same parent, so no two keys meet."""
    parent, key, unit = DATE_KEYS[table.name]
    codes = _parent_codes(good, parent)
    dates = _np(good, key)
    first = np.full(codes.max() + 1 if codes.size else 0, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, dates)
    base = first[codes[sources]]
    step = rank + 1
    if unit == "second":
        new = base - step
        values = pa.array(new, pa.timestamp("s"))
    elif unit == "month":
        values = pa.array(add_months(base, -step).astype(np.int32), pa.date32())
    elif unit == "year":
        values = pa.array(december_31(year_of(base) - step).astype(np.int32), pa.date32())
    else:
        new = base - step
        values = pa.array(new.astype(np.int32), pa.date32())
    out = _replace(sub, key, values)
    if table.name == "repayments":
        shift = _np(out, "due_date") - _np(sub, "due_date")
        paid = _np(sub, "paid_date") + shift
        out = _replace(
            out,
            "paid_date",
            pa.array(paid.astype(np.int32), pa.date32(), mask=_null(sub, "paid_date")),
        )
    return out
