"""lendvalue — risk-adjusted customer lifetime value for corporate lending and project finance.

``import lendvalue as lv``: the names below are the public API; everything else may change.
"""

from lendvalue.contract import TABLES, get_table, is_valid_uscc
from lendvalue.errors import (
    ConfigError,
    ConvergenceError,
    DataContractError,
    InfeasibleError,
    LendvalueError,
    MappingError,
    NotFittedError,
    StoreError,
)
from lendvalue.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)
from lendvalue.settings import Settings, get_settings
from lendvalue.warehouse.ingest import LoadResult, ingest_paths
from lendvalue.warehouse.mapping import Mapping, load_mapping
from lendvalue.warehouse.rfm import rfm_summary
from lendvalue.warehouse.status import store_status
from lendvalue.warehouse.store import connect

__version__ = "0.1.0"

__all__ = [
    "TABLES",
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "ConfigError",
    "ConvergenceError",
    "DataContractError",
    "GammaGammaModel",
    "InfeasibleError",
    "LendvalueError",
    "LoadResult",
    "Mapping",
    "MappingError",
    "ModifiedBetaGeoModel",
    "NotFittedError",
    "ParetoNBDModel",
    "Settings",
    "StoreError",
    "__version__",
    "connect",
    "get_settings",
    "get_table",
    "ingest_paths",
    "is_valid_uscc",
    "load_mapping",
    "rfm_summary",
    "store_status",
]
