"""What a ``kill -9`` and a start on the same ``--data-dir`` keep (issue 20 items 5 and 6), seen from outside.

Black-box on purpose: a real ``kv-emulator serve`` process, ``SIGKILL`` (no shutdown code runs), a new process
on the same data dir, and checks through raw HTTP and an unmodified SDK client, so these tests keep guarding
whatever the state format on disk becomes. The real service never restarts from a client's point of view:
a token it issued stays valid until ``exp``, an App Service identity header stays the same for the life of the
app, and a backup restores in any vault of the same subscription (Microsoft Learn, "Azure Key Vault backup"
and "Managed identities for App Service", 2024): an emulator restart must not break any of that.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

API = {"api-version": "7.5"}


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kv_emulator", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


class Running:
    """``kv-emulator serve`` on 127.0.0.1 (ports 0 unless given), ready once it answers ``/_kv/health``."""

    def __init__(
        self, data_dir: Path, *args: str, ports: tuple[int, int] = (0, 0), prefix: tuple[str, ...] = ()
    ) -> None:
        """``prefix``: a command that runs the server (``unshare``); the server then records its pid there."""
        self.data_dir = data_dir
        self.log = (data_dir / "server.log").open("ab")
        command = [*prefix, sys.executable, "-m", "kv_emulator", "serve", "--data-dir", str(data_dir), "--quiet"]
        command += ["--port", str(ports[0]), "--proxy-port", str(ports[1]), *args]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log)
        self.pid = 1 if prefix else self.process.pid
        self.runtime = self._wait()

    def _wait(self) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        runtime_file = self.data_dir / "server.json"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                log = (self.data_dir / "server.log").read_text()
                raise AssertionError(f"server exited ({self.process.returncode}): {log[-2000:]}")
            try:
                runtime: dict[str, Any] = json.loads(runtime_file.read_text())
            except (OSError, ValueError):
                runtime = {}
            if runtime.get("pid") == self.pid:
                try:
                    requests.get(f"http://127.0.0.1:{runtime['proxy_port']}/_kv/health", timeout=2)
                    return runtime
                except requests.ConnectionError:
                    pass
            time.sleep(0.1)
        raise AssertionError("server did not start in 30 s")

    def request(self, method: str, path: str, *, token: str = "any-token", **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return requests.request(
            method,
            f"https://localhost:{self.runtime['port']}{path}",
            params=API,
            headers=headers,
            verify=str(self.data_dir / "ca.pem"),
            timeout=30,
            **kwargs,
        )

    def manage(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"http://127.0.0.1:{self.runtime['proxy_port']}/_kv/{path}", timeout=30, **kwargs
        )

    def managed_identity_token(self, header: str) -> requests.Response:
        """The App Service identity endpoint as ManagedIdentityCredential calls it (api-version 2019-08-01), for
        the direct URL's audience (``https://localhost:<port>``, the resource its challenge names)."""
        return requests.get(
            f"http://127.0.0.1:{self.runtime['proxy_port']}/msi/token",
            params={"resource": f"https://localhost:{self.runtime['port']}", "api-version": "2019-08-01"},
            headers={"X-IDENTITY-HEADER": header},
            timeout=30,
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, server.json stays behind."""
        self.process.kill()
        self.process.wait(timeout=20)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.log.close()


_CLIENT = """
import sys
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
import os
credential = ManagedIdentityCredential()
client = SecretClient(os.environ["AZURE_KEYVAULT_URL"], credential)
client.set_secret("before-kill", "kept")
print("ready", flush=True)
sys.stdin.readline()  # the server is killed and started again meanwhile
print(client.get_secret("before-kill").value, flush=True)  # the token cached before the kill
fresh = credential.get_token("https://management.azure.com/.default")  # a new token: the old header
print("token" if fresh.token else "none", flush=True)
"""


def _client_env(data_dir: Path) -> dict[str, str]:
    printed = _cli("env", "--data-dir", str(data_dir), "--format", "dotenv")
    assert printed.returncode == 0, printed.stderr
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("HTTPS_PROXY", "HTTP_PROXY", "AZURE_"))}
    env.pop("MSI_ENDPOINT", None)
    env.update(line.split("=", 1) for line in printed.stdout.splitlines() if "=" in line)
    return env


def test_a_running_managed_identity_client_outlives_a_kill_9(tmp_path: Path) -> None:
    """The environment printed before the kill stays valid (same ports given again): the SDK client's cached
    token still verifies under --strict-auth (it was 401 AKV10010: a new signing key) and its credential still
    gets tokens (it was refused: a new identity header)."""
    ports = tuple(_free_ports(2))
    server = Running(tmp_path, "--strict-auth", ports=ports)  # type: ignore[arg-type]
    env = _client_env(tmp_path)
    client = subprocess.Popen(
        [sys.executable, "-c", _CLIENT], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert client.stdout is not None and client.stdin is not None
        assert client.stdout.readline().strip() == "ready"
        raw = server.managed_identity_token(env["IDENTITY_HEADER"])
        assert raw.status_code == 200, raw.text
        token = raw.json()["access_token"]
        server.kill()
        server = Running(tmp_path, "--strict-auth", ports=ports)  # type: ignore[arg-type]
        assert _client_env(tmp_path)["IDENTITY_HEADER"] == env["IDENTITY_HEADER"]
        got = server.request("GET", "/secrets/before-kill", token=token)
        assert got.status_code == 200, got.text  # signed before the kill, verified after it
        assert server.managed_identity_token(env["IDENTITY_HEADER"]).status_code == 200
        out, _ = client.communicate("go\n", timeout=60)
        assert client.returncode == 0 and out.split() == ["kept", "token"], out
    finally:
        if client.poll() is None:
            client.kill()
            client.communicate(timeout=20)
        server.stop()


def test_a_backup_taken_before_a_kill_restores_after_it(tmp_path: Path) -> None:
    """Was 400 "corrupt" after a restart (a new sealing key)."""
    server = Running(tmp_path)
    try:
        assert server.request("PUT", "/secrets/kept", json={"value": "v1"}).status_code == 200
        blob = server.request("POST", "/secrets/kept/backup").json()["value"]
        server.kill()
        server = Running(tmp_path)
        other = {"Host": f"other.localhost:{server.runtime['port']}"}  # another vault of the same emulator
        restored = server.request("POST", "/secrets/restore", json={"value": blob}, headers=other)
        assert restored.status_code == 200, restored.text
        assert server.request("GET", "/secrets/kept", headers=other).json()["value"] == "v1"
    finally:
        server.stop()


_POLICY = {
    "issuer": {"name": "Self"},
    "x509_props": {"subject": "CN=polled", "validity_months": 12},
    "key_props": {"kty": "RSA", "key_size": 2048, "exportable": True, "reuse_key": False},
    "secret_props": {"contentType": "application/x-pkcs12"},
}
_ROTATION = {
    "lifetimeActions": [{"trigger": {"timeAfterCreate": "P7D"}, "action": {"type": "Rotate"}}],
    "attributes": {"expiryTime": "P28D"},
}


def _path(object_id: str) -> str:
    """An id without its host: the restarted server listens on another port."""
    return object_id.split(":", 2)[2].split("/", 1)[1]


def test_changes_made_while_answering_reads_survive_a_kill_9(tmp_path: Path) -> None:
    """Issuance completed by a GET of the pending operation, a rotation and a purge done by the catch-up of a
    GET: each is stored before the kill. Before, only non-GET 2xx answers were stored, so the certificate was
    back to inProgress with no X.509 and the key rotated again, to another version id."""
    args = ("--certificate-pending-polls", "1", "--soft-delete-retention-in-days", "7")
    server = Running(tmp_path, *args)
    try:
        assert server.request("POST", "/certificates/polled/create", json={"policy": _POLICY}).status_code == 202
        assert server.request("POST", "/keys/rotated/create", json={"kty": "EC", "crv": "P-256"}).status_code == 200
        assert server.request("PUT", "/keys/rotated/rotationpolicy", json=_ROTATION).status_code == 200
        assert server.request("PUT", "/secrets/purged", json={"value": "x"}).status_code == 200
        assert server.request("DELETE", "/secrets/purged").status_code == 200
        assert server.manage("POST", "clock/advance", json={"days": 8}).status_code == 200  # stores all: reads next
        assert server.request("GET", "/certificates/polled/pending").json()["status"] == "inProgress"
        assert server.request("GET", "/certificates/polled/pending").json()["status"] == "completed"
        issued = server.request("GET", "/certificates/polled").json()
        assert issued["cer"]
        rotated = server.request("GET", "/keys/rotated").json()["key"]["kid"]  # this GET's catch-up rotates
        assert server.request("GET", "/keys/rotated/versions").json()["value"][1:], "no rotation happened"
        assert server.request("GET", "/deletedsecrets/purged").status_code == 404  # and purges
        server.kill()

        server = Running(tmp_path, *args)
        pending = server.request("GET", "/certificates/polled/pending").json()
        assert pending["status"] == "completed", pending
        after = server.request("GET", "/certificates/polled").json()
        assert _path(after["id"]) == _path(issued["id"]) and after["cer"] == issued["cer"]
        assert _path(server.request("GET", "/keys/rotated").json()["key"]["kid"]) == _path(rotated)
        assert len(server.request("GET", "/keys/rotated/versions").json()["value"]) == 2
        assert server.request("GET", "/deletedsecrets/purged").status_code == 404
    finally:
        server.stop()


class _RefusingReceiver(http.server.BaseHTTPRequestHandler):
    """A webhook that passes Event Grid's validation handshake, then answers 400 to every event: Event Grid does
    not retry a 400 and dead-letters the event at once (Microsoft Learn, "Event Grid message delivery and retry",
    2024)."""

    notified: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        events = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers["aeg-event-type"] == "SubscriptionValidation":
            answer, status = json.dumps({"validationResponse": events[0]["data"]["validationCode"]}).encode(), 200
        else:
            self.notified.extend(event["id"] for event in events)
            answer, status = b"{}", 400
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


def test_an_event_delivered_while_answering_a_read_survives_a_kill_9(tmp_path: Path) -> None:
    """A secret expires by real time; the next read (a list) publishes SecretExpired, posts it and dead-letters
    it (400). What the subscription got is stored by that read (issue 20 item 5): before, the events section was
    stored only with the next change, so a kill -9 lost the received event and its dead letter."""
    _RefusingReceiver.notified = []
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingReceiver)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    server = Running(tmp_path)
    try:
        hook = {"endpoint": f"http://127.0.0.1:{receiver.server_port}/events", "name": "expiry"}
        assert server.manage("POST", "events/subscriptions", json={**hook, "types": ["SecretExpired"]}).ok
        expires = int(time.time()) + 2
        assert server.request("PUT", "/secrets/short", json={"value": "x", "attributes": {"exp": expires}}).ok
        time.sleep(max(0.0, expires + 0.5 - time.time()))
        assert server.request("GET", "/secrets").status_code == 200  # this read publishes, posts, dead-letters
        assert len(_RefusingReceiver.notified) == 1
        server.kill()

        server = Running(tmp_path)
        (listed,) = server.manage("GET", "events/subscriptions").json()
        assert (listed["name"], listed["received"], listed["dead_letters"]) == ("expiry", 1, 1), listed
        (letter,) = server.manage("GET", "events/subscriptions/expiry").json()["dead_letters"]
        assert letter["id"] == _RefusingReceiver.notified[0]
        assert (letter["deadLetterReason"], letter["lastHttpStatusCode"]) == ("NonRetriableError", 400)
        assert len(_RefusingReceiver.notified) == 1  # and the restart does not publish it again
    finally:
        server.stop()
        receiver.shutdown()
        receiver.server_close()
        thread.join(5)


def test_a_stale_server_json_naming_pid_1_never_blocks_a_start(tmp_path: Path) -> None:
    """A container's server is PID 1: once killed, its server.json names a PID that is always alive (was:
    "another kv-emulator (pid 1) is serving from D", exit 1, until someone deleted the file)."""
    stale = {"pid": 1, "host": "127.0.0.1", "port": 1, "proxy_port": 2, "tenant_id": "t", "identity_header": "h"}
    (tmp_path / "server.json").write_text(json.dumps({**stale, "vault_url": "https://kv-emulator.vault.azure.net"}))
    found = _cli("env", "--data-dir", str(tmp_path))
    assert found.returncode == 1 and "no longer running" in found.stderr  # not taken for a live server
    server = Running(tmp_path)
    try:
        assert server.request("PUT", "/secrets/after-pid-1", json={"value": "v"}).status_code == 200
        server.kill()
        server = Running(tmp_path)  # kill -9 left server.json and the database behind: starts all the same
        assert server.request("GET", "/secrets/after-pid-1").json()["value"] == "v"
    finally:
        server.stop()


def _pid_namespace() -> tuple[str, ...]:
    """``unshare`` that runs a command as PID 1 of a new PID namespace, as in a container (needs privileges)."""
    probe = ("unshare", "--pid", "--fork", "--kill-child")
    try:
        ran = subprocess.run([*probe, "sh", "-c", "echo $$"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return probe if ran.returncode == 0 and ran.stdout.strip() == "1" else ()


def test_a_server_killed_as_pid_1_starts_again(tmp_path: Path) -> None:
    """The container case itself: the server runs as PID 1 of its own PID namespace and is killed with SIGKILL
    (as ``docker kill`` does); its server.json names pid 1, alive in every namespace."""
    namespace = _pid_namespace()
    if not namespace:
        pytest.skip("no PID namespaces here (unshare needs privileges); the stale pid-1 file test covers the rest")
    server = Running(tmp_path, prefix=namespace)
    try:
        assert json.loads((tmp_path / "server.json").read_text())["pid"] == 1
        assert server.request("PUT", "/secrets/in-a-container", json={"value": "v"}).status_code == 200
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
        os.kill(int(children[0]), signal.SIGKILL)  # PID 1 of the namespace, seen from outside
        server.process.wait(timeout=20)
        server.log.close()
        server = Running(tmp_path)
        assert server.request("GET", "/secrets/in-a-container").json()["value"] == "v"
    finally:
        server.stop()


def test_two_live_servers_on_one_data_dir_refuse(tmp_path: Path) -> None:
    """The second is refused before it touches the state, with the data dir and how to find the first."""
    server = Running(tmp_path)
    try:
        for extra in ((), ("--ephemeral",)):
            second = _cli("serve", "--data-dir", str(tmp_path), "--port", "0", "--proxy-port", "0", *extra)
            assert second.returncode == 1
            assert f"another kv-emulator is serving from {tmp_path}" in second.stderr, second.stderr
            assert f"pid {server.process.pid}" in second.stderr and f"kv-emulator env --data-dir {tmp_path}" in (
                second.stderr
            )
        assert json.loads((tmp_path / "server.json").read_text())["pid"] == server.process.pid  # left alone
        assert server.request("PUT", "/secrets/still", json={"value": "served"}).status_code == 200
        assert _cli("env", "--data-dir", str(tmp_path)).returncode == 0
    finally:
        server.stop()
    found = _cli("env", "--data-dir", str(tmp_path))
    assert found.returncode == 1 and "no kv-emulator server has started" in found.stderr  # a clean stop
