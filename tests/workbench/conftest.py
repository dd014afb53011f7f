"""A live gateway on 127.0.0.1 with the demo catalog, and the workbench's assets in place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.http import workbench_assets
from tests.observability.live import serve
from tests.support.browser import Page, chromium
from tests.support.harness import Gateway


@pytest.fixture(scope="session")
def workbench_assets_installed() -> None:
    # `make install` puts them in place; a checkout that skipped it gets them here, from npm.
    if workbench_assets.check():
        workbench_assets.install()


@pytest.fixture
def live(gateway: Gateway, workbench_assets_installed: None) -> Iterator[str]:
    with serve(gateway.settings) as address:
        yield f"http://{address}"


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with chromium(tmp_path / "profile", artifacts="workbench") as browser:
        yield browser
