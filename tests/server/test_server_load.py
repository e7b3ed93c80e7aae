"""Concurrency without loss, and slow or broken clients that never stall the others (loopback, bounded).

8 clients write to one vault at once over keep-alive HTTPS: sets (new versions, on their own names and on
one shared name), updates, deletes and recovers. Every acknowledged version is there exactly once.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from kv_emulator import Emulator
from kv_emulator.server import Server, ServerOptions

CLIENTS = 8
#: Writes per client: the issue's 8 x 1,000 took 24 s on the 2-core development machine (49 s while it was
#: heavily loaded); KV_LOAD_WRITES=200 scales it down for a slower machine.
WRITES = int(os.environ.get("KV_LOAD_WRITES", "1000"))
API = {"api-version": "7.5"}
TOKEN = {"Authorization": "Bearer any-token"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    options = ServerOptions(
        port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path, idle_timeout=3.0, max_body=64 * 1024
    )
    with Server(Emulator(), options) as running:
        yield running


def client_writes(server: Server, client: int, writes: int) -> dict[str, list[str]]:
    """One client's mixed writes; returns the version ids the server acknowledged, by secret name."""
    acknowledged: dict[str, list[str]] = {}
    session = requests.Session()
    session.headers.update(TOKEN)
    # verify per request: a Session's verify loses to REQUESTS_CA_BUNDLE from the environment
    ca = str(server.ca_path)
    base = server.url
    own = f"c{client}"
    for i in range(writes):
        step = i % 5
        if step in (0, 1):
            name = own if step == 0 else "shared"
            answer = session.put(
                f"{base}/secrets/{name}", params=API, json={"value": f"{client}-{i}"}, verify=ca, timeout=30
            )
            assert answer.status_code == 200, answer.text
            acknowledged.setdefault(name, []).append(answer.json()["id"].rsplit("/", 1)[1])
        elif step == 2:
            answer = session.patch(
                f"{base}/secrets/{own}/", params=API, json={"tags": {"i": str(i)}}, verify=ca, timeout=30
            )
            assert answer.status_code == 200, answer.text
        elif step == 3:
            answer = session.delete(f"{base}/secrets/{own}", params=API, verify=ca, timeout=30)
            assert answer.status_code == 200, answer.text
        else:
            answer = session.post(f"{base}/deletedsecrets/{own}/recover", params=API, verify=ca, timeout=30)
            assert answer.status_code == 200, answer.text
    session.close()
    return acknowledged


def test_eight_clients_lose_and_duplicate_nothing(server: Server) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda c: client_writes(server, c, WRITES), range(CLIENTS)))
    took = time.monotonic() - started

    secrets = server.emulator.vault().secrets
    shared = [v for result in results for v in result.get("shared", [])]
    assert len(shared) == len(set(shared)) == CLIENTS * len(range(1, WRITES, 5))
    assert [v.version for v in secrets.list_versions("shared")] == sorted(
        shared, key=[v.version for v in secrets.list_versions("shared")].index
    )
    assert {v.version for v in secrets.list_versions("shared")} == set(shared)
    for client, result in enumerate(results):
        stored = [v.version for v in secrets.list_versions(f"c{client}")]
        assert stored == result[f"c{client}"], f"client {client}: versions lost or duplicated"
    writes = sum(1 for e in server.emulator.requests if e.method != "GET" and e.status == 200)
    assert writes == CLIENTS * WRITES
    print(f"{CLIENTS} clients x {WRITES} writes in {took:.1f} s ({CLIENTS * WRITES / took:.0f}/s)")


def _tls_client(server: Server) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(server.ca_path))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="localhost")


def _quick_request_works(server: Server) -> float:
    started = time.monotonic()
    answer = requests.get(f"{server.url}/_kv/health", verify=str(server.ca_path), timeout=5)
    assert answer.status_code == 200
    return time.monotonic() - started


def _status(sock: socket.socket) -> int:
    head = sock.recv(65536).split(b"\r\n", 1)[0]
    return int(head.split()[1]) if head else 0


def test_slow_and_half_open_clients_do_not_stall_others(server: Server) -> None:
    slowloris = _tls_client(server)
    slowloris.sendall(b"GET /secrets?api-version=7.5 HTTP/1.1\r\nHost: localhost\r\n")  # never finishes
    half_open = socket.create_connection(("127.0.0.1", server.port), timeout=10)  # TCP, no TLS handshake
    half_hello = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    half_hello.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello cut short
    proxy_idle = socket.create_connection(("127.0.0.1", server.proxy_port), timeout=10)
    try:
        assert max(_quick_request_works(server) for _ in range(5)) < 2.0
        # The idle timeout (3 s here) ends each of them; bounded wait.
        for sock in (slowloris, half_open, half_hello, proxy_idle):
            sock.settimeout(10)
            deadline = time.monotonic() + 10
            data = b"x"
            while data and time.monotonic() < deadline:
                try:
                    data = sock.recv(4096)
                except (ConnectionResetError, ssl.SSLError):
                    data = b""
            assert not data, "the server should close a stalled connection"
    finally:
        for sock in (slowloris, half_open, half_hello, proxy_idle):
            sock.close()
    assert _quick_request_works(server) < 2.0


def test_garbage_and_oversized_requests_get_clear_errors(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.proxy_port), timeout=10) as sock:
        sock.sendall(b"\x00\xff garbage \x16\x03\r\n\r\n")
        assert _status(sock) in (0, 400)
    with socket.create_connection(("127.0.0.1", server.proxy_port), timeout=10) as sock:
        sock.sendall(b"CONNECT kv-emulator.vault.azure.net:80 HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 403") and b"port 443 only" in answer
    with _tls_client(server) as sock:
        sock.sendall(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert _status(sock) == 414
    with _tls_client(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"X-A: b\r\n" * 200 + b"\r\n")
        assert _status(sock) == 431
    with _tls_client(server) as sock:
        sock.sendall(
            b"PUT /secrets/big?api-version=7.5 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer t\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
        )
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413") and b"RequestEntityTooLarge" in answer
    with _tls_client(server) as sock:
        sock.sendall(b"PUT /secrets/x?api-version=7.5 HTTP/1.1\r\nHost: localhost\r\nContent-Length: nope\r\n\r\n")
        assert _status(sock) == 400
    assert "big" not in server.emulator.vault().secrets
    assert _quick_request_works(server) < 2.0


def test_no_passthrough_refuses_other_hosts(tmp_path: Path) -> None:
    options = ServerOptions(port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path, passthrough=False)
    with Server(Emulator(), options) as server, socket.create_connection(("127.0.0.1", server.proxy_port)) as sock:
        sock.settimeout(10)
        sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 403") and b"--no-passthrough" in answer


def test_many_connections_at_once(server: Server) -> None:
    errors: list[BaseException] = []

    def burst() -> None:
        try:
            for _ in range(5):
                _quick_request_works(server)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=burst) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors


def test_chunked_body_then_keep_alive(server: Server) -> None:
    with _tls_client(server) as sock:
        body = b'{"value": "chunked"}'
        sock.sendall(
            b"PUT /secrets/chunked?api-version=7.5 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer t\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"{len(body[:5]):x}\r\n".encode()
            + body[:5]
            + b"\r\n"
            + f"{len(body[5:]):x}\r\n".encode()
            + body[5:]
            + b"\r\n0\r\n\r\n"
        )
        assert _status(sock) == 200
        sock.sendall(
            b"GET /secrets/chunked?api-version=7.5 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer t\r\n\r\n"
        )
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200") and b'"value":"chunked"' in answer
