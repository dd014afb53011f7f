"""Spyne planner: pure SQL planning over a catalog snapshot (sqlglot + stdlib only)."""
