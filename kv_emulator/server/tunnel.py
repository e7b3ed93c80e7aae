"""Pass a CONNECT tunnel's bytes through unchanged, both ways, until either side closes or goes idle."""

from __future__ import annotations

import selectors
import socket

__all__ = ["connect_upstream", "relay"]


def connect_upstream(host: str, port: int, timeout: float = 10.0) -> socket.socket:
    """The connection a passed-through CONNECT is tunnelled to (one name, so tests can point it at loopback)."""
    return socket.create_connection((host, port), timeout=timeout)


def relay(client: socket.socket, upstream: socket.socket, idle_timeout: float) -> None:
    with selectors.DefaultSelector() as selector, upstream:
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        while True:
            ready = selector.select(timeout=idle_timeout)
            if not ready:
                return
            for key, _ in ready:
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = source.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
                except OSError:
                    return
