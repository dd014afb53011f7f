"""What the download and stream tests read back: Arrow batches with their metadata, and a wait for
a server's bookkeeping to catch up with a kill."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def arrow_batches(content: bytes) -> list[tuple[Any, Any]]:
    """Every record batch of an Arrow IPC stream with its custom metadata (the last batch's
    carries ``spyne.truncated`` when a cap stopped the download)."""
    import pyarrow as pa

    reader = pa.ipc.open_stream(content)
    batches = []
    while True:
        try:
            batches.append(reader.read_next_batch_with_custom_metadata())
        except StopIteration:
            return batches


def settles(condition: Callable[[], bool], within_s: float = 10) -> bool:
    """A server's bookkeeping of a killed statement lags a little behind the kill."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
