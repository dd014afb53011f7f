"""The typed per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError, Unauthenticated
from gateway.records import Principal

if TYPE_CHECKING:
    from gateway.services.container import Services


@dataclass
class Context:
    services: Services
    request_id: str
    principal: Principal | None = None
    auth_error: GatewayError | None = None
    request: Any = None
    response: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    # graphql-transport-ws: strawberry fills this with the connection_init payload.
    connection_params: dict[str, Any] | None = None

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise self.auth_error or Unauthenticated("Send `Authorization: Bearer <token>`.")
        return self.principal
