"""``kv_emulator.serve()``: the server in a background thread, for tests that run other processes."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from .. import active, seed
from .env import RUNTIME_FILE, client_env, write_bundle
from .listeners import DoorServer
from .lock import DataDirLock
from .management import ControlApi
from .options import ListenError, ServerOptions
from .routing import IDENTITY_PATH, Router
from .tls import ServerCertificateAuthority

__all__ = ["Server"]

log = logging.getLogger("kv_emulator.server")


class Server:
    """The emulator over HTTPS: a direct port and a proxy port, sharing one :class:`Emulator`."""

    def __init__(self, emulator: Any, options: ServerOptions | None = None) -> None:
        self.options = options or ServerOptions()
        self.emulator = emulator  # a kv_emulator.Emulator (a layer above the doors, so not imported here)
        """The same API as in-process: ``vault()``, ``clock``, ``faults``, ``requests``, ``audit``, ``reset()``."""
        self.options.data_dir.mkdir(parents=True, exist_ok=True)
        self.ca = ServerCertificateAuthority(self.options.data_dir)
        self.identity_header = secrets.token_urlsafe(24)
        self.store: Any = None
        self.management = ControlApi(self)
        self.router = Router(
            self.emulator,
            self.management,
            identity_header=self.identity_header,
            direct_port=lambda: self.port,
            passthrough=self.options.passthrough,
        )
        self._listeners: list[DoorServer] = []
        self._threads: list[threading.Thread] = []
        self._lock: DataDirLock | None = None

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._listeners[0].server_address[1] if self._listeners else self.options.port

    @property
    def proxy_port(self) -> int:
        return self._listeners[1].server_address[1] if self._listeners else self.options.proxy_port

    @property
    def url(self) -> str:
        """The direct URL of the default vault: ``https://localhost:<port>``."""
        return f"https://localhost:{self.port}"

    @property
    def proxy_url(self) -> str:
        return f"http://{self.options.connect_host}:{self.proxy_port}"

    @property
    def vault_url(self) -> str:
        """The default vault's real URL, reached through the proxy."""
        return self.emulator.vault_url

    @property
    def ca_path(self) -> Path:
        return self.ca.cert_path

    @property
    def identity_endpoint(self) -> str:
        return f"{self.proxy_url}{IDENTITY_PATH}"

    def env(self, *, direct: bool = False, inherit: bool = False) -> dict[str, str]:
        """Variables for a client process (proxy mode unless ``direct``); ``inherit`` adds ``os.environ``."""
        values = client_env(self._runtime(), self.options.data_dir, direct=direct)
        return {**os.environ, **values} if inherit else values

    def _runtime(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": self.options.host,
            "connect_host": self.options.connect_host,
            "port": self.port,
            "proxy_port": self.proxy_port,
            "tenant_id": self.emulator.settings.tenant_id,
            "vault_url": self.vault_url,
            "identity_header": self.identity_header,
        }

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Server:
        if self._listeners:
            return self
        if self.options.write_runtime or not self.options.ephemeral:  # one server per data dir (server.lock)
            self._lock = DataDirLock(self.options.data_dir, RUNTIME_FILE)
            self._lock.acquire()
        try:
            restored = self._open_state()
            if self.options.seed is not None and not restored:  # a seed fills a new state, never a kept one
                self._apply_seed(self.options.seed)
                self.committed()
            self._listen(self.options.host)
        except BaseException:
            for listener in self._listeners:
                listener.server_close()
            self._listeners.clear()
            if self.store is not None:
                self.store.close()
                self.store = None
            self._release()
            raise
        write_bundle(self.options.data_dir)
        if self.options.write_runtime:
            path = self.options.data_dir / RUNTIME_FILE
            path.write_text(json.dumps(self._runtime(), indent=2))
            path.chmod(0o600)
        for listener in self._listeners:
            thread = threading.Thread(
                target=listener.serve_forever, args=(0.1,), name=f"kv-emulator:{listener.server_address[1]}"
            )
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        for address in self._proxy_addresses():
            active.add_server(*address)  # the guard lets traffic through this proxy: it stays in the process
        return self

    def _open_state(self) -> int:
        """Restore the kept state (how many vaults), keep the identity header, and store the keys at once:
        a token or backup made before the first write must outlive a kill too."""
        directory = self.emulator.identity
        if self.options.ephemeral:
            directory.identity_header = self.identity_header
            return 0
        from .persistence import StateStore

        self.store = StateStore(self.options.data_dir / "state.sqlite3")
        restored = self.store.restore(self.emulator)
        if directory.identity_header:  # kept in the directory's state
            self.identity_header = self.router.identity_header = directory.identity_header
        directory.identity_header = self.identity_header
        self.store.save(self.emulator, ())  # the keys and the header; vaults only where not yet stored
        return restored

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _proxy_addresses(self) -> set[tuple[str, int]]:
        return {(host, self.proxy_port) for host in (self.options.connect_host, "127.0.0.1", "localhost")}

    def _apply_seed(self, path: Path) -> None:
        seed.apply(self.emulator, seed.load_seed(path))

    def _listen(self, host: str) -> None:
        for port, proxy in ((self.options.port, False), (self.options.proxy_port, True)):
            try:
                listener = DoorServer(
                    (host, port),
                    router=self.router,
                    ca=self.ca,
                    options=self.options,
                    proxy=proxy,
                    on_commit=self.committed,
                    on_read=self.read,
                )
            except OSError as exc:  # say which port, so the command line can offer a way out
                flag = "--proxy-port" if proxy else "--port"
                reason = exc.strerror or str(exc)
                raise ListenError(exc.errno or 0, reason, host=host, port=port, flag=flag) from exc
            self._listeners.append(listener)

    def committed(self, vault: str | None = None) -> None:
        """A change succeeded: persist before its answer is sent (``vault``: the one vault it was in)."""
        if self.store is not None:
            self.store.save(self.emulator, vault)

    def read(self) -> None:
        """A read was answered: persist what answering it changed (issuance, rotation, purge), if anything."""
        if self.store is not None:
            self.store.save_changes(self.emulator)

    def stop(self) -> None:
        if self._listeners:
            for address in self._proxy_addresses():
                active.remove_server(*address)
        for listener in self._listeners:
            listener.shutdown()
            listener.close_connections()
            listener.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listeners.clear()
        self._threads.clear()
        if self.store is not None:
            self.store.save(self.emulator)  # also what was changed in-process, without HTTP
            self.store.close()
            self.store = None
        if self.options.write_runtime:
            with contextlib.suppress(OSError):
                (self.options.data_dir / RUNTIME_FILE).unlink()
        self._release()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Server {self.url} proxy {self.proxy_url}>"
