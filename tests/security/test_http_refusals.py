"""Every refusal at /graphql is JSON with ``extensions.code`` — also those that never become a
GraphQL operation (strawberry answers them with plain text). Each case asserts the status, the
code, a request id, and that nothing changed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from tests.security.snapshot import unchanged
from tests.support.harness import Gateway

SET_MODE = "mutation { setSystemMode(mode: INGESTION_READY) }"


@dataclass(frozen=True)
class Refusal:
    id: str
    method: str
    status: int
    code: str
    body: bytes = b""
    content_type: str = "application/json"
    params: dict[str, str] = field(default_factory=dict)
    role: str | None = "ADMIN"


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


REFUSALS = [
    Refusal("batch-of-mutations", "POST", 400, "INVALID_INPUT", _json([{"query": SET_MODE}] * 3)),
    Refusal("batch-of-one", "POST", 400, "INVALID_INPUT", _json([{"query": "{ systemMode }"}])),
    Refusal("empty-batch", "POST", 400, "INVALID_INPUT", b"[]"),
    Refusal("get-mutation", "GET", 400, "INVALID_INPUT", params={"query": SET_MODE}),
    Refusal("get-mutation-named", "GET", 400, "INVALID_INPUT",
            params={"query": "query Q { systemMode } mutation M { setSystemMode(mode: INGESTION_READY) }",
                    "operationName": "M"}),
    Refusal("text-plain-body", "POST", 400, "INVALID_INPUT", SET_MODE.encode(), content_type="text/plain"),
    Refusal("form-body", "POST", 400, "INVALID_INPUT", b"query=" + SET_MODE.encode(),
            content_type="application/x-www-form-urlencoded"),
    Refusal("application-graphql-body", "POST", 400, "INVALID_INPUT", SET_MODE.encode(),
            content_type="application/graphql"),
    Refusal("no-content-type", "POST", 400, "INVALID_INPUT", _json({"query": SET_MODE}), content_type=""),
    Refusal("bad-json", "POST", 400, "INVALID_INPUT", b'{"query": "mutation {'),
    Refusal("json-not-utf8", "POST", 400, "INVALID_INPUT", b'{"query": "\xff\xfe"}'),
    Refusal("json-scalar", "POST", 400, "INVALID_INPUT", b"42"),
    Refusal("query-not-a-string", "POST", 400, "INVALID_INPUT", _json({"query": ["mutation"]})),
    Refusal("variables-not-an-object", "POST", 400, "INVALID_INPUT", _json({"query": SET_MODE, "variables": [1]})),
    Refusal("no-query", "POST", 400, "INVALID_INPUT", _json({"variables": {}})),
    Refusal("unknown-operation-name", "POST", 400, "INVALID_INPUT",
            _json({"query": SET_MODE, "operationName": "Unknown"})),
    Refusal("unknown-operation-name-over-get", "GET", 400, "INVALID_INPUT",
            params={"query": "query Q { systemMode }", "operationName": "U"}),
    Refusal("subscription-over-post", "POST", 400, "INVALID_INPUT",
            _json({"query": "subscription { events { __typename } }"})),
    Refusal("subscription-over-get", "GET", 400, "INVALID_INPUT",
            params={"query": "subscription { events { __typename } }"}),
    Refusal("put-method", "PUT", 405, "INVALID_INPUT", _json({"query": SET_MODE})),
    Refusal("delete-method", "DELETE", 405, "INVALID_INPUT"),
    Refusal("anonymous-bad-json", "POST", 400, "INVALID_INPUT", b"{", role=None),
    Refusal("anonymous-batch", "POST", 400, "INVALID_INPUT", _json([{"query": SET_MODE}]), role=None),
    # Argument coercion errors that carry a path are the caller's fault too.
    Refusal("pins-null-literal", "POST", 200, "INVALID_INPUT",
            _json({"query": 'mutation { previewQuery(input: {sql: "SELECT id FROM customers", pins: null}) { id } }'}),
            role="VIEWER"),
    Refusal("pins-null-through-a-defaulted-variable", "POST", 200, "INVALID_INPUT",
            _json({"query": 'mutation($p: [PinInput!] = []) { previewQuery(input: {sql: "SELECT id FROM customers", '
                            "pins: $p}) { id } }", "variables": {"p": None}}), role="VIEWER"),
]


def test_refusal_ids_are_unique() -> None:
    assert len({r.id for r in REFUSALS}) == len(REFUSALS)


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r.id for r in REFUSALS])
async def test_an_http_refusal_is_json_with_a_code_and_changes_nothing(hostile: Gateway, refusal: Refusal) -> None:
    headers = {"x-request-id": f"req-{refusal.id}"}
    if refusal.content_type:
        headers["content-type"] = refusal.content_type
    if refusal.role is not None:
        headers["Authorization"] = f"Bearer {hostile.token(refusal.role)}"
    async with unchanged(hostile):
        response = await hostile.client.request(refusal.method, "/graphql", content=refusal.body or None,
                                                params=refusal.params, headers=headers)
    assert response.status_code == refusal.status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == refusal.code, body
    assert error["extensions"]["requestId"] == f"req-{refusal.id}"
    assert "Traceback" not in response.text and "INTERNAL" not in response.text
    assert (await hostile.ok("{ systemMode }", role="VIEWER"))["systemMode"] == "READ_ONLY"


async def test_queries_over_get_still_work(hostile: Gateway) -> None:
    response = await hostile.client.get("/graphql", params={"query": "{ systemMode }"},
                                        headers={"Authorization": f"Bearer {hostile.token('VIEWER')}"})
    assert response.json() == {"data": {"systemMode": "READ_ONLY"}}
