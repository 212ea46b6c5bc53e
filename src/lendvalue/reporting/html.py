"""The HTML report: one self-contained file with the key figures, nine charts and the top 20
customers, readable offline.

plotly.js is inlined once, in the page's ``<head>``; each chart is a plotly figure in a ``<div>``
with a stable id (:data:`CHART_IDS`) and no script of its own loads anything. Nothing in the
markup or the styles refers to another file or address: no ``src``/``href`` to a URL, no
``@import``, no web font — text is set in the fonts the reader's system has
(:data:`FONT_STACK`, Chinese fonts of macOS, Windows and Linux first). A chart whose data the
snapshot lacks (a diagnostics frame the pipeline did not write) shows a short note under the same
id instead.
"""

from __future__ import annotations

import html
import math
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lendvalue.reporting import labels as lb
from lendvalue.reporting.data import ReportData
from lendvalue.reporting.xlsx import (
    YUAN_PER_WAN,
    bank_name_of,
    check_report_data,
    portfolio_figures,
    tier_matrix,
    top_share,
)
from lendvalue.segmentation import RISK_TIERS, SEGMENTS, VALUE_TIERS

__all__ = ["CHART_IDS", "FONT_STACK", "write_html_report"]

FONT_STACK = (
    '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif'
)
CHART_IDS: tuple[str, ...] = (
    "clv_distribution",
    "lorenz",
    "value_risk_heatmap_count",
    "value_risk_heatmap_value",
    "clv_waterfall",
    "retention_curves",
    "btyd_tracking",
    "btyd_calibration",
    "pd_calibration",
)
"""The ``id`` of each chart's ``<div>``, in page order."""
DIAGNOSTIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "retention_curves": ("segment", "month", "survival"),
    "btyd_tracking": ("period", "actual", "predicted"),
    "btyd_calibration": ("frequency", "actual", "predicted"),
    "pd_calibration": ("grade", "mean_pd", "default_rate"),
}
"""The columns each diagnostics chart needs (:class:`ReportData`)."""
TOP_N = 20
HISTOGRAM_BINS = 50
LORENZ_POINTS = 1001
CHART_HEIGHT_PX = 420
_ACTUAL, _PREDICTED = "#1F4E78", "#ED7D31"

_CSS = """
body { font-family: %(font)s; color: #222; margin: 0; background: #f5f6f8; }
header { background: #1F4E78; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 6px 0; font-size: 24px; }
header p { margin: 0; font-size: 14px; opacity: 0.9; }
header span { margin-right: 28px; }
main { padding: 16px 32px 40px 32px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 20px 0; }
.kpi { background: #fff; border-radius: 6px; padding: 12px 18px; min-width: 170px;
       box-shadow: 0 1px 3px rgba(0,0,0,0.12); }
.kpi .name { font-size: 13px; color: #595959; }
.kpi .value { font-size: 22px; font-weight: bold; color: #1F4E78; margin-top: 4px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
.chart { background: #fff; border-radius: 6px; padding: 8px;
         box-shadow: 0 1px 3px rgba(0,0,0,0.12); margin: 0; }
.no-data { height: %(height)dpx; display: flex; align-items: center; justify-content: center;
           color: #7f7f7f; font-size: 15px; text-align: center; padding: 0 24px; }
.no-data strong { display: block; color: #404040; margin-bottom: 6px; }
h2 { font-size: 18px; color: #1F4E78; margin: 28px 0 10px 0; }
table { border-collapse: collapse; background: #fff; font-size: 13px; width: 100%%; }
th { background: #1F4E78; color: #fff; padding: 6px 8px; text-align: center; }
td { padding: 5px 8px; border-bottom: 1px solid #e5e5e5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.alert { color: #9C0006; font-weight: bold; }
tr.tier-high td { background: #FFF2CC; }
footer { font-size: 12px; color: #7f7f7f; padding: 0 32px 24px 32px; }
"""


def write_html_report(
    data: ReportData, path: str | Path, lang: str = "zh", bank_name: str | None = None
) -> Path:
    """Write the HTML report of ``data`` to ``path`` in ``lang`` (``zh``/``en``); the
    编制单位 defaults to ``data.snapshot["bank_name"]``. Returns the path."""
    from plotly.offline import get_plotlyjs

    lang = lb.check_lang(lang)
    check_report_data(data)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    t = partial(lb.text, lang=lang)
    bank = bank_name_of(data, bank_name)
    date = data.snapshot_date.isoformat()
    title = t("html_title")
    charts = "\n".join(
        _chart_html(chart_id, _FIGURES[chart_id](data, lang), lang) for chart_id in CHART_IDS
    )
    page = f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(" ".join(p for p in (bank, title, date) if p))}</title>
<style>{_CSS % {"font": FONT_STACK, "height": CHART_HEIGHT_PX}}</style>
<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>
<script>{get_plotlyjs()}</script>
</head>
<body>
<header>
<h1>{_e(title)}</h1>
<p><span>{_e(t("prepared_by") + bank)}</span><span>{_e(t("data_date") + date)}</span>
<span>{_e(t("unit_line"))}</span></p>
</header>
<main>
{_kpi_html(data, lang)}
<section class="charts">
{charts}
</section>
{_top_table_html(data, lang)}
</main>
<footer><p>{_e(t("note_units"))}</p><p>{_e(t("note_signs"))}</p></footer>
</body>
</html>
"""
    out.write_text(page, encoding="utf-8")
    return out


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _wan(value: Any) -> str:
    return f"{float(value) / YUAN_PER_WAN:,.2f}" if _finite(value) else "—"


def _pct(value: Any, digits: int = 2) -> str:
    return f"{float(value):.{digits}%}" if _finite(value) else "—"


# ------------------------------------------------------------------------------- page parts


def _kpi_html(data: ReportData, lang: str) -> str:
    t = partial(lb.text, lang=lang)
    fig = portfolio_figures(data)
    wan = "（万元）" if lang == "zh" else " (10,000 yuan)"
    cards = [
        (t("customers"), f"{fig.customers:,}"),
        (t("total_clv") + wan, _wan(fig.total_clv)),
        (t("total_realised") + wan, _wan(fig.total_realised)),
        (t("raroc_weighted"), _pct(fig.raroc_weighted)),
        (t("customers_with_alerts"), f"{fig.customers_with_alerts:,}"),
        (t("top10_share"), _pct(fig.top10_share, 1)),
        (t("top20_share"), _pct(fig.top20_share, 1)),
    ]
    body = "".join(
        f'<div class="kpi"><div class="name">{_e(name)}</div>'
        f'<div class="value">{_e(value)}</div></div>'
        for name, value in cards
    )
    return f'<section class="kpis" id="kpis">{body}</section>'


def _top_table_html(data: ReportData, lang: str) -> str:
    t = partial(lb.text, lang=lang)
    clv = data.clv.sort_values(
        ["clv", "customer_id"], ascending=[False, True], kind="stable", na_position="last"
    ).head(TOP_N)
    money = ("clv", "current_value", "potential_value", "realised_12m")
    heads = [
        t("rank"),
        lb.label("customer_id", lang),
        lb.label("customer_name", lang),
        lb.label(f"segment_{lang}", lang),
        *[lb.label(c, lang) for c in money],
        lb.label("raroc", lang),
        lb.label("pd_1y", lang),
        lb.label("alert_flags", lang),
    ]
    rows = []
    for rank, r in enumerate(clv.to_dict("records"), start=1):
        alert = lb.alert_labels(r["alert_flags"], lang)
        cells = [
            f'<td class="num">{rank}</td>',
            f"<td>{_e(r['customer_id'])}</td>",
            f"<td>{_e(r['customer_name'])}</td>",
            f"<td>{_e(r[f'segment_{lang}'])}</td>",
            *[f'<td class="num">{_wan(r[c])}</td>' for c in money],
            f'<td class="num">{_pct(r["raroc"])}</td>',
            f'<td class="num">{_pct(r["pd_1y"], 3)}</td>',
            f'<td class="alert">{_e(alert)}</td>',
        ]
        tier = "tier-high" if r["value_tier"] == "high" else ""
        rows.append(f'<tr class="{tier}">{"".join(cells)}</tr>')
    unit = "（金额单位：万元）" if lang == "zh" else " (money in 10,000 yuan)"
    head = "".join(f"<th>{_e(h)}</th>" for h in heads)
    return (
        f'<h2>{_e(t("top_customers") + unit)}</h2>\n<table id="top_customers">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _chart_html(chart_id: str, figure: Any, lang: str) -> str:
    """The figure's ``<div id=chart_id>`` and its drawing script, or the no-data note (a
    ``str`` figure is the reason) under the same id."""
    import plotly.io as pio

    if isinstance(figure, str):
        note = (
            f'<div id="{chart_id}" class="no-data"><div><strong>{_e(lb.text("no_data", lang))}'
            f"</strong>{_e(figure)}</div></div>"
        )
        return f'<figure class="chart">{note}</figure>'
    div = pio.to_html(
        figure,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        div_id=chart_id,
        default_width="100%",
        default_height=f"{CHART_HEIGHT_PX}px",
        config={"displaylogo": False, "responsive": True},
    )
    return f'<figure class="chart">{div}</figure>'


# ------------------------------------------------------------------------------- the charts


def _layout(fig: Any, title: str, x_title: str = "", y_title: str = "") -> Any:
    fig.update_layout(
        title={"text": title, "x": 0.02},
        template="plotly_white",
        height=CHART_HEIGHT_PX,
        font={"family": FONT_STACK, "size": 13},
        margin={"l": 60, "r": 24, "t": 56, "b": 56},
        legend={"orientation": "h", "y": -0.18},
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    return fig


def _diagnostic(data: ReportData, name: str, lang: str) -> pd.DataFrame | str:
    """The diagnostics frame ``name`` with its columns, or why the chart cannot be drawn."""
    frame = data.diagnostics.get(name)
    zh = lang == "zh"
    if frame is None or frame.empty:
        return f"本期未生成诊断数据 {name}" if zh else f"the snapshot has no {name} diagnostics"
    missing = [c for c in DIAGNOSTIC_COLUMNS[name] if c not in frame.columns]
    if missing:
        cols = ", ".join(missing)
        return f"诊断数据 {name} 缺少列：{cols}" if zh else f"{name} lacks the columns {cols}"
    return frame


def _no_customers(lang: str) -> str:
    return "本期无客户" if lang == "zh" else "the snapshot has no customers"


def _clv_distribution(data: ReportData, lang: str) -> Any:
    """Customers by CLV in 万元: 50 bins, counted here so the page does not carry every value."""
    import plotly.graph_objects as go

    values = pd.to_numeric(data.clv["clv"], errors="coerce").to_numpy(np.float64) / YUAN_PER_WAN
    values = values[np.isfinite(values)]
    if values.size == 0:
        return _no_customers(lang)
    t = partial(lb.text, lang=lang)
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
    mids = (edges[:-1] + edges[1:]) / 2
    ranges = [f"{lo:,.2f} ~ {hi:,.2f}" for lo, hi in pairwise(edges)]
    bars = go.Bar(
        x=mids, y=counts, width=np.diff(edges), marker={"color": _ACTUAL, "line": {"width": 0}},
        customdata=ranges, name=t("axis_customers"),
        hovertemplate="%{customdata}: %{y}<extra></extra>",
    )  # fmt: skip
    fig = go.Figure(bars)
    fig.add_vline(x=0, line_dash="dot", line_color="#7f7f7f")
    fig = _layout(fig, t("chart_clv_distribution"), t("axis_clv_wan"), t("axis_customers"))
    fig.update_layout(bargap=0)
    return fig


def _lorenz(data: ReportData, lang: str) -> Any:
    """Cumulative share of the CLV against the cumulative share of customers, highest CLV first
    (at most :data:`LORENZ_POINTS` points), the top 10% and 20% marked."""
    import plotly.graph_objects as go

    t = partial(lb.text, lang=lang)
    values = pd.to_numeric(data.clv["clv"], errors="coerce").to_numpy(np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return _no_customers(lang)
    total = float(values.sum())
    if total <= 0:
        return t("lorenz_no_total")
    n = values.size
    cumulative = np.concatenate([[0.0], np.cumsum(np.sort(values)[::-1]) / total])
    keep = np.unique(np.linspace(0, n, min(n + 1, LORENZ_POINTS)).round().astype(np.int64))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=keep / n,
            y=cumulative[keep],
            mode="lines",
            name=lb.label("clv", lang),
            line={"color": _ACTUAL, "width": 2},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name=t("equal_share"),
            line={"color": "#a6a6a6", "dash": "dash"},
        )
    )
    for share, offset in ((0.10, 30), (0.20, 55)):
        held = top_share(values, share)
        k = max(1, math.ceil(share * n - 1e-9))
        note = t("top_share_note").format(pct=f"{share:.0%}", share=f"{held:.1%}")
        fig.add_trace(
            go.Scatter(
                x=[k / n],
                y=[held],
                mode="markers",
                name=note,
                marker={"size": 10, "color": _PREDICTED},
                showlegend=False,
                hovertemplate=note + "<extra></extra>",
            )
        )
        fig.add_annotation(x=k / n, y=held, text=note, showarrow=True, ax=70, ay=offset)
    fig = _layout(fig, t("chart_lorenz"), t("axis_customer_share"), t("axis_clv_share"))
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(tickformat=".0%")
    return fig  # fmt: skip


def _heatmap(data: ReportData, lang: str, values: str | None) -> Any:
    import plotly.graph_objects as go

    if data.clv.empty:
        return _no_customers(lang)
    t = partial(lb.text, lang=lang)
    grid = tier_matrix(data.clv, values)
    z = grid.to_numpy(np.float64)
    if values is not None:
        z = z / YUAN_PER_WAN
        text = [[f"{v:,.2f}" for v in row] for row in z]
        scale: Any = "RdYlGn"
        extra: dict[str, Any] = {"zmid": 0.0}
        title = t("chart_heatmap_value")
    else:
        text = [[f"{int(v):,}" for v in row] for row in z]
        scale, extra, title = "Blues", {}, t("chart_heatmap_count")
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[r.zh if lang == "zh" else r.en for r in RISK_TIERS],
            y=[v.zh if lang == "zh" else v.en for v in VALUE_TIERS],
            text=text,
            texttemplate="%{text}",
            colorscale=scale,
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
            **extra,
        )
    )
    fig = _layout(fig, title, t("axis_risk_tier"), t("axis_value_tier"))
    fig.update_yaxes(autorange="reversed")
    return fig


def _waterfall(data: ReportData, lang: str) -> Any:
    import plotly.graph_objects as go

    if data.clv.empty:
        return _no_customers(lang)
    t = partial(lb.text, lang=lang)
    parts = [
        float(pd.to_numeric(data.clv[c], errors="coerce").sum()) / YUAN_PER_WAN
        for c in lb.COMPONENTS
    ]
    total = float(pd.to_numeric(data.clv["clv"], errors="coerce").sum()) / YUAN_PER_WAN
    names = [lb.label(c, lang) for c in lb.COMPONENTS] + [lb.label("clv", lang)]
    fig = go.Figure(
        go.Waterfall(
            x=names,
            y=[*parts, total],
            measure=["relative"] * len(parts) + ["total"],
            text=[f"{v:,.2f}" for v in [*parts, total]],
            textposition="outside",
            increasing={"marker": {"color": "#70AD47"}},
            decreasing={"marker": {"color": "#C00000"}},
            totals={"marker": {"color": _ACTUAL}},
            connector={"line": {"color": "#a6a6a6"}},
        )
    )
    return _layout(fig, t("chart_waterfall"), "", t("axis_wan"))


def _retention(data: ReportData, lang: str) -> Any:
    import plotly.graph_objects as go

    frame = _diagnostic(data, "retention_curves", lang)
    if isinstance(frame, str):
        return frame
    t = partial(lb.text, lang=lang)
    frame = frame.assign(
        month=pd.to_numeric(frame["month"], errors="coerce"),
        survival=pd.to_numeric(frame["survival"], errors="coerce"),
    )
    order = [s.code for s in SEGMENTS]
    codes = sorted(
        frame["segment"].astype(str).unique(),
        key=lambda c: (order.index(c) if c in order else len(order), c),
    )
    fig = go.Figure()
    for code in codes:
        part = frame[frame["segment"].astype(str) == code].sort_values("month")
        fig.add_trace(
            go.Scatter(
                x=part["month"],
                y=part["survival"],
                mode="lines",
                name=lb.value_label("segment", code, lang),
            )
        )
    fig = _layout(fig, t("chart_retention"), t("axis_month"), t("axis_survival"))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    fig.update_layout(legend={"orientation": "v", "y": 1, "x": 1.02})
    return fig


def _btyd_tracking(data: ReportData, lang: str) -> Any:
    import plotly.graph_objects as go

    frame = _diagnostic(data, "btyd_tracking", lang)
    if isinstance(frame, str):
        return frame
    t = partial(lb.text, lang=lang)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=frame["period"],
            y=frame["actual"],
            mode="lines",
            name=t("actual"),
            line={"color": _ACTUAL},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=frame["period"],
            y=frame["predicted"],
            mode="lines",
            name=t("predicted"),
            line={"color": _PREDICTED, "dash": "dash"},
        )
    )
    return _layout(fig, t("chart_btyd_tracking"), t("axis_period"), t("axis_cum_transactions"))


def _btyd_calibration(data: ReportData, lang: str) -> Any:
    import plotly.graph_objects as go

    frame = _diagnostic(data, "btyd_calibration", lang)
    if isinstance(frame, str):
        return frame
    t = partial(lb.text, lang=lang)
    x = frame["frequency"].astype(str)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=frame["actual"], name=t("actual"), marker_color=_ACTUAL))
    fig.add_trace(go.Bar(x=x, y=frame["predicted"], name=t("predicted"), marker_color=_PREDICTED))
    fig = _layout(fig, t("chart_btyd_calibration"), t("axis_frequency"), t("axis_holdout"))
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    return fig


def _pd_calibration(data: ReportData, lang: str) -> Any:
    import plotly.graph_objects as go

    frame = _diagnostic(data, "pd_calibration", lang)
    if isinstance(frame, str):
        return frame
    t = partial(lb.text, lang=lang)
    x = frame["grade"].astype(str)
    extra = [c for c in ("customers", "defaults", "verdict") if c in frame.columns]
    names = {"customers": t("axis_customers"), "defaults": t("defaults"), "verdict": t("verdict")}
    hover = "%{x}: %{y:.3%}" + "".join(
        f"<br>{names[c]}: %{{customdata[{i}]}}" for i, c in enumerate(extra)
    )
    custom = frame[extra].astype(str).to_numpy() if extra else None
    fig = go.Figure()
    for column, name, color in (
        ("mean_pd", t("mean_pd"), _PREDICTED),
        ("default_rate", t("default_rate"), _ACTUAL),
    ):
        fig.add_trace(
            go.Bar(
                x=x,
                y=frame[column],
                name=name,
                marker_color=color,
                customdata=custom,
                hovertemplate=hover + f"<extra>{name}</extra>",
            )
        )
    fig = _layout(fig, t("chart_pd_calibration"), t("axis_grade"), t("axis_rate"))
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".1%")
    return fig


_FIGURES: dict[str, Any] = {
    "clv_distribution": _clv_distribution,
    "lorenz": _lorenz,
    "value_risk_heatmap_count": lambda data, lang: _heatmap(data, lang, None),
    "value_risk_heatmap_value": lambda data, lang: _heatmap(data, lang, "clv"),
    "clv_waterfall": _waterfall,
    "retention_curves": _retention,
    "btyd_tracking": _btyd_tracking,
    "btyd_calibration": _btyd_calibration,
    "pd_calibration": _pd_calibration,
}
"""Chart id → ``(data, lang) → plotly figure``, or a ``str``: why there is nothing to draw."""
