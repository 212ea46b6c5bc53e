"""A bank's own column names and codes, translated into the contract by a YAML mapping file.

Example (``docs/mapping.md`` has the full reference)::

    version: 1
    tables:
      facilities:
        files: ["授信明细*", "loan_book_*"]     # file-name patterns that hold this table
        columns:                                # bank column -> contract column
          借据号: facility_id
          客户编号: customer_id
        values:                                 # contract column -> {bank value: contract value}
          product:
            流贷: working_capital
          classification:
            "1": normal
            "2": special_mention

Without a mapping, a file's header may use the contract's column names (any letter case) or
their Chinese labels, and enumerations accept codes and labels (see the data contract).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lendvalue.contract import TABLES, TABLES_BY_NAME, Column, Table
from lendvalue.errors import DataContractError, MappingError


class TableMapping(BaseModel):
    """How one contract table appears in the bank's files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: tuple[str, ...] = Field(default=(), description="glob patterns on file names")
    columns: dict[str, str] = Field(default_factory=dict, description="bank column -> contract")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="contract column -> {bank value: contract value}"
    )

    @field_validator("values", mode="before")
    @classmethod
    def _codes_as_text(cls, raw: Any) -> Any:
        """YAML reads ``1: normal`` with an integer key; codes are compared as text."""
        if not isinstance(raw, dict):
            return raw
        return {
            str(col): {str(k): str(v) for k, v in codes.items()}
            if isinstance(codes, dict)
            else codes
            for col, codes in raw.items()
        }


class Mapping(BaseModel):
    """A whole mapping file: one :class:`TableMapping` per contract table that needs one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=1, ge=1, le=1)
    tables: dict[str, TableMapping] = Field(default_factory=dict)

    def for_table(self, table: str) -> TableMapping:
        return self.tables.get(table, TableMapping())


EMPTY_MAPPING = Mapping()


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; every table and contract column it names must exist."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read the mapping file: {exc}") from exc
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise MappingError(f"{path}: {where}: {err['msg']}") from exc
    for name, tm in mapping.tables.items():
        if name not in TABLES_BY_NAME:
            raise MappingError(
                f"{path}: tables.{name}: not a contract table; expected one of "
                + ", ".join(TABLES_BY_NAME)
            )
        table = TABLES_BY_NAME[name]
        for bank_col, contract_col in tm.columns.items():
            if contract_col not in table.column_names:
                raise MappingError(
                    f"{path}: tables.{name}.columns.{bank_col}: {contract_col!r} is not a column "
                    f"of {name}; expected one of {', '.join(table.column_names)}"
                )
        for contract_col in tm.values:
            if contract_col not in table.column_names:
                raise MappingError(
                    f"{path}: tables.{name}.values.{contract_col}: not a column of {name}"
                )
    return _with_enum_codes(mapping, path)


def _with_enum_codes(mapping: Mapping, path: Path) -> Mapping:
    """Recode targets written as a label (``固定资产贷款``) or in another case (``Normal``) become
    the contract code; a target that is no code of the enumeration is a mapping error."""
    tables = {}
    for name, tm in mapping.tables.items():
        table = TABLES_BY_NAME[name]
        values = {}
        for col_name, codes in tm.values.items():
            col = table.column(col_name)
            if not col.enum:
                values[col_name] = codes
                continue
            aliases = {
                alias.casefold(): code.code
                for code in col.enum
                for alias in (code.code, code.zh, code.en, *code.aliases)
            }
            fixed = {}
            for bank, ours in codes.items():
                if ours.strip().casefold() not in aliases:
                    raise MappingError(
                        f"{path}: tables.{name}.values.{col_name}.{bank}: {ours!r} is not a code "
                        f"of {name}.{col_name}; expected one of {', '.join(col.enum_codes)}"
                    )
                fixed[bank] = aliases[ours.strip().casefold()]
            values[col_name] = fixed
        tables[name] = tm.model_copy(update={"values": values})
    return mapping.model_copy(update={"tables": tables})


def _label_stem(label: str) -> str:
    """``授信额度(元)`` -> ``授信额度``: a header may omit the unit."""
    return label.split("(")[0].strip()


def header_names(col: Column) -> set[str]:
    """Header spellings recognised for a contract column without a mapping (compared after
    ``casefold``): its name, its Chinese label and that label without the unit."""
    return {col.name.casefold(), col.zh.casefold(), _label_stem(col.zh).casefold()}


def resolve_columns(
    table: Table, source_columns: list[str], mapping: TableMapping, source: str
) -> tuple[dict[str, str], list[str]]:
    """Match a file's header to the contract.

    Returns ``{contract column: source column}`` for the columns present and the list of source
    columns that match nothing (ignored, reported in the load record). Raises
    ``DataContractError`` naming the file when a required column is missing or two source columns
    claim the same contract column.
    """
    found: dict[str, str] = {}
    ignored: list[str] = []
    explicit = {k.strip(): v for k, v in mapping.columns.items()}
    by_header = {h: c.name for c in table.columns for h in header_names(c)}
    for src in source_columns:
        target = explicit.get(src.strip()) or by_header.get(src.strip().casefold())
        if target is None:
            ignored.append(src)
            continue
        if target in found:
            raise DataContractError(
                f"{source}: columns {found[target]!r} and {src!r} both map to "
                f"{table.name}.{target}; keep one or fix the mapping"
            )
        found[target] = src
    missing = [c.name for c in table.columns if c.required and c.name not in found]
    if missing:
        raise DataContractError(
            f"{source}: table {table.name} is missing required column(s) {', '.join(missing)}; "
            f"the file has {', '.join(source_columns)}. Rename the header or add the columns to "
            "the mapping file (--mapping)"
        )
    return found, ignored


def table_for_file(path: Path, mapping: Mapping) -> str | None:
    """The contract table a file holds, judged by its name: a mapping pattern first, then the
    longest table name or alias the file name starts with (``facilities_2025-06.csv``)."""
    name = path.name
    for table, tm in mapping.tables.items():
        if any(fnmatch.fnmatch(name, pat) for pat in tm.files):
            return table
    stem = path.name.split(".")[0].casefold()
    best: tuple[int, str] | None = None
    for candidate in TABLES:
        for alias in (candidate.name, *candidate.aliases):
            a = alias.casefold()
            if not stem.startswith(a):
                continue
            boundary = len(stem) == len(a) or not stem[len(a)].isalpha()
            if boundary and (best is None or len(a) > best[0]):
                best = (len(a), candidate.name)
    return best[1] if best else None
