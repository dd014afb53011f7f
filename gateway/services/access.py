"""Access checks that services make, always by asking ``gateway.domain``."""

from __future__ import annotations

from gateway.domain import (
    CAPABILITY_MIN_ROLE,
    CAPABILITY_MODE,
    Capability,
    SystemMode,
    has_capability,
)
from gateway.errors import Forbidden, ModeDisabled
from gateway.records import Principal


def require(principal: Principal, capability: Capability) -> None:
    if not has_capability(principal.role, capability):
        needed = CAPABILITY_MIN_ROLE[capability].value
        raise Forbidden(
            f"This needs the {needed} role (you are {principal.role.value}); ask an admin.",
            requiredRole=needed,
        )


def require_mode(capability: Capability, mode: SystemMode) -> None:
    needed = CAPABILITY_MODE.get(capability)
    if needed is not None and mode is not needed:
        raise ModeDisabled(
            f"The system is in {mode.value} mode; an admin must switch it to {needed.value} first.",
            requiredMode=needed.value,
        )
