"""The analyses of a stored dataset: summary, breakdowns, findings, savings, recommendations."""
