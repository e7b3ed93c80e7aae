"""The plugin's switches, read once from the command line, the environment and the ini file.

Precedence, highest first: command line > ``PYTEST_KV_*`` environment variables > ini file. They are read
in ``pytest_load_initial_conftests``, before any conftest is imported, so nothing here may import
:mod:`kv_emulator` (the plugin stays cheap for runs that never use it).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

__all__ = ["MODES", "Switches", "add_options", "ini_settings", "read_switches"]

MODES = ("off", "session")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


@dataclasses.dataclass(frozen=True)
class Switches:
    mode: str = "off"
    mode_source: str = "default"
    seed: Path | None = None
    seed_source: str = ""
    guard: bool = False
    guard_source: str = "default"
    report: Path | None = None
    """Where ``--kv-report`` writes one HTML file per failing test (None: no reports)."""
    report_source: str = ""
    report_all: bool = False
    """``--kv-report-all``: a report for every test, passing ones too."""

    @property
    def session(self) -> bool:
        return self.mode == "session"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("keyvault", "Azure Key Vault emulation (kv-emulator)")
    group.addoption(
        "--kv-intercept",
        choices=MODES,
        default=None,
        help="session: emulate Key Vault for the whole run, from before the first conftest is imported, "
        "with no fixture in the tests (env PYTEST_KV_INTERCEPT, ini kv_intercept). Default: off.",
    )
    group.addoption(
        "--kv-seed",
        metavar="PATH",
        default=None,
        help="a JSON or TOML seed file (vaults, secrets, keys, certificates) applied to every emulator "
        "at start (env PYTEST_KV_SEED, ini kv_seed).",
    )
    group.addoption(
        "--kv-guard",
        action="store_true",
        default=None,
        help="fail at once, never reaching the network, on any request to a Key Vault, Managed HSM, Entra "
        "login or IMDS host while no emulator is active (env PYTEST_KV_GUARD=1, ini kv_guard).",
    )
    group.addoption(
        "--kv-report",
        metavar="DIR",
        default=None,
        help="write one self-contained HTML file per failing test into DIR: its calls drawn as timelines, its "
        "audit entries and events; the failure report names the file (env PYTEST_KV_REPORT, ini kv_report).",
    )
    group.addoption(
        "--kv-report-all",
        action="store_true",
        default=None,
        help="with --kv-report: a file for every test, passing ones too (env PYTEST_KV_REPORT_ALL=1, "
        "ini kv_report_all).",
    )
    parser.addini("kv_intercept", "kv-emulator interception mode: off or session.", default="off")
    parser.addini(
        "kv_settings",
        "kv-emulator settings as 'name = value' lines (e.g. soft_delete_retention_in_days = 7).",
        type="linelist",
        default=[],
    )
    parser.addini("kv_seed", "kv-emulator seed file (JSON or TOML), relative to the ini file.", default="")
    parser.addini("kv_guard", "kv-emulator guard: refuse Azure hosts while no emulator is active.", type="bool")
    parser.addini("kv_report", "kv-emulator: directory for HTML reports of failing tests, relative to the ini file.")
    parser.addini("kv_report_all", "kv-emulator: an HTML report for every test (with kv_report).", type="bool")


def _ini(config: pytest.Config, name: str) -> object:
    try:
        return config.getini(name)
    except ValueError:  # the plugin's ini names were not registered (e.g. -p no:keyvault then -p ...)
        return None


def read_switches(config: pytest.Config) -> Switches:
    """Read the switches; usable before option parsing is complete (from ``known_args_namespace``)."""
    namespace = getattr(config, "known_args_namespace", None) or config.option
    mode, mode_source = _mode(config, getattr(namespace, "kv_intercept", None))
    seed, seed_source = _seed(config, getattr(namespace, "kv_seed", None))
    guard, guard_source = _guard(config, getattr(namespace, "kv_guard", None))
    report, report_source = _path(config, getattr(namespace, "kv_report", None), "--kv-report", "PYTEST_KV_REPORT")
    report_all = _flag(config, getattr(namespace, "kv_report_all", None), "PYTEST_KV_REPORT_ALL", "kv_report_all")
    return Switches(
        mode, mode_source, seed, seed_source, guard, guard_source, report, report_source, report_all=report_all
    )


def _mode(config: pytest.Config, cli: str | None) -> tuple[str, str]:
    if cli:
        return cli, "command line"
    env = os.environ.get("PYTEST_KV_INTERCEPT", "").strip().lower()
    if env:
        if env not in MODES:
            raise pytest.UsageError(f"PYTEST_KV_INTERCEPT must be one of {', '.join(MODES)}, not {env!r}")
        return env, "PYTEST_KV_INTERCEPT"
    ini = str(_ini(config, "kv_intercept") or "off").strip().lower() or "off"
    if ini not in MODES:
        raise pytest.UsageError(f"kv_intercept must be one of {', '.join(MODES)}, not {ini!r}")
    return ini, "ini"


def _seed(config: pytest.Config, cli: str | None) -> tuple[Path | None, str]:
    return _path(config, cli, "--kv-seed", "PYTEST_KV_SEED")


def _path(config: pytest.Config, cli: str | None, flag: str, variable: str) -> tuple[Path | None, str]:
    """A path from the command line or the environment (relative to where pytest runs) or the ini file
    (relative to it): ``--kv-seed``/``kv_seed``, ``--kv-report``/``kv_report``."""
    base = Path(config.invocation_params.dir)
    if cli:
        return (base / cli).resolve(), flag
    env = os.environ.get(variable, "").strip()
    if env:
        return (base / env).resolve(), variable
    ini_name = flag.removeprefix("--").replace("-", "_")
    ini = str(_ini(config, ini_name) or "").strip()
    if ini:
        ini_dir = config.inipath.parent if config.inipath else config.rootpath
        return (ini_dir / ini).resolve(), ini_name
    return None, ""


def _guard(config: pytest.Config, cli: bool | None) -> tuple[bool, str]:
    guard = _flag(config, cli, "PYTEST_KV_GUARD", "kv_guard")
    if cli:
        return guard, "command line"
    return guard, "PYTEST_KV_GUARD" if os.environ.get("PYTEST_KV_GUARD", "").strip() else "ini"


def _flag(config: pytest.Config, cli: bool | None, variable: str, ini: str) -> bool:
    """An on/off switch: the command line, else ``variable`` (1/0, true/false), else the ini file."""
    if cli:
        return True
    env = os.environ.get(variable, "").strip().lower()
    if env in _TRUE:
        return True
    if env and env not in _FALSE:
        raise pytest.UsageError(f"{variable} must be 1 or 0 (true/false), not {env!r}")
    if env:
        return False
    return bool(_ini(config, ini))


def ini_settings(config: pytest.Config) -> dict[str, str]:
    options: dict[str, str] = {}
    for line in _ini(config, "kv_settings") or []:  # type: ignore[attr-defined]
        name, sep, value = str(line).partition("=")
        if not sep:
            raise pytest.UsageError(f"kv_settings: expected 'name = value', got {line!r}")
        options[name.strip()] = value.strip()
    return options
