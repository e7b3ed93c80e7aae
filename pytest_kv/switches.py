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
    parser.addini("kv_intercept", "kv-emulator interception mode: off or session.", default="off")
    parser.addini(
        "kv_settings",
        "kv-emulator settings as 'name = value' lines (e.g. soft_delete_retention_in_days = 7).",
        type="linelist",
        default=[],
    )
    parser.addini("kv_seed", "kv-emulator seed file (JSON or TOML), relative to the ini file.", default="")
    parser.addini("kv_guard", "kv-emulator guard: refuse Azure hosts while no emulator is active.", type="bool")


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
    return Switches(mode, mode_source, seed, seed_source, guard, guard_source)


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
    base = Path(config.invocation_params.dir)
    if cli:
        return (base / cli).resolve(), "--kv-seed"
    env = os.environ.get("PYTEST_KV_SEED", "").strip()
    if env:
        return (base / env).resolve(), "PYTEST_KV_SEED"
    ini = str(_ini(config, "kv_seed") or "").strip()
    if ini:
        ini_dir = config.inipath.parent if config.inipath else config.rootpath
        return (ini_dir / ini).resolve(), "kv_seed"
    return None, ""


def _guard(config: pytest.Config, cli: bool | None) -> tuple[bool, str]:
    if cli:
        return True, "command line"
    env = os.environ.get("PYTEST_KV_GUARD", "").strip().lower()
    if env in _TRUE:
        return True, "PYTEST_KV_GUARD"
    if env and env not in _FALSE:
        raise pytest.UsageError(f"PYTEST_KV_GUARD must be 1 or 0 (true/false), not {env!r}")
    if env:
        return False, "PYTEST_KV_GUARD"
    return bool(_ini(config, "kv_guard")), "ini"


def ini_settings(config: pytest.Config) -> dict[str, str]:
    options: dict[str, str] = {}
    for line in _ini(config, "kv_settings") or []:  # type: ignore[attr-defined]
        name, sep, value = str(line).partition("=")
        if not sep:
            raise pytest.UsageError(f"kv_settings: expected 'name = value', got {line!r}")
        options[name.strip()] = value.strip()
    return options
