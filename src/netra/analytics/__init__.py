"""The analytics engine: usage files in, priced analyses out (DATA.md).

Every function is synchronous (DuckDB) and takes a dataset path; callers in the event loop
run them in a worker thread. This list is the public API the agents' tools use.

The engine (DuckDB, pyarrow, numpy and the price catalog: ~100 MiB) is imported on first
use, not with the server: a server that only ever chats never loads it. Callers touch these
names inside their worker thread, so the one-time import never blocks the event loop.

The engine's layout: ``schema`` (the stored usage record), ``connection`` (opening a stored
dataset for analysis), ``result`` (what every analysis returns); ``ingest/`` (usage files in:
formats, exports and their mapping, the pipeline, the dataset file writer, prompt keys);
``prices/`` (the catalog, pricing a dataset, cheaper siblings); ``analyses/`` (summary,
breakdowns, findings, savings and their cells, recommendations); ``demo/`` (the demo company
and its generated data).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> (module, attribute). No public name is also a submodule's name: once a
# submodule is imported, Python sets it as the package attribute of that name.
_WHERE = {
    "open_dataset": "connection",
    "daily_trend": "analyses.breakdowns",
    "feature_growth": "analyses.breakdowns",
    "spend_breakdown": "analyses.breakdowns",
    "user_cost": "analyses.breakdowns",
    "anomalies": "analyses.findings",
    "latency_percentiles": "analyses.findings",
    "recommend": "analyses.recommendations",
    "DatasetSummary": "result",
    "summarize": "analyses.summary",
    "write_demo": "demo.generator",
    "IngestResult": "ingest.pipeline",
    "ingest_file": "ingest.pipeline",
    "cheapest_model": "prices.catalog",
    "resolve_model": "prices.catalog",
    "search_catalog": "prices.catalog",
}
_ATTRIBUTE = {"recommend": "recommendations", "resolve_model": "resolve"}
__all__ = [
    "DatasetSummary",
    "IngestResult",
    "anomalies",
    "cheapest_model",
    "daily_trend",
    "feature_growth",
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
    from netra.analytics.analyses.breakdowns import (
        daily_trend,
        feature_growth,
        spend_breakdown,
        user_cost,
    )
    from netra.analytics.analyses.findings import anomalies, latency_percentiles
    from netra.analytics.analyses.recommendations import recommendations as recommend
    from netra.analytics.analyses.summary import summarize
    from netra.analytics.connection import open_dataset
    from netra.analytics.demo.generator import write_demo
    from netra.analytics.ingest.pipeline import IngestResult, ingest_file
    from netra.analytics.prices.catalog import cheapest_model, search_catalog
    from netra.analytics.prices.catalog import resolve as resolve_model
    from netra.analytics.result import DatasetSummary


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'netra.analytics' has no attribute {name!r}")
    module = importlib.import_module(f"netra.analytics.{_WHERE[name]}")
    value = getattr(module, _ATTRIBUTE.get(name, name))
    globals()[name] = value
    return value
