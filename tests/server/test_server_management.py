"""The /_kv/ management API on both ports, transport faults at a real socket, the identity endpoints."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import kv_emulator
from kv_emulator.server import Server, ServerOptions

TOKEN = {"Authorization": "Bearer any-token"}
API = {"api-version": "7.5"}


@pytest.fixture
def server(tmp_path: Any) -> Iterator[Server]:
    with kv_emulator.serve(data_dir=str(tmp_path)) as running:
        yield running


def kv(server: Server, method: str, path: str, *, direct: bool = False, **kwargs: Any) -> requests.Response:
    base = server.url if direct else server.proxy_url
    return requests.request(method, f"{base}/_kv/{path}", verify=str(server.ca_path), timeout=10, **kwargs)


def vault(server: Server, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{server.url}{path}", params=API, headers=TOKEN, verify=str(server.ca_path), timeout=10, **kwargs
    )


@pytest.mark.parametrize("direct", [False, True])
def test_health_on_both_ports(server: Server, direct: bool) -> None:
    answer = kv(server, "GET", "health", direct=direct)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["vault_url"] == "https://kv-emulator.vault.azure.net"


def test_reset_forgets_vaults(server: Server) -> None:
    server.emulator.vault().secrets  # noqa: B018
    assert vault(server, "PUT", "/secrets/a", json={"value": "1"}).status_code == 200
    assert kv(server, "POST", "reset").json() == {"status": "reset"}
    assert vault(server, "GET", "/secrets/a").status_code == 404


def test_clock_advance_freeze_and_virtual(server: Server) -> None:
    before = kv(server, "GET", "clock").json()["time"]
    advanced = kv(server, "POST", "clock/advance", json={"days": 2}).json()
    assert advanced["time"] >= before + 2 * 86400
    frozen = kv(server, "POST", "clock/freeze", json={"at": "2030-01-01T00:00:00+00:00"}).json()
    assert frozen["frozen"] is True and frozen["now"].startswith("2030-01-01T00:00:00")
    assert server.emulator.clock.now().year == 2030
    assert kv(server, "POST", "clock/unfreeze").json()["frozen"] is False
    assert kv(server, "POST", "clock/virtual", json={"enabled": True}).json()["virtual"] is True


def test_faults_add_script_and_clear(server: Server) -> None:
    added = kv(server, "POST", "faults", json={"status": 503, "operation": "GetSecret", "times": 1})
    assert added.status_code == 200 and added.json()["operation"] == "GetSecret"
    vault(server, "PUT", "/secrets/a", json={"value": "1"})
    failed = vault(server, "GET", "/secrets/a")
    assert failed.status_code == 503 and failed.json()["error"]["code"] == "ServiceUnavailable"
    assert vault(server, "GET", "/secrets/a").status_code == 200
    kv(server, "POST", "faults/script", json={"operation": "GetSecret", "steps": [429, "ok"]})
    assert [vault(server, "GET", "/secrets/a").status_code for _ in range(3)] == [429, 200, 200]
    kv(server, "POST", "faults", json={"status": 500, "times": None})
    assert len(kv(server, "GET", "faults").json()) == 3
    assert kv(server, "DELETE", "faults").status_code == 200
    assert vault(server, "GET", "/secrets/a").status_code == 200


def test_bad_management_input_is_a_clear_400(server: Server) -> None:
    unknown = kv(server, "POST", "faults", json={"status": 503, "operation": "NoSuchOperation"})
    assert unknown.status_code == 400 and "NoSuchOperation" in unknown.json()["error"]["message"]
    not_json = kv(server, "POST", "clock/advance", data=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert kv(server, "GET", "nothing-here").status_code == 404
    missing = kv(server, "POST", "identity/roles", json={"principal": "x"})
    assert (
        missing.status_code == 400
        and missing.json()["error"]["message"] == "POST /_kv/identity/roles: missing field 'role'"
    )
    assert kv(server, "DELETE", "health").status_code == 405


def test_throttling_journal_and_audit(server: Server) -> None:
    setting = kv(server, "PUT", "throttling", json={"enabled": True, "limits": {"vault-other": 2}})
    assert setting.json()["enabled"] is True and server.emulator.settings.throttling
    vault(server, "PUT", "/secrets/a", json={"value": "1"})
    statuses = [vault(server, "GET", "/secrets/a").status_code for _ in range(3)]
    assert 429 in statuses
    kv(server, "PUT", "throttling", json={"enabled": False})
    journal = kv(server, "GET", "journal").json()
    assert [e["operation"] for e in journal][:2] == ["SetSecret", "GetSecret"]
    calls = kv(server, "GET", "journal/calls", params={"operation": "GetSecret"}).json()
    assert calls and all(c["operation"] == "GetSecret" for c in calls)
    audit = kv(server, "GET", "audit")
    events = [json.loads(line) for line in audit.text.splitlines()]
    assert audit.headers["Content-Type"].startswith("application/x-ndjson")
    assert events[0]["operationName"] == "SetSecret"


def test_identity_principals_and_access_policies(server: Server) -> None:
    principal = kv(server, "POST", "identity/principals", json={"client_id": "app-1", "secret": "s3"}).json()
    assert principal["client_id"] == "app-1"
    form = {"grant_type": "client_credentials", "client_id": "app-1", "client_secret": "wrong", "scope": "x"}
    refused = requests.post(
        f"https://login.microsoftonline.com/{server.emulator.settings.tenant_id}/oauth2/v2.0/token",
        data=form,
        proxies={"https": server.proxy_url},
        verify=str(server.ca_path),
        timeout=10,
    )
    assert refused.status_code == 401 and "AADSTS7000215" in refused.json()["error_description"]
    policy = kv(
        server, "POST", "identity/access-policies", json={"principal": principal["object_id"], "secrets": ["get"]}
    )
    assert policy.status_code == 200 and policy.json()["secrets"] == ["get"]
    role = kv(server, "POST", "identity/roles", json={"role": "Key Vault Secrets User", "principal": "app-1"})
    assert role.status_code == 200, role.text


def test_imds_through_the_proxy_and_app_service_endpoint(server: Server) -> None:
    imds = requests.get(
        "http://169.254.169.254/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": "https://vault.azure.net"},
        headers={"Metadata": "true"},
        proxies={"http": server.proxy_url},
        timeout=10,
    )
    assert imds.status_code == 200 and imds.json()["token_type"] == "Bearer"
    endpoint = server.env()["IDENTITY_ENDPOINT"]
    params = {"api-version": "2019-08-01", "resource": "https://vault.azure.net"}
    wrong = requests.get(endpoint, params=params, headers={"X-IDENTITY-HEADER": "wrong"}, timeout=10)
    assert wrong.status_code == 401
    right = requests.get(endpoint, params=params, headers={"X-IDENTITY-HEADER": server.identity_header}, timeout=10)
    assert right.status_code == 200 and right.json()["access_token"]


def test_admin_token_on_a_non_loopback_host(tmp_path: Any) -> None:
    # 127.0.0.2 is loopback on Linux but not "localhost" to the server: it stands in for --host 0.0.0.0.
    options = ServerOptions(host="127.0.0.2", port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path)
    with Server(kv_emulator.Emulator(), options) as server:
        base = f"http://127.0.0.2:{server.proxy_port}/_kv"
        assert requests.get(f"{base}/health", timeout=10).status_code == 200
        missing = requests.post(f"{base}/reset", timeout=10)
        assert missing.status_code == 403 and "--admin-token" in missing.json()["error"]["message"]
    options = ServerOptions(
        host="127.0.0.2", port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path, admin_token="s3cret"
    )
    with Server(kv_emulator.Emulator(), options) as server:
        base = f"http://127.0.0.2:{server.proxy_port}/_kv"
        assert requests.post(f"{base}/reset", timeout=10).status_code == 403
        ok = requests.post(f"{base}/reset", headers={"Authorization": "Bearer s3cret"}, timeout=10)
        assert ok.status_code == 200


def test_transport_faults_are_acted_out_at_the_socket(tmp_path: Any) -> None:
    options = ServerOptions(port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path, fault_timeout=0.5)
    with Server(kv_emulator.Emulator(), options) as server:
        server.emulator.faults.connection_error(operation="GetSecret")
        server.emulator.faults.add("timeout", operation="GetSecrets")
        server.emulator.faults.latency(0.3, operation="GetDeletedSecrets", times=1)
        with pytest.raises(requests.ConnectionError):
            vault(server, "GET", "/secrets/a")
        started = time.monotonic()
        with pytest.raises(requests.ConnectionError):
            vault(server, "GET", "/secrets")
        assert 0.4 < time.monotonic() - started < 5
        started = time.monotonic()
        assert vault(server, "GET", "/deletedsecrets").status_code == 200
        assert time.monotonic() - started >= 0.3
        statuses = [e.status for e in server.emulator.requests if e.operation in ("GetSecret", "GetSecrets")]
        assert statuses == [0, 0]  # the journal says no answer was seen


def test_direct_default_vault_challenge_names_localhost(server: Server) -> None:
    answer = requests.get(f"{server.url}/secrets", params=API, verify=str(server.ca_path), timeout=10)
    assert answer.status_code == 401
    assert f'resource="https://localhost:{server.port}"' in answer.headers["WWW-Authenticate"]
    with socket.create_connection(("127.0.0.1", server.proxy_port), timeout=5) as raw:
        raw.sendall(b"GET /secrets HTTP/1.1\r\nHost: x.example\r\n\r\n")
        assert b"404" in raw.recv(4096).split(b"\r\n")[0]


def test_state_export_and_import(server: Server) -> None:
    """GET/PUT /_kv/state in the seed-file format (kv_emulator.seed); a build without it says so with 501."""
    vault(server, "PUT", "/secrets/exported", json={"value": "v1"})
    exported = kv(server, "GET", "state")
    try:
        import kv_emulator.seed  # noqa: F401
    except ImportError:
        assert exported.status_code == 501 and "kv_emulator.seed" in exported.json()["error"]["message"]
        return
    assert exported.status_code == 200, exported.text
    document = exported.json()
    kv(server, "POST", "reset")
    assert vault(server, "GET", "/secrets/exported").status_code == 404
    imported = kv(server, "PUT", "state", json=document)
    assert imported.status_code == 200, imported.text
    assert vault(server, "GET", "/secrets/exported").json()["value"] == "v1"
    refused = kv(server, "PUT", "state", json={"vaults": "not a table"})
    assert refused.status_code == 400
    assert vault(server, "GET", "/secrets/exported").status_code == 200  # a bad document changes nothing


def test_a_persistent_server_keeps_in_process_changes_at_stop(tmp_path: Any) -> None:
    options = ServerOptions(port=0, proxy_port=0, data_dir=tmp_path, write_runtime=False)
    with Server(kv_emulator.Emulator(), options) as first:
        first.emulator.vault("inproc").secrets.set("seeded", "without HTTP")
        assert vault(first, "PUT", "/secrets/over-http", json={"value": "1"}).status_code == 200
    with Server(kv_emulator.Emulator(), options) as second:
        assert second.emulator.vault("inproc").secrets.get("seeded").payload.value == "without HTTP"
        assert vault(second, "GET", "/secrets/over-http").json()["value"] == "1"
        kv(second, "POST", "reset")
    with Server(kv_emulator.Emulator(), options) as third:
        assert third.emulator.vaults == []  # the reset was stored too


def test_a_vaults_own_properties_survive_a_restart(tmp_path: Any) -> None:
    """Properties set on one vault (as ARM does) are kept with it, not replaced by the server's settings."""
    from kv_emulator.hosts import VaultAddress

    options = ServerOptions(port=0, proxy_port=0, data_dir=tmp_path, write_runtime=False)
    with Server(kv_emulator.Emulator(), options) as first:
        own = first.emulator.settings.replace(soft_delete_retention_in_days=7, enable_purge_protection=True)
        first.emulator._vaults.configure(VaultAddress("armvault"), own)
        first.emulator.vault("armvault").secrets.set("s", "v")
    with Server(kv_emulator.Emulator(), options) as second:
        restored = second.emulator.vault("armvault")
        assert restored.settings.soft_delete_retention_in_days == 7 and restored.settings.enable_purge_protection
        assert restored.secrets.settings is restored.settings  # its stores follow the vault's own settings
        assert second.emulator.vault().settings.soft_delete_retention_in_days == 90


def test_control_plane_resource_groups_survive_a_restart(tmp_path: Any) -> None:
    options = ServerOptions(port=0, proxy_port=0, data_dir=tmp_path, write_runtime=False)
    arm = "https://management.azure.com/subscriptions/00000000-0000-0000-0000-00000000c0de/resourcegroups/rg1"

    def call(server: Server, method: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method,
            arm,
            params={"api-version": "2021-04-01"},
            headers={"Authorization": "Bearer any-token"},
            proxies={"https": server.proxy_url},
            verify=str(server.ca_path),
            timeout=10,
            **kwargs,
        )

    with Server(kv_emulator.Emulator(), options) as first:
        created = call(first, "PUT", json={"location": "westeurope", "tags": {"team": "a"}})
        assert created.status_code in (200, 201), created.text
    with Server(kv_emulator.Emulator(), options) as second:
        kept = call(second, "GET")
        assert kept.status_code == 200 and kept.json()["tags"] == {"team": "a"}


def test_the_documented_management_commands_run(server: Server) -> None:
    """Every curl line of docs/server.md's management API block, as written, answers 2xx (a receiver
    stands at the webhook's port, as the block starts one; ``<id>`` is the role assignment just made)."""
    import io
    import re
    import shlex
    import threading
    from pathlib import Path

    from kv_emulator.server.receiver import Receiver

    text = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text(encoding="utf-8")
    section = text[text.index("## The management API") :]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert block is not None
    receiver = Receiver(("127.0.0.1", 0), out=io.StringIO())
    threading.Thread(target=receiver.serve_forever, args=(0.1,), daemon=True).start()
    files: dict[str, str] = {}
    last_id = ""
    ran = 0
    try:
        for line in block.group(1).splitlines():
            words = shlex.split(line, comments=True)
            if not words or words[0] != "curl":
                continue
            method, data, url, target = "GET", None, "", None
            words = iter(words[1:])
            for word in words:
                if word == "-X":
                    method = next(words)
                elif word in ("-d", "--data-binary"):
                    data = next(words)
                    data = files[data[1:]] if data.startswith("@") else data
                    method = method if method != "GET" else "POST"
                elif word == ">":
                    target = next(words)
                elif not word.startswith("-"):
                    url = word
            url = url.replace("$K", f"{server.proxy_url}/_kv").replace("<id>", last_id)
            data = data.replace(":7071/", f":{receiver.server_address[1]}/") if data else data
            answer = requests.request(method, url, data=data, timeout=30)
            assert answer.status_code < 300, f"{line}\n-> {answer.status_code} {answer.text[:300]}"
            if target:
                files[target] = answer.text
            if "identity/roles" in url and method == "POST":
                last_id = answer.json()["id"]
            ran += 1
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert ran >= 35
