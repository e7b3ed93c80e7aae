"""State that survives a restart: the state format (:mod:`kv_emulator.state`, docs/state.md) in SQLite (WAL),
one row per object, written in one transaction before a 2xx is sent.

Rows: ``state_objects`` holds everything kept under one name of one store of one vault (every version, the
deletion dates, a rotation policy, a certificate's policy and operation); ``state_vaults`` what a vault keeps
beside its objects (its own settings, access policies, network rules, issuers, contacts, notifications);
``state_sections`` the emulator's other sections (clock, directory with the token-signing key and identity
header, the registry's backup-sealing key, the control plane, event subscriptions, and any section another
part registered). All are JSON text: a data dir holds only data, and loading it runs no code.

A write stores only what it touched: the stores record the names they changed (:attr:`touched`), so a
``set_secret`` in a vault of 5,000 secrets writes one object row, as in an empty one. Concurrent writers share
one transaction (group commit): a request waits until a transaction begun after its change is committed.
On start the rows are assembled into one state document, lifted by the format's migrations, and loaded with
the same loader as ``Emulator.import_state``; a data dir of a newer format is refused and left untouched.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import weakref
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..state import FORMAT, StateError, import_state, sections, upgrade

if TYPE_CHECKING:
    from ..objects.vault import Vault

__all__ = ["StateStore", "read_state", "write_state"]

_STORES = ("secrets", "keys", "certificates")
_REGISTRY = "registry"


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


class StateStore:
    """``state.sqlite3``: ``restore`` at start, ``save`` before a 2xx, ``save_changes`` after a read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db_lock = threading.Lock()
        self._changes = threading.Condition()
        self._requested = 0
        self._saved = 0
        self._saving = False
        self._dirty: set[str] = set()
        self._dirty_all = False
        self._wipe = False  # the next commit replaces everything stored (see replace)
        self._stored_format = self._check_format()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._known: weakref.WeakKeyDictionary[Vault, str] = weakref.WeakKeyDictionary()  # vault -> stored address
        self._seen: weakref.WeakKeyDictionary[Vault, int] = weakref.WeakKeyDictionary()  # its change counter then
        self._events_seen = 0  # the emulator's ``events.changes`` when its sections were last saved
        self._digests: dict[str, bytes] = {}  # "vault:<address>" / "section:<name>" -> digest of the stored text

    # -- layout ------------------------------------------------------------------------------------

    def _check_format(self) -> int:
        """The stored format (this build's for a new file); a newer one, or a pickle-era file, is refused before
        anything is written to it."""
        db = self._db
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        stored = None
        if "meta" in tables:
            row = db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
            stored = int(row[0]) if row is not None else None
            if stored is None and db.execute("SELECT 1 FROM meta WHERE name = 'schema'").fetchone() is not None:
                raise RuntimeError(
                    f"{self.path} was written by a kv-emulator that pickled its state (before state format 1); "
                    f"this build reads state formats 1 to {FORMAT} and never loads pickles. Start the build that "
                    "wrote it and save `GET /_kv/state`, or move the file away; it was left untouched."
                )
        if stored is not None and stored > FORMAT:
            raise RuntimeError(
                f"{self.path} is in state format {stored}, written by a newer kv-emulator; this build reads state "
                f"formats 1 to {FORMAT}. Upgrade kv-emulator, or start with another --data-dir or --ephemeral; it was "
                "left untouched."
            )
        db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS state_sections (name TEXT PRIMARY KEY, state TEXT NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS state_vaults (address TEXT PRIMARY KEY, state TEXT NOT NULL)")
        db.execute(
            "CREATE TABLE IF NOT EXISTS state_objects (address TEXT NOT NULL, store TEXT NOT NULL, "
            "name TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (address, store, name))"
        )
        if stored is None:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT),))
            return FORMAT
        return stored

    # -- restoring ---------------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The stored state as one document, in the format it was stored in (not yet lifted)."""
        with self._db_lock:
            db = self._db
            db.execute("BEGIN")
            try:
                section_rows = db.execute("SELECT name, state FROM state_sections").fetchall()
                vault_rows = db.execute("SELECT address, state FROM state_vaults ORDER BY address").fetchall()
                object_rows = db.execute(
                    "SELECT address, store, state FROM state_objects ORDER BY address, store, name"
                ).fetchall()
            finally:
                db.execute("COMMIT")
        document: dict[str, Any] = {"format": self._stored_format}
        document.update({name: json.loads(text) for name, text in section_rows})
        objects: dict[tuple[str, str], list[Any]] = {}
        for address, store, text in object_rows:
            objects.setdefault((address, store), []).append(json.loads(text))
        vaults = []
        for address, text in vault_rows:
            vault = json.loads(text)
            stores = vault.pop("stores", {})
            for name in _STORES:
                vault[name] = {**stores.get(name, {}), "objects": objects.get((address, name), [])}
            vaults.append(vault)
        if vault_rows or _REGISTRY in document:
            document[_REGISTRY] = {**document.get(_REGISTRY, {}), "vaults": vaults}
        return document

    def restore(self, emulator: Any) -> int:
        """Load the stored state into a fresh emulator; returns how many vaults were restored."""
        document = self.document()
        if len(document) == 1:
            return 0  # a new data dir
        try:
            import_state(emulator, document, source=str(self.path))
        except StateError as exc:
            raise RuntimeError(f"{exc} It was left untouched.") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise RuntimeError(
                f"{self.path} holds state this build cannot read ({type(exc).__name__}: {exc}); it was left "
                "untouched. Move it away or start with another --data-dir."
            ) from exc
        if self._stored_format < FORMAT:  # lifted by the migrations: store it in this build's format
            self.replace(emulator)
        else:
            self._baseline(emulator, document)
        return len(emulator.vaults)

    def _baseline(self, emulator: Any, document: dict[str, Any]) -> None:
        """What is stored now is what the emulator holds: the next write stores only what changes."""
        for vault in emulator.vaults:
            address = _address(vault)
            self._known[vault] = address
            self._seen[vault] = vault.changes
            for name in _STORES:
                getattr(vault, name).take_touched()
            self._digests[f"vault:{address}"] = _digest(_text(vault.rest_state(emulator.registry.settings)))
        self._events_seen = emulator.events.changes
        for name, value in _section_rows(emulator):
            self._digests[f"section:{name}"] = _digest(value)

    def replace(self, emulator: Any) -> None:
        """Store ``emulator``'s whole state in place of what is stored, in this build's format.

        One transaction deletes the old rows and writes the new ones: a crash, a full disk or an error in
        between leaves what was stored (an import or an upgrade never empties a data dir)."""
        self._known = weakref.WeakKeyDictionary()
        self._digests.clear()
        self._wipe = True
        try:
            self.save(emulator)
        finally:
            self._wipe = False
        self._stored_format = FORMAT

    # -- saving ------------------------------------------------------------------------------------

    def save_changes(self, emulator: Any) -> bool:
        """After a read: save the vaults that changed while it was answered (time-driven work, a poll), and the
        events section if a delivery, an event received or a dead letter happened (its sections are compared by
        digest on every save)."""
        changed = [
            _address(vault)
            for vault in emulator.vaults
            if self._seen.get(vault) != vault.changes or any(getattr(vault, n).touched for n in _STORES)
        ]
        if changed or emulator.events.changes != self._events_seen:
            self.save(emulator, changed)
            return True
        return False

    def save(self, emulator: Any, vault: str | Collection[str] | None = None) -> None:
        """Return once a transaction begun after this call is committed (group commit across threads).

        ``vault``: the DNS name of the vault the change was in, or several; None: any vault may have changed.
        Within a vault only the objects its stores say they touched are written."""
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
                        self._dirty_all = True
                        self._changes.notify_all()
                        raise
                    self._changes.acquire()
                    self._saving = False
                    self._saved = generation
                    self._changes.notify_all()
                else:
                    self._changes.wait()

    def _write(self, emulator: Any, dirty: set[str] | None) -> None:
        base = emulator.registry.settings
        objects: list[tuple[str, str, str, str | None]] = []  # (address, store, name, state or None: gone)
        vault_rows: list[tuple[str, str]] = []
        replaced: list[str] = []  # addresses whose every object row is written anew (a new vault there)
        taken: list[tuple[Vault, str, set[str]]] = []
        addresses: set[str] = set()
        counters: dict[Vault, int] = {}
        for vault in emulator.vaults:
            address = _address(vault)
            addresses.add(address)
            new = self._known.get(vault) != address
            quiet = dirty is not None and address not in dirty and self._seen.get(vault) == vault.changes
            if not new and quiet and not any(getattr(vault, name).touched for name in _STORES):
                continue
            with vault.lock:
                counters[vault] = vault.changes
                for name in _STORES:
                    store = getattr(vault, name)
                    names = store.take_touched()
                    taken.append((vault, name, names))
                    for key in store.names() if new else sorted(names):
                        state = store.object_state(key)
                        objects.append((address, name, key, None if state is None else _text(state)))
                rest = _text(vault.rest_state(base))
            if new:
                replaced.append(address)
            if new or self._digests.get(f"vault:{address}") != _digest(rest):
                vault_rows.append((address, rest))
        gone = [key[len("vault:") :] for key in self._digests if key.startswith("vault:")]
        gone = [address for address in gone if address not in addresses]
        events_seen = emulator.events.changes  # before the dump: a later change is saved by a later save
        section_rows = [(n, t) for n, t in _section_rows(emulator) if self._digests.get(f"section:{n}") != _digest(t)]
        try:
            self._commit(objects, vault_rows, replaced, gone, section_rows)
        except BaseException:
            for _vault, name, names in taken:  # not stored: they stay to be written by the next save
                getattr(_vault, name).touched |= names
            raise
        for address, text in vault_rows:
            self._digests[f"vault:{address}"] = _digest(text)
        for address in gone:
            self._digests.pop(f"vault:{address}", None)
        for name, text in section_rows:
            self._digests[f"section:{name}"] = _digest(text)
        for vault in counters:
            self._known[vault] = _address(vault)
        self._seen.update(counters)
        self._events_seen = events_seen

    def _commit(
        self,
        objects: list[tuple[str, str, str, str | None]],
        vault_rows: list[tuple[str, str]],
        replaced: list[str],
        gone: list[str],
        section_rows: list[tuple[str, str]],
    ) -> None:
        with self._db_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                if self._wipe:  # replace(): the old rows go in the same transaction the new ones come in
                    for table in ("state_sections", "state_vaults", "state_objects"):
                        db.execute(f"DELETE FROM {table}")  # names from the tuple above
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT),))
                for address in [*replaced, *gone]:
                    db.execute("DELETE FROM state_objects WHERE address = ?", (address,))
                db.executemany("DELETE FROM state_vaults WHERE address = ?", [(a,) for a in gone])
                db.executemany(
                    "INSERT OR REPLACE INTO state_objects VALUES (?, ?, ?, ?)",
                    [row for row in objects if row[3] is not None],
                )
                db.executemany(
                    "DELETE FROM state_objects WHERE address = ? AND store = ? AND name = ?",
                    [row[:3] for row in objects if row[3] is None],
                )
                db.executemany("INSERT OR REPLACE INTO state_vaults VALUES (?, ?)", vault_rows)
                db.executemany("INSERT OR REPLACE INTO state_sections VALUES (?, ?)", section_rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._db_lock:
            self._db.close()


def _address(vault: Vault) -> str:
    return vault.url.split("://", 1)[-1].rstrip("/")


def _section_rows(emulator: Any) -> Iterable[tuple[str, str]]:
    """Every section but the vaults themselves (stored by object), as JSON text."""
    for section in sections():
        registry = section.name == _REGISTRY
        value = emulator.registry.to_state(vaults=False) if registry else section.dump(emulator)
        if value is not None:
            yield section.name, _text(value)


# -- whole documents (kv-emulator export / import) ------------------------------------------------------


def read_state(path: Path) -> dict[str, Any]:
    """The state stored at ``path`` as one document in this build's format (``kv-emulator export``)."""
    store = StateStore(path)
    try:
        return upgrade(store.document(), source=str(path))
    finally:
        store.close()


def write_state(path: Path, document: dict[str, Any], make_emulator: Any) -> int:
    """Replace the state stored at ``path`` with ``document`` (``kv-emulator import``): it is loaded into an
    emulator first, so a document that cannot be loaded changes nothing. Returns how many vaults it has."""
    emulator = make_emulator()
    import_state(emulator, document, source="the imported state")
    store = StateStore(path)
    try:
        store.replace(emulator)
    finally:
        store.close()
    return len(emulator.vaults)
