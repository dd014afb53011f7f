"""Settings, read once from the environment (and a ``.env`` file) by the composition root."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from gateway.domain import DEFAULT_MODE, SystemMode

STATE_DIR = Path(".spyne")


@dataclass(frozen=True)
class Settings:
    catalog_url: str = f"sqlite:///{STATE_DIR}/catalog.db"
    warehouse_url: str = f"sqlite:///{STATE_DIR}/warehouse.db"
    # Optional separate login for query execution (PostgreSQL), e.g. a role without shadow rights.
    warehouse_query_url: str | None = None
    initial_mode: SystemMode = DEFAULT_MODE
    dev_secret: bytes = b""
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    jwks_url: str | None = None
    # The /dashboard sign-in through the OIDC provider (authorization code + PKCE).
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    role_claim: str = "spyne_role"
    max_rows: int = 10_000
    # What one function call may build (planner.capabilities.bounds): bytes, and times a value.
    function_max_bytes: int = 1_000_000
    function_max_growth: int = 1_000
    statement_timeout_ms: int = 30_000
    max_result_bytes: int = 64 * 1024 * 1024
    preview_ttl_seconds: int = 3600
    max_query_depth: int = 12
    max_query_tokens: int = 5_000
    max_aliases: int = 30
    role_cache_seconds: float = 2.0
    archive_dir: str = f"{STATE_DIR}/archive"
    # An ingestion run whose heartbeat is older than this is a dead process's (ingestion_runs.py).
    ingest_lease_seconds: int = 60
    # `spyne serve`: how long requests in flight may finish after SIGTERM/SIGINT.
    shutdown_grace_seconds: int = 30

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _dev_secret(configured: str | None) -> bytes:
    if configured:
        return configured.encode()
    # Generated once into .spyne/ so that tokens survive restarts of a dev server.
    path = STATE_DIR / "dev_secret"
    if path.is_file():
        return path.read_text().strip().encode()
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret.encode()


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = {**_read_dotenv(Path(".env")), **(environ if environ is not None else os.environ)}
    defaults = Settings()

    def get(name: str) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else None

    def integer(name: str, default: int) -> int:
        raw = get(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None

    mode_text = get("SPYNE_MODE") or defaults.initial_mode.value
    try:
        mode = SystemMode(mode_text.upper())
    except ValueError:
        raise SystemExit(f"SPYNE_MODE must be READ_ONLY or INGESTION_READY, got {mode_text!r}") from None
    return Settings(
        catalog_url=get("SPYNE_CATALOG_URL") or defaults.catalog_url,
        warehouse_url=get("SPYNE_WAREHOUSE_URL") or defaults.warehouse_url,
        warehouse_query_url=get("SPYNE_WAREHOUSE_QUERY_URL"),
        initial_mode=mode,
        dev_secret=_dev_secret(get("SPYNE_DEV_SECRET")),
        oidc_issuer=get("SPYNE_OIDC_ISSUER"),
        oidc_audience=get("SPYNE_OIDC_AUDIENCE"),
        jwks_url=get("SPYNE_JWKS_URL"),
        oidc_client_id=get("SPYNE_OIDC_CLIENT_ID"),
        oidc_client_secret=get("SPYNE_OIDC_CLIENT_SECRET"),
        role_claim=get("SPYNE_ROLE_CLAIM") or defaults.role_claim,
        max_rows=integer("SPYNE_MAX_ROWS", defaults.max_rows),
        function_max_bytes=integer("SPYNE_FUNCTION_MAX_BYTES", defaults.function_max_bytes),
        function_max_growth=integer("SPYNE_FUNCTION_MAX_GROWTH", defaults.function_max_growth),
        statement_timeout_ms=integer("SPYNE_STATEMENT_TIMEOUT_MS", defaults.statement_timeout_ms),
        max_result_bytes=integer("SPYNE_MAX_RESULT_BYTES", defaults.max_result_bytes),
        archive_dir=get("SPYNE_ARCHIVE_DIR") or defaults.archive_dir,
        ingest_lease_seconds=max(1, integer("SPYNE_INGEST_LEASE_S", defaults.ingest_lease_seconds)),
        shutdown_grace_seconds=max(0, integer("SPYNE_SHUTDOWN_GRACE_S", defaults.shutdown_grace_seconds)),
    )
