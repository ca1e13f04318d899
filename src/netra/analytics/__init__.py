"""The analytics engine: usage files in, priced analyses out (DATA.md).

Every function is synchronous (DuckDB) and takes a dataset path; callers in the event loop
run them in a worker thread. This list is the public API the agents' tools use.
"""

from netra.analytics.analyses import Analysis, analyze
from netra.analytics.breakdowns import daily_trend, feature_growth, spend_breakdown, user_cost
from netra.analytics.catalog import cheapest_model, search_catalog
from netra.analytics.demo import write_demo
from netra.analytics.findings import anomalies, latency_percentiles
from netra.analytics.ingest import IngestResult, ingest_cli, ingest_file
from netra.analytics.recommendations import recommendations
from netra.analytics.summary import DatasetSummary, summarize

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
    "recommendations",
    "search_catalog",
    "spend_breakdown",
    "summarize",
    "user_cost",
    "write_demo",
]
