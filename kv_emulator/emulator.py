"""The Emulator: vaults by host, settings, clock, journal, and the switch that intercepts the SDK."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from .clock import Clock
from .config import Settings
from .credentials import AsyncEmulatorCredential, EmulatorCredential
from .errors import VaultNotDeclared
from .http.app import KeyVaultApp
from .http.journal import Journal
from .intercept import AioHttpInterceptor, RequestsInterceptor
from .objects.backup import BackupSealer
from .objects.vault import Vault
from .sdk_cache import forget_sdk_challenges

__all__ = ["VAULT_URL_PATTERN", "Emulator", "emulate"]

# A vault host on any port (a server or the werkzeug test client may use one); interception claims :443 only.
_VAULT_HOST = re.compile(r"^(?P<name>[a-z0-9-]{1,63})\.vault\.azure\.net(?::\d{1,5})?$", re.IGNORECASE)
#: The URLs an emulator answers: any vault under ``vault.azure.net``, over https.
VAULT_URL_PATTERN = re.compile(r"^https://[a-zA-Z0-9-]{1,63}\.vault\.azure\.net(:443)?(/|\?|$)", re.IGNORECASE)


class Emulator:
    """An in-process Azure Key Vault.

    Use it as a context manager (or ``start()``/``stop()``) to route the unmodified Azure SDK's traffic for
    ``https://<name>.vault.azure.net`` to it; every other host is left alone.
    """

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        if settings is not None and options:
            raise TypeError("pass either settings or options, not both")
        self.settings = settings or Settings.from_options(options)
        self.clock = Clock()
        self.requests = Journal()
        self.app = KeyVaultApp(self)
        self._sealer = BackupSealer()
        self._lock = threading.Lock()
        self._vaults: dict[str, Vault] = {}
        self._credential: EmulatorCredential | None = None
        self._async_credential: AsyncEmulatorCredential | None = None
        self._interceptors: list[RequestsInterceptor | AioHttpInterceptor] = []

    # -- the public handle -------------------------------------------------------------------------

    @property
    def vault_url(self) -> str:
        """The URL of the default vault: ``https://<vault_name>.vault.azure.net``."""
        return f"https://{self.settings.vault_name}.vault.azure.net"

    @property
    def credential(self) -> EmulatorCredential:
        """A sync ``TokenCredential`` for the emulator's tenant."""
        if self._credential is None:
            self._credential = EmulatorCredential(self.settings.tenant_id)
        return self._credential

    @property
    def async_credential(self) -> AsyncEmulatorCredential:
        """An ``AsyncTokenCredential`` for the emulator's tenant."""
        if self._async_credential is None:
            self._async_credential = AsyncEmulatorCredential(self.settings.tenant_id)
        return self._async_credential

    def vault(self, name_or_url: str | None = None) -> Vault:
        """The vault for a name or URL (default: :attr:`vault_url`), created and declared if new."""
        name = self.settings.vault_name if name_or_url is None else _vault_name(name_or_url)
        with self._lock:
            vault = self._vaults.get(name)
            if vault is None:
                vault = self._vaults[name] = Vault(name, settings=self.settings, clock=self.clock, sealer=self._sealer)
            return vault

    @property
    def vaults(self) -> list[Vault]:
        with self._lock:
            return list(self._vaults.values())

    def reset(self) -> None:
        """Forget every vault and request and return the clock to real time; settings stay."""
        with self._lock:
            self._vaults.clear()
        self.requests.clear()
        self.clock.reset()

    # -- what the wire layer asks ------------------------------------------------------------------

    def handles(self, url: str) -> bool:
        """True for the URLs this emulator answers in-process."""
        return bool(VAULT_URL_PATTERN.match(url))

    def vault_for_host(self, host: str) -> Vault:
        match = _VAULT_HOST.match(host)
        if match is None:
            raise VaultNotDeclared(host, strict=False)
        name = match.group("name").lower()
        declared = {self.settings.vault_name, *self.settings.vaults}
        with self._lock:
            known = name in self._vaults
        if self.settings.strict_hosts and not known and name not in declared:
            raise VaultNotDeclared(host, strict=True)
        return self.vault(name)

    # -- interception ------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._interceptors)

    def start(self) -> Emulator:
        """Route SDK traffic for vault hosts to this emulator until :meth:`stop`."""
        if self._interceptors:
            return self
        forget_sdk_challenges()
        interceptors: list[RequestsInterceptor | AioHttpInterceptor] = [
            RequestsInterceptor(self.app, self.handles, VAULT_URL_PATTERN),
            AioHttpInterceptor(self.app, self.handles),
        ]
        for interceptor in interceptors:
            interceptor.start()
            self._interceptors.append(interceptor)
        return self

    def stop(self) -> None:
        while self._interceptors:
            self._interceptors.pop().stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "started" if self.started else "stopped"
        return f"<Emulator {self.vault_url} {state}, {len(self.vaults)} vault(s)>"


def _vault_name(name_or_url: str) -> str:
    if "://" in name_or_url:
        host = urlsplit(name_or_url).netloc
        match = _VAULT_HOST.match(host)
        if match is None:
            raise ValueError(f"not a Key Vault URL: {name_or_url!r} (expected https://<name>.vault.azure.net)")
        return match.group("name").lower()
    return name_or_url.lower()


@contextlib.contextmanager
def emulate(**options: Any) -> Iterator[Emulator]:
    """Emulate Key Vault for the ``with`` block: ``with kv_emulator.emulate() as kv: ...``.

    Takes the same options as the ``@pytest.mark.keyvault`` marker (see :class:`~kv_emulator.Settings`).
    """
    with Emulator(**options) as emulator:
        yield emulator
