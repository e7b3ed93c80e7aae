"""The Emulator: vaults by host, settings, clock, journal, and the switch that intercepts the SDK."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import active
from .api.certificate_policy_wire import policy_from_wire
from .clock import Clock
from .config import Settings
from .credentials import EMULATOR_CLIENT_ID, AsyncEmulatorCredential, EmulatorCredential
from .events import EventGrid, weakly
from .graph import GraphApp, is_graph_url
from .hosts import INTERCEPTED_URL, parse_name_or_url
from .http.app import KeyVaultApp
from .http.attestation_app import AttestationApp, is_attestation_url
from .http.audit import AuditLog
from .http.faults import FaultInjector
from .http.journal import Journal, JournalEntry
from .http.throttling import Throttler
from .identity import Directory, IdentityApp, is_identity_url
from .identity.cli import CliShim
from .intercept import AioHttpInterceptor, RequestsInterceptor, RequestsTransportInterceptor
from .intercept.requests_mock_adapter import RequestsMockInterceptor
from .intercept.sleeps import SleepInterceptor
from .management import ManagementApp, is_management_url
from .objects.attestation import AttestationAuthority
from .objects.hsm_backup import BackupStorage
from .objects.keypool import RsaKeyPool
from .objects.registry import VaultRegistry
from .objects.vault import Vault
from .sdk_cache import forget_sdk_challenges

if TYPE_CHECKING:
    from .server import Server

__all__ = ["VAULT_URL_PATTERN", "Emulator", "current", "emulate", "serve"]

Interceptor = (
    RequestsInterceptor
    | RequestsTransportInterceptor
    | AioHttpInterceptor
    | SleepInterceptor
    | CliShim
    | RequestsMockInterceptor
)

#: The URLs an emulator answers: vaults (``*.vault.azure.net``) and Managed HSMs, over https.
VAULT_URL_PATTERN = INTERCEPTED_URL


class Emulator:
    """An in-process Azure Key Vault.

    Use it as a context manager (or ``start()``/``stop()``) to route the unmodified Azure SDK's traffic for
    ``https://<name>.vault.azure.net`` and ``https://<name>.managedhsm.azure.net`` to it; every other host
    is left alone.
    """

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        if settings is not None and options:
            raise TypeError("pass either settings or options, not both")
        settings = settings or Settings.from_options(options)
        self.clock = Clock()
        self.clock.virtual = settings.virtual_time
        self.key_pool = RsaKeyPool.shared()  # RSA keys made ahead of time, one pool per process
        self._vaults = VaultRegistry(settings, self.clock, key_pool=self.key_pool, read_policy=policy_from_wire)
        self.requests = Journal()
        self.audit = AuditLog(self.requests)
        """Every data-plane request as a Key Vault AuditEvent; ``audit.to_jsonl(path)`` exports them."""
        self.faults = FaultInjector()
        """Injected faults: ``emulator.faults.add(503, operation="GetSecret", times=2)``; see docs/retries.md."""
        self.throttler = Throttler()
        self.identity = Directory(self.clock, settings.tenant_id)
        """The emulated Entra ID: register principals, read the claims of issued tokens; docs/identity.md."""
        self.identity_app = IdentityApp(self.identity)
        self.attestation_app = AttestationApp(self._vaults.attestation)
        """The attestation authority over HTTP at its host (OpenID metadata, /certs, /generate-test-token)."""
        self.app = KeyVaultApp(
            vaults=self._vaults,
            clock=self.clock,
            journal=self.requests,
            faults=self.faults,
            throttler=self.throttler,
            directory=self.identity,
        )
        """The vault pipeline (WSGI): what every door calls; ``werkzeug.test.Client(emulator.app)`` for raw HTTP."""
        self.management = ManagementApp(
            vaults=self._vaults,
            clock=self.clock,
            directory=self.identity,
            record=functools.partial(_record_fields, self.requests),  # the journal, not self: no reference cycle
        )
        """Azure Resource Manager (management.azure.com): resource groups, vaults, role assignments."""
        registry = self._vaults
        self.graph = GraphApp(
            self.identity,
            strict=lambda: registry.settings.strict_auth,
            record=functools.partial(_record_fields, self.requests),
        )
        """Microsoft Graph (graph.microsoft.com): the directory's users and service principals, read-only."""
        self.events = EventGrid(self.clock, lambda: registry.settings.vault_name, registry.all)
        """Event Grid notifications: ``emulator.events.subscribe(handler, types=[...])``; see docs/events.md."""
        self._vaults.on_new_vault.append(weakly(self.events.watch))
        self._vaults.on_new_vault.append(_first_administrator)  # a plain function: no reference cycle
        self.app.after_request.append(weakly(self.events.after_request))
        self._credential: EmulatorCredential | None = None
        self._async_credential: AsyncEmulatorCredential | None = None
        self._interceptors: list[Interceptor] = []

    @property
    def settings(self) -> Settings:
        """The settings in force; :meth:`throttle` changes them for requests from then on."""
        return self._vaults.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self._vaults.settings = settings

    # -- the public handle -------------------------------------------------------------------------

    @property
    def vault_url(self) -> str:
        """The URL of the default vault: ``https://<vault_name>.vault.azure.net`` (or the Managed HSM that
        ``vault_name`` names as a URL)."""
        return parse_name_or_url(self.settings.vault_name).url

    @property
    def credential(self) -> EmulatorCredential:
        """A sync ``TokenCredential`` for the emulator's tenant."""
        if self._credential is None:
            self._credential = EmulatorCredential(self.identity, self.settings.tenant_id)
        return self._credential

    @property
    def async_credential(self) -> AsyncEmulatorCredential:
        """An ``AsyncTokenCredential`` for the emulator's tenant."""
        if self._async_credential is None:
            self._async_credential = AsyncEmulatorCredential(self.identity, self.settings.tenant_id)
        return self._async_credential

    @property
    def attestation(self) -> AttestationAuthority:
        """The attestation service the emulator's vaults trust for secure key release.

        ``attestation.issue_token(claims)`` gives a test a token to release a key with; see docs/keys.md.
        """
        return self._vaults.attestation()

    def vault(self, name_or_url: str | None = None) -> Vault:
        """The vault for a name or URL (default: :attr:`vault_url`), created and declared if new.

        A bare name is a Key Vault; ``https://<name>.managedhsm.azure.net`` is a Managed HSM.
        """
        return self._vaults.at(parse_name_or_url(name_or_url or self.settings.vault_name))

    def managed_hsm(self, name_or_url: str, *, activated: bool = True) -> Vault:
        """The Managed HSM for a name (``https://<name>.managedhsm.azure.net``) or URL, created if new. With
        ``activated=False`` it is a new, provisioned HSM that answers only its security domain operations until
        the domain is downloaded (docs/managed-hsm-backup.md); HSMs made on first use start activated."""
        url = name_or_url if "://" in name_or_url else f"https://{name_or_url}.managedhsm.azure.net"
        hsm = self._vaults.at(parse_name_or_url(url))
        if not hsm.managed_hsm:
            raise ValueError(f"{name_or_url!r} is not a Managed HSM")
        if not activated:
            hsm.deactivate()
        return hsm

    @property
    def hsm_backups(self) -> BackupStorage:
        """The emulated blob storage of Managed HSM full backups, by folder URL (``to_state()``/``from_state()``)."""
        return self._vaults.hsm_backups

    def create_vault(self, name_or_url: str, settings: Settings | None = None) -> Vault:
        """The vault for a name or URL; with ``settings``, created with them or reconfigured (seed files use this)."""
        address = parse_name_or_url(name_or_url)
        return self._vaults.configure(address, settings) if settings is not None else self._vaults.at(address)

    # -- seed files and state (kv_emulator.seed, kv_emulator.state; docs/seed-files.md, docs/state.md) ------

    def load(self, path: str | Path) -> Emulator:
        """Apply a JSON or TOML seed file, or load a state file (:meth:`dump` with ``full=True``, ``kv-emulator
        export``): the same loader reads both. A bad file raises ``SeedError`` before anything changes."""
        from .seed import apply, load_seed

        apply(self, load_seed(path))
        return self

    def dump(self, path: str | Path, *, full: bool = False) -> None:
        """Write this emulator's vaults as a seed file (``.json`` or ``.toml``) that :meth:`load` reads: the
        current version of each live object. ``full=True`` writes the whole state instead (every version,
        deleted objects, policies, the control plane, the clock, keys...: :meth:`export_state`, as JSON)."""
        from .seed import dump_to

        dump_to(self, path, full=full)

    def export_state(self) -> dict[str, Any]:
        """Everything this emulator knows as one lossless, versioned JSON-able document (docs/state.md)."""
        from .state import export_state

        return export_state(self)

    def import_state(self, document: Mapping[str, Any]) -> Emulator:
        """Replace what this emulator knows with a state document's (checked first: a refused one changes
        nothing). ``StateError`` names what cannot be read (a newer format, an unknown section)."""
        from .state import import_state

        import_state(Emulator(self.settings), document)  # a trial run: what cannot be loaded changes nothing here
        import_state(self, document)
        return self

    @property
    def registry(self) -> VaultRegistry:
        """The vaults by host, with the backup sealer they share (state: :mod:`kv_emulator.state`)."""
        return self._vaults

    @property
    def vaults(self) -> list[Vault]:
        return self._vaults.all()

    def reset(self) -> None:
        """Forget every vault, request, fault and throttling window, and return the clock to real time;
        settings stay."""
        self._vaults.clear()
        self.management.reset()
        self.requests.clear()
        self.faults.clear()
        self.throttler.reset()
        self.clock.reset()
        self.events.clear()

    def throttle(
        self,
        enabled: bool = True,
        *,
        scale: float | None = None,
        limits: dict[str, int] | None = None,
        retry_after: Any = ...,
        retry_after_header: str | None = None,
    ) -> None:
        """Switch service limits on (or off) for this emulator from now on, e.g. ``throttle(scale=0.001)``.

        The same as the ``throttling``, ``throttle_scale``, ``throttle_limits``, ``throttle_retry_after`` and
        ``throttle_retry_after_header`` settings; see docs/retries.md.
        """
        changes: dict[str, Any] = {"throttling": enabled}
        if scale is not None:
            changes["throttle_scale"] = scale
        if limits is not None:
            changes["throttle_limits"] = limits
        if retry_after is not ...:
            changes["throttle_retry_after"] = retry_after
        if retry_after_header is not None:
            changes["throttle_retry_after_header"] = retry_after_header
        self.settings = self.settings.replace(**changes)

    # -- what the wire layer asks ------------------------------------------------------------------

    def handles(self, url: str) -> bool:
        """True for the URLs this emulator answers in-process."""
        return self.app_for(url) is not None

    def app_for(self, url: str) -> KeyVaultApp | IdentityApp | GraphApp | AttestationApp | ManagementApp | None:
        """The WSGI app that answers ``url``: the vault's, ARM's, the identity platform's (Entra ID, IMDS,
        Microsoft Graph), the attestation authority's, or None (not ours)."""
        if VAULT_URL_PATTERN.match(url):
            return self.app
        if self.settings.emulate_management and is_management_url(url):
            return self.management
        if self.settings.emulate_identity and is_identity_url(url):
            return self.identity_app
        if self.settings.emulate_identity and is_graph_url(url):
            return self.graph
        if is_attestation_url(url):
            return self.attestation_app
        return None

    # -- interception ------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._interceptors)

    def start(self) -> Emulator:
        """Route SDK traffic for vault hosts to this emulator until :meth:`stop`."""
        if self._interceptors:
            return self
        forget_sdk_challenges()
        interceptors: list[Interceptor] = [
            RequestsInterceptor(self.app_for),
            RequestsTransportInterceptor(self.app_for),
            AioHttpInterceptor(self.app_for),
            SleepInterceptor(self.clock, lambda: self.clock.virtual),
        ]
        interceptors.append(RequestsMockInterceptor(self.app_for))  # requests-mock's Mocker, if installed
        if self.settings.emulate_cli:  # fake az / azd first on PATH (kv_emulator.identity.cli)
            interceptors.append(self.identity.cli_shim())
        for interceptor in interceptors:
            interceptor.start()
            self._interceptors.append(interceptor)
        active.push(self)
        return self

    def stop(self) -> None:
        active.pop(self)
        while self._interceptors:
            self._interceptors.pop().stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "started" if self.started else "stopped"
        return f"<Emulator {self.vault_url} {state}, {len(self.vaults)} vault(s)>"


def _record_fields(journal: Journal, fields: dict[str, Any]) -> None:
    journal.record(JournalEntry(**fields))


def current() -> Emulator | None:
    """The innermost running emulator (the one that answers), or None while none runs.

    Handy with the decorator form, ``@kv_emulator.emulate()``, where no ``as`` name is bound.
    """
    running = active.innermost()
    return running if isinstance(running, Emulator) else None


@contextlib.contextmanager
def emulate(*, seed: str | Path | None = None, **options: Any) -> Iterator[Emulator]:
    """Emulate Key Vault for the ``with`` block: ``with kv_emulator.emulate() as kv: ...``.

    Takes the same options as the ``@pytest.mark.keyvault`` marker (see :class:`~kv_emulator.Settings`), and
    ``seed``, a JSON or TOML seed file applied before the block starts. Also a decorator:
    ``@kv_emulator.emulate()`` on a (sync) function, which reaches the emulator with ``kv_emulator.current()``.
    """
    emulator = Emulator(**options)
    if seed is not None:
        emulator.load(seed)
    with emulator:
        yield emulator


@contextlib.contextmanager
def serve(data_dir: str | None = None, **options: Any) -> Iterator[Server]:
    """The emulator over HTTPS on free loopback ports for the ``with`` block, state in memory (docs/server.md).

    Takes the marker's options; the ``Server`` yields ``.emulator``, ``.url``, ``.proxy_url``, ``.ca_path``
    and ``.env()`` for ``subprocess.run(env=...)``. The CA lives in ``data_dir`` (default: the per-user one).
    """
    from .server import Server, ServerOptions  # the door is loaded only when a server is asked for

    server_options = ServerOptions(port=0, proxy_port=0, ephemeral=True, write_runtime=data_dir is not None)
    if data_dir is not None:
        server_options.data_dir = Path(data_dir)
    with Server(Emulator(**options), server_options) as server:
        yield server


def _first_administrator(vault: Vault) -> None:
    """A new Managed HSM's initial administrator is the emulator's own credential (docs/managed-hsm.md); ARM's
    ``initialAdminObjectIds`` replace it."""
    if vault.managed_hsm:
        admin = Directory.object_id_for(vault.settings.tenant_id, EMULATOR_CLIENT_ID)
        vault.access_control.set_administrators([admin])
