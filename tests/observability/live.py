"""The real app served by uvicorn on 127.0.0.1 in a thread, for browsers and WebSocket clients."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from gateway.app import create_app
from gateway.settings import Settings


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Builds the app (and its services) inside the server's own thread and loop."""
    app = create_app(settings)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)  # the app's lifespan configures JSON logging
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        root.handlers[:], root.level = saved[0], saved[1]
