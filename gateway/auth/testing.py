"""A real OpenID provider's key endpoints on 127.0.0.1, for tests and benchmarks.

It serves ``/.well-known/openid-configuration`` and ``/jwks.json`` over real HTTP from a thread
(stdlib ``http.server``), so the verifier's discovery, fetching, caching and rotation run exactly
as in production. Keys are whatever the caller puts in; only their public halves are served.

    with LocalIdentityProvider() as idp:
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        idp.publish(key)
        verifier = TokenVerifier(dev_secret=None, oidc_issuer=idp.issuer, oidc_audience="spyne")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import JWSRegistry

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/jwks.json"


class LocalIdentityProvider:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, Any]] = {}
        self._failing_status: int | None = None
        self.discovery_overrides: dict[str, Any] = {}
        self.requests: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-idp", daemon=True)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def jwks_url(self) -> str:
        return self.issuer + JWKS_PATH

    def publish(self, *keys: RSAKey | ECKey) -> None:
        """Add public keys to the served JWKS (a key rotation, seen from the outside)."""
        with self._lock:
            for key in keys:
                if key.kid is None:
                    raise ValueError("a published key needs a kid")
                self._keys[key.kid] = dict(key.as_dict(private=False))

    def publish_raw(self, kid: str, entry: Mapping[str, Any]) -> None:
        """Serve an arbitrary JWKS entry (to test how odd or hostile entries are handled)."""
        with self._lock:
            self._keys[kid] = dict(entry)

    def retire(self, kid: str) -> None:
        with self._lock:
            self._keys.pop(kid, None)

    def fail_with(self, status: int | None) -> None:
        """Answer every request with this HTTP status (None: serve normally again)."""
        with self._lock:
            self._failing_status = status

    def start(self) -> LocalIdentityProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalIdentityProvider:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _document(self, path: str) -> tuple[int, Any]:
        with self._lock:
            self.requests[path] += 1
            if self._failing_status is not None:
                return self._failing_status, {"error": "unavailable"}
            if path == JWKS_PATH:
                return 200, {"keys": list(self._keys.values())}
            if path == DISCOVERY_PATH:
                return 200, {
                    "issuer": self.issuer,
                    "jwks_uri": self.jwks_url,
                    "authorization_endpoint": self.issuer + "/authorize",
                    "token_endpoint": self.issuer + "/token",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                    **self.discovery_overrides,
                }
            return 404, {"error": "not found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, document = provider._document(self.path)
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # tests read self.requests, not stderr

        return Handler


def sign_token(
    header: Mapping[str, Any], claims: Any, key: RSAKey | ECKey | bytes | None, *, sign_as: str | None = None
) -> str:
    """A compact JWS with exactly this header, signed as ``header["alg"]`` (or ``sign_as``) says, unchecked.

    For tests that must forge what a well-behaved library refuses to produce (``crit``,
    embedded ``jwk``, ``alg: none``, an HMAC keyed with a public key's PEM...). A ``bytes`` key
    is an HMAC secret; ``None`` leaves the signature empty.
    """
    def segment(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    body = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    signing_input = f"{segment(json.dumps(dict(header)).encode())}.{segment(body)}"
    if key is None:
        return signing_input + "."
    alg = sign_as or header["alg"]
    if isinstance(key, bytes):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        signature = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    else:
        signature = JWSRegistry.algorithms[alg].sign(signing_input.encode("ascii"), key)
    return f"{signing_input}.{segment(signature)}"
