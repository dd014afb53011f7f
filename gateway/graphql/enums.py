"""GraphQL enums: the domain's own enums, exposed under API.md's names."""

from __future__ import annotations

import strawberry

from gateway import domain

Role = strawberry.enum(domain.Role, name="Role")
TableState = strawberry.enum(domain.TableState, name="TableState")
SystemMode = strawberry.enum(domain.SystemMode, name="SystemMode")
