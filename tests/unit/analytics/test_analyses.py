"""The full optimizer answers exactly what each analysis answers on its own."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bench.analysis import analyze

from netra.analytics.analyses.breakdowns import (
    BREAKDOWNS,
    daily_trend,
    feature_growth,
    spend_breakdown,
)
from netra.analytics.analyses.findings import anomalies, latency_percentiles
from netra.analytics.analyses.recommendations import recommendations
from netra.analytics.analyses.summary import summarize
from netra.analytics.demo.generator import write_demo
from tests.unit.analytics.conftest import UsageFile


def test_analyze_equals_the_analyses_run_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "demo.parquet"
    write_demo(path, rows=5_000, seed=3)

    analysis = analyze(path, breakdown_limit=5)

    assert analysis.summary == summarize(path)
    assert analysis.breakdowns == {by: spend_breakdown(path, by, 5) for by in BREAKDOWNS}
    assert analysis.daily == daily_trend(path)
    assert analysis.feature_growth == feature_growth(path)
    assert analysis.anomalies == anomalies(path)
    assert analysis.latency == latency_percentiles(path)
    assert analysis.recommendations == recommendations(path)
    assert analyze(path, day=date(2026, 1, 15)).model_dump(mode="json")["summary"]["rows"] == 5_000


def test_an_empty_dataset_analyses_to_zeros(usage_file: UsageFile) -> None:
    analysis = analyze(usage_file())

    assert (analysis.summary.rows, analysis.summary.total_cost_usd) == (0, 0.0)
    assert analysis.summary.period_days == 1.0
    assert analysis.recommendations.items == []
    assert analysis.anomalies.items == []
    assert analysis.daily.days == []
    assert analysis.feature_growth.top is None
