"""``kv-emulator``: ``serve`` (run the server), ``ca`` (where its CA is), ``env`` (what a client needs).

Every emulator setting (:class:`~kv_emulator.Settings`) is a flag (``--soft-delete-retention-in-days 7``)
and an environment variable (``KV_EMULATOR_SOFT_DELETE_RETENTION_IN_DAYS=7``); a flag wins.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import Settings
from .env import FORMATS, client_env, format_env, read_runtime
from .options import ServerOptions
from .tls import CertificateAuthority, default_data_dir

__all__ = ["main"]

ENV_PREFIX = "KV_EMULATOR_"
#: Server options as (flag name, type, help); settings flags are derived from Settings' fields.
_SERVER_FLAGS: list[tuple[str, Any, str]] = [
    ("host", str, "address to listen on (default 127.0.0.1; anything else needs --admin-token for /_kv/)"),
    ("port", int, "direct HTTPS port: https://localhost:PORT (default 8443; 0 picks a free one)"),
    ("proxy_port", int, "HTTP proxy port for HTTPS_PROXY (default 8444; 0 picks a free one)"),
    ("admin_token", str, "bearer token the /_kv/ management API requires"),
    ("seed", Path, "seed file to load at start (the kv_seed format)"),
    ("idle_timeout", float, "seconds an idle or trickling connection is kept (default 60)"),
    ("max_body", int, "largest request body in bytes (default 4 MiB)"),
    ("fault_timeout", float, "seconds an injected 'timeout' fault stays silent before closing (default 30)"),
]


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"CA, state and ports live here (env {_env_name('data_dir')}; default {default_data_dir()})",
    )


def _data_dir(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Path:
    value = args.data_dir or (os.environ if environ is None else environ).get(_env_name("data_dir"))
    return Path(value).expanduser() if value else default_data_dir()


def _serve_parser(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the emulator over HTTPS (proxy and direct)")
    _add_data_dir(serve)
    for name, kind, text in _SERVER_FLAGS:
        serve.add_argument(
            f"--{name.replace('_', '-')}", dest=name, type=kind, default=None, help=f"{text} [{_env_name(name)}]"
        )
    serve.add_argument("--vault", dest="vault_name", default=None, help="the default vault's name [KV_EMULATOR_VAULT]")
    serve.add_argument(
        "--passthrough",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="tunnel CONNECTs to other hosts (default) or refuse them [KV_EMULATOR_PASSTHROUGH]",
    )
    serve.add_argument(
        "--ephemeral",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep state in memory only, not in state.sqlite3 [KV_EMULATOR_EPHEMERAL]",
    )
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines")
    settings = serve.add_argument_group("emulator settings (as for the pytest marker)")
    for field in dataclasses.fields(Settings):
        if field.name == "vault_name":
            continue
        flag = f"--{field.name.replace('_', '-')}"
        extra = f" [{_env_name(field.name)}]"
        if str(field.type) == "bool":
            settings.add_argument(
                flag, dest=f"setting_{field.name}", action=argparse.BooleanOptionalAction, default=None, help=extra
            )
        else:
            settings.add_argument(
                flag,
                dest=f"setting_{field.name}",
                default=None,
                metavar=field.name.upper(),
                help=f"{field.type}{extra}",
            )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kv-emulator", description="An Azure Key Vault emulator over HTTPS.")
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_parser(commands)
    ca = commands.add_parser("ca", help="print the path of the emulator's CA certificate (created if missing)")
    _add_data_dir(ca)
    ca.add_argument("--pem", action="store_true", help="print the PEM instead of the path")
    env = commands.add_parser("env", help="print the environment a client needs to reach the running server")
    _add_data_dir(env)
    env.add_argument("--format", choices=FORMATS, default="shell", help="shell export lines (default), dotenv, github")
    env.add_argument("--direct", action="store_true", help="https://localhost:PORT instead of the proxy")
    return parser


def settings_from(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    """Flags over ``KV_EMULATOR_*`` variables over defaults."""
    options: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        value = getattr(args, f"setting_{field.name}", None)
        if field.name == "vault_name":
            value = args.vault_name if args.vault_name is not None else environ.get(_env_name("vault"))
        if value is None:
            value = environ.get(_env_name(field.name))
        if value is not None:
            options[field.name] = value
    return Settings.from_options(options)


def options_from(args: argparse.Namespace, environ: dict[str, str]) -> ServerOptions:
    options = ServerOptions(data_dir=_data_dir(args, environ))
    for name, kind, _ in _SERVER_FLAGS:
        value = getattr(args, name)
        if value is None and _env_name(name) in environ:
            value = kind(environ[_env_name(name)])
        if value is not None:
            setattr(options, name, value)
    for name in ("passthrough", "ephemeral"):
        value = getattr(args, name)
        if value is None and _env_name(name) in environ:
            value = environ[_env_name(name)].strip().lower() in ("1", "true", "yes", "on")
        if value is not None:
            setattr(options, name, value)
    return options


def _serve(args: argparse.Namespace, make_emulator: Callable[[Settings], Any]) -> int:
    from .api import Server

    try:
        settings = settings_from(args, dict(os.environ))
        options = options_from(args, dict(os.environ))
    except (TypeError, ValueError) as exc:
        print(f"kv-emulator: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("kv_emulator.server").setLevel(logging.WARNING if args.quiet else logging.INFO)
    server = Server(make_emulator(settings), options)
    try:
        server.start()
    except OSError as exc:
        print(f"kv-emulator: cannot listen on {options.host}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except (RuntimeError, ValueError) as exc:  # a database this version cannot read, a bad seed file
        print(f"kv-emulator: {exc}", file=sys.stderr)
        return 1
    state = "in memory (--ephemeral)" if options.ephemeral else str(options.data_dir / "state.sqlite3")
    lines = [
        f"kv-emulator proxy    {server.proxy_url}  HTTPS_PROXY; vaults at https://<name>.vault.azure.net",
        f"kv-emulator direct   {server.url}  default vault {settings.vault_name}; https://<name>.localhost:{server.port}",
        f"kv-emulator identity {server.identity_endpoint}  IDENTITY_ENDPOINT (header in `kv-emulator env`)",
        f"kv-emulator manage   {server.proxy_url}/_kv/health  and /_kv/ on both ports",
        f"kv-emulator CA       {server.ca_path}  state {state}",
    ]
    if not options.loopback and options.admin_token is None:
        lines.append("kv-emulator WARNING  --host is not loopback: /_kv/ refuses requests until --admin-token is set")
    if not options.loopback and options.passthrough:
        lines.append(
            "kv-emulator WARNING  --host is not loopback: the proxy relays other hosts for anyone who can reach it "
            "(--no-passthrough stops that)"
        )
    print("\n".join(lines), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _ca(args: argparse.Namespace) -> int:
    ca = CertificateAuthority(_data_dir(args))
    if args.pem:
        sys.stdout.write(ca.pem.decode())
    else:
        print(ca.cert_path)
    return 0


def _env(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    try:
        runtime = read_runtime(data_dir)
    except LookupError as exc:
        print(f"kv-emulator: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(format_env(client_env(runtime, data_dir, direct=args.direct), args.format))
    return 0


def main(argv: Sequence[str] | None = None, *, make_emulator: Callable[[Settings], Any]) -> int:
    """The command line; ``make_emulator`` builds the emulator (kv_emulator.__main__ passes ``Emulator``)."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args, make_emulator)
    return _ca(args) if args.command == "ca" else _env(args)
