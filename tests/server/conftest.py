"""The server tests: every one starts a real ``kv-emulator serve`` (in this process, on loopback sockets, or as a
subprocess), so every test in this folder is marked ``slow`` here; the folder's modules keep their own fixtures
(each ``server`` fixture starts the server the module needs). The client programs they run are in
server_apps/."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.slow)
