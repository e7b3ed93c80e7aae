"""pytest plugin: the ``keyvault`` fixture, the ``keyvault`` marker and ``--kv-intercept=session``.

Thin by design: every behaviour lives in :mod:`kv_emulator`. Option precedence, highest first:
marker arguments > command line > ``PYTEST_KV_INTERCEPT`` > ``pytest.ini``/``pyproject.toml``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from kv_emulator import Emulator, Settings

_SESSION_KEY = pytest.StashKey[Emulator]()
_INTERCEPT_SOURCE = pytest.StashKey[str]()
_FIXTURE_KEY = pytest.StashKey[Emulator]()
_MODES = ("off", "session")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("keyvault", "Azure Key Vault emulation (kv-emulator)")
    group.addoption(
        "--kv-intercept",
        choices=_MODES,
        default=None,
        help="session: emulate Key Vault for the whole run, with no fixture in the tests "
        "(env PYTEST_KV_INTERCEPT, ini kv_intercept). Default: off.",
    )
    parser.addini("kv_intercept", "kv-emulator interception mode: off or session.", default="off")
    parser.addini(
        "kv_settings",
        "kv-emulator settings as 'name = value' lines (e.g. soft_delete_retention_in_days = 7).",
        type="linelist",
        default=[],
    )


def _ini_settings(config: pytest.Config) -> dict[str, str]:
    options: dict[str, str] = {}
    for line in config.getini("kv_settings"):
        name, sep, value = line.partition("=")
        if not sep:
            raise pytest.UsageError(f"kv_settings: expected 'name = value', got {line!r}")
        options[name.strip()] = value.strip()
    return options


def _intercept_mode(config: pytest.Config) -> tuple[str, str]:
    cli = config.getoption("kv_intercept")
    if cli:
        return cli, "command line"
    env = os.environ.get("PYTEST_KV_INTERCEPT", "").strip().lower()
    if env:
        if env not in _MODES:
            raise pytest.UsageError(f"PYTEST_KV_INTERCEPT must be one of {', '.join(_MODES)}, not {env!r}")
        return env, "PYTEST_KV_INTERCEPT"
    ini = str(config.getini("kv_intercept")).strip().lower() or "off"
    if ini not in _MODES:
        raise pytest.UsageError(f"kv_intercept must be one of {', '.join(_MODES)}, not {ini!r}")
    return ini, "ini"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "keyvault(**options): configure the kv-emulator behind the keyvault fixture for one test, e.g. "
        "keyvault(enable_soft_delete=False, soft_delete_retention_in_days=7, enable_purge_protection=True, "
        "sku='standard', strict_api_version=True, strict_hosts=True).",
    )
    mode, source = _intercept_mode(config)
    config.stash[_INTERCEPT_SOURCE] = f"{mode} (from {source})"
    if mode == "session":
        try:
            settings = Settings.from_options(_ini_settings(config))
        except (TypeError, ValueError) as exc:
            raise pytest.UsageError(f"kv_settings: {exc}") from None
        config.stash[_SESSION_KEY] = Emulator(settings).start()


def pytest_unconfigure(config: pytest.Config) -> None:
    emulator = config.stash.get(_SESSION_KEY, None)
    if emulator is not None:
        emulator.stop()


def pytest_report_header(config: pytest.Config) -> str:
    header = f"kv-emulator: intercept={config.stash.get(_INTERCEPT_SOURCE, 'off')}"
    emulator = config.stash.get(_SESSION_KEY, None)
    if emulator is not None:
        header += f", vault {emulator.vault_url}"
    return header


@pytest.fixture
def keyvault(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A fresh, started kv-emulator for one test; configure it with ``@pytest.mark.keyvault(...)``."""
    options: dict[str, Any] = dict(_ini_settings(request.config))
    for marker in reversed(list(request.node.iter_markers("keyvault"))):  # closest marker wins
        if marker.args:
            raise pytest.UsageError("@pytest.mark.keyvault takes keyword options only")
        options.update(marker.kwargs)
    try:
        settings = Settings.from_options(options)
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"kv-emulator settings (marker or ini kv_settings): {exc}") from None
    emulator = Emulator(settings)
    request.node.stash[_FIXTURE_KEY] = emulator
    with emulator:
        yield emulator


@pytest.fixture(scope="session")
def keyvault_session(pytestconfig: pytest.Config) -> Emulator:
    """The emulator of ``--kv-intercept=session`` (to seed or inspect it); skips when session mode is off."""
    emulator = pytestconfig.stash.get(_SESSION_KEY, None)
    if emulator is None:
        pytest.skip("kv-emulator session mode is off (use --kv-intercept=session)")
    return emulator


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On failure, show what the emulator was asked, in pytest's report."""
    report = yield
    if report.failed:
        emulator = item.stash.get(_FIXTURE_KEY, None) or item.config.stash.get(_SESSION_KEY, None)
        if emulator is not None and len(emulator.requests):
            report.sections.append(("kv-emulator requests", emulator.requests.format()))
    return report


@pytest.fixture(scope="session")
def keyvault_server() -> Iterator[Any]:
    """The emulator over HTTPS on free loopback ports for the whole session: ``.env()`` for a subprocess,
    ``.emulator`` to seed and inspect (docs/server.md)."""
    from kv_emulator import serve

    with serve() as server:
        yield server
