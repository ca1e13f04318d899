"""Demo usage data: the demo company and the seeded generator (DATA.md section 5)."""
