"""Server mode: the same emulator over HTTPS, for subprocesses, other languages and CI services.

``kv-emulator serve`` on the command line, :func:`serve` from Python; see docs/server.md.
"""

from __future__ import annotations

from .api import Server, serve
from .options import ServerOptions

__all__ = ["Server", "ServerOptions", "serve"]
