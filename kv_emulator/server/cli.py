"""``kv-emulator``: ``serve`` (run the server), ``ca`` (where its CA is), ``env`` (what a client needs),
``export``/``import`` (a data dir's state as a JSON document), ``receive`` (a webhook that prints the events it
gets).

Every emulator setting (:class:`~kv_emulator.Settings`) is a flag (``--soft-delete-retention-in-days 7``)
and an environment variable (``KV_EMULATOR_SOFT_DELETE_RETENTION_IN_DAYS=7``); a flag wins.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._version import __version__
from ..config import DEFAULT_TENANT_ID, SETTING_HELP, Settings, format_words
from .env import FORMATS, client_env, format_env, read_runtime
from .options import SERVER_FLAGS, ListenError, ServerOptions
from .tls import ServerCertificateAuthority, default_data_dir

__all__ = ["main"]

ENV_PREFIX = "KV_EMULATOR_"


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"the directory the CA, state.sqlite3 and server.json live in. Format: a path. "
        f"Default: {default_data_dir()}. [{_env_name('data_dir')}]",
    )


def _data_dir(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Path:
    """Absolute, so the paths ``env`` prints work from any directory."""
    value = args.data_dir or (os.environ if environ is None else environ).get(_env_name("data_dir"))
    return (Path(value).expanduser() if value else default_data_dir()).absolute()


def _default_words(name: str) -> str:
    if name == "tenant_id":
        return f"$AZURE_TENANT_ID, else {DEFAULT_TENANT_ID}"
    value = next(f for f in dataclasses.fields(Settings) if f.name == name)
    default = value.default_factory() if value.default_factory is not dataclasses.MISSING else value.default
    if isinstance(default, bool):
        return str(default).lower()
    if default in (None, (), {}, ""):
        return "none"
    return str(default)


_METAVARS = {"int": "N", "float": "NUMBER", "float | None": "SECONDS", "tuple[str, ...]": "NAMES"}
_METAVARS.update({"dict[str, int]": "CLASS=N,...", "bool | None": "{true,false,none}"})


def _metavar(name: str, kind: str) -> str:
    if name in ("tenant_id", "subscription_id"):
        return "GUID"
    if name == "client_ip":
        return "ADDRESS"
    return _METAVARS.get(kind, name.split("_")[-1].upper())


def _setting_help(name: str) -> str:
    return f"{SETTING_HELP[name]}. Format: {format_words(name)}. Default: {_default_words(name)}. [{_env_name(name)}]"


def _serve_parser(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the emulator over HTTPS (proxy and direct)",
        description="Run the emulator over HTTPS. Every option is also an environment variable (in brackets); "
        "a flag wins.",
    )
    _add_data_dir(serve)
    for option in SERVER_FLAGS:
        serve.add_argument(
            f"--{option.name.replace('_', '-')}",
            dest=option.name,
            default=None,
            metavar=option.metavar,
            help=f"{option.help}. Format: {option.words}. Default: {option.default}. [{_env_name(option.name)}]",
        )
    serve.add_argument(
        "--vault",
        dest="vault_name",
        default=None,
        metavar="NAME",
        help=_setting_help("vault_name").replace(_env_name("vault_name"), _env_name("vault")),
    )
    serve.add_argument(
        "--passthrough",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="tunnel CONNECTs to hosts the emulator does not answer; --no-passthrough refuses them. "
        "Format: --passthrough or --no-passthrough (the variable: true or false). Default: on. "
        "[KV_EMULATOR_PASSTHROUGH]",
    )
    serve.add_argument(
        "--ephemeral",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep state in memory only, not in state.sqlite3. Format: --ephemeral or --no-ephemeral "
        "(the variable: true or false). Default: off. [KV_EMULATOR_EPHEMERAL]",
    )
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines")
    settings = serve.add_argument_group("emulator settings (the same as the pytest marker's)")
    for field in dataclasses.fields(Settings):
        if field.name == "vault_name":
            continue
        flag = f"--{field.name.replace('_', '-')}"
        if str(field.type) == "bool":
            settings.add_argument(
                flag,
                dest=f"setting_{field.name}",
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"{SETTING_HELP[field.name]}. Format: {flag} or --no-{flag[2:]} (the variable: true or false). "
                f"Default: {_default_words(field.name)}. [{_env_name(field.name)}]",
            )
        else:
            settings.add_argument(
                flag,
                dest=f"setting_{field.name}",
                default=None,
                metavar=_metavar(field.name, str(field.type)),
                help=_setting_help(field.name),
            )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kv-emulator", description="An Azure Key Vault emulator over HTTPS.")
    parser.add_argument("--version", action="version", version=f"kv-emulator {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_parser(commands)
    ca = commands.add_parser("ca", help="print the path of the emulator's CA certificate (created if missing)")
    _add_data_dir(ca)
    ca.add_argument("--pem", action="store_true", help="print the PEM instead of the path")
    env = commands.add_parser("env", help="print the environment a client needs to reach the running server")
    _add_data_dir(env)
    env.add_argument(
        "--format",
        choices=FORMATS,
        default="shell",
        help="shell: export lines for eval (the default); dotenv: NAME=value; github: lines for $GITHUB_ENV",
    )
    env.add_argument("--direct", action="store_true", help="https://localhost:PORT instead of the proxy")
    export = commands.add_parser(
        "export", help="write the state kept in a --data-dir as one JSON state document (docs/state.md)"
    )
    export.add_argument("file", help="where to write it (- for standard output)")
    _add_data_dir(export)
    load = commands.add_parser(
        "import",
        help="replace the state kept in a --data-dir with a state document or seed file (no server may be running)",
    )
    load.add_argument("file", help="a state document (kv-emulator export) or a seed file (.json or .toml)")
    _add_data_dir(load)
    receive = commands.add_parser(
        "receive",
        help="a webhook that answers Event Grid's handshake and prints each event it gets as a JSON line",
    )
    receive.add_argument("--host", default="127.0.0.1", help="address to listen on. Default: 127.0.0.1")
    receive.add_argument(
        "--port", type=int, default=7071, help="port to listen on (any path). Format: a port number. Default: 7071"
    )
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
    """Flags over ``KV_EMULATOR_*`` variables over defaults; a value that does not parse names its flag."""
    options = ServerOptions(data_dir=_data_dir(args, environ))
    for flag in SERVER_FLAGS:
        value, source = getattr(args, flag.name), f"--{flag.name.replace('_', '-')}"
        if value is None and _env_name(flag.name) in environ:
            value, source = environ[_env_name(flag.name)], _env_name(flag.name)
        if value is not None:
            setattr(options, flag.name, flag.parse(value, source))
    for name in ("passthrough", "ephemeral"):
        value = getattr(args, name)
        if value is None and _env_name(name) in environ:
            value = environ[_env_name(name)].strip().lower() in ("1", "true", "yes", "on")
        if value is not None:
            setattr(options, name, value)
    return options


def _serve(args: argparse.Namespace, make_emulator: Callable[[Settings], Any]) -> int:
    from .runtime import Server

    try:
        settings = settings_from(args, dict(os.environ))
        options = options_from(args, dict(os.environ))
    except (TypeError, ValueError) as exc:
        print(f"kv-emulator: {_flag_words(str(exc))}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("kv_emulator.server").setLevel(logging.WARNING if args.quiet else logging.INFO)
    server = Server(make_emulator(settings), options)
    try:
        server.start()
    except ListenError as exc:
        print(f"kv-emulator: {_listen_words(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"kv-emulator: cannot start: {exc.strerror or exc}", file=sys.stderr)
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


def _flag_words(message: str) -> str:
    """A settings error in the command line's names: ``--throttle-limits (KV_EMULATOR_THROTTLE_LIMITS)``."""
    return re.sub(
        r"^kv-emulator option (\w+)",
        lambda found: f"--{found[1].replace('_', '-')} ({_env_name(found[1])})",
        message,
    )


def _listen_words(exc: ListenError) -> str:
    """Which port, why, and a way out."""
    text = f"cannot listen on {exc.host} port {exc.port} ({exc.flag}): {exc.strerror or exc}"
    if exc.errno == errno.EADDRINUSE:
        text += f"; another program holds it: stop it, choose another port, or pass {exc.flag} 0 to pick a free one"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        text += f"; ports below 1024 need privileges: pass {exc.flag} 0 to pick a free one"
    elif exc.errno == errno.EADDRNOTAVAIL:
        text += "; this machine has no such address: check --host"
    return text


def _receive(args: argparse.Namespace) -> int:
    from .receiver import Receiver

    try:
        receiver = Receiver((args.host, args.port))
    except OSError as exc:
        flag = ListenError(exc.errno or 0, exc.strerror or str(exc), host=args.host, port=args.port, flag="--port")
        print(f"kv-emulator: {_listen_words(flag)}", file=sys.stderr)
        return 1
    print(f"kv-emulator receive {receiver.url}  (any path); events go to stdout, one JSON line each", file=sys.stderr)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=receiver.shutdown).start())
    try:
        receiver.serve_forever(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server_close()
    return 0


def _ca(args: argparse.Namespace) -> int:
    ca = ServerCertificateAuthority(_data_dir(args))
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
    if args.command == "receive":
        return _receive(args)
    if args.command in ("export", "import"):
        from .transfer import export_state_file, import_state_file

        if args.command == "export":
            return export_state_file(_data_dir(args), args.file)
        settings = settings_from(argparse.Namespace(vault_name=None), dict(os.environ))  # KV_EMULATOR_* apply
        return import_state_file(_data_dir(args), args.file, lambda: make_emulator(settings))
    return _ca(args) if args.command == "ca" else _env(args)
