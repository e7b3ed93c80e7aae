"""pytest plugin: the ``keyvault`` fixture and marker, session mode, seed files and the guard.

Thin by design: every behaviour lives in :mod:`kv_emulator`, which is imported only when a fixture, a
marker or session mode needs it, so projects that install the plugin and never use it pay nothing.
Option precedence, highest first: marker arguments > command line > ``PYTEST_KV_*`` > ini file.

Session mode starts in ``pytest_load_initial_conftests``, before any conftest or test module is
imported, so code that builds a client (or reads a secret) at import time is already emulated. Under
pytest-xdist each worker runs its own session emulator; the controller, which imports the initial
conftests but runs no tests, has one only while it imports them.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .switches import Switches, add_options, ini_settings, read_switches

if TYPE_CHECKING:
    from kv_emulator import Emulator

_SWITCHES = pytest.StashKey[Switches]()
_SESSION_KEY = pytest.StashKey["Emulator"]()
_FIXTURE_KEY = pytest.StashKey["Emulator"]()
_GUARD_KEY = pytest.StashKey[Any]()
_SEED_KEY = pytest.StashKey[Any]()
_JOURNAL_MARK = pytest.StashKey[int]()
_REPORTED = pytest.StashKey[bool]()

_MARKER_HELP = (
    "keyvault(**options): configure the kv-emulator behind the keyvault fixture for one test, e.g. "
    "keyvault(enable_soft_delete=False, soft_delete_retention_in_days=7, enable_purge_protection=True, "
    "sku='standard', strict_api_version=True, strict_hosts=True)."
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def _xdist_controller(config: pytest.Config) -> bool:
    """True in the process that hands tests to xdist workers (and runs none itself)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return False
    namespace = getattr(config, "known_args_namespace", None) or config.option
    return bool(getattr(namespace, "numprocesses", None)) or bool(getattr(namespace, "tx", None))


def _new_emulator(config: pytest.Config, options: dict[str, Any], *, session: bool) -> Emulator:
    """An emulator with the ini settings (then ``options``) and the seed file applied; not started."""
    from kv_emulator import Emulator, Settings

    defaults = {"emulate_cli": True} if session else {}  # session mode stands in for az / azd by default
    merged: dict[str, Any] = {**defaults, **ini_settings(config), **options}
    try:
        settings = Settings.from_options(merged)
    except (TypeError, ValueError) as exc:
        where = "kv_settings" if session else "kv-emulator settings (marker or ini kv_settings)"
        raise pytest.UsageError(f"{where}: {exc}") from None
    emulator = Emulator(settings)
    seed = _seed(config)
    if seed is not None:
        from kv_emulator.seed import SeedError, apply

        try:
            apply(emulator, seed)
        except SeedError as exc:
            raise pytest.UsageError(str(exc)) from None
    return emulator


def _seed(config: pytest.Config) -> Any:
    """The seed document, read and checked once per run (a bad file fails at start)."""
    if _SEED_KEY not in config.stash:
        switches = config.stash.get(_SWITCHES, None) or read_switches(config)
        document = None
        if switches.seed is not None:
            from kv_emulator.seed import SeedError, load_seed

            try:
                document = load_seed(switches.seed, source=f"{switches.seed} (from {switches.seed_source})")
            except SeedError as exc:
                raise pytest.UsageError(str(exc)) from None
        config.stash[_SEED_KEY] = document
    return config.stash[_SEED_KEY]


def _start_session(config: pytest.Config) -> None:
    switches = config.stash[_SWITCHES]
    _seed(config)
    if switches.guard and _GUARD_KEY not in config.stash:
        from kv_emulator.guard import Guard

        config.stash[_GUARD_KEY] = Guard().install()
    if switches.session and _SESSION_KEY not in config.stash:
        config.stash[_SESSION_KEY] = _new_emulator(config, {}, session=True).start()


def _stop_session(config: pytest.Config) -> None:
    emulator = config.stash.get(_SESSION_KEY, None)
    if emulator is not None:
        emulator.stop()
        del config.stash[_SESSION_KEY]


def _stop_guard(config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD_KEY, None)
    if guard is not None:
        guard.uninstall()
        del config.stash[_GUARD_KEY]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None, None, None]:
    """Start session mode (and the guard) before the first conftest is imported."""
    early_config.stash[_SWITCHES] = read_switches(early_config)
    try:
        _start_session(early_config)
        yield
    except BaseException:  # pytest will not unconfigure a config that failed here
        _stop_session(early_config)
        _stop_guard(early_config)
        raise
    if _xdist_controller(early_config):
        _stop_session(early_config)  # the workers run the tests, each with its own emulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)
    if _SWITCHES not in config.stash:  # loaded after the initial conftests (e.g. from a conftest)
        config.stash[_SWITCHES] = read_switches(config)
        if not _xdist_controller(config):
            _start_session(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    _stop_session(config)
    _stop_guard(config)


def pytest_report_header(config: pytest.Config) -> str:
    switches = config.stash.get(_SWITCHES, None) or Switches()
    header = f"kv-emulator: intercept={switches.mode} (from {switches.mode_source})"
    emulator = config.stash.get(_SESSION_KEY, None)
    if emulator is not None:
        header += f", vault {emulator.vault_url}"
    elif switches.session and _xdist_controller(config):
        header += ", one emulator per xdist worker"
    if switches.seed is not None:
        header += f", seed {switches.seed} (from {switches.seed_source})"
    if switches.guard:
        header += f", guard on (from {switches.guard_source})"
    if switches.report is not None:
        which = "every test" if switches.report_all else "failing tests"
        header += f", HTML reports of {which} in {switches.report} (from {switches.report_source})"
    return header


@pytest.fixture
def keyvault(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A fresh, started kv-emulator for one test; configure it with ``@pytest.mark.keyvault(...)``."""
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("keyvault"))):  # closest marker wins
        if marker.args:
            raise pytest.UsageError("@pytest.mark.keyvault takes keyword options only")
        options.update(marker.kwargs)
    emulator = _new_emulator(request.config, options, session=False)
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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Note where the session journal stands, so a failure report shows only this test's requests."""
    emulator = item.config.stash.get(_SESSION_KEY, None)
    if emulator is not None:
        item.stash[_JOURNAL_MARK] = len(emulator.requests)  # O(1): the session journal only grows


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On failure, show what the emulator was asked during this test, in pytest's report."""
    report = yield
    if report.failed:
        section = _journal_section(item)
        if section is not None:
            report.sections.append(section)
        emulator = item.stash.get(_FIXTURE_KEY, None) or item.config.stash.get(_SESSION_KEY, None)
        if emulator is not None and emulator.events.errors:
            report.sections.append(("kv-emulator event handler errors", emulator.events.format_errors()))
    _write_report(item, report)
    return report


def _write_report(item: pytest.Item, report: pytest.TestReport) -> None:
    """``--kv-report=DIR``: the test's calls, audit and events as one HTML file, named in the failure report."""
    switches = item.config.stash.get(_SWITCHES, None)
    if switches is None or switches.report is None or item.stash.get(_REPORTED, False):
        return
    if not (report.failed or (switches.report_all and report.when == "call")):
        return
    emulator = item.stash.get(_FIXTURE_KEY, None) or item.config.stash.get(_SESSION_KEY, None)
    if emulator is None:
        return
    from kv_emulator.report import write_report

    fresh = item.stash.get(_FIXTURE_KEY, None) is not None
    entries = list(emulator.requests) if fresh else emulator.requests.since(item.stash.get(_JOURNAL_MARK, 0))
    outcome = report.outcome if report.when == "call" else f"{report.outcome} in {report.when}"
    path = write_report(
        switches.report,
        item.nodeid,
        outcome,
        entries,
        published=emulator.events.published,
        subscriptions=emulator.events.subscriptions,
        failure=str(report.longrepr) if report.failed else "",
    )
    item.stash[_REPORTED] = True
    report.sections.append(("kv-emulator report", f"{path}"))


def _journal_section(item: pytest.Item) -> tuple[str, str] | None:
    emulator = item.stash.get(_FIXTURE_KEY, None)
    if emulator is not None:  # a fresh emulator: everything it saw is this test's
        return ("kv-emulator requests", emulator.requests.format()) if len(emulator.requests) else None
    emulator = item.config.stash.get(_SESSION_KEY, None)
    if emulator is None:
        return None
    entries = list(emulator.requests)
    start = item.stash.get(_JOURNAL_MARK, 0)
    if start > len(entries):  # the journal was cleared (reset()) during the test
        start = 0
    if not entries[start:]:
        return None
    text = "\n".join(str(entry) for entry in entries[start:])
    if start:
        text += f"\n({start} earlier request(s) of the session not shown)"
    return ("kv-emulator requests (this test)", text)


@pytest.fixture(scope="session")
def keyvault_server() -> Iterator[Any]:
    """The emulator over HTTPS on free loopback ports for the whole session: ``.env()`` for a subprocess,
    ``.emulator`` to seed and inspect (docs/server.md)."""
    from kv_emulator import serve

    with serve() as server:
        yield server
