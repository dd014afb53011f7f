"""GraphQL enums: the domain's own enums, registered under API.md's names.

``strawberry.enum`` registers the class in place, so the GraphQL enum *is* the domain enum and
no conversion happens between the layers.
"""

from __future__ import annotations

import strawberry

from gateway.domain import Role, SystemMode, TableState

strawberry.enum(Role, name="Role")
strawberry.enum(TableState, name="TableState")
strawberry.enum(SystemMode, name="SystemMode")

__all__ = ["Role", "SystemMode", "TableState"]
