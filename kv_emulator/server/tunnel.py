"""Bytes through a CONNECT tunnel: passed through unchanged, or spliced in front of a local TLS handshake.

Also the one TCP option the server sets per request, ``TCP_QUICKACK``: see :func:`ack_now`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

__all__ = ["ack_now", "connect_upstream", "relay", "splice"]


def ack_now(connection: socket.socket) -> None:
    """Acknowledge what has arrived at once, instead of after the delayed-ACK timer (40 ms on Linux).

    A client with Nagle's algorithm on (urllib3 leaves it on for connections through a proxy) sends a
    request's body only once its head is acknowledged, and the server has nothing to send yet that could
    carry the ACK: without this, every write through the proxy waits 40 ms. Linux only, and the kernel turns
    it off again by itself, so it is set each time a body is awaited (one system call)."""
    if hasattr(socket, "TCP_QUICKACK"):
        with contextlib.suppress(OSError):  # not a TCP socket (a spliced tunnel's socketpair end)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def connect_upstream(host: str, port: int, timeout: float = 10.0) -> socket.socket:
    """The connection a passed-through CONNECT is tunnelled to (one name, so tests can point it at loopback)."""
    return socket.create_connection((host, port), timeout=timeout)


def relay(client: socket.socket, upstream: socket.socket, idle_timeout: float, *, quick_ack: bool = False) -> None:
    """Copy both ways until either side closes or both stay idle for ``idle_timeout``; closes ``upstream``.
    ``quick_ack``: acknowledge each read from ``client`` at once (see :func:`ack_now`)."""
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
                    if quick_ack and source is client:
                        ack_now(client)
                    key.data.sendall(data)
                except OSError:
                    return


def splice(client: socket.socket, early: bytes, idle_timeout: float) -> tuple[socket.socket, threading.Thread]:
    """A local socket that reads ``early`` and then whatever ``client`` sends, and writes to ``client``.

    For a client that sent its TLS ClientHello in the same write as its CONNECT: the proxy's buffered reader
    took those bytes with the CONNECT head, and a TLS handshake on ``client`` itself would wait for them
    forever. A thread relays between ``client`` and the other end of a socket pair; join it after closing the
    returned socket."""
    inner, outer = socket.socketpair()
    outer.sendall(early)
    thread = threading.Thread(target=relay, args=(client, outer, idle_timeout), kwargs={"quick_ack": True}, daemon=True)
    thread.start()
    inner.settimeout(client.gettimeout())
    return inner, thread
