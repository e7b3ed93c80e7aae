"""Malformed input to the server never gets a 500, a traceback or silence: a 4xx in the right shape.

The proxy's own answers (a request it cannot read or forward) are the plain 400 or 502 of an HTTP proxy, with
the reason in a Key Vault-shaped JSON body; requests that reach an emulated service get that service's error
(Key Vault's ``BadParameter``, ARM's ``InvalidRequestContent``). Every message here is ours (unverified):
Azure's front ends answer such requests before the service, with texts not recorded.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
import requests
from arm_support import MANAGEMENT, SUB
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient
from tests_support import Wire

from kv_emulator import Emulator
from kv_emulator.encoding import MAX_JSON_DEPTH
from kv_emulator.server import Server, ServerOptions, tunnel

TOKEN = {"Authorization": "Bearer any-token"}
AUTH = "Authorization: Bearer any-token"
DEEP_MESSAGE = f"The request body is not valid JSON: it nests arrays and objects deeper than {MAX_JSON_DEPTH} levels."


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    options = ServerOptions(port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path, idle_timeout=5.0)
    with Server(Emulator(), options) as running:
        yield running


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The server logs no error and no traceback while the test runs."""
    caplog.set_level(logging.DEBUG, logger="kv_emulator.server")
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


def _exchange(port: int, data: bytes) -> tuple[bytes, dict]:
    """Send raw bytes to the proxy port; the status line and the JSON error body of its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed with no (complete) answer: {answer!r}"
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], json.loads(body)


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


# -- the proxy's plain HTTP side --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_line", "reason"),
    [
        (b"GET http://127.0.0.1:abc/ HTTP/1.1", "Port could not be cast to integer value as 'abc'"),
        (b"GET http://127.0.0.1:99999/ HTTP/1.1", "Port out of range 0-65535"),
        (b"GE\x00T http://127.0.0.1:9/ HTTP/1.1", "is not an HTTP method (RFC 9110 token characters only)"),
        (b"GET http://[::1/ HTTP/1.1", "Invalid IPv6 URL"),
        (b"GET http://kv.vault.azure.net:abc/secrets HTTP/1.1", "Port could not be cast to integer value"),
        (b"GET http://169.254.169.254:abc/metadata/identity HTTP/1.1", "Port could not be cast to integer value"),
    ],
)
def test_a_request_the_proxy_cannot_read_is_a_400_with_the_reason(server, no_tracebacks, request_line, reason):
    status, body = _exchange(server.proxy_port, request_line + b"\r\nConnection: close\r\n\r\n")
    assert status == b"HTTP/1.1 400 Bad Request"
    assert body["error"]["code"] == "BadRequest" and reason in body["error"]["message"], body


@pytest.mark.parametrize("host", ["kv.vault.azure.net:abc", "[::1", "a b", "localhost:99999", "a:b:c"])
def test_a_host_header_that_is_no_host_is_a_400(server, no_tracebacks, host):
    status, body = _exchange(server.proxy_port, f"GET /_kv/health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert status == b"HTTP/1.1 400 Bad Request"
    assert body["error"] == {
        "code": "BadRequest",
        "message": f"the Host header {host!r} is not a host name or IP address with an optional port",
    }


@pytest.mark.parametrize("target", ["..:443", "[::1:443", "a:b:443", "example.com:", "example.com:99999", ":443"])
def test_connect_to_a_bad_authority_is_answered(server, no_tracebacks, target):
    """Before: ``CONNECT ..:443`` closed the connection without a word (the host failed IDNA encoding)."""
    status, body = _exchange(server.proxy_port, f"CONNECT {target} HTTP/1.1\r\n\r\n".encode())
    assert status == b"HTTP/1.1 400 Bad Request"
    assert body["error"] == {
        "code": "BadRequest",
        "message": f"CONNECT needs host:port with a valid host name or IP address, got {target!r}",
    }


def test_an_upstream_that_answers_garbage_is_a_502(server, no_tracebacks):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def garbage() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")

        thread = threading.Thread(target=garbage, daemon=True)
        thread.start()
        status, body = _exchange(
            server.proxy_port, f"GET http://127.0.0.1:{port}/x HTTP/1.1\r\nConnection: close\r\n\r\n".encode()
        )
        thread.join(timeout=10)
    assert status == b"HTTP/1.1 502 Bad Gateway"
    assert body["error"]["code"] == "BadGateway" and f"could not reach 127.0.0.1:{port}" in body["error"]["message"]


# -- CONNECT and the TLS ClientHello in one write ------------------------------------------------------------


def _pipelined_get(server: Server, host: str, path: str) -> bytes:
    """CONNECT and the ClientHello in one write, then a GET over the tunnel; the whole answer (bounded)."""
    context = ssl.create_default_context(cafile=str(server.ca_path))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=host)
    with suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    with socket.create_connection(("127.0.0.1", server.proxy_port), timeout=10) as sock:
        sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode() + outgoing.read())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
        head, _, rest = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        incoming.write(rest)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
                incoming.write(sock.recv(65536))  # a timeout here is the old 60 s hang, cut short
        tls.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer x\r\nConnection: close\r\n\r\n".encode()
        )
        sock.sendall(outgoing.read())
        answer = b""
        while True:
            try:
                answer += tls.read(65536)
            except ssl.SSLWantReadError:
                chunk = sock.recv(65536)
                if not chunk:
                    return answer
                incoming.write(chunk)
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return answer


def test_connect_with_the_client_hello_in_the_same_write(server, no_tracebacks):
    """Clients may send the ClientHello without waiting for the 200 (RFC 9110 9.3.6 lets a tunnel start at
    once); before, the proxy's buffered reader swallowed it and the handshake hung for the idle timeout."""
    server.emulator.vault("pipelined").secrets.set("s", "hello")
    answer = _pipelined_get(server, "pipelined.vault.azure.net", "/secrets/s?api-version=7.5")
    assert answer.startswith(b"HTTP/1.1 200 OK"), answer[:200]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["value"] == "hello"


def test_a_passed_through_tunnel_forwards_what_came_with_the_connect(server, monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        monkeypatch.setattr(
            tunnel, "connect_upstream", lambda host, port: socket.create_connection(listener.getsockname())
        )
        with socket.create_connection(("127.0.0.1", server.proxy_port), timeout=10) as sock:
            sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\n\r\nearly bytes")
            upstream, _ = listener.accept()
            with upstream:
                upstream.settimeout(10)
                assert upstream.recv(100) == b"early bytes"
                upstream.sendall(b"late bytes")
                received = b""
                while not received.endswith(b"late bytes"):
                    chunk = sock.recv(4096)
                    assert chunk, received
                    received += chunk
    assert received.startswith(b"HTTP/1.1 200 Connection Established\r\n")


# -- a JSON body nested deeper than the limit: BadParameter through every door -------------------------------


def _nested(depth: int) -> bytes:
    """A SetSecret body with a field the service ignores, nesting arrays so the body is ``depth`` levels deep."""
    inner = depth - 1  # the body object itself is the first level
    return b'{"value": "v", "x": ' + b"[" * inner + b"]" * inner + b"}"


@pytest.mark.parametrize("door", ["direct", "proxy"])
def test_a_body_nested_100000_deep_is_a_bad_parameter_over_the_wire(server, no_tracebacks, door):
    """Before: Python's parser recursed, a 500 RecursionError, which the SDK retried."""
    if door == "direct":
        url, options = f"{server.url}/secrets/deep", {}
    else:
        url, options = "https://kv-emulator.vault.azure.net/secrets/deep", {"proxies": {"https": server.proxy_url}}
    deep = b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = requests.put(
        url, params={"api-version": "7.5"}, data=deep, headers={**TOKEN, "Content-Type": "application/json"},
        verify=str(server.ca_path), timeout=30, **options,
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.json() == {"error": {"code": "BadParameter", "message": DEEP_MESSAGE}}
    assert server.emulator.requests.internal_errors() == []


def test_the_nesting_limit_in_process_through_the_test_client(keyvault, wire):
    assert wire.put("/secrets/ok", raw=_nested(MAX_JSON_DEPTH)).status_code == 200  # the limit itself is fine
    answer = wire.put("/secrets/deep", raw=_nested(MAX_JSON_DEPTH + 1))
    assert answer.status_code == 400
    assert answer.get_json() == {"error": {"code": "BadParameter", "message": DEEP_MESSAGE}}
    assert "deep" not in keyvault.vault().secrets


def test_the_nesting_limit_through_the_sdk_is_answered_once_not_retried(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    request = HttpRequest(
        "PUT", "/secrets/deep?api-version=7.5", content=_nested(100_000), headers={"Content-Type": "application/json"}
    )
    answer = client.send_request(request)
    with pytest.raises(HttpResponseError):
        answer.raise_for_status()
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadParameter"
    call = keyvault.requests.calls("SetSecret")[-1]
    assert call.statuses == [400] and keyvault.requests.internal_errors() == []


async def test_the_nesting_limit_through_the_async_sdk(keyvault):
    async with AsyncSecretClient(keyvault.vault_url, keyvault.async_credential) as client:
        request = HttpRequest(
            "PUT",
            "/secrets/deep?api-version=7.5",
            content=_nested(100_000),
            headers={"Content-Type": "application/json"},
        )
        answer = await client.send_request(request)
        await answer.read()
        assert answer.status_code == 400 and answer.json()["error"]["message"] == DEEP_MESSAGE
    assert keyvault.requests.calls("SetSecret")[-1].statuses == [400]


def test_the_nesting_limit_on_the_control_plane_in_arms_shape(keyvault):
    arm = Wire(keyvault.management, MANAGEMENT)
    token = keyvault.credential.get_token("https://management.azure.com/.default").token
    deep = b'{"location": "westus", "tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = arm.request(
        "PUT", f"/subscriptions/{SUB}/resourceGroups/deep", api_version="2025-04-01", token=False, raw=deep,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.get_json() == {
        "error": {
            "code": "InvalidRequestContent",
            "message": "The request content was invalid and could not be deserialized: "
            f"'The JSON nests arrays and objects deeper than {MAX_JSON_DEPTH} levels.'",
        }
    }


def test_a_bug_outside_the_apps_is_a_logged_500_not_a_silent_close(server, monkeypatch, caplog):
    """The last resort for an error of ours before any app runs (here a router that raises)."""

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(server.router, "route", broken)
    status, body = _exchange(server.proxy_port, b"GET /_kv/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == b"HTTP/1.1 500 Internal Server Error"
    assert body["error"] == {
        "code": "InternalServerError",
        "message": "internal error in kv-emulator (see the server log)",
    }
    assert any(record.exc_info for record in caplog.records)
