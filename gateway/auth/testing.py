"""A real OpenID provider's key endpoints on 127.0.0.1, for tests and benchmarks.

It serves ``/.well-known/openid-configuration`` and ``/jwks.json`` over real HTTP from a thread
(stdlib ``http.server``), so the verifier's discovery, fetching, caching and rotation run exactly
as in production. Keys are whatever the caller puts in; only their public halves are served.

    with LocalIdentityProvider() as idp:
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        idp.publish(key)
        verifier = TokenVerifier(dev_secret=None, oidc_issuer=idp.issuer, oidc_audience="spyne")

It also runs a minimal authorization-code flow (for browser sign-in tests): register a client
and the user to approve, and ``/authorize`` redirects straight back with a ``code`` that
``/token`` exchanges for an id_token and an access token signed with the given key.

        idp.enable_code_flow(key, audience="spyne")
        idp.register_client("dashboard", "s3cret", ["http://gateway.test/dashboard/callback"])
        idp.approve({"sub": "u1", "email": "ada@example.com", "spyne_role": "ADMIN"})
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import JWSRegistry

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/jwks.json"
AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/token"
CODE_TTL_SECONDS = 60


@dataclass(frozen=True)
class _Client:
    secret: str | None
    redirect_uris: frozenset[str]


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    challenge_method: str
    claims: dict[str, Any]
    expires: float


class LocalIdentityProvider:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, Any]] = {}
        self._failing_status: int | None = None
        self.discovery_overrides: dict[str, Any] = {}
        self.requests: Counter[str] = Counter()
        self._clients: dict[str, _Client] = {}
        self._grants: dict[str, _Grant] = {}
        self._approved: dict[str, Any] | None = None
        self._signing: tuple[RSAKey | ECKey, str, str] | None = None  # key, alg, access-token audience
        self.token_ttl_seconds = 3600
        self.token_requests: list[dict[str, str]] = []  # what /token received, for assertions
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

    # --- the authorization-code flow ------------------------------------------------------------

    def enable_code_flow(self, key: RSAKey | ECKey, audience: str, alg: str | None = None) -> None:
        """Sign tokens from /token with ``key`` (published too); access tokens carry ``audience``."""
        self.publish(key)
        with self._lock:
            self._signing = (key, alg or ("ES256" if isinstance(key, ECKey) else "RS256"), audience)

    def register_client(self, client_id: str, secret: str | None, redirect_uris: Iterable[str]) -> None:
        with self._lock:
            self._clients[client_id] = _Client(secret, frozenset(redirect_uris))

    def approve(self, claims: Mapping[str, Any] | None) -> None:
        """The user /authorize signs in without asking (None: the user declines, access_denied)."""
        with self._lock:
            self._approved = dict(claims) if claims is not None else None

    def _authorize(self, query: str) -> tuple[int, dict[str, str], Any]:
        params = {k: v[0] for k, v in parse_qs(query).items()}
        with self._lock:
            client = self._clients.get(params.get("client_id", ""))
            redirect_uri = params.get("redirect_uri", "")
            if client is None or redirect_uri not in client.redirect_uris:
                # Never redirect to an unregistered address: answer the browser directly.
                return 400, {}, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"}
            back: dict[str, str] = {"state": params["state"]} if "state" in params else {}
            if params.get("response_type") != "code":
                back["error"] = "unsupported_response_type"
            elif self._approved is None:
                back["error"] = "access_denied"
            else:
                code = secrets.token_urlsafe(24)
                self._grants[code] = _Grant(
                    client_id=params["client_id"], redirect_uri=redirect_uri, nonce=params.get("nonce"),
                    challenge=params.get("code_challenge"),
                    challenge_method=params.get("code_challenge_method", "plain"),
                    claims=dict(self._approved), expires=time.time() + CODE_TTL_SECONDS)
                back["code"] = code
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return 302, {"Location": redirect_uri + separator + urlencode(back)}, None

    def _token(self, form: dict[str, str], authorization: str | None) -> tuple[int, Any]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        with self._lock:
            self.token_requests.append(dict(form))
            client = self._clients.get(client_id or "")
            if client is None or (client.secret is not None and not hmac.compare_digest(
                    (secret or "").encode(), client.secret.encode())):
                return 401, {"error": "invalid_client"}
            if form.get("grant_type") != "authorization_code":
                return 400, {"error": "unsupported_grant_type"}
            grant = self._grants.pop(form.get("code", ""), None)  # a code is good once
            if grant is None or grant.expires < time.time() or grant.client_id != client_id:
                return 400, {"error": "invalid_grant", "error_description": "unknown, used or expired code"}
            if form.get("redirect_uri") != grant.redirect_uri:
                return 400, {"error": "invalid_grant", "error_description": "redirect_uri does not match"}
            if grant.challenge is not None and not _pkce_ok(grant, form.get("code_verifier")):
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
            if self._signing is None:
                return 500, {"error": "server_error", "error_description": "call enable_code_flow first"}
            key, alg, audience = self._signing
        now = int(time.time())
        base = {"iss": self.issuer, "iat": now, "exp": now + self.token_ttl_seconds, **grant.claims}
        header = {"alg": alg, "kid": key.kid}
        access = jwt.encode(header, {**base, "aud": audience}, key, algorithms=[alg])
        digest = hashlib.sha256(access.encode()).digest()
        id_claims = {**base, "aud": client_id,
                     "at_hash": base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()}
        if grant.nonce is not None:
            id_claims["nonce"] = grant.nonce
        id_token = jwt.encode(header, id_claims, key, algorithms=[alg])
        return 200, {"access_token": access, "id_token": id_token, "token_type": "Bearer",
                     "expires_in": self.token_ttl_seconds}

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
                path, _, query = self.path.partition("?")
                if path == AUTHORIZE_PATH:
                    provider.requests[path] += 1
                    status, headers, document = provider._authorize(query)
                    self._answer(status, document, headers)
                    return
                status, document = provider._document(self.path)
                self._answer(status, document)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(min(length, 65_536)).decode("utf-8", "replace")
                if self.path != TOKEN_PATH:
                    self._answer(404, {"error": "not found"})
                    return
                provider.requests[TOKEN_PATH] += 1
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                status, document = provider._token(form, self.headers.get("Authorization"))
                self._answer(status, document, {"Cache-Control": "no-store"})

            def _answer(self, status: int, document: Any, headers: Mapping[str, str] | None = None) -> None:
                body = json.dumps(document).encode() if document is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # tests read self.requests, not stderr

        return Handler


def _pkce_ok(grant: _Grant, verifier: str | None) -> bool:
    if not verifier or grant.challenge is None:
        return False
    if grant.challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        expected = verifier
    return hmac.compare_digest(expected, grant.challenge)


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
