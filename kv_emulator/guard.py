"""The guard: no request to a Key Vault, Managed HSM, Entra login, Microsoft Graph or IMDS host ever reaches
the network.

It sits at the bottom of both HTTP stacks (urllib3's connection pool for ``requests``, aiohttp's
connector), below ``responses`` and the emulator's own doors, so it sees only what would really leave the
process. Such a request fails at once (a ``RuntimeError``, which the SDK does not retry) when no emulator
is active, and always when the host is a near miss of a vault host (``*.vault.azure.com``,
``vault.azure.net`` with no vault name, an ``http://`` or odd-port vault URL): typos that would otherwise
go to the internet. Turn it on with ``kv_guard = true``, ``--kv-guard`` or ``PYTEST_KV_GUARD=1``.
"""

from __future__ import annotations

import re
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from . import active
from .hosts import GRAPH_HOSTS, INTERCEPTED_URL

__all__ = ["EmulatorNotActive", "Guard", "refusal"]

# Hosts that belong to Key Vault or Managed HSM in any cloud, including near misses of them.
_VAULTISH = re.compile(
    r"(^|\.)(vault|vaults|managedhsm)\.(azure\.(net|com|cn)|usgovcloudapi\.net|microsoftazure\.de)$", re.I
)
_LOGIN_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.windows.net",
        "login.microsoft.com",
        "sts.windows.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.us",
        "login.microsoftonline.de",
    }
)
_IMDS_HOST = "169.254.169.254"


class EmulatorNotActive(RuntimeError):
    """A request to an Azure identity or Key Vault host that the guard kept from the network."""


def refusal(url: str, *, proxy: tuple[str | None, int | None] = (None, None)) -> str | None:
    """Why the guard refuses ``url`` now, or None when it may go on.

    A request sent through ``proxy`` when that is a kv-emulator server of this process reaches the emulator,
    not the network: it passes, unless its host is a near miss (which the server would tunnel onward).
    """
    host = (urlsplit(url).hostname or "").lower()
    vaultish = bool(_VAULTISH.search(host))
    if vaultish and not INTERCEPTED_URL.match(url):
        return f"kv-emulator is not active for {url}: not a Key Vault URL (https://<name>.vault.azure.net)"
    guarded = vaultish or host in _LOGIN_HOSTS or host in GRAPH_HOSTS or host == _IMDS_HOST
    if guarded and not active.is_active() and not active.is_server(*proxy):
        return f"kv-emulator is not active for {url}: use the keyvault fixture or --kv-intercept=session"
    return None


def _pool_url(pool: Any, path: str) -> str:
    if "://" in path:  # a request through a proxy carries the absolute URL
        return path
    default = 443 if pool.scheme == "https" else 80
    port = f":{pool.port}" if pool.port and pool.port != default else ""
    return f"{pool.scheme}://{pool.host}{port}{path}"


class Guard:
    """Installed while a run wants it; :meth:`uninstall` puts both stacks back."""

    def __init__(self) -> None:
        self._patches: list[Any] = []

    def install(self) -> Guard:
        if self._patches:
            return self
        from urllib3.connectionpool import HTTPConnectionPool

        urlopen = HTTPConnectionPool.urlopen

        def guarded_urlopen(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            via = getattr(pool, "proxy", None)
            reason = refusal(_pool_url(pool, url), proxy=(via.host, via.port) if via is not None else (None, None))
            if reason is not None:
                raise EmulatorNotActive(reason)
            return urlopen(pool, method, url, *args, **kwargs)

        self._patches.append(mock.patch.object(HTTPConnectionPool, "urlopen", guarded_urlopen))
        try:
            import aiohttp
        except ImportError:  # pragma: no cover - aiohttp is a dependency, but the guard need not insist
            aiohttp = None  # type: ignore[assignment]
        if aiohttp is not None:
            connect = aiohttp.BaseConnector.connect

            async def guarded_connect(connector: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
                via = getattr(request, "proxy", None)
                proxy = (via.host, via.port) if via is not None else (None, None)
                reason = refusal(str(request.url), proxy=proxy)
                if reason is not None:
                    raise EmulatorNotActive(reason)
                return await connect(connector, request, *args, **kwargs)

            self._patches.append(mock.patch.object(aiohttp.BaseConnector, "connect", guarded_connect))
        for patch in self._patches:
            patch.start()
        return self

    def uninstall(self) -> None:
        while self._patches:
            self._patches.pop().stop()

    def __enter__(self) -> Guard:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()
