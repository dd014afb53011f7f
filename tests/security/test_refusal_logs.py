"""Refusals are not errors in the log.

A session of ordinary refusals (each of the codes a caller meets every day) writes nothing at
WARNING or above; each refusal is one INFO line with its code and the request id. Only an
unexpected error would log at ERROR (with its traceback), which is what the SpyneHttp5xx runbook
tells operators to search for.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.support.harness import Gateway

PREVIEW = "mutation($sql: String!) { previewQuery(input: {sql: $sql}) { id guardrails { type requiresOverride } } }"
EXECUTE = "mutation($id: ID!) { executeQuery(previewId: $id, overrides: []) { rowCount } }"


async def _post(gw: Gateway, request_id: str, body: Any, role: str | None = "VIEWER",
                content_type: str = "application/json") -> dict[str, Any]:
    headers = {"x-request-id": request_id, "content-type": content_type}
    if role is not None:
        headers["Authorization"] = f"Bearer {gw.token(role)}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await gw.client.post("/graphql", content=content, headers=headers)
    result: dict[str, Any] = response.json()
    return result


async def test_a_session_of_refusals_logs_nothing_at_error(hostile: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    blocked = await hostile.ok(PREVIEW, {"sql": "SELECT COUNT(*) AS n FROM products, customers"}, role="VIEWER")
    preview_id = blocked["previewQuery"]["id"]
    session: dict[str, tuple[str, Any, str | None]] = {
        "FORBIDDEN": ("req-forbidden", {"query": "mutation { setSystemMode(mode: INGESTION_READY) }"}, "VIEWER"),
        "TABLE_NOT_FOUND": ("req-table", {"query": PREVIEW, "variables": {"sql": "SELECT * FROM nowhere"}}, "VIEWER"),
        "NOT_A_QUERY": ("req-write", {"query": PREVIEW, "variables": {"sql": "DELETE FROM customers"}}, "VIEWER"),
        "GUARDRAIL_BLOCKED": ("req-guard", {"query": EXECUTE, "variables": {"id": preview_id}}, "VIEWER"),
        "UNAUTHENTICATED": ("req-anon", {"query": "{ me { email } }"}, None),
        "INVALID_INPUT": ("req-invalid", {"query": "{ systemMod }"}, "VIEWER"),
        "PREVIEW_NOT_FOUND": ("req-preview", {"query": EXECUTE, "variables": {"id": "nope"}}, "VIEWER"),
        "MODE_DISABLED": ("req-mode", {"query": 'mutation { ingest(contractId: "x", records: []) { runId } }'}, "ADMIN"),
    }
    caplog.set_level(logging.INFO)
    caplog.clear()
    for code, (request_id, body, role) in session.items():
        answer = await _post(hostile, request_id, body, role)
        assert answer["errors"][0]["extensions"]["code"] == code, answer
    http_refusal = await _post(hostile, "req-batch", [{"query": "{ me { email } }"}])
    assert http_refusal["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    bad_token = await hostile.client.post("/graphql", json={"query": "{ me { email } }"},
                                          headers={"Authorization": "Bearer not.a.token", "x-request-id": "req-token"})
    assert bad_token.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not loud, [(r.name, r.levelname, r.getMessage()) for r in loud]
    assert not any(r.exc_info for r in caplog.records)
    refusals = {(getattr(r, "code", None), getattr(r, "request_id", None)) for r in caplog.records
                if r.levelno == logging.INFO and getattr(r, "code", None)}
    expected = {(code, request_id) for code, (request_id, _, _) in session.items()}
    expected |= {("INVALID_INPUT", "req-batch"), ("UNAUTHENTICATED", "req-token")}
    assert expected <= refusals, expected - refusals
