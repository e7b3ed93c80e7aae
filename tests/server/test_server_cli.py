"""``kv-emulator serve | ca | env`` as a user runs them, and state that survives ``kill -9``."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

API = {"api-version": "7.5"}
TOKEN = {"Authorization": "Bearer any-token"}


class Running:
    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.log = (data_dir / "server.log").open("ab")
        command = [sys.executable, "-m", "kv_emulator", "serve", "--data-dir", str(data_dir)]
        command += ["--port", "0", "--proxy-port", "0", *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self.log, env={**os.environ, **(env or {})}, text=True
        )
        self.runtime = self._wait()

    def _wait(self) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        runtime_file = self.data_dir / "server.json"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.process.returncode}")
            if runtime_file.exists():
                runtime: dict[str, Any] = json.loads(runtime_file.read_text())
                if runtime.get("pid") == self.process.pid:
                    try:
                        requests.get(f"http://127.0.0.1:{runtime['proxy_port']}/_kv/health", timeout=2)
                        return runtime
                    except requests.ConnectionError:
                        pass
            time.sleep(0.1)
        raise AssertionError("server did not start in 30 s")

    @property
    def url(self) -> str:
        return f"https://localhost:{self.runtime['port']}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", TOKEN)
        return requests.request(
            method,
            f"{self.url}{path}",
            params=API,
            verify=str(self.data_dir / "ca.pem"),
            timeout=30,
            **kwargs,
        )

    def stop(self, *, kill: bool = False) -> str:
        if kill:
            self.process.kill()  # SIGKILL: no shutdown code runs
        else:
            self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return (self.data_dir / "server.log").read_text()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def kv_emulator_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kv_emulator", *args], capture_output=True, text=True, timeout=60, env=os.environ
    )


def test_ca_path_pem_and_reuse(data_dir: Path) -> None:
    first = kv_emulator_cli("ca", "--data-dir", str(data_dir))
    assert first.returncode == 0 and first.stdout.strip() == str(data_dir / "ca.pem")
    pem = kv_emulator_cli("ca", "--data-dir", str(data_dir), "--pem").stdout
    assert pem == (data_dir / "ca.pem").read_text() and pem.startswith("-----BEGIN CERTIFICATE-----")
    assert (data_dir / "ca-key.pem").stat().st_mode & 0o077 == 0  # the CA key is the owner's alone
    server = Running(data_dir)
    try:
        assert (data_dir / "ca.pem").read_text() == pem  # the server reuses it: trust is set up once
    finally:
        server.stop()


def test_serve_prints_the_ways_in_and_env_formats(data_dir: Path) -> None:
    server = Running(data_dir, "--vault", "myvault", env={"KV_EMULATOR_SOFT_DELETE_RETENTION_IN_DAYS": "7"})
    try:
        banner = [server.process.stdout.readline() for _ in range(5)]  # type: ignore[union-attr]
        assert banner[0].startswith("kv-emulator proxy") and f":{server.runtime['proxy_port']}" in banner[0]
        assert banner[1].startswith("kv-emulator direct") and "default vault myvault" in banner[1]
        shell = kv_emulator_cli("env", "--data-dir", str(data_dir))
        assert shell.returncode == 0
        lines = dict(line.removeprefix("export ").split("=", 1) for line in shell.stdout.splitlines())
        assert lines["HTTPS_PROXY"] == f"http://127.0.0.1:{server.runtime['proxy_port']}"
        assert lines["AZURE_KEYVAULT_URL"] == "https://myvault.vault.azure.net"
        assert lines["NODE_EXTRA_CA_CERTS"] == str(data_dir / "ca.pem")
        bundle = Path(lines["REQUESTS_CA_BUNDLE"]).read_text()
        assert (data_dir / "ca.pem").read_text() in bundle and bundle.count("BEGIN CERTIFICATE") > 50
        github = kv_emulator_cli("env", "--data-dir", str(data_dir), "--format", "github", "--direct").stdout
        assert f"AZURE_KEYVAULT_URL=https://localhost:{server.runtime['port']}\n" in github
        assert "HTTPS_PROXY" not in github and "export" not in github
        dotenv = kv_emulator_cli("env", "--data-dir", str(data_dir), "--format", "dotenv").stdout
        assert f"IDENTITY_HEADER={server.runtime['identity_header']}\n" in dotenv
        created = server.request("PUT", "/secrets/s", json={"value": "v"}).json()
        assert created["attributes"]["recoverableDays"] == 7  # KV_EMULATOR_SOFT_DELETE_RETENTION_IN_DAYS
        assert created["id"].startswith(f"{server.url}/secrets/s/")
    finally:
        log = server.stop()
    assert "SetSecret 200" in log  # one line per request: operation, status, ms
    assert not (data_dir / "server.json").exists()
    after = kv_emulator_cli("env", "--data-dir", str(data_dir))
    assert after.returncode == 1 and "kv-emulator serve" in after.stderr


def test_one_server_per_data_dir(data_dir: Path) -> None:
    server = Running(data_dir, "--ephemeral")
    try:
        second = kv_emulator_cli("serve", "--data-dir", str(data_dir), "--port", "0", "--proxy-port", "0")
        assert second.returncode == 1 and f"pid {server.process.pid}" in second.stderr
    finally:
        server.stop()


def test_bad_settings_are_refused_with_a_clear_message(data_dir: Path) -> None:
    result = kv_emulator_cli("serve", "--data-dir", str(data_dir), "--soft-delete-retention-in-days", "3")
    assert result.returncode == 2 and "between 7 and 90" in result.stderr


def test_acknowledged_writes_survive_kill_9(data_dir: Path) -> None:
    server = Running(data_dir)
    acknowledged: dict[str, str] = {}
    try:
        for i in range(30):
            answer = server.request("PUT", f"/secrets/s{i % 6}", json={"value": f"value-{i}"})
            assert answer.status_code == 200
            acknowledged[answer.json()["id"]] = f"value-{i}"

        def writer(client: int) -> None:  # concurrent writers share snapshots (group commit)
            for i in range(25):
                answer = server.request("PUT", f"/secrets/w{client}", json={"value": f"w{client}-{i}"})
                assert answer.status_code == 200
                acknowledged[answer.json()["id"]] = f"w{client}-{i}"

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(writer, range(4)))
        assert len(acknowledged) == 130
        assert server.request("DELETE", "/secrets/s5").status_code == 200
        other = {"Host": f"other.localhost:{server.runtime['port']}", **TOKEN}  # vault "other"
        assert server.request("PUT", "/secrets/elsewhere", json={"value": "o"}, headers=other).status_code == 200
        assert server.request("PUT", "/secrets/gone", json={"value": "x"}).status_code == 200
        assert server.request("DELETE", "/secrets/gone").status_code == 200  # its purge is planned
        key = server.request("POST", "/keys/k/create", json={"kty": "EC", "crv": "P-256"}).json()
        signed = server.request(
            "POST",
            f"/keys/k/{key['key']['kid'].rsplit('/', 1)[1]}/sign",
            json={"alg": "ES256", "value": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"},
        ).json()["value"]
        requests.post(
            f"http://127.0.0.1:{server.runtime['proxy_port']}/_kv/clock/advance", json={"days": 3}, timeout=10
        )
    finally:
        server.stop(kill=True)
    stale = kv_emulator_cli("env", "--data-dir", str(data_dir))  # server.json outlived its server
    assert stale.returncode == 1 and "no longer running" in stale.stderr

    restarted = Running(data_dir)
    try:
        for secret_id, value in acknowledged.items():
            path = secret_id.split(f":{server.runtime['port']}", 1)[1]
            if path.startswith("/secrets/s5/"):
                continue  # deleted before the kill: checked below
            got = restarted.request("GET", path)
            assert got.status_code == 200, (secret_id, got.text)
            assert got.json()["value"] == value
        other = {"Host": f"other.localhost:{restarted.runtime['port']}", **TOKEN}
        assert restarted.request("GET", "/secrets/elsewhere", headers=other).json()["value"] == "o"
        assert restarted.request("GET", "/deletedsecrets/s5").status_code == 200
        assert restarted.request("POST", "/deletedsecrets/s5/recover").status_code == 200
        assert restarted.request("GET", "/secrets/s5/").json()["value"] == "value-29"
        verified = restarted.request(
            "POST",
            f"/keys/k/{key['key']['kid'].rsplit('/', 1)[1]}/verify",
            json={"alg": "ES256", "digest": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "value": signed},
        )
        assert verified.json() == {"value": True}  # the same key material after the restart
        manage = f"http://127.0.0.1:{restarted.runtime['proxy_port']}/_kv"
        clock = requests.get(f"{manage}/clock", timeout=10).json()
        assert clock["time"] > time.time() + 2.9 * 86400
        assert restarted.request("GET", "/deletedsecrets/gone").status_code == 200
        requests.post(f"{manage}/clock/advance", json={"days": 90}, timeout=10)
        assert restarted.request("GET", "/deletedsecrets/gone").status_code == 404  # the planned purge ran
    finally:
        restarted.stop()


def test_a_newer_database_is_refused_not_misread(data_dir: Path) -> None:
    Running(data_dir).stop()
    with sqlite3.connect(data_dir / "state.sqlite3") as db:
        db.execute("UPDATE meta SET value = '99' WHERE name = 'format'")
    result = kv_emulator_cli("serve", "--data-dir", str(data_dir), "--port", "0", "--proxy-port", "0")
    assert result.returncode == 1
    assert "state format 99, written by a newer kv-emulator" in result.stderr and "--ephemeral" in result.stderr


def test_a_database_of_pickles_is_refused_not_loaded(data_dir: Path) -> None:
    """The builds before the state format (docs/state.md) pickled their vaults; loading a pickle runs code."""
    with sqlite3.connect(data_dir / "state.sqlite3") as db:
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema', '1')")
    result = kv_emulator_cli("serve", "--data-dir", str(data_dir), "--port", "0", "--proxy-port", "0")
    assert result.returncode == 1
    assert "pickled its state" in result.stderr and "left untouched" in result.stderr


def test_ephemeral_keeps_nothing(data_dir: Path) -> None:
    server = Running(data_dir, "--ephemeral")
    try:
        assert server.request("PUT", "/secrets/s", json={"value": "v"}).status_code == 200
    finally:
        server.stop()
    assert not (data_dir / "state.sqlite3").exists()


def test_a_busy_port_is_a_clear_error(data_dir: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = kv_emulator_cli("serve", "--data-dir", str(data_dir), "--port", port, "--proxy-port", "0")
    assert result.returncode == 1, result.stderr
    assert f"cannot listen on 127.0.0.1 port {port} (--port): Address already in use" in result.stderr
    assert "pass --port 0 to pick a free one" in result.stderr


def test_help_says_what_each_option_does_its_format_and_default() -> None:
    """No Python types (tuple[str, ...], float | None) in the help; every option has words and a default."""
    from kv_emulator.server.cli import build_parser

    serve = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    for action in serve._actions:
        if action.dest in ("help", "quiet"):
            continue
        text = action.help or ""
        assert "Default: " in text and len(text.split(". Default")[0]) > 15, (action.dest, text)
        assert "Format: " in text, (action.dest, text)
    help_text = serve.format_help()
    for python in ("tuple[", "dict[", "float | None", "bool | None", "<class"):
        assert python not in help_text


def test_a_bad_value_names_the_flag_and_the_format(data_dir: Path) -> None:
    result = kv_emulator_cli("serve", "--data-dir", str(data_dir), "--ephemeral", "--throttle-limits", "bogus")
    assert result.returncode == 2 and "dict[" not in result.stderr
    assert "--throttle-limits (KV_EMULATOR_THROTTLE_LIMITS) expects CLASS=N pairs separated by commas" in result.stderr
    assert "got 'bogus'" in result.stderr
    env = {**os.environ, "KV_EMULATOR_PORT": "http"}
    result = subprocess.run(
        [sys.executable, "-m", "kv_emulator", "serve", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2
    assert "KV_EMULATOR_PORT expects a port number; 0 picks a free one, got 'http'" in result.stderr


def test_version() -> None:
    import kv_emulator

    result = kv_emulator_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"kv-emulator {kv_emulator.__version__}"


def test_env_prints_absolute_paths_for_a_relative_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kv_emulator.__main__ import main
    from kv_emulator.server.lock import DataDirLock

    runtime = {"pid": os.getpid(), "port": 1, "proxy_port": 2, "tenant_id": "t", "vault_url": "v"}
    (tmp_path / "rel").mkdir()
    (tmp_path / "rel" / "server.json").write_text(json.dumps({**runtime, "identity_header": "h"}))
    lock = DataDirLock(tmp_path / "rel", "server.json")  # what a live server holds: env reads only from one
    lock.acquire()
    monkeypatch.chdir(tmp_path)
    out: list[str] = []
    monkeypatch.setattr(sys.stdout, "write", out.append)
    try:
        assert main(["env", "--data-dir", "rel", "--format", "dotenv"]) == 0
    finally:
        lock.release()
    values = dict(line.split("=", 1) for line in "".join(out).splitlines())
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"):
        assert values[name].startswith(str(tmp_path / "rel")), values[name]


def test_receive_prints_the_events_a_subscription_delivers(tmp_path: Path) -> None:
    """docs/events.md's curl example, as written: a receiver, a subscription to it, a change, the event."""
    import kv_emulator

    receiver = subprocess.Popen(
        [sys.executable, "-m", "kv_emulator", "receive", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stderr is not None and receiver.stdout is not None
        started = receiver.stderr.readline()
        url = started.split()[2]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/events"), started
        with kv_emulator.serve(data_dir=str(tmp_path)) as server:
            base = f"{server.proxy_url}/_kv"
            made = requests.post(f"{base}/events/subscriptions", json={"endpoint": url, "name": "rotation"}, timeout=30)
            assert made.status_code == 201, made.text
            server.emulator.vault().secrets.set("db-password", "v1")
            assert requests.get(f"{base}/events/subscriptions/rotation", timeout=30).json()["received"]
            event = json.loads(receiver.stdout.readline())
        assert event["eventType"] == "Microsoft.KeyVault.SecretNewVersionCreated"
        assert event["subject"] == "db-password"
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
        for stream in (receiver.stdout, receiver.stderr):
            if stream is not None:
                stream.close()


def test_every_setting_is_a_flag_and_a_variable(data_dir: Path) -> None:
    from kv_emulator.server.cli import build_parser, options_from, settings_from

    args = build_parser().parse_args(["serve", "--sku", "standard", "--no-enable-soft-delete", "--proxy-port", "9"])
    environ = {
        "KV_EMULATOR_SKU": "premium",  # the flag wins
        "KV_EMULATOR_THROTTLING": "true",
        "KV_EMULATOR_VAULT": "fromenv",
        "KV_EMULATOR_PORT": "7",
        "KV_EMULATOR_DATA_DIR": str(data_dir),
        "KV_EMULATOR_PASSTHROUGH": "false",
    }
    settings = settings_from(args, environ)
    assert (settings.sku, settings.enable_soft_delete, settings.throttling) == ("standard", False, True)
    assert settings.vault_name == "fromenv"
    options = options_from(args, environ)
    assert (options.port, options.proxy_port, options.data_dir, options.passthrough) == (7, 9, data_dir, False)
    import dataclasses

    from kv_emulator import Settings

    help_text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()  # type: ignore[union-attr]
    for field in dataclasses.fields(Settings):
        name = "vault" if field.name == "vault_name" else field.name
        assert f"KV_EMULATOR_{name.upper()}" in help_text, name
