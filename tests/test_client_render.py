"""The preview as a terminal shows it: the words read right for one row and for a join without condition."""

from __future__ import annotations

from gateway.client import render_preview

BASE = {"tablesUsed": [{"name": "orders", "version": 2, "state": "ACTIVE", "rowCount": 1}], "filters": [],
        "aggregations": [], "assumptions": [], "guardrails": [], "sql": "SELECT 1"}


def test_one_row_is_singular() -> None:
    text = render_preview({**BASE, "estimatedRows": 1, "joins": []})
    assert "Estimate: 1 row\n" in text and "(ACTIVE, 1 row)" in text
    assert "Estimate: 2,000 rows" in render_preview({**BASE, "estimatedRows": 2000, "joins": []})


def test_join_without_condition_says_so() -> None:
    join = {"joinId": None, "version": None, "joinType": "CROSS", "condition": None, "accepted": False,
            "leftTable": "products", "rightTable": "customers"}
    text = render_preview({**BASE, "estimatedRows": 5, "joins": [join]})
    assert "None" not in text
    assert "Join: products CROSS JOIN customers with no condition" in text


def test_join_with_condition_names_both_tables_and_its_status() -> None:
    join = {"joinId": "j1", "version": 2, "joinType": "INNER", "condition": "o.customer_id = c.id", "accepted": True,
            "leftTable": "orders", "rightTable": "customers"}
    text = render_preview({**BASE, "estimatedRows": 5, "joins": [join]})
    assert "Join: orders INNER JOIN customers ON o.customer_id = c.id — accepted join j1 v2" in text
