"""What a client process needs to reach a running server: environment variables, in three formats.

Found from the data directory: ``server.json`` (ports, the identity header) written by the server, the CA,
and a bundle of the usual roots (certifi) plus the CA, so other HTTPS traffic of the client keeps working.
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from pathlib import Path
from typing import Any

import certifi

from .lock import lock_held
from .tls import CA_CERT_FILE

__all__ = ["BUNDLE_FILE", "RUNTIME_FILE", "client_env", "format_env", "read_runtime", "write_bundle"]

RUNTIME_FILE = "server.json"
BUNDLE_FILE = "ca-bundle.pem"
FORMATS = ("shell", "dotenv", "github")


def write_bundle(data_dir: Path) -> Path:
    """certifi's roots followed by the emulator's CA (rewritten each start: certifi may have changed)."""
    bundle = data_dir / BUNDLE_FILE
    roots = Path(certifi.where()).read_bytes()
    ca = (data_dir / CA_CERT_FILE).read_bytes()
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=BUNDLE_FILE, suffix=".tmp")  # parallel starts: one each
    with os.fdopen(fd, "wb") as file:
        file.write(roots.rstrip(b"\n") + b"\n\n# kv-emulator local CA\n" + ca)
    os.chmod(tmp, 0o644)
    os.replace(tmp, bundle)
    return bundle


def read_runtime(data_dir: Path) -> dict[str, Any]:
    """What the running server recorded; a clear error when none runs from this directory."""
    path = data_dir / RUNTIME_FILE
    try:
        runtime = dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise LookupError(
            f"no kv-emulator server has started with --data-dir {data_dir} (no {RUNTIME_FILE}); "
            "run `kv-emulator serve` first"
        ) from None
    if not lock_held(data_dir):  # the lock dies with its server, whatever its pid (a container's 1 included)
        raise LookupError(
            f"the kv-emulator server that wrote {path} (pid {runtime.get('pid')}) is no longer running; "
            "run `kv-emulator serve` again"
        )
    return runtime


def client_env(runtime: dict[str, Any], data_dir: Path, *, direct: bool = False) -> dict[str, str]:
    """The variables for a client: proxy mode (real vault URLs) unless ``direct``; absolute paths, so they
    work from any directory."""
    data_dir = data_dir.absolute()
    proxy_port, port = runtime["proxy_port"], runtime["port"]
    proxy = f"http://{runtime.get('connect_host', '127.0.0.1')}:{proxy_port}"
    env = {
        "NO_PROXY": "localhost,127.0.0.1,::1",
        "REQUESTS_CA_BUNDLE": str(data_dir / BUNDLE_FILE),
        "SSL_CERT_FILE": str(data_dir / BUNDLE_FILE),
        "NODE_EXTRA_CA_CERTS": str(data_dir / CA_CERT_FILE),
        "AZURE_TENANT_ID": runtime["tenant_id"],
        "IDENTITY_ENDPOINT": f"{proxy}/msi/token",
        "IDENTITY_HEADER": runtime["identity_header"],
        "AZURE_KEYVAULT_URL": f"https://localhost:{port}" if direct else runtime["vault_url"],
    }
    if not direct:
        env = {"HTTPS_PROXY": proxy, **env}
    return env


def format_env(env: dict[str, str], style: str = "shell") -> str:
    """``shell``: export lines for ``eval``; ``dotenv``: NAME=value; ``github``: lines for ``$GITHUB_ENV``."""
    if style == "shell":
        return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
    if style == "dotenv":
        return "".join(f"{name}={json.dumps(value) if ' ' in value else value}\n" for name, value in env.items())
    if style == "github":
        return "".join(f"{name}={value}\n" for name, value in env.items())
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")
