"""Reporting: the 客户终身价值管理表 as an Excel workbook, CSV/Parquet exports at full precision
and a self-contained HTML report with charts, in Chinese or English (docs/reporting.md).

```python
from lendvalue.monitoring.store import load_report_data
from lendvalue.reporting import write_clv_workbook, write_exports, write_html_report

data = load_report_data(con)                          # the latest snapshot
write_clv_workbook(data, "out/clv_2025-06-30.xlsx")   # lang="en" for English
write_exports(data, "out")                            # clv_table_/alerts_<date>.csv/.parquet
write_html_report(data, "out/clv_2025-06-30.html")
```

The writers are imported on first use: :mod:`lendvalue.monitoring.store` imports
:mod:`lendvalue.reporting.data`, and the pipeline should not pay for xlsxwriter and plotly.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from lendvalue.reporting.data import ALERT_COLUMNS, CLV_TABLE_COLUMNS, ReportData

if TYPE_CHECKING:
    from lendvalue.reporting.html import CHART_IDS, write_html_report
    from lendvalue.reporting.labels import definition, label
    from lendvalue.reporting.xlsx import customer_columns, write_clv_workbook, write_exports

__all__ = [
    "ALERT_COLUMNS",
    "CHART_IDS",
    "CLV_TABLE_COLUMNS",
    "ReportData",
    "customer_columns",
    "definition",
    "label",
    "write_clv_workbook",
    "write_exports",
    "write_html_report",
]

_LAZY = {
    "CHART_IDS": "lendvalue.reporting.html",
    "write_html_report": "lendvalue.reporting.html",
    "definition": "lendvalue.reporting.labels",
    "label": "lendvalue.reporting.labels",
    "customer_columns": "lendvalue.reporting.xlsx",
    "write_clv_workbook": "lendvalue.reporting.xlsx",
    "write_exports": "lendvalue.reporting.xlsx",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lendvalue.reporting' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
