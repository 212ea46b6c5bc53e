"""Settings, read once from the environment and passed explicitly from there on.

``LENDVALUE_DB`` — path of the DuckDB warehouse file (default ``./lendvalue.duckdb``).
``LENDVALUE_LANG`` — ``zh`` (default) or ``en`` for labels in reports and messages.
``LENDVALUE_THREADS`` — DuckDB worker threads (default: all cores).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lendvalue.errors import ConfigError


class Settings(BaseModel):
    """Process-wide settings. Build one with :func:`get_settings` or directly in tests."""

    model_config = ConfigDict(frozen=True)

    db_path: Path = Field(default=Path("lendvalue.duckdb"), description="DuckDB warehouse file")
    lang: Literal["zh", "en"] = Field(default="zh", description="label language")
    threads: int | None = Field(default=None, ge=1, description="DuckDB threads; None = all")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from ``LENDVALUE_*`` environment variables, read once per process."""
    raw: dict[str, object] = {}
    if db := os.environ.get("LENDVALUE_DB"):
        raw["db_path"] = db
    if lang := os.environ.get("LENDVALUE_LANG"):
        raw["lang"] = lang
    if threads := os.environ.get("LENDVALUE_THREADS"):
        raw["threads"] = threads
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(
            f"environment variable LENDVALUE_{str(first['loc'][0]).upper()}: {first['msg']}"
        ) from exc
