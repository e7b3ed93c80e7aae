"""The proxy's other traffic (tunnelled or forwarded unchanged) and the certificates each listener presents."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509

from kv_emulator import Emulator, serve
from kv_emulator.server import Server, ServerOptions, tunnel


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serve(data_dir=str(tmp_path)) as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[int]:
    """A plain HTTP server on loopback standing in for a host the emulator does not answer."""

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"hello {self.path} {self.headers.get('X-Test', '')}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_connect_to_another_host_is_tunnelled_unchanged(
    server: Server, upstream: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialled: list[tuple[str, int]] = []

    def to_loopback(host: str, port: int, timeout: float = 10.0) -> socket.socket:
        dialled.append((host, port))
        return socket.create_connection(("127.0.0.1", upstream), timeout=timeout)

    monkeypatch.setattr(tunnel, "connect_upstream", to_loopback)
    with socket.create_connection(("127.0.0.1", server.proxy_port), timeout=10) as sock:
        sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /through HTTP/1.1\r\nHost: example.com\r\nX-Test: kept\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert dialled == [("example.com", 443)]
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"hello /through kept")


def test_plain_http_through_the_proxy_is_forwarded(server: Server, upstream: int) -> None:
    session = requests.Session()
    session.trust_env = False  # NO_PROXY from the environment would bypass the proxy for 127.0.0.1
    answer = session.get(
        f"http://127.0.0.1:{upstream}/plain?x=1",
        headers={"X-Test": "forwarded"},
        proxies={"http": server.proxy_url},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.text == "hello /plain?x=1 forwarded"


def test_no_passthrough_refuses_plain_http_too(tmp_path: Path, upstream: int) -> None:
    options = ServerOptions(port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path, passthrough=False)
    with Server(Emulator(), options) as server:
        session = requests.Session()
        session.trust_env = False
        answer = session.get(f"http://127.0.0.1:{upstream}/", proxies={"http": server.proxy_url}, timeout=10)
        assert answer.status_code == 403 and "--no-passthrough" in answer.json()["error"]["message"]


def _presented(server: Server, name: str | None, *, port: int | None = None) -> x509.Certificate:
    context = ssl.create_default_context(cafile=str(server.ca_path))
    if name is None:
        context.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", port or server.port), timeout=10)
    with context.wrap_socket(raw, server_hostname=name) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _names(cert: x509.Certificate) -> list[str]:
    alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(name) for name in alternative.get_values_for_type(x509.DNSName)] + [
        str(ip) for ip in alternative.get_values_for_type(x509.IPAddress)
    ]


def test_each_host_gets_its_own_certificate_from_the_ca(server: Server) -> None:
    assert _names(_presented(server, "app.localhost")) == ["app.localhost"]
    assert _names(_presented(server, "localhost")) == ["localhost", "127.0.0.1", "::1"]
    assert "127.0.0.1" in _names(_presented(server, None))  # no SNI for an IP literal: the localhost one
    ca = x509.load_pem_x509_certificate(server.ca_path.read_bytes())
    leaf = _presented(server, "kv-emulator.vault.azure.net")
    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True


def test_verified_with_python_strict_x509_checks(server: Server) -> None:
    context = ssl.create_default_context(cafile=str(server.ca_path))
    context.verify_flags |= ssl.VERIFY_X509_STRICT  # Python 3.13's default: AKI, key usage, ...
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with context.wrap_socket(raw, server_hostname="vault1.localhost") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_strict_auth_through_both_doors(tmp_path: Path) -> None:
    """Tokens from the emulated Entra ID and managed identity are accepted; a made-up one is not."""
    with serve(data_dir=str(tmp_path), strict_auth=True) as server:
        ca = str(server.ca_path)
        endpoint = server.identity_endpoint
        for url, resource in (
            (server.url, f"https://localhost:{server.port}"),  # direct: the audience its challenge names
            (server.vault_url, "https://vault.azure.net"),  # through the proxy: the real audience
        ):
            token = requests.get(
                endpoint,
                params={"api-version": "2019-08-01", "resource": resource},
                headers={"X-IDENTITY-HEADER": server.identity_header},
                timeout=10,
            ).json()["access_token"]
            ok = requests.put(
                f"{url}/secrets/s",
                params={"api-version": "7.5"},
                json={"value": "v"},
                headers={"Authorization": f"Bearer {token}"},
                proxies={"https": server.proxy_url} if url == server.vault_url else {},
                verify=ca,
                timeout=10,
            )
            assert ok.status_code == 200, ok.text
        wrong_audience = requests.get(
            f"{server.url}/secrets/s",
            params={"api-version": "7.5"},
            headers={"Authorization": f"Bearer {token}"},  # a vault.azure.net token on the direct port
            verify=ca,
            timeout=10,
        )
        assert wrong_audience.status_code == 401 and "AKV10022" in wrong_audience.text
        forged = requests.get(
            f"{server.url}/secrets/s",
            params={"api-version": "7.5"},
            headers={"Authorization": "Bearer not-a-jwt"},
            verify=ca,
            timeout=10,
        )
        assert forged.status_code == 401
        assert f'resource="https://localhost:{server.port}"' in forged.headers["WWW-Authenticate"]


def test_parallel_first_starts_share_one_ca(tmp_path: Path) -> None:
    """pytest-xdist workers starting at once: one CA on disk, and every server signs with it."""
    from concurrent.futures import ThreadPoolExecutor

    from kv_emulator.server.tls import ServerCertificateAuthority

    with ThreadPoolExecutor(6) as pool:
        authorities = list(pool.map(lambda _: ServerCertificateAuthority(tmp_path), range(6)))
    on_disk = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    assert all(ca.certificate == on_disk for ca in authorities)
    for ca in authorities:
        ca.issue("x.vault.azure.net").verify_directly_issued_by(on_disk)


def test_the_control_plane_through_the_proxy(server: Server) -> None:
    """Azure Resource Manager is the same emulator's other plane: answered through the proxy too."""
    answer = requests.get(
        "https://management.azure.com/subscriptions",
        params={"api-version": "2022-12-01"},
        headers={"Authorization": "Bearer any-token"},
        proxies={"https": server.proxy_url},
        verify=str(server.ca_path),
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json()["value"][0]["subscriptionId"]
