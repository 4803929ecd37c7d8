"""Purchase logs as canonical transactions tables: loaders, cleaning reports, splits.

See ``docs/data.md``. Everything here is pandas; nothing is read at import time.
"""

from cartgym.data.bundled_logs import logs_of, training_logs
from cartgym.data.complete_journey import load_complete_journey
from cartgym.data.loaders import load_transactions
from cartgym.data.online_retail import load_online_retail, online_retail_item_names
from cartgym.data.report import CleaningReport, Transactions
from cartgym.data.schema import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, DataError, validate
from cartgym.data.split import (
    GROUPS,
    TemporalSplit,
    temporal_split,
    user_groups,
    user_split,
    users_in,
)

__all__ = [
    "GROUPS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "CleaningReport",
    "DataError",
    "TemporalSplit",
    "Transactions",
    "load_complete_journey",
    "load_online_retail",
    "load_transactions",
    "logs_of",
    "online_retail_item_names",
    "temporal_split",
    "training_logs",
    "user_groups",
    "user_split",
    "users_in",
    "validate",
]
