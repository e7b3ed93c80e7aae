"""Server mode: the same emulator over HTTPS, for subprocesses, other languages and CI services.

``kv-emulator serve`` on the command line, :func:`kv_emulator.serve` from Python; see docs/server.md.
"""

from __future__ import annotations

from .api import Server
from .options import ServerOptions

__all__ = ["Server", "ServerOptions"]
