"""Guardrails: one module each, each a pure function of :class:`planner.guardrails.base.Facts`.

The order they run in lives in :mod:`planner.guardrails.registry`; the thresholds, as data, in
:mod:`planner.guardrails.thresholds`. This package's ``__init__`` imports nothing so that the
thresholds can be imported by the value types without a cycle.
"""
