"""The two listening sockets: the direct HTTPS port and the HTTP proxy port, one thread per connection.

A TLS handshake happens in the connection's own thread (never in the accepting one), under the idle
timeout, so a client that stalls mid-handshake holds only its own thread.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from http.server import HTTPServer
from typing import Any

from .handler import EmulatorRequestHandler
from .options import ServerOptions
from .routing import Router
from .tls import ServerCertificateAuthority

__all__ = ["DoorServer"]

log = logging.getLogger("kv_emulator.server")


class DoorServer(socketserver.ThreadingMixIn, HTTPServer):
    """One listening port. ``proxy``: plain HTTP with CONNECT; else HTTPS with SNI certificates."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    # What werkzeug's request handler reads from its server.
    multithread = True
    multiprocess = False
    ssl_context = None
    passthrough_errors = False
    _server_version = "kv-emulator"

    def __init__(
        self,
        address: tuple[str, int],
        *,
        router: Router,
        ca: ServerCertificateAuthority,
        options: ServerOptions,
        proxy: bool,
        on_commit: Callable[[str | None], None] = lambda vault: None,
        on_read: Callable[[], None] = lambda: None,
    ) -> None:
        self.router = router
        self.committed = on_commit
        """Called after a successful mutating request, before its answer is sent (persistence)."""
        self.read = on_read
        """Called after any other vault request: it persists what answering it changed, if anything."""
        self.ca = ca
        self.options = options
        self.proxy = proxy
        self.tls: ssl.SSLContext | None = None if proxy else ca.server_context("localhost")
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        super().__init__(address, EmulatorRequestHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(self.options.idle_timeout)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.track(request)
        try:
            if self.tls is None:
                EmulatorRequestHandler(request, client_address, self)
                return
            try:
                tls = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError) as exc:
                log.debug("TLS handshake from %s failed: %s", client_address, exc)
                return
            self.track(tls)
            try:
                EmulatorRequestHandler(tls, client_address, self)
            finally:
                self.untrack(tls)
                tls.close()
        finally:
            self.untrack(request)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error on a connection from %s", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Shut every open connection (keep-alive ones would otherwise wait out the idle timeout)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
