"""RSA keys made in spare time and kept on disk for the next run: the key pool's reserve.

No machine makes 4096-bit keys as fast as a suite can ask for them (about 0.6 s each on a small VM), so the
in-memory pool (:mod:`.keypool`) keeps up only when tests leave it time between creates. The reserve keeps
the time a run had to spare: when the pool's worker has nothing left to make for the pool, it makes keys of
the sizes this machine's suites have asked for (``RESERVE_LIMIT`` of each, public exponent 65537: other
exponents are rare and only Managed HSMs take them) into a folder, and the next run,
or another xdist worker, takes them from there before generating any.

Every key is still handed out once and only once: a process claims a file by renaming it to a name of its
own (atomic on one file system), reads it and deletes it; two processes can never read the same key. The
worker (:mod:`.rsa_worker`) writes each key to a temporary name and renames it into place, so a key is either
whole or absent.
The folder is private to its user (0700, keys 0600); the keys are test keys, but they are private keys.

``KV_EMULATOR_KEY_RESERVE`` names the folder, or turns the reserve off (``0``/``off``); by default it is
``rsa-keys`` in the user's cache folder (``$KV_EMULATOR_CACHE``, else ``$XDG_CACHE_HOME/kv-emulator``, else
``~/.cache/kv-emulator``). A folder that cannot be written just means no reserve.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

__all__ = ["RESERVE_LIMIT", "KeyReserve", "default_folder"]

RESERVE_LIMIT = 16
"""Keys kept on disk per (bits, exponent) this machine's suites have asked for."""
_STALE = 3600.0
"""Seconds after which a leftover claimed or half-written file (its process died) is swept away."""
_OFF = ("0", "false", "off", "no", "")
RESERVED_EXPONENT = 65537
"""The only public exponent kept in reserve (a vault's keys all have it)."""

KeyKind = tuple[int, int]  # (bits, public exponent)


def default_folder() -> Path | None:
    """The reserve folder from the environment (see the module docstring), or None when it is turned off."""
    chosen = os.environ.get("KV_EMULATOR_KEY_RESERVE")
    if chosen is not None:
        return None if chosen.strip().lower() in _OFF else Path(chosen).expanduser()
    cache = os.environ.get("KV_EMULATOR_CACHE")
    if cache:
        return Path(cache).expanduser() / "rsa-keys"
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder to be found: no reserve
            return None
    return Path(base).expanduser() / "kv-emulator" / "rsa-keys"


class KeyReserve:
    """One folder of ready keys, a subfolder per kind (``4096-65537``), one DER file per key."""

    def __init__(self, folder: Path, limit: int = RESERVE_LIMIT) -> None:
        self.folder = folder
        self.limit = limit
        self._claims = 0
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> KeyReserve | None:
        folder = default_folder()
        return cls(folder) if folder is not None else None

    def kind_folder(self, kind: KeyKind) -> Path:
        return self.folder / f"{kind[0]}-{kind[1]}"

    def want(self, kind: KeyKind) -> bool:
        """Keep keys of this kind from now on (its folder is what later runs see); False if it cannot be made."""
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.kind_folder(kind).mkdir(mode=0o700, exist_ok=True)
        except OSError:
            return False
        return True

    def kinds(self) -> list[KeyKind]:
        """The kinds some run on this machine asked for."""
        found: list[KeyKind] = []
        with contextlib.suppress(OSError), os.scandir(self.folder) as entries:
            for entry in entries:
                bits, _, exponent = entry.name.partition("-")
                if entry.is_dir() and bits.isdigit() and exponent == str(RESERVED_EXPONENT):
                    found.append((int(bits), int(exponent)))
        return found

    def count(self, kind: KeyKind) -> int:
        """Keys of this kind ready on disk."""
        return len(self._ready_files(kind))

    def claim(self, kind: KeyKind) -> bytes | None:
        """A ready key's DER, now this process's alone (removed from the folder), or None when there is none."""
        for path in self._ready_files(kind):
            with self._lock:
                self._claims += 1
                claimed = path.with_name(f"{path.stem}.{os.getpid()}-{threading.get_ident()}-{self._claims}.claimed")
            try:
                os.rename(path, claimed)  # fails if another process renamed it first
            except OSError:
                continue
            try:
                return claimed.read_bytes()
            except OSError:
                continue
            finally:
                with contextlib.suppress(OSError):
                    claimed.unlink()
        return None

    def _ready_files(self, kind: KeyKind) -> list[Path]:
        ready: list[Path] = []
        now = time.time()
        with contextlib.suppress(OSError), os.scandir(self.kind_folder(kind)) as entries:
            for entry in entries:
                if entry.name.endswith(".der"):
                    ready.append(Path(entry.path))
                else:
                    _sweep(entry, now)
        return ready


def _sweep(entry: os.DirEntry[str], now: float) -> None:
    """Remove a claimed or half-written file whose process died long ago."""
    with contextlib.suppress(OSError):
        if entry.is_file() and now - entry.stat().st_mtime > _STALE:
            os.unlink(entry.path)
