"""Bearer token verification: who is calling, proven by a signature we chose the key for.

Two modes, never mixed. Without an OIDC issuer, only HS256 tokens signed with the local dev key
(``spyne token``) are accepted. With one, only RS256/ES256 tokens signed by a key of the issuer's
JWKS are, and dev tokens are refused. In both the algorithm list and the key come from our
configuration, never from the token: its header only selects among keys we already trust.

The role is not decided here: the claim named ``role_claim`` is handed back raw, and the gateway
asks the catalog's users table first.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from authlib.common.security import is_secure_transport
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExceededSizeError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyCurveError,
    InvalidKeyTypeError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import ECKey, OctKey, RSAKey
from joserfc.jws import JWSRegistry

from gateway.auth.compact import extract_token, read_header
from gateway.auth.errors import AuthFailure, Reason
from gateway.auth.jwks import JwksCache

DEV_ISSUER: Final = "spyne-dev"
DEV_AUDIENCE: Final = "spyne"
DEV_ALGORITHMS: Final = ("HS256",)
OIDC_ALGORITHMS: Final = ("RS256", "ES256")
#: RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_DEV_SECRET_BYTES: Final = 32

#: Clock skew tolerated on ``exp``, ``nbf`` and ``iat`` (``SPYNE_TOKEN_LEEWAY_S``).
DEFAULT_LEEWAY_SECONDS: Final = 30
#: The longest lifetime a token may declare (``SPYNE_TOKEN_MAX_LIFETIME_S``): ``exp - iat``, or
#: ``exp - now`` without ``iat``. A week: identity providers issue access tokens for minutes to
#: hours, and a dev token (``spyne token --ttl``) that must outlive a week is a leaked key waiting.
DEFAULT_MAX_LIFETIME_SECONDS: Final = 7 * 86400

#: How long a verified token is remembered at most (it is never remembered past its ``exp``).
VERIFIED_CACHE_SECONDS: Final = 300.0
VERIFIED_CACHE_SIZE: Final = 10_000

# Which published key may verify which algorithm; anything else is key confusion.
_KEY_FOR_ALG: Final[Mapping[str, tuple[str, str | None]]] = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}


@dataclass(frozen=True)
class VerifiedToken:
    subject: str
    email: str
    claims: Mapping[str, Any]
    role_claim: str | None


class TokenVerifier:
    def __init__(
        self,
        *,
        dev_secret: bytes | None,
        oidc_issuer: str | None = None,
        oidc_audience: str | None = None,
        jwks_url: str | None = None,
        role_claim: str = "spyne_role",
        max_token_bytes: int = 8192,
        leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
        max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
        http_timeout: float = 5.0,
        jwks_cache_seconds: float = 300.0,
        jwks_min_refresh_seconds: float = 30.0,
        cache_size: int = VERIFIED_CACHE_SIZE,
        cache_seconds: float = VERIFIED_CACHE_SECONDS,
    ) -> None:
        if max_token_bytes <= 0 or leeway_seconds < 0 or max_lifetime_seconds <= 0:
            raise ValueError("max_token_bytes and max_lifetime_seconds must be positive, leeway_seconds not negative")
        self._max_lifetime = max_lifetime_seconds
        self._role_claim = role_claim
        self._max_token_bytes = max_token_bytes
        self._leeway = leeway_seconds
        self._clock = clock
        self._cache = _VerifiedCache(cache_size, cache_seconds)
        self._jwks: JwksCache | None = None
        self._dev_key: OctKey | None = None
        if oidc_issuer:
            if not oidc_audience:
                raise ValueError("SPYNE_OIDC_ISSUER is set but SPYNE_OIDC_AUDIENCE is not: set the audience tokens are issued for")
            if jwks_url and not is_secure_transport(jwks_url):
                # Keys fetched over plain HTTP can be swapped on the way: only loopback may skip TLS.
                raise ValueError("SPYNE_JWKS_URL must use https (plain http only on a loopback address)")
            self._algorithms: tuple[str, ...] = OIDC_ALGORITHMS
            self._issuer, self._audience = oidc_issuer, oidc_audience
            self._jwks = JwksCache(
                issuer=oidc_issuer,
                jwks_url=jwks_url or None,
                clock=clock,
                http_timeout=http_timeout,
                ttl_seconds=jwks_cache_seconds,
                min_refresh_seconds=jwks_min_refresh_seconds,
            )
        elif jwks_url:
            raise ValueError("SPYNE_JWKS_URL is set but SPYNE_OIDC_ISSUER is not: set the issuer too")
        elif dev_secret is not None:
            self._algorithms = DEV_ALGORITHMS
            self._issuer, self._audience = DEV_ISSUER, DEV_AUDIENCE
            self._dev_key = dev_key(dev_secret)
        else:
            raise ValueError("no way to verify tokens: set SPYNE_DEV_SECRET or SPYNE_OIDC_ISSUER")

    @property
    def oidc_enabled(self) -> bool:
        """True when tokens come from an OIDC issuer (and dev tokens are refused)."""
        return self._jwks is not None

    async def warm_up(self) -> None:
        """Fetch the issuer's keys now; a failure is logged and retried on demand."""
        if self._jwks is not None:
            await self._jwks.warm_up()

    async def verify(self, authorization_header_or_token: str | None) -> VerifiedToken:
        """The verified identity of a bearer token, or :class:`AuthFailure` with its reason.

        A token that verified recently is not decoded and its signature not checked again, but
        its time claims are: it fails as ``expired`` (or ``not_yet_valid``) exactly as it would
        uncached. Failures are never remembered.
        """
        token = extract_token(authorization_header_or_token, self._max_token_bytes)
        now = self._clock()
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._cache.get(digest, now)
        if hit is not None:
            verified, claims, passed_at = hit
            # The checks depend on the claims and on the whole second of `now` only (the lifetime
            # on `now` itself, and a later `now` only shortens it): passed at an earlier reading
            # within this second, they pass now. One check per token per second, not per request.
            if not (passed_at <= now and int(passed_at) == int(now)):
                try:
                    self._check_claims(claims, now)
                except AuthFailure:
                    self._cache.forget(digest)
                    raise
                self._cache.passed(digest, now)
            return verified
        header = read_header(token)
        alg = header["alg"]
        if alg not in self._algorithms:
            raise AuthFailure("bad_algorithm")  # "none", HS* in OIDC mode, RS*/ES* in dev mode
        key = await self._key(header.get("kid"), alg)
        claims = self._decode(token, key, alg)
        checked_at = self._clock()  # after the key, which may have been fetched meanwhile
        self._check_claims(claims, checked_at)
        subject = claims["sub"]
        email = claims.get("email")
        role = claims.get(self._role_claim)
        verified = VerifiedToken(
            subject=subject,
            email=email if isinstance(email, str) and email else subject,
            claims=MappingProxyType(claims),
            role_claim=role if isinstance(role, str) else None,
        )
        self._cache.put(digest, verified, claims, now)
        self._cache.passed(digest, checked_at)
        return verified

    async def _key(self, kid: str | None, alg: str) -> OctKey | RSAKey | ECKey:
        if self._jwks is None:
            assert self._dev_key is not None
            return self._dev_key  # one dev key: a kid, if any, selects nothing
        if kid is None:
            raise AuthFailure("unknown_kid")
        candidates = await self._jwks.keys_for(kid)
        if not candidates:
            raise AuthFailure("unknown_kid")
        key_type, curve = _KEY_FOR_ALG[alg]
        for key in candidates:
            if key.key_type != key_type or key.alg not in (None, alg):
                continue
            if curve is not None and not (isinstance(key, ECKey) and key.curve_name == curve):
                continue
            return key
        raise AuthFailure("bad_algorithm")  # the kid exists, but names a key of another kind

    def _decode(self, token: str, key: OctKey | RSAKey | ECKey, alg: str) -> dict[str, Any]:
        # Unregistered header parameters are harmless once crit is refused; identity providers
        # add their own, so the header is not checked strictly against the registry.
        registry = JWSRegistry(algorithms=[alg], strict_check_header=False)
        try:
            return jwt.decode(token, key, algorithms=[alg], registry=registry).claims
        except BadSignatureError as error:
            raise AuthFailure("bad_signature") from error
        except ExceededSizeError as error:
            raise AuthFailure("oversized") from error
        except (UnsupportedAlgorithmError, InvalidKeyTypeError, InvalidKeyCurveError) as error:
            raise AuthFailure("bad_algorithm") from error
        except (JoseError, ValueError, TypeError, RecursionError) as error:
            raise AuthFailure("malformed") from error

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=self._leeway,
            exp={"essential": True},
            sub={"essential": True},
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as error:
            raise AuthFailure("expired") from error
        except MissingClaimError as error:
            missing = set(error.claim.split(","))
            if missing & {"exp", "sub"}:
                raise AuthFailure("malformed") from error
            raise AuthFailure("bad_issuer" if "iss" in missing else "bad_audience") from error
        except InvalidClaimError as error:
            raise AuthFailure(_reason_of_invalid(error.claim, claims)) from error
        except JoseError as error:
            raise AuthFailure("malformed") from error
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise AuthFailure("malformed")
        self._check_lifetime(claims, now)

    def _check_lifetime(self, claims: Mapping[str, Any], now: float) -> None:
        """A token may not declare a lifetime past the maximum: ``exp - iat``, else ``exp - now``.

        Without this a token with ``exp: 1e308`` (or a dev token minted for a year) is a
        credential that never ends.
        """
        expires, issued = claims["exp"], claims.get("iat")
        if not _is_numeric_date(expires):
            raise AuthFailure("malformed")
        start = issued if _is_numeric_date(issued) else now
        if expires - start > self._max_lifetime:
            raise AuthFailure("too_long_lived")


class _VerifiedCache:
    """A bounded LRU of verified tokens by the SHA-256 of the token, each kept a limited time.

    The digest, not the token, is the key: the cache holds no bearer credential. Entries leave
    after ``seconds`` by the verifier's clock (so a key the issuer withdrew stops being trusted
    within that time); the caller checks the time claims on hits, and notes here when they last
    passed.
    """

    def __init__(self, size: int, seconds: float) -> None:
        if size < 0 or seconds < 0:
            raise ValueError("cache_size and cache_seconds must not be negative")
        self._size = size
        self._seconds = seconds
        # digest -> (stored at, token, claims, the clock when its claims last passed)
        self._entries: OrderedDict[bytes, tuple[float, VerifiedToken, dict[str, Any], float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: bytes, now: float) -> tuple[VerifiedToken, dict[str, Any], float] | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        stored_at, verified, claims, passed_at = entry
        # A clock that moved backwards (an injected one) also ends the entry.
        if not stored_at <= now < stored_at + self._seconds:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return verified, claims, passed_at

    def passed(self, digest: bytes, now: float) -> None:
        entry = self._entries.get(digest)
        if entry is not None:
            self._entries[digest] = (*entry[:3], now)

    def put(self, digest: bytes, verified: VerifiedToken, claims: dict[str, Any], now: float) -> None:
        if self._size == 0 or self._seconds == 0:
            return
        self._entries[digest] = (now, verified, claims, now)
        self._entries.move_to_end(digest)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def forget(self, digest: bytes) -> None:
        self._entries.pop(digest, None)


def _reason_of_invalid(claim: str, claims: Mapping[str, Any]) -> Reason:
    if claim == "iss":
        return "bad_issuer"
    if claim == "aud":
        return "bad_audience"
    if claim in ("nbf", "iat") and _is_numeric_date(claims.get(claim)):
        return "not_yet_valid"  # a well-typed time in the future, beyond the leeway
    return "malformed"


def _is_numeric_date(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def dev_key(secret: bytes) -> OctKey:
    """The HS256 key of dev tokens, refused when shorter than RFC 7518 allows."""
    if len(secret) < MIN_DEV_SECRET_BYTES:
        raise ValueError(f"the dev secret must be at least {MIN_DEV_SECRET_BYTES} bytes (SPYNE_DEV_SECRET)")
    return OctKey.import_key(secret)
