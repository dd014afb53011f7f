"""A real gateway for tests: real catalog, real warehouse, the real ASGI app over httpx."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from gateway.app import build_services, create_app
from gateway.auth import mint_dev_token
from gateway.domain import Role
from gateway.records import Principal
from gateway.services.container import Services
from gateway.settings import Settings

DEV_SECRET = b"spyne-test-secret-0123456789abcdef-0123456789"


@dataclass
class Gateway:
    settings: Settings
    services: Services
    client: httpx.AsyncClient

    def token(self, role: str = "ADMIN", email: str | None = None, ttl: int = 3600) -> str:
        return mint_dev_token(DEV_SECRET, email or f"{role.lower()}@example.com", role, ttl)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *, role: str | None = "ADMIN",
                  email: str | None = None, token: str | None = None) -> dict[str, Any]:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif role is not None:
            headers["Authorization"] = f"Bearer {self.token(role, email)}"
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                          headers=headers)
        body = response.json()
        body["_status"] = response.status_code
        return body

    async def ok(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        body = await self.gql(query, variables, **kwargs)
        assert not body.get("errors"), body.get("errors")
        return body["data"]

    async def error_code(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> str:
        body = await self.gql(query, variables, **kwargs)
        assert body.get("errors"), f"expected an error, got {body}"
        return body["errors"][0]["extensions"]["code"]


def principal(role: str = "ADMIN", email: str | None = None) -> Principal:
    return Principal(email=email or f"{role.lower()}@example.com", role=Role(role))


async def start_gateway(catalog_url: str, warehouse_url: str, **overrides: Any) -> Gateway:
    settings = Settings(catalog_url=catalog_url, warehouse_url=warehouse_url, dev_secret=DEV_SECRET,
                        role_cache_seconds=0.0, **overrides)
    services = build_services(settings)
    app = create_app(settings, services)
    await services.users.ensure_mode()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
    return Gateway(settings, services, client)


async def stop_gateway(gateway: Gateway) -> None:
    await gateway.client.aclose()
    gateway.services.deps.warehouse.dispose()
    await gateway.services.deps.uow.dispose()
