"""Rewrite rules, one module each; :mod:`planner.rewrite` applies them in order."""
