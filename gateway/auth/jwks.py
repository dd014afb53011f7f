"""The identity provider's signing keys: discovered, fetched over HTTP, cached, rotated.

The key set comes from ``SPYNE_JWKS_URL`` when given, else from the ``jwks_uri`` of
``{issuer}/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0). authlib supplies the
discovery side (the well-known URL and the metadata checks); it has no async fetch helper for a
resource server (its async clients are OAuth *client* apps built for login flows), so the
documents are fetched with httpx directly.

The cache is refreshed when its TTL has passed, and when a token names a ``kid`` the cache does
not hold, at most once per ``min_refresh_seconds``: a flood of tokens with random kids costs the
identity provider one request per interval, not one per token. When a refresh fails, the keys
already held stay in use (stale-while-error); only a cache that never filled is an outage.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx
from authlib.oidc.discovery import OpenIDProviderMetadata, get_well_known_url
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from gateway.auth.errors import AuthFailure

log = logging.getLogger("gateway.auth")

PublicKey = RSAKey | ECKey

# Only key types that can verify the accepted asymmetric algorithms enter the cache; an "oct"
# key published in a JWKS would otherwise reopen the HS/RS confusion this module exists to close.
_IMPORTERS: Final[Mapping[str, type[RSAKey] | type[ECKey]]] = {"RSA": RSAKey, "EC": ECKey}
MAX_DOCUMENT_BYTES: Final = 1 << 20


class JwksUnavailable(Exception):
    """A discovery or JWKS document could not be fetched or read (logged, never shown)."""


class JwksCache:
    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str | None,
        clock: Callable[[], float],
        http_timeout: float,
        ttl_seconds: float,
        min_refresh_seconds: float,
    ) -> None:
        self._issuer = issuer
        self._configured_url = jwks_url
        self._jwks_url = jwks_url
        self._clock = clock
        self._timeout = http_timeout
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._keys: dict[str, tuple[PublicKey, ...]] | None = None
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()

    async def keys_for(self, kid: str) -> tuple[PublicKey, ...]:
        """The published keys with this ``kid``; empty when the provider does not publish it."""
        now = self._clock()
        if self._keys is None or now - self._fetched_at >= self._ttl:
            await self._refresh(now)
        if self._keys is None:
            raise AuthFailure("jwks_unavailable")
        found = self._keys.get(kid, ())
        if not found:
            await self._refresh(now)  # the provider may have rotated: look once, rate-limited
            found = self._keys.get(kid, ())
        return found

    async def warm_up(self) -> None:
        """Fetch the key set now (at start-up) instead of on the first request."""
        await self._refresh(self._clock())

    async def _refresh(self, now: float) -> None:
        async with self._lock:
            # Whoever waited on the lock finds the attempt just made and does not repeat it.
            if now - self._attempted_at < self._min_refresh:
                return
            self._attempted_at = now
            try:
                keys = await self._fetch_keys()
            except JwksUnavailable as error:
                log.warning("JWKS refresh failed (%s); %s", error, "keeping the keys held" if self._keys else "no keys held")
                if self._configured_url is None:
                    self._jwks_url = None  # discover again next time: the provider may have moved it
                return
            self._keys = keys
            self._fetched_at = now

    async def _fetch_keys(self) -> dict[str, tuple[PublicKey, ...]]:
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            if self._jwks_url is None:
                self._jwks_url = await self._discover(client)
            return parse_jwks(await _get_json(client, self._jwks_url))

    async def _discover(self, client: httpx.AsyncClient) -> str:
        document = await _get_json(client, get_well_known_url(self._issuer, external=True))
        metadata = OpenIDProviderMetadata(document)
        try:
            metadata.validate_issuer()
            metadata.validate_jwks_uri()  # required, and https (or a loopback http address)
        except ValueError as error:
            raise JwksUnavailable(f"discovery document refused: {error}") from error
        # OIDC Discovery 1.0 §4.3: the issuer in the document must be the one asked about,
        # or a provider could vouch for keys of another.
        if metadata.get("issuer") != self._issuer:
            raise JwksUnavailable("discovery document names another issuer")
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise JwksUnavailable("discovery document has no jwks_uri")
        return jwks_uri


def parse_jwks(document: Any) -> dict[str, tuple[PublicKey, ...]]:
    """The usable signing keys of a JWKS by ``kid``; unusable entries are skipped, not fatal."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksUnavailable("not a JWK Set")
    keys: dict[str, tuple[PublicKey, ...]] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict):
            continue
        kid, importer = entry.get("kid"), _IMPORTERS.get(entry.get("kty", ""))
        if not isinstance(kid, str) or importer is None or entry.get("use", "sig") != "sig":
            continue
        public = {k: v for k, v in entry.items() if k not in _PRIVATE_MEMBERS}
        try:
            key = importer.import_key(public)
        except (JoseError, ValueError, TypeError) as error:
            log.warning("JWKS entry %r skipped: %s", kid, error)
            continue
        keys[kid] = (*keys.get(kid, ()), key)
    return keys


# Private members a careless provider might publish; a verifier needs none of them.
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


async def _get_json(client: httpx.AsyncClient, url: str) -> Any:
    try:
        async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise JwksUnavailable(f"GET {url} answered {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise JwksUnavailable(f"GET {url} answered more than {MAX_DOCUMENT_BYTES} bytes")
    except httpx.HTTPError as error:
        raise JwksUnavailable(f"GET {url} failed: {type(error).__name__}") from error
    try:
        return json.loads(body)
    except ValueError as error:
        raise JwksUnavailable(f"GET {url} did not answer JSON") from error
