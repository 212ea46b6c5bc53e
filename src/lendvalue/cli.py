"""The ``lendvalue`` command.

Every user error ends in one readable line on stderr and a non-zero exit code (see
:mod:`lendvalue.errors` for the codes), never a traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import duckdb
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from lendvalue.errors import LendvalueError
from lendvalue.settings import get_settings

app = typer.Typer(
    name="lendvalue",
    help="lendvalue — risk-adjusted customer lifetime value for corporate lending.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="warehouse file (default ./lendvalue.duckdb or $LENDVALUE_DB)"),
]


def user_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a ``LendvalueError`` into one line on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except LendvalueError as exc:
            _error_line(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _error_line(f"{where}{exc.strerror or exc}")
            raise typer.Exit(4) from None
        except duckdb.Error as exc:
            _error_line(f"the warehouse refused the operation: {str(exc).splitlines()[0]}")
            raise typer.Exit(4) from None
        except KeyboardInterrupt:
            err.print("interrupted; the store is as it was before the interrupted load")
            raise typer.Exit(130) from None

    return wrapper


def _error_line(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)


def _db(db: Path | None) -> Path:
    return db if db is not None else get_settings().db_path


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command()
@user_errors
def sample(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the files")] = Path("sample"),
    customers: Annotated[int, typer.Option(min=1, help="number of customers")] = 5000,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same files")] = 0,
    bad_share: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="share of bad rows to inject per table")
    ] = 0.0,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    as_of: Annotated[str | None, typer.Option(help="snapshot date, YYYY-MM-DD")] = None,
) -> None:
    """Write a synthetic corporate-bank portfolio with known true parameters (truth.json)."""
    from lendvalue.sample import DEFAULT_AS_OF, generate_sample

    if fmt not in ("csv", "parquet"):
        raise typer.BadParameter("--format must be csv or parquet")
    snapshot = _parse_date(as_of, "--as-of") if as_of else DEFAULT_AS_OF
    with _progress() as progress:
        task = progress.add_task("generating customers", total=customers)
        summary = generate_sample(
            out_dir,
            customers=customers,
            seed=seed,
            bad_share=bad_share,
            fmt=fmt,
            as_of=snapshot,
            progress=lambda done, total: progress.update(task, completed=done),
        )
    table = RichTable(title=f"sample written to {summary.out_dir}", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)
    if summary.bad_rows:
        out.print(f"{summary.bad_rows:,} bad rows injected; listed in {summary.truth_path}")


def _parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{option} expects YYYY-MM-DD, got {text!r}") from None


@app.command()
@user_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders (CSV, Parquet, XLSX)")],
    table: Annotated[
        str | None, typer.Option(help="contract table, when the name says nothing")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML column/value mapping file")] = None,
    db: DbOption = None,
    reload: Annotated[
        bool, typer.Option("--reload", help="load files again even if already loaded")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the load results as JSON")] = False,
) -> None:
    """Validate and load bank files; bad rows go to quarantine with every rule they broke."""
    from lendvalue.warehouse.ingest import LoadResult, ingest_paths
    from lendvalue.warehouse.mapping import EMPTY_MAPPING, load_mapping
    from lendvalue.warehouse.store import connect

    the_mapping = load_mapping(mapping) if mapping else EMPTY_MAPPING
    con = connect(_db(db), threads=get_settings().threads)
    results: list[LoadResult] = []
    try:
        with _progress() as progress:
            task = progress.add_task("loading", total=None)

            def show(result: LoadResult) -> None:
                progress.update(task, description=f"loaded {Path(result.source_file).name}")
                results.append(result)

            try:
                ingest_paths(
                    con, paths, table=table, mapping=the_mapping, force=reload, on_result=show
                )
            except LendvalueError:
                if results and not as_json:
                    progress.stop()
                    out.print("committed before the error (re-running skips these):")
                    _print_loads(results)
                raise
        examples = _quarantine_examples(con, [r.load_id for r in results if r.status == "loaded"])
    finally:
        con.close()
    if as_json:
        out.print_json(data=[r.as_dict() for r in results])
        return
    _print_loads(results)
    if examples:
        out.print("the first ones:")
    for line in examples:
        out.print(line, highlight=False)


def _quarantine_examples(con: Any, load_ids: list[int | None], limit: int = 5) -> list[str]:
    """``file:line  rule — meaning`` for the first quarantined rows of these loads."""
    ids = [i for i in load_ids if i is not None]
    if not ids:
        return []
    lang = get_settings().lang
    rows = con.execute(
        f"""SELECT q.source_file, q.line_number, r.rule, c.description_{lang}
            FROM quarantine q, unnest(q.rules) AS r(rule)
            LEFT JOIN contract_rules c ON c.rule_id = r.rule
            WHERE q.load_id IN ({", ".join(str(int(i)) for i in ids)})
            ORDER BY q.load_id, q.line_number LIMIT {int(limit)}"""
    ).fetchall()
    return [f"  {Path(f).name}:{line}  {rule} — {meaning}" for f, line, rule, meaning in rows]


def _print_loads(results: list[Any]) -> None:
    table = RichTable(show_edge=False)
    for col in ("load", "table", "file", "status", "read", "loaded", "quarantined", "replaced"):
        table.add_column(col, justify="right" if col in ("read", "loaded") else "left")
    for r in results:
        counts = (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_replaced)
        shown = [f"{n:,}" for n in counts] if r.status == "loaded" else ["—"] * 4
        table.add_row(str(r.load_id or "—"), r.table, Path(r.source_file).name, r.status, *shown)
    out.print(table)
    for r in results:
        if r.status == "skipped":
            out.print(f"{r.source_file}: skipped — {r.message}", highlight=False)
    quarantined = sum(r.rows_quarantined for r in results)
    if quarantined:
        out.print(
            f"{quarantined:,} rows quarantined with every rule they broke (SELECT * FROM "
            "quarantine; counts by rule: lendvalue status)"
        )


@app.command()
@user_errors
def status(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """What the store holds: rows per table, recent loads, quarantine by table and rule."""
    from lendvalue.warehouse.status import store_status
    from lendvalue.warehouse.store import connect

    con = connect(_db(db), read_only=True)
    try:
        info = store_status(con)
    finally:
        con.close()
    if as_json:
        sys.stdout.write(json.dumps(info, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    _print_status(info, get_settings().lang)


def _print_status(info: dict[str, Any], lang: str) -> None:
    tables = RichTable(title="tables", show_edge=False)
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    for name, rows in info["tables"].items():
        tables.add_row(name, f"{rows:,}")
    out.print(tables)
    loads = RichTable(title="recent loads", show_edge=False)
    for col in (
        "load",
        "table",
        "file",
        "status",
        "read",
        "loaded",
        "quarantined",
        "replaced",
        "s",
    ):
        loads.add_column(col)
    for ld in info["loads"][:10]:
        loads.add_row(
            str(ld["load_id"]),
            ld["table"],
            Path(ld["source_file"]).name,
            ld["status"],
            f"{ld['rows_read']:,}",
            f"{ld['rows_loaded']:,}",
            f"{ld['rows_quarantined']:,}",
            f"{ld['rows_replaced']:,}",
            f"{ld['seconds']}",
        )
    out.print(loads)
    if info["quarantine"]:
        q = RichTable(title="quarantine by rule", show_edge=False)
        for col in ("table", "rule", "rows", "meaning"):
            q.add_column(col)
        for row in info["quarantine"]:
            q.add_row(row["table"], row["rule"], f"{row['rows']:,}", row[lang] or "")
        out.print(q)
    verdict = "yes" if info["reconciled"] else "NO — see loads"
    out.print(f"every load reconciles (read = loaded + quarantined): {verdict}")


@app.command()
def contract() -> None:
    """Print the data contract as Markdown (the source of docs/data-contract.md)."""
    from lendvalue.contract import to_markdown

    sys.stdout.write(to_markdown())


@app.command()
@user_errors
def demo(
    db: DbOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the sample files")] = Path(
        "out/demo"
    ),
    customers: Annotated[int, typer.Option(min=1)] = 5000,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """The whole flow on a synthetic bank: sample → ingest → status → run → report."""
    from lendvalue.warehouse.store import connect

    data_dir = out_dir / "data"
    out.rule("1. sample portfolio")
    sample(out_dir=data_dir, customers=customers, seed=seed, bad_share=0.01, fmt="csv", as_of=None)
    out.rule("2. validated ingest")
    ingest(paths=[data_dir], table=None, mapping=None, db=db, reload=False, as_json=False)
    out.rule("3. what the store holds")
    status(db=db, as_json=False)
    out.rule("4. the monthly run")
    con = connect(_db(db), read_only=True)
    try:  # a synthetic bank's capital: 13% / 11% of its exposures (its books hold no capital)
        exposure = float(
            con.execute(
                "SELECT sum(drawn_amount) FROM facilities WHERE status = 'active'"
            ).fetchall()[0][0]
        )
    finally:
        con.close()
    run(
        as_of=None,
        assumptions=None,
        policy=None,
        alerts=None,
        net_capital=0.13 * exposure,
        tier1_capital=0.11 * exposure,
        bank_name="示例银行 (lendvalue demo)",
        draws=20,
        db=db,
    )
    out.rule("5. the 客户终身价值管理表 and the report")
    for language in ("zh", "en"):
        report(as_of=None, lang=language, out_dir=out_dir, bank_name=None, db=db)


def _bank_capital(net: float | None, tier1: float | None) -> dict[str, float] | None:
    """Both figures or none: the caps use 资本净额 (loans) and 一级资本净额 (exposures), and
    copying one into the other would loosen a cap."""
    if net is None and tier1 is None:
        return None
    if net is None or tier1 is None:
        from lendvalue.errors import ConfigError

        raise ConfigError("give both --net-capital-yuan (资本净额) and --tier1-capital-yuan "
                          "(一级资本净额), or neither")  # fmt: skip
    return {"net_capital_yuan": float(net), "tier1_net_capital_yuan": float(tier1)}


NetCapital = Annotated[
    float | None, typer.Option("--net-capital-yuan", help="资本净额, for the exposure caps")
]
Tier1Capital = Annotated[float | None, typer.Option("--tier1-capital-yuan", help="一级资本净额")]


@app.command()
@user_errors
def run(
    as_of: Annotated[str | None, typer.Option("--as-of", help="default: the data's date")] = None,
    assumptions: Annotated[Path | None, typer.Option(help="valuation assumptions YAML")] = None,
    policy: Annotated[Path | None, typer.Option(help="segment policy YAML")] = None,
    alerts: Annotated[Path | None, typer.Option(help="alert thresholds YAML")] = None,
    net_capital: NetCapital = None,
    tier1_capital: Tier1Capital = None,
    bank_name: Annotated[str, typer.Option("--bank-name", help="编制单位")] = "",
    draws: Annotated[int, typer.Option("--draws", min=1, help="scenarios for the band")] = 20,
    db: DbOption = None,
) -> None:
    """Value every customer for a snapshot date and write the CLV table (features → fit →
    value → segment → strategy → alerts); re-running a date replaces its snapshot."""
    from lendvalue.monitoring.alerts import load_alert_rules
    from lendvalue.pipeline import STAGES, run_snapshot
    from lendvalue.strategy.policy import load_policy
    from lendvalue.valuation import load_assumptions
    from lendvalue.warehouse.status import data_date
    from lendvalue.warehouse.store import connect

    con = connect(_db(db), threads=get_settings().threads)
    try:
        latest = data_date(con)
        day = _parse_date(as_of, "--as-of") if as_of else latest
        if day != latest:
            err.print(
                f"note: the data describe {latest}; facilities' balances, status and 五级分类 "
                f"are those of the load, so a snapshot on {day} uses them as they are now"
            )
        with _progress() as bar:
            task = bar.add_task(f"snapshot {day}", total=len(STAGES))
            seen: list[str] = []

            def advance(name: str) -> None:
                if seen:
                    bar.advance(task)
                seen.append(name)
                bar.update(task, description=f"snapshot {day}: {name}")

            summary = run_snapshot(
                con, day, assumptions=load_assumptions(assumptions), policy=load_policy(policy),
                alert_rules=load_alert_rules(alerts),
                bank_capital=_bank_capital(net_capital, tier1_capital), bank_name=bank_name,
                n_draws=draws, progress=advance,
            )  # fmt: skip
            bar.advance(task)
        _print_run(con, summary)
    finally:
        con.close()


def _print_run(con: Any, summary: Any) -> None:
    zh = get_settings().lang == "zh"
    title = (f"客户终身价值 {summary.snapshot_date}" if zh
             else f"customer lifetime value {summary.snapshot_date}")  # fmt: skip
    table = RichTable(title=title)
    for name_zh, name_en in (("客户分层", "segment"), ("客户数", "customers"),
                             ("CLV(亿元)", "CLV (100m yuan)"), ("占比", "share")):  # fmt: skip
        table.add_column(name_zh if zh else name_en,
                         justify="left" if name_en == "segment" else "right")  # fmt: skip
    rows = con.execute(
        f"""SELECT {"segment_zh" if zh else "segment_en"}, count(*), sum(clv)
            FROM clv_table WHERE snapshot_date = ? GROUP BY ALL ORDER BY 3 DESC""",
        [summary.snapshot_date],
    ).fetchall()
    total = sum(r[2] for r in rows) or 1.0
    for name, n, value in rows:
        table.add_row(str(name), f"{n:,}", f"{value / 1e8:,.2f}", f"{value / total:.1%}")
    out.print(table)
    if zh:
        out.print(f"共 {summary.customers:,} 户，CLV 合计 {summary.total_clv / 1e8:,.2f} 亿元，"
                  f"预警 {summary.alerts:,} 条，用时 {summary.seconds:.1f} 秒")  # fmt: skip
    else:
        out.print(f"{summary.customers:,} customers, total CLV {summary.total_clv / 1e8:,.2f} "
                  f"× 100m yuan, {summary.alerts:,} alerts, {summary.seconds:.1f} s")  # fmt: skip


@app.command()
@user_errors
def report(
    as_of: Annotated[str | None, typer.Option("--as-of", help="default: the latest")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="zh or en")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the report")] = Path("out"),
    bank_name: Annotated[str | None, typer.Option("--bank-name", help="编制单位")] = None,
    db: DbOption = None,
) -> None:
    """Write the 客户终身价值管理表 (xlsx), the HTML report and full-precision CSV / Parquet
    exports of a snapshot."""
    from lendvalue.monitoring.store import load_report_data
    from lendvalue.reporting import write_clv_workbook, write_exports, write_html_report
    from lendvalue.warehouse.store import connect

    language = lang or get_settings().lang
    con = connect(_db(db), read_only=True)
    try:
        day = _parse_date(as_of, "--as-of") if as_of else None
        data = load_report_data(con, day)
    finally:
        con.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"clv_{data.snapshot_date.isoformat()}_{language}"
    written = [
        write_clv_workbook(data, out_dir / f"{stem}.xlsx", lang=language, bank_name=bank_name),
        write_html_report(data, out_dir / f"{stem}.html", lang=language, bank_name=bank_name),
        *write_exports(data, out_dir),
    ]
    for path in written:
        out.print(str(path))


@app.command()
@user_errors
def price(
    customer: Annotated[str, typer.Option("--customer", help="customer_id")],
    product: Annotated[str, typer.Option("--product", help="contract product code")],
    amount: Annotated[float, typer.Option("--amount", help="requested amount, yuan")],
    tenor_months: Annotated[int, typer.Option("--tenor-months", min=1)],
    collateral: Annotated[str, typer.Option("--collateral", help="collateral_type")] = "unsecured",
    as_of: Annotated[str | None, typer.Option("--as-of", help="default: the data's date")] = None,
    net_capital: NetCapital = None,
    tier1_capital: Tier1Capital = None,
    lang: Annotated[str | None, typer.Option("--lang", help="zh or en")] = None,
    db: DbOption = None,
) -> None:
    """Price a facility for a customer, with its limit and the approve / refer / decline
    decision and reasons (LPR + spread, built up from funding, loss, cost, capital and margin)."""
    from lendvalue.strategy.application import evaluate_application
    from lendvalue.strategy.pricing import COMPLIANCE_EN, COMPLIANCE_ZH
    from lendvalue.warehouse.status import data_date
    from lendvalue.warehouse.store import connect

    language = lang or get_settings().lang
    capital = _bank_capital(net_capital, tier1_capital)
    con = connect(_db(db), read_only=True)
    try:
        day = _parse_date(as_of, "--as-of") if as_of else data_date(con)
        result = evaluate_application(
            con, customer_id=customer, product=product, amount_yuan=amount,
            tenor_months=tenor_months, as_of=day, collateral_type=collateral,
            bank_capital=capital,
        )  # fmt: skip
    finally:
        con.close()
    _print_application(result, language)
    out.print(COMPLIANCE_ZH if language == "zh" else COMPLIANCE_EN)


def _print_application(result: Any, lang: str) -> None:
    zh = lang == "zh"
    d, q, limit = result.decision, result.quote, result.limit
    out.rule(d.summary(lang))
    facts = RichTable(show_header=False, box=None)
    facts.add_row("评级 / PD" if zh else "grade / PD", f"{result.grade} / {result.pd_1y:.2%}")
    facts.add_row("五级分类" if zh else "classification", result.classification)
    facts.add_row(
        "客户分层" if zh else "segment",
        result.segment
        + (
            ""
            if result.segment_source == "clv_table"
            else (" (无CLV快照，价值层按核心)" if zh else " (no CLV snapshot: core value)")
        ),
    )
    facts.add_row(
        "可批额度" if zh else "limit",
        f"{limit['limit_yuan'] / 1e4:,.2f}万元 ({limit['binding_zh'] if zh else limit['binding']})",
    )
    facts.add_row("批准金额" if zh else "approved", f"{d.approved_yuan / 1e4:,.2f}万元")
    if q is None:
        out.print(facts)
        return
    facts.add_row("存款贡献(现值，仅供参考)" if zh else "deposit value (PV, for information)",
                  f"{q.deposit_value_yuan / 1e4:,.2f}万元")  # fmt: skip
    facts.add_row("中收贡献(现值，仅供参考)" if zh else "fee income (PV, for information)",
                  f"{q.fee_value_yuan / 1e4:,.2f}万元")  # fmt: skip
    out.print(facts)
    build = RichTable(title=("定价 " if zh else "price ") + q.price_text)
    build.add_column("构成" if zh else "component")
    build.add_column("bp", justify="right")
    labels = {
        "funding": ("资金成本(FTP)", "funding (FTP)"),
        "expected_loss": ("预期损失", "expected loss"),
        "operating_cost": ("运营成本", "operating cost"),
        "capital_charge": ("资本成本", "capital"),
        "tax": ("税", "tax"),
        "fees": ("费用收入(抵减)", "fees (offset)"),
        "margin": ("经济利润", "margin (economic profit)"),
        "rate": ("利率", "rate"),
    }
    for key, (label_zh, label_en) in labels.items():
        build.add_row(label_zh if zh else label_en, f"{q.build_up_bp[key]:,.1f}")
    out.print(build)
    if zh:
        out.print(
            f"门槛价 LPR{q.hurdle_spread_bp:+.1f}bp，盈亏平衡 LPR{q.breakeven_spread_bp:+.1f}bp，"
            f"分层调整 {q.policy_adjustment_bp:+.0f}bp，"
            f"关系优惠 {-q.relationship_discount_bp:+.1f}bp，"
            f"RAROC {q.raroc:.2%}（门槛 {q.hurdle:.0%}）"
        )
    else:
        out.print(
            f"hurdle LPR{q.hurdle_spread_bp:+.1f}bp, "
            f"break-even LPR{q.breakeven_spread_bp:+.1f}bp, "
            f"segment {q.policy_adjustment_bp:+.0f}bp, "
            f"relationship {-q.relationship_discount_bp:+.1f}bp, "
            f"RAROC {q.raroc:.2%} (hurdle {q.hurdle:.0%})"
        )


def main() -> None:
    """Entry point of the ``lendvalue`` script."""
    app()


if __name__ == "__main__":
    main()
