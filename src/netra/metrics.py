"""Prometheus metrics, in a registry of this app instance (no process-global collectors)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from netra.questions.usage import ModelUsage
    from netra.runtime.runner import Runner


class Metrics:
    def __init__(self, runner: Runner) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "netra_http_requests",
            "HTTP requests answered",
            ["method", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "netra_http_request_seconds", "HTTP request duration", registry=self.registry
        )
        self.ws_connections = Gauge(
            "netra_ws_connections", "open WebSocket connections", registry=self.registry
        )
        self.ws_messages = Counter(
            "netra_ws_messages", "client WebSocket messages", ["type"], registry=self.registry
        )
        self.ws_errors = Counter(
            "netra_ws_errors", "error messages sent", ["code"], registry=self.registry
        )
        runs = Gauge("netra_runs_active", "runs executing in this process", registry=self.registry)
        runs.set_function(lambda: len(runner.queue))
        finished = Gauge(
            "netra_runs_finished", "runs ended by this process", ["status"], registry=self.registry
        )
        for status in ("completed", "failed", "cancelled"):
            finished.labels(status).set_function(partial(runner.finished_runs.__getitem__, status))

        self.llm_tokens = Counter(
            "netra_llm_tokens",
            "tokens of the configured language model (NETRA_LLM_MODEL)",
            ["model", "direction"],
            registry=self.registry,
        )
        self.llm_cost = Counter(
            "netra_llm_cost_usd",
            "priced cost of the configured language model, USD",
            ["model"],
            registry=self.registry,
        )

    def record_llm(self, usage: ModelUsage) -> None:
        """Count one question's model usage (a model the catalog cannot price adds no cost)."""
        self.llm_tokens.labels(usage.model, "input").inc(usage.input_tokens)
        self.llm_tokens.labels(usage.model, "output").inc(usage.output_tokens)
        self.llm_cost.labels(usage.model).inc(usage.cost_usd or 0.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
