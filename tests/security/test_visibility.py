"""Introspection and suggestions respect what the caller may see.

The class: in READ_ONLY mode a VIEWER or ANALYST sees a schema without the ingestion fields.
Whatever way a document reaches ``__schema`` or ``__type`` (top level, inline fragments, named
fragments, nested fragments, aliases) it is answered from that schema, and a validation error
never suggests a field the caller cannot see. ENGINEER and ADMIN see the full schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.security.snapshot import unchanged
from tests.support.harness import Gateway

HIDDEN = ("ingest", "registerContract", "replay", "backfill", "confirmOperation", "quarantine", "ingestionRuns")

MUTATION_FIELDS = "__schema { mutationType { fields { name } } }"
INTROSPECTIONS = {
    "top-level": "{ " + MUTATION_FIELDS + " }",
    "inline-fragment": "{ ... on Query { " + MUTATION_FIELDS + " } }",
    "named-fragment": "query { ...F } fragment F on Query { " + MUTATION_FIELDS + " }",
    "nested-named-fragments": "query { ...A } fragment A on Query { ...B } fragment B on Query { " + MUTATION_FIELDS + " }",
    "fragment-in-inline-fragment": "query { ... on Query { ...F } } fragment F on Query { " + MUTATION_FIELDS + " }",
    "aliased": "{ s: __schema { m: mutationType { f: fields { name } } } }",
    "type-by-name": '{ __type(name: "Mutation") { fields { name } } }',
    "type-by-name-in-fragment": 'query { ...F } fragment F on Query { __type(name: "Mutation") { fields { name } } }',
    "query-type-in-fragment": 'query { ...F } fragment F on Query { __type(name: "Query") { fields { name } } }',
    "all-types-in-fragment": "query { ...F } fragment F on Query { __schema { types { name fields { name } } } }",
    "mixed-with-a-field": "query { me { email } ...F } fragment F on Query { " + MUTATION_FIELDS + " }",
    "hidden-type-by-name": '{ __type(name: "IngestionResult") { name fields { name } } }',
}


@pytest.mark.parametrize("role", ["VIEWER", "ANALYST"])
@pytest.mark.parametrize("case", list(INTROSPECTIONS), ids=list(INTROSPECTIONS))
async def test_introspection_in_read_only_mode_hides_ingestion_however_it_is_written(
        hostile: Gateway, case: str, role: str) -> None:
    async with unchanged(hostile):
        body = await hostile.gql(INTROSPECTIONS[case], role=role)
    assert not body.get("errors"), body
    text = json.dumps(body["data"])
    for name in HIDDEN:
        assert f'"{name}"' not in text, (case, name)
    assert "IngestionResult" not in text


@pytest.mark.parametrize("role", ["ENGINEER", "ADMIN"])
async def test_engineers_introspect_the_full_schema(hostile: Gateway, role: str) -> None:
    data = await hostile.ok(INTROSPECTIONS["named-fragment"], role=role)
    names = {f["name"] for f in data["__schema"]["mutationType"]["fields"]}
    assert {"ingest", "registerContract"} <= names


@dataclass(frozen=True)
class Typo:
    id: str
    query: str
    hidden: str  # the name no suggestion may carry


TYPOS = [
    Typo("query-field", '{ quarantin(contractId: "x") { id } }', "quarantine"),
    Typo("query-field-in-fragment", 'query { ...F } fragment F on Query { quarantin(contractId: "x") { id } }',
         "quarantine"),
    Typo("query-field-runs", '{ ingestionRun(contractId: "x") { id } }', "ingestionRuns"),
    Typo("mutation-field", 'mutation { ingets(contractId: "x", records: []) { runId } }', "ingest"),
    Typo("mutation-field-contract", "mutation { registerContrac { id } }", "registerContract"),
    Typo("mutation-field-replay", "mutation { repla { operationId } }", "replay"),
    Typo("hidden-type-name", "query { ... on IngestionResul { runId } }", "IngestionResult"),
    Typo("hidden-input-type-name", "mutation($i: ReplayInpu!) { setSystemMode(mode: READ_ONLY) }", "ReplayInput"),
]


@pytest.mark.parametrize("role", ["VIEWER", "ANALYST"])
@pytest.mark.parametrize("typo", TYPOS, ids=[t.id for t in TYPOS])
async def test_no_suggestion_names_a_hidden_field(hostile: Gateway, typo: Typo, role: str) -> None:
    async with unchanged(hostile):
        body = await hostile.gql(typo.query, role=role)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body
    assert typo.hidden not in json.dumps(body["errors"]), body["errors"]


async def test_an_engineer_still_gets_suggestions(hostile: Gateway) -> None:
    body = await hostile.gql('{ quarantin(contractId: "x") { id } }', role="ENGINEER")
    assert "Did you mean 'quarantine'?" in body["errors"][0]["message"]


async def test_a_viewer_still_gets_suggestions_of_what_it_sees(hostile: Gateway) -> None:
    body = await hostile.gql("{ systemMod }", role="VIEWER")
    assert "Did you mean 'systemMode'?" in body["errors"][0]["message"]


async def test_a_viewer_calling_a_hidden_mutation_by_name_is_still_forbidden(hostile: Gateway) -> None:
    async with unchanged(hostile):
        code = await hostile.error_code('mutation { ingest(contractId: "x", records: []) { runId } }', role="VIEWER")
    assert code == "FORBIDDEN"
