"""``@requiresRole`` and ``@requiresMode``: printed in the schema and enforced from the same declaration.

A field is declared with :func:`guarded` (or :func:`guarded_mutation`), which attaches the
schema directive *and* the :class:`Guard` extension; the guard reads the directive back off the
field it guards, so what ``schema.graphql`` shows is exactly what the server checks. The role a
directive names comes from the capability matrix in ``gateway.domain``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.schema_directive import Location
from strawberry.types.field import StrawberryField

from gateway.domain import CAPABILITY_MIN_ROLE, CAPABILITY_MODE, Capability
from gateway.domain import Role as DomainRole
from gateway.domain import SystemMode as DomainMode
from gateway.errors import Forbidden, ModeDisabled
from gateway.graphql.enums import Role, SystemMode


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION], name="requiresRole",
                             description="The lowest role that may use this field.")
class RequiresRole:
    role: Role


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION], name="requiresMode",
                             description="The system mode this field needs.")
class RequiresMode:
    mode: SystemMode


class Guard(FieldExtension):
    """Checks the caller against the field's own ``@requiresRole`` / ``@requiresMode``."""

    role: DomainRole | None = None
    mode: DomainMode | None = None

    def apply(self, field: StrawberryField) -> None:
        for directive in field.directives:
            if isinstance(directive, RequiresRole):
                self.role = DomainRole(directive.role.value)
            elif isinstance(directive, RequiresMode):
                self.mode = DomainMode(directive.mode.value)

    async def _check(self, info: strawberry.Info) -> None:
        context = info.context
        principal = context.require_principal()
        if self.role is not None and not principal.role.at_least(self.role):
            raise Forbidden(
                f"`{info.field_name}` needs the {self.role.value} role (you are {principal.role.value}).",
                requiredRole=self.role.value,
            )
        if self.mode is not None:
            current = await context.services.users.mode()
            if current is not self.mode:
                raise ModeDisabled(
                    f"`{info.field_name}` needs the system in {self.mode.value} mode (it is "
                    f"{current.value}); an admin can switch it with setSystemMode.",
                    requiredMode=self.mode.value,
                )

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any,
                            info: strawberry.Info, **kwargs: Any) -> Any:
        await self._check(info)
        return await next_(source, info, **kwargs)


def _directives(capability: Capability) -> list[object]:
    directives: list[object] = [RequiresRole(role=Role(CAPABILITY_MIN_ROLE[capability].value))]
    mode = CAPABILITY_MODE.get(capability)
    if mode is not None:
        directives.append(RequiresMode(mode=SystemMode(mode.value)))
    return directives


def guarded(capability: Capability, **kwargs: Any) -> Any:
    """A query field that only roles holding ``capability`` may read."""
    return strawberry.field(directives=_directives(capability), extensions=[Guard()], **kwargs)


def guarded_mutation(capability: Capability, **kwargs: Any) -> Any:
    """A mutation; every mutation is declared through this, so none lacks its directive."""
    return strawberry.mutation(directives=_directives(capability), extensions=[Guard()], **kwargs)
