"""What a server is started with, besides the emulator's own settings, and how each is written on the
command line (``SERVER_FLAGS``: what it does, its format and its default, for ``serve --help``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .tls import default_data_dir

__all__ = ["SERVER_FLAGS", "ListenError", "ServerFlag", "ServerOptions"]


class ListenError(OSError):
    """A port the server could not listen on, with the flag that chose it (for a message with a way out)."""

    def __init__(self, code: int, reason: str, *, host: str, port: int, flag: str) -> None:
        super().__init__(code, reason)
        self.host, self.port, self.flag = host, port, flag


@dataclasses.dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8443
    """The direct HTTPS port: ``https://localhost:<port>`` and ``https://<name>.localhost:<port>``."""
    proxy_port: int = 8444
    """The HTTP proxy port (``HTTPS_PROXY``); also the App Service identity endpoint and ``/_kv/``."""
    data_dir: Path = dataclasses.field(default_factory=default_data_dir)
    passthrough: bool = True
    """Tunnel CONNECTs to hosts the emulator does not answer; False refuses them."""
    ephemeral: bool = False
    """Keep state in memory only (no ``state.sqlite3``)."""
    admin_token: str | None = None
    seed: Path | None = None
    idle_timeout: float = 60.0
    """Seconds a connection may sit idle (or trickle a request) before it is closed."""
    max_body: int = 4 * 1024 * 1024
    """Largest request body accepted; bigger ones get 413 without being read."""
    fault_timeout: float = 30.0
    """How long an injected ``timeout`` fault leaves a request unanswered before closing the connection."""
    write_runtime: bool = True
    """Record the ports in ``<data_dir>/server.json`` so ``kv-emulator env`` finds them."""

    @property
    def loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1")

    @property
    def connect_host(self) -> str:
        """How a client on this machine names the listening address in a URL."""
        if self.host in ("0.0.0.0", "", "localhost"):
            return "127.0.0.1"
        if ":" in self.host:
            return "[::1]" if self.host in ("::", "::1") else f"[{self.host}]"
        return self.host


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError
    return port


def _seconds(text: str) -> float:
    seconds = float(text)
    if not 0 < seconds <= 86400:
        raise ValueError
    return seconds


def _bytes(text: str) -> int:
    size = int(text)
    if size < 1:
        raise ValueError
    return size


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError
    return text


@dataclasses.dataclass(frozen=True)
class ServerFlag:
    """One ``serve`` option: ``--name`` and ``KV_EMULATOR_NAME``."""

    name: str
    help: str
    words: str
    default: str
    metavar: str
    convert: Callable[[str], Any]

    def parse(self, value: Any, source: str) -> Any:
        """The option's value from flag or environment text; ``ValueError`` naming ``source`` and the format."""
        try:
            return self.convert(str(value))
        except ValueError:
            raise ValueError(f"{source} expects {self.words}, got {str(value)!r}") from None


SERVER_FLAGS: tuple[ServerFlag, ...] = (
    ServerFlag(
        "host",
        "address to listen on; anything but loopback needs --admin-token for /_kv/",
        "an IP address or host name (0.0.0.0: every interface)",
        "127.0.0.1",
        "ADDRESS",
        _text,
    ),
    ServerFlag(
        "port",
        "the direct HTTPS port: https://localhost:PORT",
        "a port number; 0 picks a free one",
        "8443",
        "PORT",
        _port,
    ),
    ServerFlag(
        "proxy_port",
        "the HTTP proxy port for HTTPS_PROXY (also /_kv/ and the identity endpoint)",
        "a port number; 0 picks a free one",
        "8444",
        "PORT",
        _port,
    ),
    ServerFlag(
        "admin_token",
        "the bearer token /_kv/ requires (Authorization: Bearer TOKEN)",
        "text",
        "none (on loopback /_kv/ needs no token)",
        "TOKEN",
        _text,
    ),
    ServerFlag(
        "seed",
        "a seed file to load into a new state (docs/seed-files.md)",
        "a .json or .toml path",
        "none",
        "FILE",
        lambda text: Path(_text(text)).expanduser(),
    ),
    ServerFlag(
        "idle_timeout",
        "seconds an idle or trickling connection is kept",
        "a number of seconds above 0",
        "60",
        "SECONDS",
        _seconds,
    ),
    ServerFlag(
        "max_body",
        "the largest request body accepted; bigger ones get 413",
        "bytes",
        "4194304 (4 MiB)",
        "BYTES",
        _bytes,
    ),
    ServerFlag(
        "fault_timeout",
        "seconds an injected 'timeout' fault stays silent before closing the connection",
        "a number of seconds above 0",
        "30",
        "SECONDS",
        _seconds,
    ),
)
