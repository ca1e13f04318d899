"""The run runtime: context, event log, bus, queue, orchestrator, executor."""
