"""The one shape of every HTTP refusal: ``{"data": null, "errors": [{"message", "extensions": {"code"}}]}``.

A refusal that never becomes a GraphQL operation (a batch, a GET mutation, a body that is not
JSON, a ``text/plain`` body, an unknown ``operationName``, a body over the size cap) has the same
shape as a GraphQL error, so GraphiQL and scripts read it the same way; the HTTP status says
which kind of problem it is.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.responses import JSONResponse

log = logging.getLogger("spyne.http")


def refusal_payload(message: str, *, code: str = "INVALID_INPUT", request_id: str | None = None) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": code}
    if request_id is not None:
        extensions["requestId"] = request_id
    log.info("refused %s: %s", code, message, extra={"code": code, "request_id": request_id})
    return {"data": None, "errors": [{"message": message, "extensions": extensions}]}


def refusal_response(status: int, message: str, *, code: str = "INVALID_INPUT",
                     request_id: str | None = None) -> JSONResponse:
    return JSONResponse(refusal_payload(message, code=code, request_id=request_id), status_code=status)


def refusal_bytes(message: str, *, code: str = "INVALID_INPUT", request_id: str | None = None) -> bytes:
    return json.dumps(refusal_payload(message, code=code, request_id=request_id)).encode()
