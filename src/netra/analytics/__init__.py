"""The analytics engine: usage files in, priced analyses out (DATA.md).

Every function is synchronous (DuckDB) and takes a dataset path; callers in the event loop
run them in a worker thread. This list is the public API the agents' tools use.

The engine (DuckDB, pyarrow, numpy and the price catalog: ~100 MiB) is imported on first
use, not with the server: a server that only ever chats never loads it. Callers touch these
names inside their worker thread, so the one-time import never blocks the event loop.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> (module, attribute). No public name is also a submodule's name: once a
# submodule is imported, Python sets it as the package attribute of that name.
_WHERE = {
    "Analysis": "analyses",
    "analyze": "analyses",
    "open_dataset": "dataset",
    "daily_trend": "breakdowns",
    "feature_growth": "breakdowns",
    "spend_breakdown": "breakdowns",
    "user_cost": "breakdowns",
    "cheapest_model": "catalog",
    "resolve_model": "catalog",
    "search_catalog": "catalog",
    "write_demo": "demo",
    "anomalies": "findings",
    "latency_percentiles": "findings",
    "IngestResult": "ingest",
    "ingest_cli": "ingest",
    "ingest_file": "ingest",
    "recommend": "recommendations",
    "DatasetSummary": "summary",
    "summarize": "summary",
}
_ATTRIBUTE = {"recommend": "recommendations", "resolve_model": "resolve"}
__all__ = [
    "Analysis",
    "DatasetSummary",
    "IngestResult",
    "analyze",
    "anomalies",
    "cheapest_model",
    "daily_trend",
    "feature_growth",
    "ingest_cli",
    "ingest_file",
    "latency_percentiles",
    "open_dataset",
    "recommend",
    "resolve_model",
    "search_catalog",
    "spend_breakdown",
    "summarize",
    "user_cost",
    "write_demo",
]

if TYPE_CHECKING:
    from netra.analytics.analyses import Analysis, analyze
    from netra.analytics.breakdowns import daily_trend, feature_growth, spend_breakdown, user_cost
    from netra.analytics.catalog import cheapest_model, search_catalog
    from netra.analytics.catalog import resolve as resolve_model
    from netra.analytics.dataset import open_dataset
    from netra.analytics.demo import write_demo
    from netra.analytics.findings import anomalies, latency_percentiles
    from netra.analytics.ingest import IngestResult, ingest_cli, ingest_file
    from netra.analytics.recommendations import recommendations as recommend
    from netra.analytics.summary import DatasetSummary, summarize


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'netra.analytics' has no attribute {name!r}")
    module = importlib.import_module(f"netra.analytics.{_WHERE[name]}")
    value = getattr(module, _ATTRIBUTE.get(name, name))
    globals()[name] = value
    return value
