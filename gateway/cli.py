"""The ``spyne`` command: serve, migrate, tokens, roles, the demo, and queries from a terminal.

Each subcommand is a small function; areas that add commands (ingestion's ``backfill``…)
register them in :data:`COMMANDS` through :func:`command`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any

Handler = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[str, Configure, Handler]] = {}


def command(name: str, help_text: str, configure: Configure) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (help_text, configure, handler)
        return handler

    return register


def _settings() -> Any:
    from gateway.settings import load_settings

    return load_settings()


def cli_principal() -> Any:
    """Shell access to the catalog is trusted like an admin, and audited under the OS user."""
    from gateway.domain import Role
    from gateway.records import Principal

    return Principal(email=f"cli:{getpass.getuser()}", role=Role.ADMIN)


async def with_services(fn: Callable[[Any], Any]) -> Any:
    from gateway.app import build_services

    services = build_services(_settings())
    try:
        await services.users.ensure_mode()
        return await fn(services)
    finally:
        services.deps.warehouse.dispose()
        await services.deps.uow.dispose()


def fail(message: str, code: int = 1) -> int:
    print(f"spyne: {message}", file=sys.stderr)
    return code


# --- serve ---------------------------------------------------------------------------------


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--demo", action="store_true", help="print a dev token per role before serving")


@command("serve", "run the gateway (uvicorn)", _serve_args)
def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.warehouse.registry import WarehouseConfigError, adapter_for

    settings = _settings()
    try:  # refuse to start on a warehouse no adapter can serve, naming what to install
        adapter_for(settings.warehouse_url)
    except WarehouseConfigError as exc:
        return fail(str(exc))
    if args.demo:
        _print_demo_tokens(settings, args.host, args.port)
    if args.workers > 1:
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_multiproc_dir()))
    # On SIGTERM/SIGINT uvicorn stops accepting connections, lets requests in flight finish for
    # up to the grace period, then cancels what is left (README, "Shutting down").
    uvicorn.run("gateway.asgi:app", host=args.host, port=args.port, workers=args.workers,
                log_level="info", access_log=False, factory=False,
                timeout_graceful_shutdown=settings.shutdown_grace_seconds)
    return 0


def _multiproc_dir() -> Any:
    from pathlib import Path

    path = Path(".spyne/prometheus")
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path.resolve()


def _print_demo_tokens(settings: Any, host: str, port: int) -> None:
    from gateway.auth import mint_dev_token
    from gateway.domain import Role

    if settings.oidc_enabled:
        print("OIDC is configured: dev tokens are refused, sign in through your identity provider.")
        return
    print(f"\nSpyne gateway demo — GraphiQL at http://{host}:{port}/graphql")
    print("Paste one of these into GraphiQL's Headers tab as {\"Authorization\": \"Bearer <token>\"}:\n")
    for role in Role:
        token = mint_dev_token(settings.dev_secret, f"{role.value.lower()}@demo.spyne", role.value, 8 * 3600)
        print(f"  {role.value:<9} {token}\n")


# --- migrate -------------------------------------------------------------------------------


@command("migrate", "run the Alembic migrations on the configured catalog", lambda p: None)
def migrate_cmd(_: argparse.Namespace) -> int:
    from gateway.store.engine import migrate

    settings = _settings()
    migrate(settings.catalog_url)
    print(f"catalog migrated: {_redact(settings.catalog_url)}")
    return 0


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- token ---------------------------------------------------------------------------------


def _token_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--email", required=True)
    p.add_argument("--role", required=True, choices=["VIEWER", "ANALYST", "ENGINEER", "ADMIN"],
                   type=str.upper)
    p.add_argument("--ttl", default="1h", help="lifetime: 30m, 1h, 7d… (default 1h)")


@command("token", "mint a dev token signed with the local dev key", _token_args)
def token_cmd(args: argparse.Namespace) -> int:
    from gateway.auth import mint_dev_token, parse_ttl

    settings = _settings()
    if settings.oidc_enabled:
        return fail("an OIDC issuer is configured (SPYNE_OIDC_ISSUER): dev tokens are refused.", 2)
    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as exc:
        return fail(str(exc), 2)
    print(mint_dev_token(settings.dev_secret, args.email, args.role, ttl))
    return 0


# --- users ---------------------------------------------------------------------------------


def _users_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="users_command", required=True)
    set_role = sub.add_parser("set-role", help="give EMAIL the role ROLE (bootstraps the first admin)")
    set_role.add_argument("email")
    set_role.add_argument("role", type=str.upper, choices=["VIEWER", "ANALYST", "ENGINEER", "ADMIN"])
    sub.add_parser("list", help="list users with a role in the catalog")


@command("users", "manage roles from the shell", _users_args)
def users_cmd(args: argparse.Namespace) -> int:
    from gateway.domain import Role
    from gateway.errors import GatewayError

    async def run(services: Any) -> int:
        if args.users_command == "set-role":
            user = await services.users.set_role(cli_principal(), args.email, Role(args.role))
            print(f"{user.email} is now {user.role.value}")
            return 0
        async with services.deps.uow() as uow:
            for user in await uow.users.list():
                print(f"{user.email:<40} {user.role.value}")
        return 0

    try:
        return int(asyncio.run(with_services(run)))
    except GatewayError as exc:
        return fail(exc.message)


# --- demo ----------------------------------------------------------------------------------


def _demo_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="demo_command", required=True)
    load = sub.add_parser("load", help="generate the sample warehouse and load the demo catalog")
    load.add_argument("--scale", type=float, default=1.0)
    load.add_argument("--seed", type=int, default=7)
    load.add_argument("--force", action="store_true", help="regenerate the warehouse even if it exists")


@command("demo", "the demo warehouse and catalog", _demo_args)
def demo_cmd(args: argparse.Namespace) -> int:
    from gateway.services.demo import load_demo_catalog
    from gateway.warehouse.demo_data import generate_demo_warehouse, sqlite_path

    settings = _settings()
    try:
        path = sqlite_path(settings.warehouse_url)
    except ValueError as exc:
        return fail(f"{exc} (the demo builds a SQLite warehouse; unset SPYNE_WAREHOUSE_URL)")
    summary = generate_demo_warehouse(str(path), seed=args.seed, scale=args.scale, progress=print)
    print(f"warehouse ready: {summary.total_rows:,} rows in {summary.elapsed_s:.1f}s")

    async def run(services: Any) -> int:
        return int(await load_demo_catalog(services.deps, summary, progress=print))

    loaded = asyncio.run(with_services(run))
    print(f"demo catalog loaded: {loaded} table versions registered")
    return 0


# --- entry point ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    _load_command_modules()
    parser = argparse.ArgumentParser(prog="spyne", description="Spyne gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, configure, handler) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        configure(p)
        p.set_defaults(handler=handler)
    return parser


def _load_command_modules() -> None:
    """Areas that contribute commands live in their own modules; importing registers them."""
    import importlib

    for module in ("gateway.cli_query", "gateway.cli_ingest"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
