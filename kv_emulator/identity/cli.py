"""Stand-ins for the ``az`` and ``azd`` command lines, so ``AzureCliCredential``,
``AzureDeveloperCliCredential`` and ``DefaultAzureCredential`` work unmodified.

Those credentials run ``az account get-access-token --output json --resource R [--tenant T]`` and
``azd auth token --output json --no-prompt --scope S [--tenant-id T]`` as subprocesses and parse the JSON
they print. With ``emulate_cli=True`` the emulator puts a directory holding two small Python scripts of
those names first on ``PATH`` while it runs (and takes it off again when it stops), so a real ``az`` is
shadowed only while emulation asks for it. The scripts sign their tokens with the process's token-signing
key (written beside them, readable by this user only), so the vault accepts them, in strict mode too.
Any other command fails with a message that says it is not emulated.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["AZD_CLIENT_ID", "AZ_CLIENT_ID", "CliShim", "cli_directory"]

#: The public client ids the two command lines sign users in with (tokens name them in ``appid``).
AZ_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
AZD_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # azd signs in as the Azure CLI app too (unverified)
#: The signed-in user the fake command lines answer for.
CLI_USER = "developer@kv-emulator.test"

_lock = threading.Lock()
_directories: dict[tuple[str, str], Path] = {}

_SCRIPT = '''#!{python}
"""kv-emulator's stand-in for `{name}` (only while an emulator with emulate_cli=True runs)."""
import datetime, json, sys, time, uuid

import jwt

CONFIG = {config}


def fail(message, code=2):
    sys.stderr.write("ERROR: kv-emulator: " + message + "\\n")
    sys.exit(code)


def option(args, *names):
    for name in names:
        if name in args:
            index = args.index(name)
            if index + 1 >= len(args):
                fail(f"{{name}} needs a value")
            return args[index + 1]
    return None


def token(resource, tenant):
    resource = resource.rstrip("/")
    if resource.endswith("/.default"):
        resource = resource[: -len("/.default")]
    host = resource.split("://", 1)[-1].split("/", 1)[0].lower()
    sts = CONFIG["issuers"].get(host, "sts.windows.net")
    now = int(time.time())
    claims = {{
        "aud": resource, "iss": f"https://{{sts}}/{{tenant}}/", "iat": now, "nbf": now,
        "exp": now + CONFIG["lifetime"], "tid": tenant, "oid": CONFIG["object_id"], "sub": CONFIG["object_id"],
        "upn": CONFIG["user"], "unique_name": CONFIG["user"], "appid": CONFIG["client_id"], "appidacr": "0",
        "idtyp": "user", "scp": "user_impersonation", "ver": "1.0",
    }}
    with open(CONFIG["key"], "rb") as key:
        signed = jwt.encode(claims, key.read(), algorithm="RS256", headers={{"kid": CONFIG["kid"]}})
    return signed, now + CONFIG["lifetime"]


def main(args):
    {body}


main(sys.argv[1:])
'''

_AZ_BODY = """if args[:2] != ["account", "get-access-token"]:
        fail("this is kv-emulator's stand-in for az; it answers only 'az account get-access-token' "
             f"(asked: az {' '.join(args)}). Turn emulate_cli off to use the real az.")
    if option(args, "--output", "-o") not in (None, "json"):
        fail("only --output json is emulated")
    scope = option(args, "--scope")
    resource = option(args, "--resource") or scope or "https://management.core.windows.net/"
    tenant = option(args, "--tenant", "-t") or CONFIG["tenant"]
    access_token, expires_on = token(resource, tenant)
    local = datetime.datetime.fromtimestamp(expires_on)
    print(json.dumps({
        "accessToken": access_token,
        "expiresOn": local.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "expires_on": expires_on,
        "subscription": CONFIG["subscription"],
        "tenant": tenant,
        "tokenType": "Bearer",
    }, indent=2))"""

_AZD_BODY = """if args[:2] != ["auth", "token"]:
        fail("this is kv-emulator's stand-in for azd; it answers only 'azd auth token' "
             f"(asked: azd {' '.join(args)}). Turn emulate_cli off to use the real azd.")
    if option(args, "--output", "-o") not in (None, "json"):
        fail("only --output json is emulated")
    scopes = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--scope"]
    if len(scopes) != 1:
        fail("give exactly one --scope")
    tenant = option(args, "--tenant-id") or CONFIG["tenant"]
    access_token, expires_on = token(scopes[0], tenant)
    expires = datetime.datetime.fromtimestamp(expires_on, datetime.timezone.utc)
    print(json.dumps({"token": access_token, "expiresOn": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}))"""


def cli_directory(key_pem: bytes, key_id: str, tenant_id: str, object_id: str, issuers: dict[str, str]) -> Path:
    """A directory with ``az`` and ``azd`` for this signing key and default tenant (made once per process)."""
    with _lock:
        found = _directories.get((key_id, tenant_id))
        if found is not None and found.is_dir():
            return found
        directory = Path(tempfile.mkdtemp(prefix="kv-emulator-cli-"))
        key_path = directory / "signing-key.pem"
        key_path.write_bytes(key_pem)
        key_path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        base = {
            "key": str(key_path),
            "kid": key_id,
            "tenant": tenant_id,
            "object_id": object_id,
            "user": CLI_USER,
            "lifetime": 3599,
            "issuers": issuers,
            "subscription": "00000000-0000-0000-0000-00000000c0de",
        }
        for name, body, client_id in (("az", _AZ_BODY, AZ_CLIENT_ID), ("azd", _AZD_BODY, AZD_CLIENT_ID)):
            config = json.dumps({**base, "client_id": client_id})
            script = directory / name
            script.write_text(_SCRIPT.format(python=sys.executable, name=name, config=config, body=body))
            script.chmod(stat.S_IRWXU)
        _directories[(key_id, tenant_id)] = directory
        if len(_directories) == 1:
            atexit.register(_remove_all)
        return directory


def _remove_all() -> None:
    with _lock:
        for directory in _directories.values():
            shutil.rmtree(directory, ignore_errors=True)
        _directories.clear()


class CliShim:
    """Puts the fake ``az``/``azd`` first on ``PATH`` until :meth:`stop`; the rest of ``PATH`` is untouched."""

    def __init__(self, directory: Path) -> None:
        self.directory = str(directory)
        self._added = False

    def start(self) -> None:
        entries = os.environ.get("PATH", "").split(os.pathsep)
        if self.directory not in entries:
            os.environ["PATH"] = os.pathsep.join([self.directory, *[e for e in entries if e]])
            self._added = True

    def stop(self) -> None:
        if not self._added:
            return
        entries = os.environ.get("PATH", "").split(os.pathsep)
        if self.directory in entries:
            entries.remove(self.directory)
        os.environ["PATH"] = os.pathsep.join(entries)
        self._added = False
