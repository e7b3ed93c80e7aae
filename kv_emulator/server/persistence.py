"""State that survives a restart: the emulator's vaults in SQLite (WAL), written before a 2xx is sent.

Each vault's stores (secrets, keys, certificates with their issuers, contacts and policies, rotation
policies, role assignments and access policies), the directory's principals and token-signing key, the
backup-sealing key, the server's identity header and the clock's offset are pickled into one row each.
What belongs to the running process rather than to the state (locks, the clock, settings, the backup sealer
object, factories) is not stored: it is named in the pickle and bound to the new emulator's own objects on
restore. Key material and certificates are stored as DER.

Concurrent writers share one snapshot (group commit): a request waits until a snapshot taken after its
change is committed, so N simultaneous writes cost about one snapshot, not N. A read saves only the vaults
whose change counter (:attr:`Vault.changes`: time-driven work, new versions) moved since their last
snapshot, so a read that changed nothing costs a few comparisons.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib
import inspect
import io
import pickle
import pkgutil
import sqlite3
import threading
import weakref
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from ..config import Settings
from ..hosts import parse_host
from ..objects.keypool import RsaKeyPool

if TYPE_CHECKING:
    from ..objects.vault import Vault

__all__ = ["SCHEMA_VERSION", "StateStore"]

#: Bump when the stored layout changes; add a step to _MIGRATIONS that lifts the previous version.
SCHEMA_VERSION = 1
_MIGRATIONS: dict[int, Any] = {}
_STORES = ("secrets", "keys", "certificates", "authorization", "network", "access_control", "hsm_settings")
_DIRECTORY_FIELDS = ("_principals",)
_ARM_FIELDS = ("groups", "vaults", "assignments", "operations", "hsms")
_SCHEDULE_FIELDS = ("_heaps", "_planned", "_waiting", "_next")
_LOCK_TYPE = type(threading.Lock())
_RLOCK_TYPE = type(threading.RLock())


@functools.cache
def models_fingerprint() -> str:
    """A digest of the stored classes' shape (dataclass fields, constructor parameters) in the models, the
    directory and the clock: a database pickled by a build whose classes differ is refused, not misread."""
    from .. import objects

    names = [f"{objects.__name__}.{info.name}" for info in pkgutil.iter_modules(objects.__path__)]
    parts: list[str] = []
    for module_name in sorted([*names, "kv_emulator.identity.directory", "kv_emulator.clock"]):
        module = importlib.import_module(module_name)
        for name, cls in sorted(vars(module).items()):
            if not isinstance(cls, type) or cls.__module__ != module.__name__:
                continue
            if dataclasses.is_dataclass(cls):
                shape = ",".join(field.name for field in dataclasses.fields(cls))
            else:
                try:
                    shape = ",".join(inspect.signature(cls).parameters)
                except (TypeError, ValueError):
                    shape = ""
            parts.append(f"{module.__name__}.{name}({shape})")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _load_private(der: bytes) -> PrivateKeyTypes:
    return serialization.load_der_private_key(der, password=None)


def _load_public(der: bytes) -> PublicKeyTypes:
    return serialization.load_der_public_key(der)


class _Pickler(pickle.Pickler):
    """Runtime objects by name, cryptography objects as DER, locks as new locks."""

    def __init__(self, file: io.BytesIO, runtime: dict[int, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._runtime = runtime

    def persistent_id(self, obj: Any) -> str | None:
        if isinstance(obj, Settings):
            return "settings"
        return self._runtime.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPE):
            return threading.Lock, ()
        if isinstance(obj, _RLOCK_TYPE):
            return threading.RLock, ()
        if isinstance(obj, x509.Certificate):
            return x509.load_der_x509_certificate, (obj.public_bytes(serialization.Encoding.DER),)
        private_bytes = getattr(obj, "private_bytes", None)
        if private_bytes is not None and hasattr(obj, "public_key"):
            der = private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            return _load_private, (der,)
        if hasattr(obj, "public_bytes") and hasattr(obj, "verify") and not isinstance(obj, type):
            with contextlib.suppress(TypeError, ValueError):
                der = obj.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
                return _load_public, (der,)
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, runtime: dict[str, Any]) -> None:
        super().__init__(file)
        self._runtime = runtime

    def persistent_load(self, pid: Any) -> Any:
        return self._runtime[pid]


def _runtime_objects(emulator: Any, vault: Vault) -> dict[str, Any]:
    """The objects of the running emulator that stored state refers to, by name."""
    objects: dict[str, Any] = {
        "settings": vault.settings,  # the vault's own (ARM may have set them), restored before its stores
        "clock": emulator.clock,
        "sealer": emulator._vaults._sealer,
        "lock": vault.lock,
        "schedule": vault._schedule,
        "vault.secrets": vault.secrets,
        "vault.keys": vault.keys,
    }
    for store_name in _STORES:
        store = getattr(vault, store_name, None)
        for attr, value in vars(store).items() if store is not None else ():
            factory = callable(value) and not isinstance(value, type) and not inspect.ismethod(value)
            if factory or isinstance(value, RsaKeyPool):  # factories, the certificate authority, the key pool
                objects[f"{store_name}.{attr}"] = value
    return objects


def _schedule_state(vault: Vault) -> dict[str, Any]:
    """When the vault's time-driven work is due (its handlers are the new stores' own)."""
    schedule = vars(vault._schedule)
    return {name: schedule[name] for name in _SCHEDULE_FIELDS if name in schedule}


def _arm_state(emulator: Any) -> dict[str, Any]:
    """The control plane's resource groups, vault records, role assignments and operations (deleted vaults,
    which hold a whole data plane, are not kept)."""
    state = getattr(getattr(emulator, "management", None), "state", None)
    if state is None:
        return {}
    with state.lock:
        return {
            name: dict(getattr(state, name)) for name in _ARM_FIELDS if isinstance(getattr(state, name, None), dict)
        }


_HOOKS = ("on_new_version", "on_change")  # observer lists (Event Grid's live hooks): the running emulator's, not state


def _store_state(store: Any) -> dict[str, Any]:
    return {attr: value for attr, value in vars(store).items() if not inspect.ismethod(value) and attr not in _HOOKS}


def _address(vault: Vault) -> str:
    return urlsplit(vault.url).netloc


class StateStore:
    """``state.sqlite3``: one row per vault, one for the emulator; ``save`` before a 2xx, ``restore`` at start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db_lock = threading.Lock()
        self._changes = threading.Condition()
        self._requested = 0
        self._saved = 0
        self._saving = False
        self._dirty: set[str] = set()
        self._dirty_all = False
        self._digests: dict[str, bytes] = {}
        self._seen: weakref.WeakKeyDictionary[Vault, int] = weakref.WeakKeyDictionary()  # counter at last snapshot
        self.identity_header: str | None = None
        """The server's App Service identity header: kept, so the environment printed for clients stays valid."""
        self._check_schema()

    # -- schema ------------------------------------------------------------------------------------

    def _check_schema(self) -> None:
        db = self._db
        db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS vaults (address TEXT PRIMARY KEY, state BLOB NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS emulator (name TEXT PRIMARY KEY, state BLOB NOT NULL)")
        row = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        models = db.execute("SELECT value FROM meta WHERE name = 'models'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('models', ?)", (models_fingerprint(),))
            return
        version = int(row[0])
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} was written by a newer kv-emulator (state schema {version}; this version reads up "
                f"to {SCHEMA_VERSION}). Upgrade kv-emulator, move the file away, or start with --ephemeral."
            )
        while version < SCHEMA_VERSION:
            _MIGRATIONS[version](db)
            version += 1
            db.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (str(version),))
        stored = db.execute("SELECT COUNT(*) FROM vaults").fetchone()[0]
        current = models_fingerprint()
        if stored and (models is None or models[0] != current):
            raise RuntimeError(
                f"{self.path} holds objects of another kv-emulator build (its model classes differ from this "
                "version's), so its state cannot be read safely. Move the file away or start with --ephemeral."
            )
        db.execute("INSERT OR REPLACE INTO meta VALUES ('models', ?)", (current,))

    # -- saving ------------------------------------------------------------------------------------

    def save_changes(self, emulator: Any) -> bool:
        """After a read: save the vaults that changed while it was answered (their counter moved), if any."""
        changed = [_address(vault) for vault in emulator.vaults if self._seen.get(vault) != vault.changes]
        if changed:
            self.save(emulator, changed)
        return bool(changed)

    def save(self, emulator: Any, vault: str | Collection[str] | None = None) -> None:
        """Return once a snapshot taken after this call is committed (group commit across threads).

        ``vault``: the DNS name of the one vault the change was in (only it, and vaults whose change counter
        moved, are pickled again), or several; None: all."""
        with self._changes:
            if vault is None:
                self._dirty_all = True
            else:
                self._dirty.update([vault] if isinstance(vault, str) else vault)
            self._requested += 1
            wanted = self._requested
            while self._saved < wanted:
                if not self._saving:
                    self._saving = True
                    generation = self._requested
                    dirty = None if self._dirty_all else set(self._dirty)
                    self._dirty_all, self._dirty = False, set()
                    self._changes.release()
                    try:
                        self._write(emulator, dirty)
                    except BaseException:
                        self._changes.acquire()
                        self._saving = False
                        self._dirty_all = self._dirty_all or dirty is None
                        self._dirty |= dirty or set()
                        self._changes.notify_all()
                        raise
                    self._changes.acquire()
                    self._saving = False
                    self._saved = generation
                    self._changes.notify_all()
                else:
                    self._changes.wait()

    def _write(self, emulator: Any, dirty: set[str] | None) -> None:
        rows: list[tuple[str, bytes]] = []
        addresses: set[str] = set()
        counters: dict[Vault, int] = {}
        for vault in emulator.vaults:
            address = _address(vault)
            addresses.add(address)
            unchanged = self._seen.get(vault) == vault.changes and address in self._digests
            if dirty is not None and address not in dirty and unchanged:
                continue  # unchanged since its last snapshot
            runtime = {id(obj): name for name, obj in _runtime_objects(emulator, vault).items()}
            with vault.lock:
                counters[vault] = vault.changes
                buffer = io.BytesIO()
                state: dict[str, Any] = {n: _store_state(getattr(vault, n)) for n in _STORES if hasattr(vault, n)}
                state["schedule"] = _schedule_state(vault)
                own = vault.settings != emulator.settings  # properties ARM set on this vault
                state["settings"] = dataclasses.asdict(vault.settings) if own else None
                _Pickler(buffer, runtime).dump(state)
            rows.append((address, buffer.getvalue()))
        directory = emulator.identity
        buffer = io.BytesIO()
        _Pickler(buffer, {id(emulator.clock): "clock"}).dump(
            {
                "clock": (emulator.clock._offset, emulator.clock._frozen_at),
                "directory": {name: value for name, value in vars(directory).items() if name in _DIRECTORY_FIELDS},
                "signing_key": directory.signing_key,
                "sealing_key": emulator._vaults._sealer.key,
                "identity_header": self.identity_header,
                "arm": _arm_state(emulator),
            }
        )
        emulator_state = buffer.getvalue()
        with self._db_lock:
            changed = [(a, s) for a, s in rows if self._digests.get(a) != hashlib.sha256(s).digest()]
            gone = [a for a in self._digests if a not in addresses]
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO vaults VALUES (?, ?)", changed)
                db.executemany("DELETE FROM vaults WHERE address = ?", [(a,) for a in gone])
                db.execute("INSERT OR REPLACE INTO emulator VALUES ('emulator', ?)", (emulator_state,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            for address, blob in changed:
                self._digests[address] = hashlib.sha256(blob).digest()
            for address in gone:
                self._digests.pop(address, None)
            self._seen.update(counters)

    # -- restoring ---------------------------------------------------------------------------------

    def restore(self, emulator: Any) -> int:
        """Load the stored state into a fresh emulator; returns how many vaults were restored."""
        with self._db_lock:
            vault_rows = self._db.execute("SELECT address, state FROM vaults").fetchall()
            emulator_row = self._db.execute("SELECT state FROM emulator WHERE name = 'emulator'").fetchone()
        try:
            if emulator_row is not None:
                saved = _Unpickler(io.BytesIO(emulator_row[0]), {"clock": emulator.clock}).load()
                emulator.clock._offset, emulator.clock._frozen_at = saved["clock"]
                for name, value in saved["directory"].items():
                    setattr(emulator.identity, name, value)
                if saved.get("signing_key") is not None:  # absent in a state written before they were kept
                    emulator.identity.use_signing_key(saved["signing_key"])
                if saved.get("sealing_key") is not None:
                    emulator._vaults._sealer.use_key(saved["sealing_key"])
                self.identity_header = saved.get("identity_header")
                arm = getattr(getattr(emulator, "management", None), "state", None)
                for name, value in (saved.get("arm") or {}).items():
                    if arm is not None and isinstance(getattr(arm, name, None), dict):
                        getattr(arm, name).update(value)
            for address_text, state in vault_rows:
                address = parse_host(address_text)
                if address is None:
                    continue
                vault = emulator.vault(address.url)
                runtime = _runtime_objects(emulator, vault)
                stores = _Unpickler(io.BytesIO(state), runtime).load()
                own = stores.pop("settings", None)
                if own is not None:
                    vault.reconfigure(Settings.from_options(own))
                    runtime["settings"] = vault.settings
                    stores = _Unpickler(io.BytesIO(state), runtime).load()  # bound to the vault's own settings
                    stores.pop("settings", None)
                vars(vault._schedule).update(stores.pop("schedule", {}))
                for name, values in stores.items():
                    vars(getattr(vault, name)).update(values)
                self._digests[address_text] = hashlib.sha256(state).digest()
                self._seen[vault] = vault.changes
        except Exception as exc:
            raise RuntimeError(
                f"{self.path} holds state this version of kv-emulator cannot read ({type(exc).__name__}: {exc}). "
                "Move the file away or start with --ephemeral."
            ) from exc
        return len(vault_rows)

    def close(self) -> None:
        with self._db_lock:
            self._db.close()
