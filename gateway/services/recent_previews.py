"""Which stored previews a caller may run, and the ones this worker has at hand.

A stored preview row is never updated or deleted, so a worker may keep the ones it wrote or read
lately (:class:`RecentPreviews`); :func:`own_preview` is the one rule of whose preview is whose.
"""

from __future__ import annotations

from collections import OrderedDict

from gateway.domain import Capability, has_capability
from gateway.errors import PreviewNotFound
from gateway.records import Principal
from gateway.store.queries import StoredPreview
from planner import Plan


class RecentPreviews:
    """Stored previews this worker wrote or read lately, with their plans decoded.

    A stored preview row is never updated or deleted, so a copy stays exact; executing one
    still reads the catalog epoch (STALE_PREVIEW after any promotion, from any worker) and
    still checks who may run it. Bounded, least recently used out first.
    """

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._entries: OrderedDict[str, tuple[StoredPreview, Plan]] = OrderedDict()

    def get(self, preview_id: str) -> tuple[StoredPreview, Plan] | None:
        entry = self._entries.get(preview_id)
        if entry is not None:
            self._entries.move_to_end(preview_id)
        return entry

    def put(self, stored: StoredPreview, planned: Plan) -> None:
        self._entries[stored.id] = (stored, planned)
        self._entries.move_to_end(stored.id)
        while len(self._entries) > self._maxsize:
            self._entries.popitem(last=False)


def own_preview(principal: Principal, preview_id: str, stored: StoredPreview | None) -> StoredPreview:
    # Someone else's preview reads as missing unless the caller may see all of them.
    if stored is None or (stored.author != principal.email
                          and not has_capability(principal.role, Capability.VIEW_ANY_PREVIEW)):
        raise PreviewNotFound(f"No preview {preview_id!r} of yours; create one with previewQuery.")
    return stored

