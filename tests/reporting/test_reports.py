"""The report writers: the workbook (sheets, header block, 万元 cells that reconcile), the
exports (full precision, reloadable), the HTML report (every chart, nothing loaded from outside)
and the labels."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

import lendvalue.reporting as reporting
from lendvalue.errors import ConfigError, DataContractError
from lendvalue.reporting import labels as lb
from lendvalue.reporting.data import ALERT_COLUMNS, CLV_TABLE_COLUMNS, ReportData
from lendvalue.reporting.html import CHART_IDS, FONT_STACK, write_html_report
from lendvalue.reporting.xlsx import (
    HEADER_ROW,
    MONEY_FORMAT,
    customer_columns,
    top_share,
    write_clv_workbook,
    write_exports,
)

from .conftest import BANK, N_CUSTOMERS

HEADER = HEADER_ROW + 1  # openpyxl rows are 1-based
MONEY = [c for c in CLV_TABLE_COLUMNS if lb.kind(c) in ("money", "money_years")]
HALF_CENT = 0.005 + 1e-9
"""A 万元 cell is its value rounded to 0.01: within half a hundredth (plus float noise)."""
HEADER_TEXT = {
    "zh": (f"编制单位：{BANK}", "数据日期：2025-06-30", "金额单位：万元"),
    "en": (f"Prepared by: {BANK}", "Data date: 2025-06-30", "Unit: 10,000 yuan"),
}


@pytest.fixture(scope="module", params=["zh", "en"])
def workbook(
    request: pytest.FixtureRequest,
    report_data: ReportData,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, openpyxl.Workbook]:
    lang = request.param
    path = write_clv_workbook(report_data, tmp_path_factory.mktemp(lang) / "clv.xlsx", lang=lang)
    return lang, openpyxl.load_workbook(path)


def _customer_sheet(lang: str, book: openpyxl.Workbook) -> tuple[Any, dict[str, int]]:
    ws = book[lb.label("customers", lang)]
    heads = [c.value for c in ws[HEADER]]
    return ws, {name: heads.index(lb.label(name, lang)) + 1 for name in customer_columns(lang)}


# ------------------------------------------------------------------------------- workbook


def test_workbook_has_every_sheet_with_the_header_block(
    workbook: tuple[str, openpyxl.Workbook],
) -> None:
    lang, book = workbook
    assert book.sheetnames == [lb.label(key, lang) for key in lb.SHEETS]
    for ws in book.worksheets:
        assert tuple(ws.cell(row, 1).value for row in (2, 3, 4)) == HEADER_TEXT[lang]


def test_customer_sheet_has_one_row_per_customer_and_every_column(
    workbook: tuple[str, openpyxl.Workbook], report_data: ReportData
) -> None:
    lang, book = workbook
    ws, _ = _customer_sheet(lang, book)
    heads = [c.value for c in ws[HEADER]]
    assert heads == [lb.label(c, lang) for c in customer_columns(lang)]
    assert len(set(heads)) == len(heads)
    assert "snapshot_date" not in customer_columns(lang)
    other = "_en" if lang == "zh" else "_zh"
    assert not any(c.endswith(other) for c in customer_columns(lang))
    ids = [ws.cell(r, 1).value for r in range(HEADER + 1, ws.max_row + 1)]
    assert len(ids) == N_CUSTOMERS
    assert sorted(ids) == sorted(report_data.clv["customer_id"])
    assert ws.freeze_panes == f"C{HEADER + 1}"
    last = ws.cell(HEADER, len(heads)).column_letter
    assert ws.auto_filter.ref == f"A{HEADER}:{last}{ws.max_row}"


def test_money_cells_are_wan_with_two_decimals(
    workbook: tuple[str, openpyxl.Workbook], report_data: ReportData
) -> None:
    lang, book = workbook
    ws, col = _customer_sheet(lang, book)
    yuan = report_data.clv.set_index("customer_id")
    for r in range(HEADER + 1, ws.max_row + 1, 37):  # a spread of rows
        cid = ws.cell(r, col["customer_id"]).value
        for name in MONEY:
            cell = ws.cell(r, col[name])
            assert cell.number_format == MONEY_FORMAT
            assert abs(cell.value - yuan.at[cid, name] / 1e4) <= HALF_CENT, (cid, name)
            assert cell.value * 100 == pytest.approx(round(cell.value * 100), abs=1e-6)
    for name, fmt in (("raroc", "0.00%"), ("pd_1y", "0.000%"), ("survival_12m", "0.00%")):
        cell = ws.cell(HEADER + 1, col[name])
        assert cell.number_format == fmt
        assert cell.value == pytest.approx(yuan.at[ws.cell(HEADER + 1, 1).value, name], rel=1e-12)


def test_components_add_up_to_the_clv_in_every_row(
    workbook: tuple[str, openpyxl.Workbook],
) -> None:
    lang, book = workbook
    ws, col = _customer_sheet(lang, book)
    for r in range(HEADER + 1, ws.max_row + 1):
        value = lambda name, r=r: ws.cell(r, col[name]).value  # noqa: E731
        parts = sum(value(c) for c in lb.COMPONENTS)
        # ten items each rounded to 0.01 on its own: at most 10 half-cents apart
        assert abs(parts - value("clv")) <= 10 * HALF_CENT
        assert abs(value("current_value") + value("potential_value") - value("clv")) <= 0.0101
    first = [ws.cell(r, col["clv"]).value for r in range(HEADER + 1, ws.max_row + 1)]
    assert first == sorted(first, reverse=True)


def test_value_tiers_and_alerts_are_marked(
    workbook: tuple[str, openpyxl.Workbook], report_data: ReportData
) -> None:
    lang, book = workbook
    ws, col = _customer_sheet(lang, book)
    flagged = report_data.clv.set_index("customer_id")["alert_flags"]
    for r in range(HEADER + 1, ws.max_row + 1):
        cid = ws.cell(r, col["customer_id"]).value
        cell = ws.cell(r, col["alert_flags"])
        assert (cell.value or "") == lb.alert_labels(flagged[cid], lang)
        if flagged[cid]:
            assert cell.fill.fgColor.rgb.endswith("F8CBAD")
    rules = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
    assert any('"high"' in f for f in rules) and any('"mid"' in f for f in rules)


def test_summary_figures(workbook: tuple[str, openpyxl.Workbook], report_data: ReportData) -> None:
    lang, book = workbook
    ws = book[lb.label("summary", lang)]
    figures = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(HEADER + 1, 20)}
    clv = report_data.clv
    wan = "（万元）" if lang == "zh" else " (10,000 yuan)"
    assert figures[lb.text("customers", lang)] == N_CUSTOMERS
    assert figures[lb.text("total_clv", lang) + wan] == round(clv["clv"].sum() / 1e4, 2)
    weighted = (clv["raroc"] * clv["capital_pv"]).sum() / clv["capital_pv"].sum()
    assert figures[lb.text("raroc_weighted", lang)] == pytest.approx(weighted, rel=1e-12)
    assert figures[lb.text("customers_with_alerts", lang)] == (clv["n_alerts"] > 0).sum()
    top = clv["clv"].sort_values(ascending=False)
    assert figures[lb.text("top10_share", lang)] == pytest.approx(
        top.iloc[:30].sum() / top.sum(), rel=1e-12
    )
    assert figures[lb.text("top20_share", lang)] == pytest.approx(
        top.iloc[:60].sum() / top.sum(), rel=1e-12
    )


def test_segment_matrix_counts_and_values(
    workbook: tuple[str, openpyxl.Workbook], report_data: ReportData
) -> None:
    lang, book = workbook
    ws = book[lb.label("segments", lang)]
    # the count matrix: header on HEADER+1, three tiers, a total row
    grid = [[ws.cell(r, c).value for c in range(2, 5)] for r in range(HEADER + 2, HEADER + 5)]
    expected = pd.crosstab(report_data.clv["value_tier"], report_data.clv["risk_tier"])
    expected = expected.reindex(index=["high", "mid", "low"], columns=["low", "medium", "high"])
    assert grid == expected.fillna(0).astype(int).to_numpy().tolist()
    assert ws.cell(HEADER + 5, 5).value == N_CUSTOMERS
    texts = {ws.cell(r, c).value for r in range(1, ws.max_row + 1) for c in range(1, 14)}
    assert ("策略：战略客户·低风险" if lang == "zh" else "policy for strategic, low risk") in texts


def test_alert_model_and_definition_sheets(
    workbook: tuple[str, openpyxl.Workbook], report_data: ReportData
) -> None:
    lang, book = workbook
    alerts = book[lb.label("alerts", lang)]
    assert alerts.max_row - HEADER == len(report_data.alerts)
    shown = {alerts.cell(r, 5).value for r in range(HEADER + 1, alerts.max_row + 1)}
    assert shown == {lb.label(code, lang) for code in report_data.alerts["alert"]}

    models = book[lb.label("models", lang)]
    assert [models.cell(r, 1).value for r in (HEADER + 1, HEADER + 2)] == [
        "WeibullAFTModel",
        "CohortMigration",
    ]
    assert "log_scale = 4.1 (0.05)" in models.cell(HEADER + 1, 5).value
    assert "matrix[0][1] = 0.1 (0.01)" in models.cell(HEADER + 2, 5).value

    ws = book[lb.label("definitions", lang)]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    for column in CLV_TABLE_COLUMNS:
        r = rows[column]
        assert ws.cell(r, 2).value == lb.label(column, lang)
        assert ws.cell(r, 3).value == lb.definition(column, lang) != column
    assert ws.cell(rows["clv"], 4).value == ("万元" if lang == "zh" else "10,000 yuan")
    assert all(code in rows for code in lb.ALERTS)


def test_bank_name_argument_wins(report_data: ReportData, tmp_path: Path) -> None:
    path = write_clv_workbook(report_data, tmp_path / "b.xlsx", bank_name="某某银行")
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws.cell(2, 1).value == "编制单位：某某银行"


# ------------------------------------------------------------------------------- exports


def test_exports_reload_at_full_precision(report_data: ReportData, tmp_path: Path) -> None:
    paths = write_exports(report_data, tmp_path)
    assert [p.name for p in paths] == [
        "clv_table_2025-06-30.csv",
        "clv_table_2025-06-30.parquet",
        "alerts_2025-06-30.csv",
        "alerts_2025-06-30.parquet",
    ]
    for original, csv_path, parquet_path, columns in (
        (report_data.clv, paths[0], paths[1], CLV_TABLE_COLUMNS),
        (report_data.alerts, paths[2], paths[3], ALERT_COLUMNS),
    ):
        assert csv_path.read_bytes()[:3] == b"\xef\xbb\xbf"  # BOM: Excel opens it as UTF-8
        text = {c: str for c in columns if not pd.api.types.is_numeric_dtype(original[c])}
        csv = pd.read_csv(csv_path, encoding="utf-8-sig", dtype=text)
        parquet = pd.read_parquet(parquet_path)
        assert list(csv.columns) == list(parquet.columns) == list(columns)
        for c in columns:
            if pd.api.types.is_numeric_dtype(original[c]):
                want = original[c].to_numpy(np.float64)
                np.testing.assert_array_equal(csv[c].to_numpy(np.float64), want, err_msg=c)
                np.testing.assert_array_equal(parquet[c].to_numpy(np.float64), want, err_msg=c)
        assert list(csv["customer_id"]) == list(original["customer_id"])
        assert (csv["snapshot_date"] == "2025-06-30").all()
    reloaded = pd.read_parquet(paths[1])
    assert list(reloaded["customer_name"]) == list(report_data.clv["customer_name"])


# ------------------------------------------------------------------------------- html


class _Page(HTMLParser):
    """Tags with their attributes, and the text of each ``<script>`` and ``<style>`` apart
    (the parser reads their content as raw text: strings inside JavaScript are not tags)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.markup_text: list[str] = []
        self._raw: str | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("script", "style"):
            self._raw, self._buffer = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw:
            (self.scripts if tag == "script" else self.styles).append("".join(self._buffer))
            self._raw = None

    def handle_data(self, data: str) -> None:
        (self._buffer if self._raw else self.markup_text).append(data)


URL_ATTRIBUTES = {"src", "href", "srcset", "data", "action", "formaction", "poster",
                  "background", "xlink:href", "ping", "manifest", "cite", "codebase"}  # fmt: skip
EXTERNAL = re.compile(r"https?://|//cdn|@import|url\(\s*['\"]?(?!data:)", re.IGNORECASE)


def assert_self_contained(page: str) -> None:
    """Nothing is loaded from outside the file:

    1. no element has a URL-bearing attribute (src, href, srcset, data, action, poster, …)
       other than a ``data:`` URI or a ``#fragment`` — so no ``<script src>``, no stylesheet
       or font ``<link>``, no image, whether ``http(s)://``, ``//cdn…`` or a relative file;
    2. no ``<link>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<base>`` or refresh ``<meta>``;
    3. the markup (text and every attribute) and every ``<style>`` hold no ``http://``,
       ``https://``, ``//cdn``, ``@import`` or ``url(`` other than ``url(data:``;
    4. exactly one ``<script>`` is the plotly.js bundle, and every other script (the figures'
       ``Plotly.newPlot`` calls) holds no ``http(s)://`` or ``//cdn`` either.

    Not checked: the text of the plotly.js bundle itself, which contains URLs as strings
    (map tile servers, a MathJax CDN fallback, the plotly.com logo link). Those are used only by
    map traces, MathJax and the mode-bar logo; the report draws no map, sets
    ``MathJaxConfig: 'local'`` without MathJax, and turns the logo off (``displaylogo: false``).
    """
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    for tag, attrs in parsed.tags:
        assert tag not in ("link", "iframe", "object", "embed", "base"), tag
        assert not (tag == "meta" and attrs.get("http-equiv", "").lower() == "refresh")
        for name, value in attrs.items():
            if name in URL_ATTRIBUTES:
                assert value.startswith(("data:", "#")), (tag, name, value)
            assert not EXTERNAL.search(value), (tag, name, value)
    for text in [*parsed.markup_text, *parsed.styles]:
        assert not EXTERNAL.search(text), text[:200]
    bundles = [s for s in parsed.scripts if "plotly.js v" in s[:200]]
    assert len(bundles) == 1
    for script in parsed.scripts:
        if script is not bundles[0]:
            assert not re.search(r"https?://|//cdn", script), script[:200]
            if "Plotly.newPlot" in script:
                assert '"displaylogo": false' in script


@pytest.fixture(scope="module", params=["zh", "en"])
def page(
    request: pytest.FixtureRequest,
    report_data: ReportData,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, str]:
    lang = request.param
    path = write_html_report(report_data, tmp_path_factory.mktemp(lang) / "r.html", lang=lang)
    return lang, path.read_text(encoding="utf-8")


def test_html_has_every_chart_and_loads_nothing(page: tuple[str, str]) -> None:
    lang, text = page
    for chart_id in CHART_IDS:
        assert len(re.findall(f'id="{chart_id}"', text)) == 1, chart_id
        assert re.search(rf'Plotly\.newPlot\(\s*"{chart_id}"', text), chart_id
    assert 'class="no-data"' not in text
    assert_self_contained(text)
    assert FONT_STACK in text  # the CSS font stack
    assert text.count('"family":"\\"PingFang SC\\"') == len(CHART_IDS)  # and each figure's
    title = lb.text("html_title", lang)
    assert f"<h1>{title}</h1>" in text
    assert f"<title>{BANK} {title} 2025-06-30</title>" in text
    if lang == "zh":
        assert '<html lang="zh-CN">' in text and "客户终身价值分析报告" in text
        assert "编制单位：" in text and "金额单位：万元" in text


def test_html_top_table(page: tuple[str, str], report_data: ReportData) -> None:
    _, text = page
    table = text[text.index('<table id="top_customers">') :]
    table = table[: table.index("</table>")]
    best = report_data.clv.nlargest(20, "clv")
    assert table.count("<tr") == 21
    assert best["customer_id"].iloc[0] in table and best["customer_id"].iloc[19] in table
    assert f"{best['clv'].iloc[0] / 1e4:,.2f}" in table


def test_self_contained_check_catches_external_loads() -> None:
    bundle = "<script>/**\n* plotly.js v9\n*/ var a = 'https://plot.ly';</script>"
    assert_self_contained(f"<html><head>{bundle}</head><body></body></html>")
    for bad in (
        '<script src="https://cdn.plot.ly/plotly.min.js"></script>',
        '<script src="plotly.min.js"></script>',
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css">',
        "<style>@import url(https://fonts.googleapis.com/css);</style>",
        "<style>body { background: url(//cdn.example.com/a.png) }</style>",
        '<img src="http://example.com/a.png">',
        "<script>fetch('https://example.com')</script>",
    ):
        with pytest.raises(AssertionError):
            assert_self_contained(f"<html><head>{bundle}{bad}</head><body></body></html>")


# ------------------------------------------------------------------------------- bare snapshot


def test_snapshot_without_alerts_or_diagnostics(
    bare_report_data: ReportData, tmp_path: Path
) -> None:
    for lang in ("zh", "en"):
        path = write_clv_workbook(bare_report_data, tmp_path / f"b_{lang}.xlsx", lang=lang)
        book = openpyxl.load_workbook(path)
        assert len(book.sheetnames) == 6
        assert book.worksheets[0].cell(2, 1).value == lb.text("prepared_by", lang)
        alerts = book[lb.label("alerts", lang)]
        assert alerts.cell(HEADER + 1, 1).value == lb.text("no_alerts", lang)
        assert book[lb.label("models", lang)].cell(HEADER + 1, 1).value == lb.text(
            "no_models", lang
        )
        text = write_html_report(bare_report_data, tmp_path / f"b_{lang}.html", lang).read_text(
            encoding="utf-8"
        )
        for chart_id in CHART_IDS:
            assert f'id="{chart_id}"' in text
        missing = ("retention_curves", "btyd_tracking", "btyd_calibration", "pd_calibration")
        for chart_id in missing:
            assert f'<div id="{chart_id}" class="no-data">' in text
        assert text.count('class="no-data"') == len(missing)
        assert_self_contained(text)
    paths = write_exports(bare_report_data, tmp_path / "exports")
    alerts = pd.read_csv(paths[2], encoding="utf-8-sig")
    assert list(alerts.columns) == list(ALERT_COLUMNS) and alerts.empty


def test_snapshot_without_customers(report_data: ReportData, tmp_path: Path) -> None:
    empty = ReportData(snapshot=report_data.snapshot, clv=report_data.clv.iloc[:0],
                       alerts=pd.DataFrame(), model_runs=pd.DataFrame())  # fmt: skip
    book = openpyxl.load_workbook(write_clv_workbook(empty, tmp_path / "e.xlsx"))
    assert book[lb.label("customers", "zh")].max_row == HEADER
    text = write_html_report(empty, tmp_path / "e.html").read_text(encoding="utf-8")
    assert text.count('class="no-data"') == len(CHART_IDS)


def test_refusals(report_data: ReportData, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lang"):
        write_clv_workbook(report_data, tmp_path / "x.xlsx", lang="fr")
    broken = ReportData(snapshot=report_data.snapshot, clv=report_data.clv.drop(columns="tax"),
                        alerts=report_data.alerts, model_runs=report_data.model_runs)  # fmt: skip
    with pytest.raises(DataContractError, match="tax"):
        write_html_report(broken, tmp_path / "x.html")


# ------------------------------------------------------------------------------- labels


def test_every_column_and_alert_is_labelled_in_both_languages() -> None:
    from lendvalue.monitoring.alerts import ALERT_CODES

    assert set(lb.COLUMNS) == set(CLV_TABLE_COLUMNS)
    assert set(lb.ALERTS) == set(ALERT_CODES)
    for name in [*CLV_TABLE_COLUMNS, *ALERT_CODES]:
        for lang in ("zh", "en"):
            assert lb.label(name, lang) != name
            assert lb.definition(name, lang) not in ("", name)
    for lang in ("zh", "en"):
        shown = [lb.label(c, lang) for c in customer_columns(lang)]
        assert len(set(shown)) == len(shown)
    assert lb.label("clv", "zh") == "客户终身价值"
    assert lb.label("clv", "en") == "Customer lifetime value"
    assert lb.definition("clv", "zh").startswith("风险调整后的客户终身价值：")
    assert [lb.label(c) for c in ALERT_CODES] == [
        "CLV下降", "关系存续概率低", "逾期", "评级下调", "五级分类下迁",
    ]  # fmt: skip
    assert lb.label("no_such_column", "en") == "no_such_column"
    assert lb.definition("no_such_column") == "no_such_column"
    assert lb.alert_labels("overdue,downgrade", "zh") == "逾期、评级下调"
    assert lb.alert_labels("", "en") == ""
    with pytest.raises(ConfigError):
        lb.label("clv", "de")


def test_components_are_the_documented_ten() -> None:
    assert set(lb.COMPONENTS) | {"clv"} <= set(CLV_TABLE_COLUMNS)
    assert len(lb.COMPONENTS) == 10


def test_top_share() -> None:
    values = np.arange(1.0, 101.0)  # 1 … 100, total 5050
    assert top_share(values, 0.10) == pytest.approx(sum(range(91, 101)) / 5050)
    assert top_share(values[:5], 0.10) == pytest.approx(5 / 15)  # at least one customer
    assert math.isnan(top_share(np.array([-1.0, -2.0]), 0.1))


def test_public_api() -> None:
    assert sorted(reporting.__all__) == sorted(
        ["ALERT_COLUMNS", "CHART_IDS", "CLV_TABLE_COLUMNS", "ReportData", "customer_columns",
         "definition", "label", "write_clv_workbook", "write_exports", "write_html_report"]
    )  # fmt: skip
    for name in reporting.__all__:
        assert getattr(reporting, name) is not None
