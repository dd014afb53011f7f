"""Who a caller is: their role, the system mode, and the audit log."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gateway.domain import Capability, Role, SystemMode, capabilities_of
from gateway.errors import CatalogUnavailable, InvalidInput
from gateway.records import AuditEvent, Principal, UserRecord
from gateway.services.access import require
from gateway.services.base import ServiceDeps, audit


@dataclass(frozen=True, slots=True)
class Me:
    email: str
    role: Role
    permissions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: tuple[AuditEvent, ...]
    end_cursor: str | None
    has_next_page: bool


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().upper())
    except ValueError:
        raise InvalidInput(f"Unknown role {text!r}; one of VIEWER, ANALYST, ENGINEER, ADMIN.") from None


class UsersService:
    def __init__(self, deps: ServiceDeps, *, role_cache_seconds: float = 2.0,
                 initial_mode: SystemMode = SystemMode.READ_ONLY) -> None:
        self._deps = deps
        self._role_cache: dict[str, tuple[float, Role | None]] = {}
        self._role_cache_seconds = role_cache_seconds
        self._initial_mode = initial_mode
        self._mode_cache: tuple[float, SystemMode] | None = None

    # --- principals ----------------------------------------------------------------------

    async def principal_for(self, email: str, subject: str, role_claim: Any,
                            request_id: str | None = None, claims: dict[str, Any] | None = None) -> Principal:
        """The role comes from the catalog's users table, else the role claim, else VIEWER."""
        role = await self._catalog_role(email.lower())
        if role is None and isinstance(role_claim, str):
            try:
                role = Role(role_claim.upper())
            except ValueError:
                role = None
        return Principal(email=email.lower(), role=role or Role.VIEWER, subject=subject,
                         request_id=request_id, claims=claims or {})

    async def _catalog_role(self, email: str) -> Role | None:
        # A short cache: a role change reaches every worker within role_cache_seconds.
        cached = self._role_cache.get(email)
        now = time.monotonic()
        if cached and now - cached[0] < self._role_cache_seconds:
            return cached[1]
        try:
            async with self._deps.uow() as uow:
                user = await uow.users.get(email)
        except CatalogUnavailable:
            # While the catalog is down: the role last seen for this user, else the least one.
            return cached[1] if cached else Role.VIEWER
        role = user.role if user else None
        if len(self._role_cache) > 10_000:
            self._role_cache.clear()
        self._role_cache[email] = (now, role)
        return role

    def me(self, principal: Principal) -> Me:
        return Me(principal.email, principal.role, tuple(c.value for c in capabilities_of(principal.role)))

    async def set_role(self, principal: Principal, email: str, role: Role) -> UserRecord:
        require(principal, Capability.MANAGE_ROLES)
        address = email.strip().lower()
        if "@" not in address and not address.startswith("cli:"):
            raise InvalidInput(f"{email!r} is not an email address.")
        now = self._deps.clock()
        async with self._deps.uow() as uow:
            before, after = await uow.users.set_role(address, role, now)
            await audit(uow, principal, "setUserRole", "user", address, now,
                        before={"role": before.role.value} if before else None,
                        after={"role": role.value})
            await uow.commit()
        self._role_cache.pop(address, None)
        return after

    # --- system mode ---------------------------------------------------------------------

    async def ensure_mode(self) -> SystemMode:
        """The mode lives in the catalog; the environment only seeds it at first start."""
        async with self._deps.uow() as uow:
            mode = await uow.system.mode()
            if mode is None:
                await uow.system.set_mode(self._initial_mode, self._deps.clock())
                await uow.commit()
                mode = self._initial_mode
        return mode

    async def mode(self) -> SystemMode:
        cached = self._mode_cache
        now = time.monotonic()
        if cached and now - cached[0] < self._role_cache_seconds:
            return cached[1]
        try:
            async with self._deps.uow() as uow:
                mode = await uow.system.mode()
        except CatalogUnavailable:
            # Without the catalog nothing can be ingested anyway; report the last known mode.
            return cached[1] if cached else self._initial_mode
        mode = mode or self._initial_mode
        self._mode_cache = (now, mode)
        return mode

    async def set_mode(self, principal: Principal, mode: SystemMode) -> SystemMode:
        require(principal, Capability.MANAGE_MODE)
        now = self._deps.clock()
        async with self._deps.uow() as uow:
            before = await uow.system.mode()
            await uow.system.set_mode(mode, now)
            await audit(uow, principal, "setSystemMode", "system", "mode", now,
                        before={"mode": before.value if before else None}, after={"mode": mode.value})
            await uow.commit()
        self._mode_cache = None
        return mode

    # --- audit ---------------------------------------------------------------------------

    async def audit_log(self, principal: Principal, *, actor: str | None, entity: str | None,
                        first: int = 50, after: str | None = None) -> AuditPage:
        require(principal, Capability.VIEW_AUDIT)
        if not 1 <= first <= 500:
            raise InvalidInput("`first` must be between 1 and 500.")
        after_id: int | None = None
        if after:
            try:
                after_id = int(after)
            except ValueError:
                raise InvalidInput("That cursor is not one this API gave out.") from None
        async with self._deps.uow() as uow:
            events = await uow.audit.list(actor=actor, entity=entity, after_id=after_id, limit=first + 1)
        page = tuple(events[:first])
        return AuditPage(page, str(page[-1].id) if page else None, len(events) > first)
