"""GraphQL abuse: depth, aliases, batching, oversized documents and variables, introspection,
malformed bodies. Each is refused with its exact code (or HTTP status for what never becomes a
GraphQL request), answers cleanly (no 500, no stack trace) and changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.http.limits import DEFAULT_MAX_BODY_BYTES
from tests.security.snapshot import unchanged
from tests.support.harness import Gateway

PREVIEW_ONE = 'previewQuery(input: {sql: "SELECT id FROM customers"}) { id }'


def nested_introspection(depth: int) -> str:
    inner = "name"
    for _ in range(depth):
        inner = f"ofType {{ {inner} }}"
    return f"{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}"


def type_recursion(depth: int) -> str:
    inner = "name"
    for _ in range(depth):
        inner = f"fields {{ type {{ {inner} }} }}"
    return f'{{ __type(name: "Query") {{ {inner} }} }}'


def schema_recursion(depth: int) -> str:
    inner = "name"
    for _ in range(depth):
        inner = f"fields {{ type {{ {inner} }} }}"
    return f"{{ __schema {{ types {{ {inner} }} }} }}"


def possible_types_recursion(depth: int) -> str:
    inner = "name"
    for _ in range(depth):
        inner = f"possibleTypes {{ interfaces {{ {inner} }} }}"
    return f"{{ __schema {{ types {{ {inner} }} }} }}"


def aliases(n: int, field: str) -> str:
    return " ".join(f"a{i}: {field}" for i in range(n))


@dataclass(frozen=True)
class Abuse:
    id: str
    body: Any  # a JSON value, or raw bytes
    status: int
    code: str | None  # extensions.code of the first error; None for plain-text HTTP refusals
    role: str | None = "ADMIN"


ABUSES = [
    # The depth limit skips introspection; graphql-core's MaxIntrospectionDepthRule bounds the
    # cycles that multiply (fields → type → fields …, possibleTypes, interfaces).
    Abuse("introspection-type-fields-cycle", {"query": type_recursion(12)}, 200, "INVALID_INPUT"),
    Abuse("introspection-type-fields-cycle-viewer", {"query": type_recursion(4)}, 200, "INVALID_INPUT", role="VIEWER"),
    Abuse("introspection-schema-fields-cycle", {"query": schema_recursion(6)}, 200, "INVALID_INPUT"),
    Abuse("introspection-possible-types-cycle", {"query": possible_types_recursion(6)}, 200, "INVALID_INPUT"),
    Abuse("introspection-cycle-through-fragments",
          {"query": '{ __type(name: "Query") { ...F } } fragment F on __Type { fields { type { ...G } } } '
                    "fragment G on __Type { fields { type { ...H } } } fragment H on __Type { fields { type { ...I } } } "
                    "fragment I on __Type { fields { type { name } } }"}, 200, "INVALID_INPUT"),
    Abuse("aliases-of-a-query-field", {"query": "{ " + aliases(40, "systemMode") + " }"}, 200, "INVALID_INPUT"),
    Abuse("aliases-of-a-mutation", {"query": "mutation { " + aliases(31, PREVIEW_ONE) + " }"}, 200, "INVALID_INPUT"),
    Abuse("aliases-of-set-system-mode",
          {"query": "mutation { " + aliases(64, "setSystemMode(mode: INGESTION_READY)") + " }"}, 200, "INVALID_INPUT"),
    Abuse("tokens-over-limit", {"query": "{ " + " ".join("me { email }" for _ in range(2_000)) + " }"},
          200, "INVALID_INPUT"),
    Abuse("syntax-error", {"query": "mutation { setSystemMode(mode: INGESTION_READY) "}, 200, "INVALID_INPUT"),
    Abuse("fragment-cycle", {"query": "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"},
          200, "INVALID_INPUT"),
    Abuse("unknown-field", {"query": "{ __schema { types { name } } secrets }"}, 200, "INVALID_INPUT"),
    Abuse("variables-wrong-type",
          {"query": "mutation($m: SystemMode!) { setSystemMode(mode: $m) }", "variables": {"m": ["INGESTION_READY"]}},
          200, "INVALID_INPUT"),
    Abuse("variables-int-overflow", {"query": "query($n: Int) { tables(first: $n) { edges { node { name } } } }",
                                      "variables": {"n": 2 ** 40}}, 200, "INVALID_INPUT"),
    Abuse("variables-bad-datetime",
          {"query": "mutation($i: ReplayInput!) { replay(input: $i) { operationId } }",
           "variables": {"i": {"contractId": "x", "dedupeStrategy": "IDEMPOTENCY_KEY",
                               "timeRange": {"start": "yesterday", "end": "'; DROP TABLE customers; --"}}}},
          200, "INVALID_INPUT"),
    Abuse("variables-unknown-input-field",
          {"query": "mutation($i: PreviewQueryInput!) { previewQuery(input: $i) { id } }",
           "variables": {"i": {"sql": "SELECT id FROM customers", "skipAllChecks": True}}}, 200, "INVALID_INPUT"),
    Abuse("batch-of-mutations",
          [{"query": "mutation { setSystemMode(mode: INGESTION_READY) }"}] * 50, 400, None),
    Abuse("batch-of-previews", [{"query": "mutation { " + PREVIEW_ONE + " }"}] * 10, 400, None),
    Abuse("body-5mb-variables",
          {"query": "mutation($s: String!) { previewQuery(input: {sql: $s}) { id } }",
           "variables": {"s": "SELECT id FROM customers WHERE email = '" + "x" * 5_000_000 + "'"}},
          413, "INVALID_INPUT"),
    Abuse("body-5mb-document", {"query": "mutation { setSystemMode(mode: INGESTION_READY) }" + " " * 5_000_000},
          413, "INVALID_INPUT"),
    Abuse("body-just-over-limit", {"query": "{ me { email } }", "variables": {"pad": "x" * DEFAULT_MAX_BODY_BYTES}},
          413, "INVALID_INPUT"),
    Abuse("body-not-utf8", b"\xff\xfe{{{", 400, None),
    Abuse("body-json-scalar", b"42", 400, None),
    Abuse("body-json-string", b'"mutation { setSystemMode(mode: INGESTION_READY) }"', 400, None),
    Abuse("body-deeply-nested-json", b"[" * 100_000 + b"]" * 100_000, 400, None),
    Abuse("body-query-not-a-string", {"query": {"mutation": "setSystemMode"}}, 400, None),
    Abuse("body-variables-not-an-object",
          {"query": "mutation($m: SystemMode!) { setSystemMode(mode: $m) }", "variables": "INGESTION_READY"}, 400, None),
    Abuse("unauthenticated-mutation", {"query": "mutation { setSystemMode(mode: INGESTION_READY) }"},
          401, "UNAUTHENTICATED", role=None),
    Abuse("unauthenticated-introspection", {"query": nested_introspection(3)}, 401, "UNAUTHENTICATED", role=None),
]


def test_abuse_ids_are_unique() -> None:
    assert len({a.id for a in ABUSES}) == len(ABUSES)


async def post(gw: Gateway, body: Any, role: str | None) -> tuple[int, str]:
    headers = {"content-type": "application/json"}
    if role is not None:
        headers["Authorization"] = f"Bearer {gw.token(role)}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await gw.client.post("/graphql", content=content, headers=headers)
    return response.status_code, response.text


@pytest.mark.parametrize("abuse", ABUSES, ids=[a.id for a in ABUSES])
async def test_graphql_abuse_is_refused_and_changes_nothing(hostile: Gateway, abuse: Abuse) -> None:
    async with unchanged(hostile):
        status, text = await post(hostile, abuse.body, abuse.role)
    assert status == abuse.status, (status, text[:500])
    assert "Traceback" not in text and "Unexpected error" not in text
    if abuse.code is not None:
        body = json.loads(text)
        assert body.get("data") is None, body
        assert [e["extensions"]["code"] for e in body["errors"]][:1] == [abuse.code], body["errors"]
    mode = await hostile.ok("{ systemMode }", role="VIEWER")
    assert mode["systemMode"] == "READ_ONLY"


async def test_a_mutation_over_get_is_refused_and_changes_nothing(hostile: Gateway) -> None:
    async with unchanged(hostile):
        response = await hostile.client.get(
            "/graphql", params={"query": "mutation { setSystemMode(mode: INGESTION_READY) }"},
            headers={"Authorization": f"Bearer {hostile.token('ADMIN')}"})
    assert response.status_code == 400
    assert (await hostile.ok("{ systemMode }"))["systemMode"] == "READ_ONLY"


async def test_body_limit_spares_the_streaming_ingest_endpoint(hostile: Gateway) -> None:
    # Past the cap, /ingest/* still reaches its own checks (here: READ_ONLY mode refuses it).
    body = b'{"id": 1}\n' * (DEFAULT_MAX_BODY_BYTES // 10 + 10)
    async with unchanged(hostile):
        response = await hostile.client.post("/ingest/anything", content=body, headers={
            "Authorization": f"Bearer {hostile.token('ENGINEER')}", "content-type": "application/x-ndjson"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "MODE_DISABLED"


async def test_the_limits_leave_normal_requests_alone(hostile: Gateway) -> None:
    data = await hostile.ok("{ " + aliases(30, "systemMode") + " }", role="VIEWER")
    assert len(data) == 30
    assert (await hostile.ok(nested_introspection(4)))["__schema"]["types"]
