"""What the assumption-driven stages share (credit risk, valuation): YAML configuration tables
validated by pydantic — loaded from a package's ``defaults/`` folder unless the caller passes
another — and the checks of numeric and coded array inputs at public entry points."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import BaseModel, ValidationError

from lendvalue.errors import ConfigError, DataContractError

Array = npt.NDArray[np.float64]
FloatOrArray = float | Array
TableT = TypeVar("TableT", bound=BaseModel)
TableT2 = TypeVar("TableT2")
TableSource = str | os.PathLike[str] | Mapping[str, Any] | BaseModel | None
"""Where a configuration table comes from: ``None`` (the package default), a YAML path, a
mapping with the YAML's content, or an already-validated table object."""


# --------------------------------------------------------------------------- YAML tables


def load_table(
    model: type[TableT],
    source: TableSource,
    default_filename: str,
    *,
    package: str = "lendvalue.models.credit",
) -> TableT:
    """Read and validate a YAML configuration table.

    ``source`` is ``None`` (the default ``<package>/defaults/<default_filename>``, read once),
    a path to a YAML file, a mapping, or an instance of ``model`` (returned as is). Any problem
    raises :class:`~lendvalue.errors.ConfigError` naming the file and the field.
    """
    if isinstance(source, model):
        return source
    if isinstance(source, BaseModel):
        raise ConfigError(
            f"expected a {model.__name__} table, a YAML path or a mapping; got a "
            f"{type(source).__name__}"
        )
    if source is None:
        return _cached_default(model, package, default_filename)
    if isinstance(source, Mapping):
        return _validate(model, source, "<mapping>")
    return _read(model, Path(source))


def _read(model: type[TableT], path: Path) -> TableT:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the {model.__name__} YAML: {exc}; pass a readable YAML file "
            "or None for the packaged default"
        ) from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{path}: expected a YAML mapping at the top level (version: 1, ...), "
            f"got {type(raw).__name__}"
        )
    return _validate(model, raw, str(path))


def _validate(model: type[TableT], raw: Mapping[str, Any], where: str) -> TableT:
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{field}: {msg} (got {err.get('input')!r})")
        raise ConfigError(
            f"{where}: invalid {model.__name__} table — "
            + "; ".join(problems)
            + ". Fix these fields or pass None for the packaged default."
        ) from exc


@lru_cache(maxsize=16)
def _cached_default(model: type[TableT], package: str, filename: str) -> TableT:
    path = Path(str(resources.files(package) / "defaults" / filename))
    return _read(model, path)


def exact_keys(value: Mapping[str, TableT2], expected: Sequence[str], what: str
               ) -> Mapping[str, TableT2]:  # fmt: skip
    """``value`` when its keys are exactly ``expected``; else a ``ValueError`` (pydantic turns it
    into the field's error) naming the missing and unknown keys."""
    missing = [k for k in expected if k not in value]
    extra = [k for k in value if k not in expected]
    if missing or extra:
        raise ValueError(
            f"needs exactly the {what} {', '.join(expected)}; missing {missing}, unknown {extra}"
        )
    return value


# --------------------------------------------------------------------------- array inputs


def as_float_array(name: str, value: npt.ArrayLike) -> Array:
    """``value`` as float64, or a :class:`DataContractError` naming ``name``."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataContractError(f"{name} must be numeric, got {value!r}") from exc


def check_range(
    name: str,
    arr: Array,
    low: float,
    high: float,
    *,
    allow_nan: bool = False,
    hint: str = "",
) -> None:
    """Raise naming ``name`` when a value lies outside [low, high] (or is NaN/inf)."""
    values = arr[~np.isnan(arr)] if allow_nan else arr
    bad = ~np.isfinite(values) | (values < low) | (values > high)
    if bad.any():
        first = float(values[bad].ravel()[0])
        count = int(bad.sum())
        more = f" ({count} values)" if count > 1 else ""
        raise DataContractError(
            f"{name} must lie in [{low:g}, {high:g}]"
            + (" or be NaN" if allow_nan else " and be finite")
            + f"; got {first!r}{more}. {hint}".rstrip()
        )


def scalar_or_array(out: Array, *inputs: npt.ArrayLike) -> FloatOrArray:
    """``float`` when every input was a scalar, else the array."""
    if all(np.ndim(v) == 0 for v in inputs):
        return float(out)
    return out


def lookup_codes(name: str, codes: npt.NDArray[Any], values: Mapping[str, float]) -> Array:
    """Map an array of codes to floats; unknown codes raise naming them and the valid ones."""
    flat = codes.ravel()
    uniques, inverse = np.unique(flat.astype(str), return_inverse=True)
    unknown = [str(u) for u in uniques if u not in values]
    if unknown:
        raise DataContractError(
            f"unknown {name} code(s) {unknown[:5]}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            + f"; valid codes are {', '.join(values)}. Map the bank's codes to these first "
            "(see the data contract) or pass a table that defines them."
        )
    mapped = np.array([values[u] for u in uniques], dtype=np.float64)
    return mapped[inverse].reshape(codes.shape)
