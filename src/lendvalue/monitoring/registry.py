"""The model registry: one ``model_runs`` row per fit of a snapshot — the model, its version
(lendvalue's), its parameters and standard errors, the fingerprint of the data it saw and its
validation metrics — so every number of the CLV table can be traced to the fit behind it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lendvalue import __version__


def data_fingerprint(*frames: pd.DataFrame) -> str:
    """SHA-256 of the frames' contents (row order and column names included)."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def run_record(
    model: str,
    *,
    snapshot_date: dt.date,
    params: Mapping[str, Any],
    standard_errors: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    n_obs: float,
    fingerprint: str,
) -> dict[str, Any]:
    """A ``model_runs`` row (JSON text for the mappings; NumPy values made plain)."""
    return {
        "run_id": uuid.uuid4().hex,
        "snapshot_date": pd.Timestamp(snapshot_date),
        "model": model,
        "version": __version__,
        "fitted_at": pd.Timestamp(dt.datetime.now()).floor("s"),
        "n_obs": float(n_obs),
        "params": _json(params),
        "standard_errors": _json(standard_errors or {}),
        "metrics": _json(metrics or {}),
        "data_fingerprint": fingerprint,
    }


def _json(value: Mapping[str, Any]) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return v.tolist()
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, float) and not np.isfinite(v):
            return None
        return v

    return json.dumps({str(k): plain(v) for k, v in value.items()}, ensure_ascii=False,
                      default=str)  # fmt: skip
