"""The 客户终身价值管理表 as an Excel workbook, and the same table at full precision as CSV and
Parquet.

:func:`write_clv_workbook` writes six sheets — 汇总, 客户价值表, 分层与策略, 预警, 模型,
指标说明 (Summary, Customer table, Segments & policy, Alerts, Models, Definitions) — each under
the same header block (编制单位, 数据日期, 金额单位：万元). Money is written already converted to
万元 and rounded to two decimals (the cell holds what it shows), rates and probabilities as
percentages. :func:`write_exports` writes the CLV table and the alerts in yuan, unrounded.

The portfolio figures shared with the HTML report (:func:`portfolio_figures`,
:func:`top_share`, :func:`tier_matrix`, :func:`segment_actions`) live here too, so both reports
show the same numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from lendvalue.errors import DataContractError
from lendvalue.reporting import labels as lb
from lendvalue.reporting.data import ALERT_COLUMNS, CLV_TABLE_COLUMNS, ReportData
from lendvalue.segmentation import RISK_TIERS, SEGMENTS, VALUE_TIERS

__all__ = [
    "HEADER_ROW",
    "MONEY_FORMAT",
    "PortfolioFigures",
    "bank_name_of",
    "check_report_data",
    "customer_columns",
    "portfolio_figures",
    "segment_actions",
    "tier_matrix",
    "top_share",
    "write_clv_workbook",
    "write_exports",
]

YUAN_PER_WAN = 1e4
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"
COUNT_FORMAT = "#,##0"
HEADER_ROW = 5
"""0-based row of every sheet's first table header: rows 0–3 are the title and the header block
(编制单位, 数据日期, 金额单位), row 4 is blank."""
EXCEL_MAX_ROWS = 1_048_576
_OTHER_LANGUAGE = {
    "zh": ("segment_en", "action_en"),
    "en": ("value_tier_zh", "risk_tier_zh", "segment_zh", "action_zh", "limit_binding_zh"),
}
_TIER_FILL = {"high": "#FFF2CC", "mid": "#DDEBF7"}
"""Row fills of the customer sheet by value tier: 战略 gold, 核心 blue, 普通 none."""
_NUMBER_FORMATS: dict[lb.Kind, str] = {
    "money": MONEY_FORMAT,
    "money_years": MONEY_FORMAT,
    "rate": "0.00%",
    "probability": "0.00%",
    "bp": "#,##0",
    "months": "0",
    "count": "#,##0",
}
_PD_FORMAT = "0.000%"
"""PDs go down to the floor (0.03%): one more decimal than the other percentages."""
_WIDTHS: dict[str, float] = {"customer_name": 30, "action_zh": 36, "action_en": 40,
                             "segment_zh": 16, "segment_en": 24, "risk_reason": 16,
                             "limit_binding_zh": 22, "alert_flags": 22, "segment": 22}  # fmt: skip
_MAX_CELL_CHARS = 32_000


# ------------------------------------------------------------------------------- shared figures


def check_report_data(data: ReportData) -> None:
    """Refuse a :class:`ReportData` whose CLV table misses a column the reports show, naming
    them (:class:`~lendvalue.errors.DataContractError`)."""
    missing = [c for c in CLV_TABLE_COLUMNS if c != "snapshot_date" and c not in data.clv.columns]
    if missing:
        raise DataContractError(
            f"the CLV table misses the columns {', '.join(missing)}; a report needs every "
            "column of lendvalue.reporting.data.CLV_TABLE_COLUMNS (load it with "
            "load_report_data)"
        )
    if len(data.alerts.columns) and "alert" in data.alerts.columns:
        gone = [c for c in ALERT_COLUMNS if c != "snapshot_date" and c not in data.alerts]
        if gone:
            raise DataContractError(f"the alerts table misses the columns {', '.join(gone)}")
    elif len(data.alerts):
        raise DataContractError("the alerts table has rows but no 'alert' column")


def alerts_frame(data: ReportData) -> pd.DataFrame:
    """The alerts with every :data:`ALERT_COLUMNS` column, also when there are none."""
    if "alert" not in data.alerts.columns:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ALERT_COLUMNS})
    return data.alerts


def bank_name_of(data: ReportData, bank_name: str | None = None) -> str:
    """``bank_name`` if given, else the snapshot's ``bank_name``, else ``""``."""
    if bank_name:
        return bank_name
    value = data.snapshot.get("bank_name")
    return value if isinstance(value, str) else ""


def customer_columns(lang: str = "zh") -> tuple[str, ...]:
    """The ``clv_table`` columns of the customer sheet, in order: all but ``snapshot_date`` and
    the other language's ``*_zh`` / ``*_en`` twins."""
    drop = {"snapshot_date", *_OTHER_LANGUAGE[lb.check_lang(lang)]}
    return tuple(c for c in CLV_TABLE_COLUMNS if c not in drop)


def top_share(clv: Any, share: float) -> float:
    """The share of the total CLV held by the top ``share`` of customers by CLV (the first
    ``ceil(share × n)``, at least one); NaN when the total is not positive."""
    values = np.asarray(clv, dtype=np.float64)
    values = np.sort(values[~np.isnan(values)])[::-1]
    total = float(values.sum())
    if values.size == 0 or total <= 0:
        return math.nan
    k = max(1, math.ceil(share * values.size - 1e-9))
    return float(values[:k].sum()) / total


def has_alerts(clv: pd.DataFrame) -> pd.Series:
    """Per row: does ``alert_flags`` name an alert (blank, missing or non-text: no)."""
    return clv["alert_flags"].map(lambda v: isinstance(v, str) and bool(v.strip())).astype(bool)


def capital_weighted_raroc(frame: pd.DataFrame) -> float:
    """Σ RAROC × capital / Σ capital over the customers holding capital (the book's RAROC)."""
    raroc = pd.to_numeric(frame["raroc"], errors="coerce").to_numpy(np.float64)
    capital = pd.to_numeric(frame["capital_pv"], errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(raroc) & np.isfinite(capital) & (capital > 0)
    if not ok.any():
        return math.nan
    return float((raroc[ok] * capital[ok]).sum() / capital[ok].sum())


@dataclass(frozen=True)
class PortfolioFigures:
    """The summary's key figures (money in yuan)."""

    customers: int
    total_clv: float
    total_realised: float
    raroc_weighted: float
    customers_with_alerts: int
    alerts: int
    top10_share: float
    top20_share: float


def portfolio_figures(data: ReportData) -> PortfolioFigures:
    clv = data.clv
    flags = has_alerts(clv)
    counted = pd.to_numeric(clv["n_alerts"], errors="coerce").fillna(0) > 0
    return PortfolioFigures(
        customers=len(clv),
        total_clv=float(clv["clv"].sum()),
        total_realised=float(clv["realised_12m"].sum()),
        raroc_weighted=capital_weighted_raroc(clv),
        customers_with_alerts=int((flags | counted).sum()),
        alerts=len(alerts_frame(data)),
        top10_share=top_share(clv["clv"], 0.10),
        top20_share=top_share(clv["clv"], 0.20),
    )


def tier_matrix(clv: pd.DataFrame, values: str | None = None) -> pd.DataFrame:
    """The 3 × 3 value–risk matrix: rows value tiers (``high, mid, low``), columns risk tiers
    (``low, medium, high``); customer counts, or the sum of column ``values``."""
    rows = [t.code for t in VALUE_TIERS]
    cols = [t.code for t in RISK_TIERS]
    if values is None:
        grid = clv.groupby(["value_tier", "risk_tier"]).size()
    else:
        grid = clv.groupby(["value_tier", "risk_tier"])[values].sum()
    out = grid.unstack().reindex(index=rows, columns=cols).fillna(0)
    return out.astype(np.int64) if values is None else out.astype(np.float64)


def segment_actions(data: ReportData, lang: str = "zh") -> dict[str, str]:
    """The policy action of each of the nine cells, from the table; a cell without customers
    takes the packaged default policy's when the snapshot was produced with it, else ``—``."""
    column = f"action_{lb.check_lang(lang)}"
    known = (
        data.clv.dropna(subset=[column]).groupby("segment")[column].first().to_dict()
        if len(data.clv)
        else {}
    )
    out = {s.code: str(known[s.code]) for s in SEGMENTS if s.code in known}
    if len(out) < len(SEGMENTS):
        from lendvalue.strategy.policy import load_policy

        policy = load_policy()
        same = data.snapshot.get("policy_name") == policy.name
        for s in SEGMENTS:
            if s.code not in out:
                cell = policy.cell(s.code)
                out[s.code] = (cell.action_zh if lang == "zh" else cell.action_en) if same else "—"
    return out


# ------------------------------------------------------------------------------- the workbook


class _Formats:
    """The workbook's cell formats, made once each (xlsxwriter keeps every format object)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self._book = book
        self._cache: dict[tuple[Any, ...], Format] = {}
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.meta = book.add_format({"font_color": "#404040"})
        self.section = book.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E78"})
        self.header = book.add_format({
            "bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "text_wrap": True,
            "valign": "vcenter", "align": "center", "border": 1,
        })  # fmt: skip
        self.note = book.add_format({"italic": True, "font_color": "#595959"})
        self.alert = book.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006",
                                      "bold": True})  # fmt: skip

    def cell(self, num_format: str | None = None, *, bold: bool = False, wrap: bool = False,
             fill: str | None = None) -> Format:  # fmt: skip
        key = (num_format, bold, wrap, fill)
        if key not in self._cache:
            spec: dict[str, Any] = {"valign": "top"}
            if num_format:
                spec["num_format"] = num_format
            if bold:
                spec["bold"] = True
            if wrap:
                spec["text_wrap"] = True
            if fill:
                spec["bg_color"] = fill
            self._cache[key] = self._book.add_format(spec)
        return self._cache[key]

    def fill(self, color: str) -> Format:
        return self.cell(fill=color)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and not math.isfinite(float(value))


def _put(ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
    """One cell: a number as a number, a missing or non-finite value blank, else text."""
    if _is_missing(value):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool | np.bool_):
        ws.write_boolean(row, col, bool(value), fmt)
    elif isinstance(value, int | float | np.integer | np.floating):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value)[:_MAX_CELL_CHARS], fmt)


def _wan(value: Any) -> float:
    """Yuan → 万元, rounded to two decimals (NaN stays NaN)."""
    number = float(value)
    return round(number / YUAN_PER_WAN, 2) if math.isfinite(number) else math.nan


def _header_block(ws: Worksheet, f: _Formats, sheet: str, lang: str, bank: str,
                  date: str) -> None:  # fmt: skip
    title = lb.text("report_title", lang)
    name = lb.label(sheet, lang)
    ws.write_string(0, 0, f"{title}——{name}" if lang == "zh" else f"{title}: {name}", f.title)
    ws.write_string(1, 0, lb.text("prepared_by", lang) + bank, f.meta)
    ws.write_string(2, 0, lb.text("data_date", lang) + date, f.meta)
    ws.write_string(3, 0, lb.text("unit_line", lang), f.meta)


def _table(
    ws: Worksheet,
    f: _Formats,
    row: int,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    num_formats: Sequence[str | None] = (),
    *,
    wrap: Sequence[int] = (),
    total_last: bool = False,
) -> int:
    """A header row and its rows from ``row`` (column ``i`` in ``num_formats[i]``, wrapped if
    ``i`` is in ``wrap``; the last row bold with ``total_last``); returns the next free row."""
    for col, head in enumerate(headers):
        ws.write_string(row, col, head, f.header)
    body = list(rows)
    for i, values in enumerate(body, start=1):
        bold = total_last and i == len(body)
        for col, value in enumerate(values):
            num = num_formats[col] if col < len(num_formats) else None
            _put(ws, row + i, col, value, f.cell(num, bold=bold, wrap=col in wrap))
    return row + len(body) + 1


def write_clv_workbook(
    data: ReportData, path: str | Path, lang: str = "zh", bank_name: str | None = None
) -> Path:
    """Write the 客户终身价值管理表 of ``data`` to ``path`` (.xlsx) in ``lang`` (``zh``/``en``).

    ``bank_name`` (编制单位) defaults to ``data.snapshot["bank_name"]``. Returns the path.
    """
    lang = lb.check_lang(lang)
    check_report_data(data)
    if len(data.clv) + HEADER_ROW + 1 > EXCEL_MAX_ROWS:
        raise DataContractError(
            f"{len(data.clv):,} customers do not fit on one Excel sheet "
            f"({EXCEL_MAX_ROWS:,} rows): use write_exports for the CSV/Parquet table"
        )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    bank = bank_name_of(data, bank_name)
    date = data.snapshot_date.isoformat()
    book = xlsxwriter.Workbook(str(out))
    try:
        f = _Formats(book)
        sheets = {key: book.add_worksheet(lb.label(key, lang)) for key in lb.SHEETS}
        for key, ws in sheets.items():
            _header_block(ws, f, key, lang, bank, date)
        _summary_sheet(sheets["summary"], f, data, lang)
        _customer_sheet(sheets["customers"], f, data, lang)
        _segment_sheet(sheets["segments"], f, data, lang)
        _alert_sheet(sheets["alerts"], f, data, lang)
        _model_sheet(sheets["models"], f, data, lang)
        _definition_sheet(sheets["definitions"], f, lang)
    finally:
        book.close()
    return out


def _wan_suffix(lang: str) -> str:
    return "（万元）" if lang == "zh" else " (10,000 yuan)"


def _summary_sheet(ws: Worksheet, f: _Formats, data: ReportData, lang: str) -> None:
    t = partial(lb.text, lang=lang)
    fig = portfolio_figures(data)
    created = data.snapshot.get("created_at")
    kpis: list[tuple[str, Any, str | None]] = [
        (t("customers"), fig.customers, COUNT_FORMAT),
        (t("total_clv") + _wan_suffix(lang), _wan(fig.total_clv), MONEY_FORMAT),
        (t("total_realised") + _wan_suffix(lang), _wan(fig.total_realised), MONEY_FORMAT),
        (t("raroc_weighted"), fig.raroc_weighted, PERCENT_FORMAT),
        (t("customers_with_alerts"), fig.customers_with_alerts, COUNT_FORMAT),
        (t("alert_count"), fig.alerts, COUNT_FORMAT),
        (t("top10_share"), fig.top10_share, PERCENT_FORMAT),
        (t("top20_share"), fig.top20_share, PERCENT_FORMAT),
        (t("assumptions_name"), _text_or_blank(data.snapshot.get("assumptions_name")), None),
        (t("policy_name"), _text_or_blank(data.snapshot.get("policy_name")), None),
        (t("created_at"), None if _is_missing(created) or created is None
         else str(pd.Timestamp(created).floor("s")), None),
    ]  # fmt: skip
    row = HEADER_ROW
    ws.write_string(row, 0, t("kpis"), f.section)
    row += 1
    ws.write_string(row, 0, t("figure"), f.header)
    ws.write_string(row, 1, t("value"), f.header)
    for name, value, num in kpis:
        row += 1
        ws.write_string(row, 0, name, f.cell())
        _put(ws, row, 1, value, f.cell(num))
    ws.write_string(row + 1, 0, t("share_note"), f.note)
    row += 3
    clv = data.clv
    total_n, total_v = len(clv), float(clv["clv"].sum())
    for key, column, tiers in (("by_value_tier", "value_tier", VALUE_TIERS),
                               ("by_risk_tier", "risk_tier", RISK_TIERS)):  # fmt: skip
        ws.write_string(row, 0, t(key), f.section)
        heads = [t("axis_" + column), t("customers"), t("customer_share"), t("clv_sum"),
                 t("clv_share")]  # fmt: skip
        body: list[tuple[Any, ...]] = []
        for tier in tiers:
            part = clv[clv[column] == tier.code]
            value = float(part["clv"].sum())
            name = tier.zh if lang == "zh" else tier.en
            share = _ratio(len(part), total_n)
            body.append((name, len(part), share, _wan(value), _ratio(value, total_v)))
        body.append((t("total"), total_n, _ratio(total_n, total_n), _wan(total_v),
                     _ratio(total_v, total_v)))  # fmt: skip
        formats = [None, COUNT_FORMAT, PERCENT_FORMAT, MONEY_FORMAT, PERCENT_FORMAT]
        row = _table(ws, f, row + 1, heads, body, formats, total_last=True) + 1
    ws.set_column(0, 0, 40)
    ws.set_column(1, 4, 20)


def _whole(value: Any) -> int:
    return round(float(value))


def _text_or_blank(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def _display(column: str, series: pd.Series, lang: str) -> list[Any]:
    """A column's cell values as the customer sheet shows them."""
    kind = lb.kind(column)
    if column == "alert_flags":
        return [lb.alert_labels(v, lang) for v in series]
    if kind == "code":
        return [lb.value_label(column, v, lang) for v in series]
    if kind in ("money", "money_years"):
        return [_wan(v) for v in pd.to_numeric(series, errors="coerce").to_numpy(np.float64)]
    if kind in _NUMBER_FORMATS:
        return list(pd.to_numeric(series, errors="coerce").to_numpy(np.float64))
    return [None if _is_missing(v) else str(v) for v in series]


def _customer_sheet(ws: Worksheet, f: _Formats, data: ReportData, lang: str) -> None:
    columns = customer_columns(lang)
    clv = data.clv.sort_values(["clv", "customer_id"], ascending=[False, True],
                               kind="stable", na_position="last")  # fmt: skip
    first = HEADER_ROW + 1
    last = HEADER_ROW + len(clv)
    for col, name in enumerate(columns):
        ws.write_string(HEADER_ROW, col, lb.label(name, lang), f.header)
        kind = lb.kind(name)
        num = _PD_FORMAT if name == "pd_1y" else _NUMBER_FORMATS.get(kind)
        plain = f.cell(num)
        values = _display(name, clv[name], lang)
        if num is not None:  # the bulk of the sheet: numbers or blanks, no type dispatch
            for i, number in enumerate(values):
                if math.isfinite(number):
                    ws.write_number(first + i, col, number, plain)
                else:
                    ws.write_blank(first + i, col, None, plain)
        else:
            for i, value in enumerate(values):
                fmt = f.alert if name == "alert_flags" and value else plain
                _put(ws, first + i, col, value, fmt)
        width = _WIDTHS.get(name, 14 if kind in ("money", "money_years") else 12)
        ws.set_column(col, col, width)
    ws.set_row(HEADER_ROW, 32)
    ws.freeze_panes(HEADER_ROW + 1, 2)
    if len(clv):
        ws.autofilter(HEADER_ROW, 0, last, len(columns) - 1)
        tier_col = columns.index("value_tier")
        fill_to = columns.index("alert_flags") - 1  # alert cells keep their own highlight
        anchor = xl_rowcol_to_cell(first, tier_col, col_abs=True)
        for code, color in _TIER_FILL.items():
            ws.conditional_format(first, 0, last, fill_to, {
                "type": "formula", "criteria": f'={anchor}="{code}"', "format": f.fill(color),
            })  # fmt: skip
    ws.write_string(4, 0, lb.text("note_sort", lang) + " " + lb.text("note_units", lang), f.note)


def _segment_sheet(ws: Worksheet, f: _Formats, data: ReportData, lang: str) -> None:
    t = partial(lb.text, lang=lang)
    clv = data.clv
    tiers = [v.zh if lang == "zh" else v.en for v in VALUE_TIERS]
    risks = [r.zh if lang == "zh" else r.en for r in RISK_TIERS]
    actions = segment_actions(data, lang)
    row = HEADER_ROW
    for key, grid, num in (("matrix_count", tier_matrix(clv), COUNT_FORMAT),
                           ("matrix_value", tier_matrix(clv, "clv"), MONEY_FORMAT)):  # fmt: skip
        show = _whole if num == COUNT_FORMAT else _wan
        ws.write_string(row, 0, t(key), f.section)
        body: list[list[Any]] = [
            [name, *[show(v) for v in line], show(line.sum())]
            for name, (_, line) in zip(tiers, grid.iterrows(), strict=True)
        ]
        body.append([t("total"), *[show(v) for v in grid.sum(axis=0)],
                     show(grid.to_numpy().sum())])  # fmt: skip
        row = _table(ws, f, row + 1, [t("value_risk"), *risks, t("total")], body,
                     [None, num, num, num, num], total_last=True) + 1  # fmt: skip
    ws.write_string(row, 0, t("matrix_action"), f.section)
    body = [[name, *[actions[f"{v.code}_value_{r.code}_risk"] for r in RISK_TIERS]]
            for name, v in zip(tiers, VALUE_TIERS, strict=True)]  # fmt: skip
    row = _table(ws, f, row + 1, [t("value_risk"), *risks], body, wrap=(1, 2, 3)) + 1

    ws.write_string(row, 0, t("segment_totals"), f.section)
    heads = [lb.label(f"segment_{lang}", lang), t("axis_value_tier"), t("axis_risk_tier"),
             t("customers"), t("customer_share"), t("clv_sum"), t("clv_share"), t("clv_mean"),
             t("realised_sum"), t("raroc_weighted"), t("customers_with_alerts"),
             lb.label(f"action_{lang}", lang), lb.label("review_months", lang)]  # fmt: skip
    n_all, v_all = len(clv), float(clv["clv"].sum())
    has_alert = has_alerts(clv)
    body = []
    for s in SEGMENTS:
        part = clv[clv["segment"] == s.code]
        value = float(part["clv"].sum())
        review = pd.to_numeric(part["review_months"], errors="coerce").dropna()
        body.append([
            s.zh if lang == "zh" else s.en,
            lb.value_label("value_tier", s.value_tier, lang),
            lb.value_label("risk_tier", s.risk_tier, lang),
            len(part), _ratio(len(part), n_all), _wan(value), _ratio(value, v_all),
            _wan(_ratio(value, len(part))), _wan(float(part["realised_12m"].sum())),
            capital_weighted_raroc(part), int(has_alert[part.index].sum()), actions[s.code],
            int(review.iloc[0]) if len(review) else None,
        ])  # fmt: skip
    body.append([t("total"), "", "", n_all, _ratio(n_all, n_all), _wan(v_all),
                 _ratio(v_all, v_all), _wan(_ratio(v_all, n_all)),
                 _wan(float(clv["realised_12m"].sum())), capital_weighted_raroc(clv),
                 int(has_alert.sum()), "", None])  # fmt: skip
    money, pct, count = MONEY_FORMAT, PERCENT_FORMAT, COUNT_FORMAT
    formats = [None, None, None, count, pct, money, pct, money, money, pct, count, None, count]
    _table(ws, f, row + 1, heads, body, formats, wrap=(11,), total_last=True)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 3, 26)
    ws.set_column(4, 10, 16)
    ws.set_column(11, 11, 40)
    ws.set_column(12, 12, 12)


_ALERT_VALUE_FORMAT = {"clv_decline": PERCENT_FORMAT, "low_survival": PERCENT_FORMAT,
                       "overdue": "0", "downgrade": "0"}  # fmt: skip
"""How each alert's figure reads: a share, a probability, days past due, notches."""
_CLASS_CODES = tuple(lb.VALUES["classification"])
_SEVERE_FILL = "#FCE4D6"


def _alert_figure(alert: str, value: Any, lang: str) -> Any:
    """The figure that fired the alert; a classification's rank as its name (次级)."""
    if alert == "classification_worse" and not _is_missing(value):
        rank = int(float(value))
        if 0 <= rank < len(_CLASS_CODES):
            return lb.value_label("classification", _CLASS_CODES[rank], lang)
    return value


def _alert_sheet(ws: Worksheet, f: _Formats, data: ReportData, lang: str) -> None:
    t = partial(lb.text, lang=lang)
    alerts = alerts_frame(data)
    heads = [lb.label("customer_id", lang), lb.label("customer_name", lang),
             lb.label("rm_id", lang), lb.label(f"segment_{lang}", lang), t("alert_type"),
             t("severity"), t("alert_value"), t("threshold"), t("detail")]  # fmt: skip
    row = HEADER_ROW
    for col, head in enumerate(heads):
        ws.write_string(row, col, head, f.header)
    if alerts.empty:
        ws.write_string(row + 1, 0, t("no_alerts"), f.note)
    else:
        info = data.clv.drop_duplicates("customer_id").set_index("customer_id")
        rank = alerts["severity"].map({"high": 0, "medium": 1, "low": 2}).fillna(3)
        keys = (alerts["alert"].astype(str), alerts["customer_id"].astype(str), rank)
        order = np.lexsort(tuple(k.to_numpy() for k in keys))
        for i, k in enumerate(order, start=row + 1):
            a = alerts.iloc[int(k)]
            cid, code = str(a["customer_id"]), str(a["alert"])
            known = cid in info.index
            fill = _SEVERE_FILL if a["severity"] == "high" else None
            num = _ALERT_VALUE_FORMAT.get(code)
            values = [
                (cid, None), (info.at[cid, "customer_name"] if known else None, None),
                (info.at[cid, "rm_id"] if known else None, None),
                (info.at[cid, f"segment_{lang}"] if known else None, None),
                (lb.value_label("alert", code, lang), None),
                (lb.value_label("severity", a["severity"], lang), None),
                (_alert_figure(code, a["value"], lang), num), (a["threshold"], num),
                (a[f"detail_{lang}"], None),
            ]  # fmt: skip
            for col, (value, fmt) in enumerate(values):
                _put(ws, i, col, value, f.cell(fmt, fill=fill))
        ws.autofilter(row, 0, row + len(alerts), len(heads) - 1)
    ws.freeze_panes(row + 1, 0)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 2, 12)
    ws.set_column(3, 3, 22)
    ws.set_column(4, 7, 14)
    ws.set_column(8, 8, 48)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested JSON → ``{"a.b[0][1]": scalar}``."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            out |= _flatten(item, f"{prefix}[{i}]")
        return out
    return {prefix: value}


def _parse(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        return {"": raw}
    return parsed if isinstance(parsed, dict) else {"": parsed}


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def parameters_text(params: Any, standard_errors: Any) -> str:
    """``"r = 0.243 (0.0125); alpha = 4.41 (0.38)"``: every parameter, flattened, with its
    standard error when there is one (standard errors of no named parameter follow)."""
    est, se = _flatten(_parse(params)), _flatten(_parse(standard_errors))
    parts = [f"{k} = {_number(v)}" + (f" ({_number(se[k])})" if k in se else "")
             for k, v in est.items()]  # fmt: skip
    parts += [f"se {k} = {_number(v)}" for k, v in se.items() if k not in est]
    return "; ".join(parts)


def metrics_text(metrics: Any) -> str:
    return "; ".join(f"{k} = {_number(v)}" for k, v in _flatten(_parse(metrics)).items())


def _model_sheet(ws: Worksheet, f: _Formats, data: ReportData, lang: str) -> None:
    t = partial(lb.text, lang=lang)
    heads = [t("model"), t("version"), t("fitted_at"), t("n_obs"), t("params"), t("metrics"),
             t("fingerprint"), t("run_id")]  # fmt: skip
    runs = data.model_runs
    body = []
    for record in runs.to_dict("records"):
        fitted = record.get("fitted_at")
        body.append([
            record.get("model"), record.get("version"),
            None if _is_missing(fitted) or fitted is None else str(pd.Timestamp(fitted)),
            record.get("n_obs"),
            parameters_text(record.get("params"), record.get("standard_errors")),
            metrics_text(record.get("metrics")), record.get("data_fingerprint"),
            record.get("run_id"),
        ])  # fmt: skip
    _table(ws, f, HEADER_ROW, heads, body, [None, None, None, COUNT_FORMAT], wrap=(4, 5))
    if not body:
        ws.write_string(HEADER_ROW + 1, 0, t("no_models"), f.note)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 3, 18)
    ws.set_column(4, 5, 70)
    ws.set_column(6, 7, 20)


def _definition_sheet(ws: Worksheet, f: _Formats, lang: str) -> None:
    t = partial(lb.text, lang=lang)
    row = HEADER_ROW
    ws.write_string(row, 0, t("notes"), f.section)
    for i, key in enumerate(("note_units", "note_signs", "note_sort"), start=1):
        ws.write_string(row + i, 0, t(key), f.note)
    row += 5
    body = [(c, lb.label(c, lang), lb.definition(c, lang), lb.unit(c, lang))
            for c in CLV_TABLE_COLUMNS]  # fmt: skip
    heads = [t("column"), t("name"), t("definition"), t("unit")]
    row = _table(ws, f, row, heads, body, wrap=(2,)) + 1
    ws.write_string(row, 0, t("alert_codes"), f.section)
    alert_rows = [(c, lb.label(c, lang), lb.definition(c, lang)) for c in lb.ALERTS]
    _table(ws, f, row + 1, [t("code"), t("name"), t("definition")], alert_rows, wrap=(2,))
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 90)
    ws.set_column(3, 3, 14)


# ------------------------------------------------------------------------------- exports


def write_exports(data: ReportData, folder: str | Path) -> list[Path]:
    """The CLV table and the alerts at full precision (money in yuan, rates as decimals,
    column names as in the warehouse), each as CSV (UTF-8 with BOM, so Excel reads the Chinese)
    and Parquet: ``clv_table_<date>.csv/.parquet`` and ``alerts_<date>.csv/.parquet`` in
    ``folder``. Returns the four paths."""
    check_report_data(data)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    date = data.snapshot_date.isoformat()
    day = pd.Timestamp(data.snapshot_date)
    clv = data.clv.copy()
    if "snapshot_date" not in clv.columns:
        clv.insert(0, "snapshot_date", day)
    clv = clv[[*CLV_TABLE_COLUMNS, *[c for c in clv.columns if c not in CLV_TABLE_COLUMNS]]]
    alerts = alerts_frame(data).copy()
    if "snapshot_date" not in alerts.columns:
        alerts.insert(0, "snapshot_date", day)
    alerts = alerts[[*ALERT_COLUMNS, *[c for c in alerts.columns if c not in ALERT_COLUMNS]]]
    paths: list[Path] = []
    for name, frame in (("clv_table", clv), ("alerts", alerts)):
        csv_path = out / f"{name}_{date}.csv"
        frame.to_csv(csv_path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
        parquet_path = out / f"{name}_{date}.parquet"
        frame.to_parquet(parquet_path, index=False)
        paths += [csv_path, parquet_path]
    return paths
