"""Server mode: the same emulator over HTTPS, for subprocesses, other languages and CI services.

``kv-emulator serve`` on the command line, :func:`kv_emulator.serve` from Python; see docs/server.md.
"""

from __future__ import annotations

from .options import ServerOptions
from .runtime import Server

__all__ = ["Server", "ServerOptions"]
