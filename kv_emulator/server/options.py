"""What a server is started with, besides the emulator's own settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .tls import default_data_dir

__all__ = ["ServerOptions"]


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
