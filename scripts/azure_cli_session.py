"""Run the Azure CLI, unmodified, against an in-process emulator: login, groups, vaults (with RBAC, and with
an access policy for the signed-in identity), role assignments (by object id and by ``--assignee``, listed
with principals' names from the emulated Microsoft Graph), secrets, keys and certificates. ``az`` is a
Python program whose HTTP goes through ``requests`` (MSAL and the SDKs), so the same interception that
serves the SDKs serves it, with no server and no proxy.

Needs a Python environment with ``azure-cli`` and kv-emulator installed (azure-cli pins its own SDK versions,
so not the project's venv)::

    python -m venv .venv-az
    .venv-az/bin/pip install azure-cli
    .venv-az/bin/python scripts/azure_cli_session.py --install  # kv-emulator, leaving azure-cli's SDK pins
    .venv-az/bin/python scripts/azure_cli_session.py            # prints "azure-cli: ok"
    .venv-az/bin/python scripts/azure_cli_session.py --proxy    # the same through `kv-emulator serve`'s proxy

``tests/identity/test_azure_cli.py`` runs it when ``KV_EMULATOR_AZ_PYTHON`` names that interpreter.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def install() -> None:
    """Install kv-emulator into this environment without touching azure-cli's pinned ``azure-*`` SDKs: its
    other dependencies from pyproject.toml, then the project itself with ``--no-deps``."""
    import subprocess
    import tomllib  # Python 3.11+, as azure-cli needs

    with open(ROOT / "pyproject.toml", "rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    own = [requirement for requirement in dependencies if not requirement.startswith("azure-")]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *own], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(ROOT)], check=True)


POLICY = {
    "issuerParameters": {"name": "Self"},
    "keyProperties": {"exportable": True, "keySize": 2048, "keyType": "RSA", "reuseKey": False},
    "secretProperties": {"contentType": "application/x-pkcs12"},
    "x509CertificateProperties": {"subject": "CN=cli", "validityInMonths": 12},
}


def az(*args: str) -> Any:
    """One ``az`` command in this process; its JSON output, or SystemExit naming the command that failed."""
    from azure.cli.core import get_default_cli  # imported after main() set the environment az reads

    out = io.StringIO()
    code = get_default_cli().invoke([*args, "-o", "json"], out_file=out)
    if code != 0:
        raise SystemExit(f"az {' '.join(args)} exited {code}")
    text = out.getvalue().strip()
    return json.loads(text) if text else None


#: An app id no one has signed in with: the open directory still knows it, as Entra ID would give it a token.
APP_ID = "0e5f3c1a-7b2d-4c8e-9f10-a1b2c3d4e5f6"


def graph_steps(kv: Any, tenant: str, vault_id: str, principal: str) -> None:
    """What asks Microsoft Graph: the signed-in identity's object id for a vault's access policy,
    ``--assignee`` given by app id, and the principals' names in ``az role assignment list``."""
    policy_vault = az(
        "keyvault", "create", "-n", "cli-policy-vault", "-g", "rg-cli", "-l", "westus",
        "--enable-rbac-authorization", "false",
    )  # fmt: skip
    [policy] = policy_vault["properties"]["accessPolicies"]
    assert (policy["objectId"], policy["tenantId"]) == (principal, tenant), policy  # az login's app, via Graph
    assert "all" in [p.lower() for p in policy["permissions"]["secrets"]], policy
    upn, user_id = kv.identity.signed_in_user
    az("keyvault", "set-policy", "-n", "cli-policy-vault", "--spn", APP_ID, "--secret-permissions", "get")
    updated = az("keyvault", "set-policy", "-n", "cli-policy-vault", "--upn", upn, "--key-permissions", "list")
    granted = {p["objectId"] for p in updated["properties"]["accessPolicies"]}
    assert granted == {principal, kv.identity.object_id_for(tenant, APP_ID), user_id}, updated
    app_principal = kv.identity.object_id_for(tenant, APP_ID)
    role = az(
        "role", "assignment", "create", "--assignee", APP_ID, "--role", "Key Vault Secrets User", "--scope", vault_id
    )
    assert (role["principalId"], role["principalType"]) == (app_principal, "ServicePrincipal"), role
    role = az(
        "role", "assignment", "create", "--assignee", "cli-app", "--role", "Key Vault Reader", "--scope", vault_id
    )
    assert role["principalId"] == principal, role
    names = {(r["principalId"], r["roleDefinitionName"]): r["principalName"] for r in az(
        "role", "assignment", "list", "--scope", vault_id,
    )}  # fmt: skip
    assert names == {
        (principal, "Key Vault Administrator"): "cli-app",
        (app_principal, "Key Vault Secrets User"): APP_ID,
        (principal, "Key Vault Reader"): "cli-app",
    }, names
    [mine] = az("role", "assignment", "list", "--scope", vault_id, "--assignee", APP_ID)
    assert mine["principalName"] == APP_ID, mine
    assert az("ad", "sp", "show", "--id", APP_ID)["id"] == app_principal
    asked = {e.operation for e in kv.requests if e.url.startswith("https://graph.microsoft.com/v1.0/")}
    assert {"GetSignedInUser", "ListServicePrincipals", "GetDirectoryObjectsByIds"} <= asked, asked
    az("keyvault", "delete", "-n", "cli-policy-vault")
    az("keyvault", "purge", "-n", "cli-policy-vault")
    summary = {"accessPolicyObjectId": policy["objectId"], "principalNames": sorted(set(names.values()))}
    print("graph:", json.dumps({**summary, "graphOperations": sorted(asked)}))  # test_azure_cli.py reads it


def hsm_rbac_steps(kv: Any, principal: str) -> None:
    """A Managed HSM through ARM (``--administrators``), activated by downloading its security domain, its local
    RBAC (``role definition/assignment``) and its settings, with ``--hsm-name`` (docs/managed-hsm.md)."""
    hsm = az(
        "keyvault", "create", "--hsm-name", "cli-hsm", "-g", "rg-cli", "-l", "westus",
        "--administrators", principal, "--retention-days", "7",
    )  # fmt: skip
    assert hsm["properties"]["hsmUri"] == "https://cli-hsm.managedhsm.azure.net/", hsm
    # As on the service, a new HSM is provisioned but not activated until its security domain is downloaded.
    assert hsm["properties"]["securityDomainProperties"]["activationStatus"] == "NotActivated", hsm
    download_security_domain("cli-hsm")
    shown = az("keyvault", "show", "--hsm-name", "cli-hsm")
    assert shown["id"] == hsm["id"], shown
    assert shown["properties"]["securityDomainProperties"]["activationStatus"] == "Active", shown
    names = {d["roleName"] for d in az("keyvault", "role", "definition", "list", "--hsm-name", "cli-hsm")}
    assert {"Managed HSM Administrator", "Managed HSM Crypto User"} <= names, names
    role = az(
        "keyvault", "role", "assignment", "create", "--hsm-name", "cli-hsm", "--role", "Managed HSM Crypto User",
        "--assignee", "cli-app", "--scope", "/keys",  # the app id, resolved through Microsoft Graph
    )  # fmt: skip
    assert (role["principalId"], role["scope"]) == (principal, "/keys"), role
    listed = az("keyvault", "role", "assignment", "list", "--hsm-name", "cli-hsm", "--scope", "/keys")
    assert any(a["roleName"] == "Managed HSM Crypto User" for a in listed), listed
    key = az("keyvault", "key", "create", "--hsm-name", "cli-hsm", "-n", "hk1", "--kty", "RSA-HSM")
    assert key["key"]["kty"] == "RSA-HSM", key
    az(
        "keyvault", "role", "assignment", "delete", "--hsm-name", "cli-hsm", "--role", "Managed HSM Crypto User",
        "--assignee-object-id", principal, "--scope", "/keys",
    )  # fmt: skip
    try:
        az("keyvault", "key", "show", "--hsm-name", "cli-hsm", "-n", "hk1")
    except SystemExit:
        pass  # 403 AccessDenied: the HSM authorizes by its role assignments alone
    else:
        raise AssertionError("a revoked role still reads keys")
    name = "AllowKeyManagementOperationsThroughARM"
    settings = az("keyvault", "setting", "list", "--hsm-name", "cli-hsm")
    assert [s["name"] for s in settings] == [name], settings
    assert az("keyvault", "setting", "show", "--hsm-name", "cli-hsm", "--name", name)["value"] == "false"
    updated = az("keyvault", "setting", "update", "--hsm-name", "cli-hsm", "--name", name, "--value", "true")
    assert updated["value"] == "true", updated
    az("keyvault", "delete", "--hsm-name", "cli-hsm")
    assert [d["name"] for d in az("keyvault", "list-deleted", "--resource-type", "hsm")] == ["cli-hsm"]
    az("keyvault", "purge", "--hsm-name", "cli-hsm", "-l", "westus")


def download_security_domain(hsm: str) -> tuple[list[Any], Path]:
    """``az keyvault security-domain download`` to three new wrapping keys (quorum 2), which activates a new
    HSM; the keys and the file written."""
    from cryptography.hazmat.primitives import serialization

    work = Path(tempfile.mkdtemp(prefix="kv-emulator-sd-"))
    wrapping = []
    for index in range(3):
        key, certificate = _wrapping_key(f"cli-sd-{index}")
        (work / f"sd{index}.cer").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        wrapping.append(key)
    sd_file = work / "sd.json"
    az(
        "keyvault", "security-domain", "download", "--hsm-name", hsm, "--sd-quorum", "2",
        "--sd-wrapping-keys", *(str(work / f"sd{index}.cer") for index in range(3)),
        "--security-domain-file", str(sd_file),
    )  # fmt: skip
    return wrapping, sd_file


def hsm_backup_steps(kv: Any) -> None:
    """A Managed HSM's full backup, full and selective restore, and its security domain download, through
    ``az keyvault backup/restore start`` and ``az keyvault security-domain download`` (docs/managed-hsm-backup.md):
    the CLI builds ``https://<account>.blob.core.windows.net/<container>`` from the account name."""
    from kv_emulator.objects.security_domain_format import decrypt  # the shares: RSA-OAEP-256 JWEs

    hsm, sas = "cli-hsm", "sv=2022-11-02&sp=rwl&se=2099-01-01T00:00:00Z&sig=cli"
    kv.managed_hsm(hsm, activated=False)  # new: only its security domain answers until it is downloaded
    wrapping, sd_file = download_security_domain(hsm)
    shares = json.loads(sd_file.read_text())["SharedKeys"]["enc_shares"]
    assert [len(decrypt(share["enc_key"], key)) for share, key in zip(shares, wrapping, strict=True)] == [64] * 3
    assert kv.vault(f"https://{hsm}.managedhsm.azure.net").activated
    assert az("keyvault", "key", "create", "--hsm-name", hsm, "-n", "hsm-key", "--kty", "RSA-HSM")["key"]["kid"]
    storage = ("--storage-account-name", "cliaccount", "--blob-container-name", "backups")
    backup = az("keyvault", "backup", "start", "--hsm-name", hsm, *storage, "--storage-container-SAS-token", sas)
    folder_url = backup["folderUrl"]
    assert folder_url.startswith(f"https://cliaccount.blob.core.windows.net/backups/mhsm-{hsm}-"), backup
    kv.vault(f"https://{hsm}.managedhsm.azure.net").keys.delete("hsm-key")
    kv.vault(f"https://{hsm}.managedhsm.azure.net").keys.purge("hsm-key")
    folder = folder_url.rsplit("/", 1)[1]
    restore = ("--storage-container-SAS-token", sas, "--backup-folder", folder)
    az("keyvault", "restore", "start", "--hsm-name", hsm, *storage, *restore)
    az("keyvault", "restore", "start", "--hsm-name", hsm, *storage, *restore, "--key-name", "hsm-key")
    assert "hsm-key" in kv.vault(f"https://{hsm}.managedhsm.azure.net").keys
    print("hsm-backup:", json.dumps({"folderUrl": folder_url}))


def _wrapping_key(name: str) -> tuple[Any, Any]:
    """An RSA key and its self-signed certificate (what ``openssl req -newkey rsa:2048 -x509`` makes)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
    builder = builder.serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
    return key, builder.not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256())


@contextlib.contextmanager
def emulator(door: str) -> Iterator[Any]:
    """In-process (``az``'s ``requests`` intercepted), or ``--proxy``: a server in this process and ``az``
    sent to it the way another process would be, by ``HTTPS_PROXY`` and the server's CA bundle."""
    import kv_emulator  # installed beside azure-cli by --install

    if door == "in-process":
        with kv_emulator.emulate() as kv:
            yield kv
        return
    with kv_emulator.serve(data_dir=tempfile.mkdtemp(prefix="kv-emulator-server-")) as server:
        env = server.env()
        os.environ.update({k: env[k] for k in ("HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")})
        yield server.emulator


def main(door: str = "in-process") -> None:
    os.environ["AZURE_CONFIG_DIR"] = tempfile.mkdtemp(prefix="kv-emulator-az-")
    os.environ["AZURE_CORE_COLLECT_TELEMETRY"] = "no"
    os.environ["AZURE_CORE_ONLY_SHOW_ERRORS"] = "true"

    with emulator(door) as kv:
        tenant, sub = kv.settings.tenant_id, kv.settings.subscription_id
        [account] = az("login", "--service-principal", "-u", "cli-app", "-p", "cli-secret", "--tenant", tenant)
        assert account["id"] == sub and account["tenantId"] == tenant, account
        assert az("account", "show")["name"] == "kv-emulator"
        assert az("group", "create", "-n", "rg-cli", "-l", "westus")["name"] == "rg-cli"
        vault = az("keyvault", "create", "-n", "cli-vault", "-g", "rg-cli", "-l", "westus")
        assert vault["properties"]["vaultUri"] == "https://cli-vault.vault.azure.net/", vault
        assert az("keyvault", "show", "-n", "cli-vault")["id"] == vault["id"]
        assert [v["name"] for v in az("keyvault", "list")] == ["cli-vault"]
        updated = az("keyvault", "update", "-n", "cli-vault", "--enable-purge-protection", "true")
        assert updated["properties"]["enablePurgeProtection"] is True
        principal = kv.identity.object_id_for(tenant, "cli-app")
        role = az(
            "role", "assignment", "create", "--assignee-object-id", principal, "--assignee-principal-type",
            "ServicePrincipal", "--role", "Key Vault Administrator", "--scope", vault["id"],
        )  # fmt: skip
        assert role["scope"] == vault["id"], role
        graph_steps(kv, tenant, vault["id"], principal)
        hsm_backup_steps(kv)
        assert (
            az("keyvault", "secret", "set", "--vault-name", "cli-vault", "-n", "s1", "--value", "v1")["value"] == "v1"
        )
        assert az("keyvault", "secret", "show", "--vault-name", "cli-vault", "-n", "s1")["value"] == "v1"
        assert [s["name"] for s in az("keyvault", "secret", "list", "--vault-name", "cli-vault")] == ["s1"]
        az("keyvault", "secret", "delete", "--vault-name", "cli-vault", "-n", "s1")
        az("keyvault", "secret", "recover", "--vault-name", "cli-vault", "-n", "s1")
        assert kv.vault("cli-vault").secrets.get("s1").payload.value == "v1"
        assert az("keyvault", "key", "create", "--vault-name", "cli-vault", "-n", "k1")["key"]["kty"] == "RSA"
        assert az("keyvault", "key", "show", "--vault-name", "cli-vault", "-n", "k1")["attributes"]["enabled"] is True
        assert [k["name"] for k in az("keyvault", "key", "list", "--vault-name", "cli-vault")] == ["k1"]
        policy = Path(tempfile.mkdtemp()) / "policy.json"
        policy.write_text(json.dumps(POLICY))
        az("keyvault", "certificate", "create", "--vault-name", "cli-vault", "-n", "c1", "-p", f"@{policy}")
        assert az("keyvault", "certificate", "show", "--vault-name", "cli-vault", "-n", "c1")["policy"][
            "issuerParameters"
        ]
        az("keyvault", "delete", "-n", "cli-vault")
        assert [d["name"] for d in az("keyvault", "list-deleted")] == ["cli-vault"]
        az("keyvault", "recover", "-n", "cli-vault")
        assert kv.vault("cli-vault").secrets.get("s1").payload.value == "v1"  # recovered whole
        # Purge protection is on: the purge is refused, as the service refuses it.
        az("keyvault", "delete", "-n", "cli-vault")
        try:
            az("keyvault", "purge", "-n", "cli-vault")
        except SystemExit:
            pass
        else:
            raise AssertionError("a purge-protected vault was purged")
        hsm_rbac_steps(kv, principal)
        unanswered = [e for e in kv.requests if e.status >= 500]
        assert not unanswered, [(e.method, e.url, e.operation) for e in unanswered]
    print("azure-cli: ok")


if __name__ == "__main__":
    if sys.argv[1:] == ["--install"]:
        install()
    else:
        main("proxy" if sys.argv[1:] == ["--proxy"] else "in-process")
