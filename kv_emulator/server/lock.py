"""One server per data directory: a lock the operating system drops when its process dies.

``server.lock`` in the data directory is held (``flock``; ``msvcrt.locking`` on Windows) for the server's
whole life. A server killed with ``kill -9``, an OOM kill or ``docker kill`` leaves no lock behind, whatever
its PID was (PID 1 in a container included), so a stale ``server.json`` never blocks a start; it only tells
``kv-emulator env`` where a *live* server listens.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

__all__ = ["LOCK_FILE", "DataDirLock", "lock_held"]

LOCK_FILE = "server.lock"


def _try_lock(fd: int, *, shared: bool = False) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def lock_held(data_dir: Path) -> bool:
    """Whether a live server (in this process or another) holds ``data_dir``'s lock."""
    try:
        fd = os.open(data_dir / LOCK_FILE, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        if sys.platform == "win32":  # one lock mode there: taking it exclusively is the test
            if _try_lock(fd):
                _unlock(fd)
                return False
            return True
        if _try_lock(fd, shared=True):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)


class DataDirLock:
    """Held from :meth:`acquire` until :meth:`release` or the process's end, however it ends."""

    def __init__(self, data_dir: Path, runtime_file: str) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE
        self._runtime_file = runtime_file
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or say which server holds it (RuntimeError)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            raise RuntimeError(self._held_message())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    def _held_message(self) -> str:
        runtime_path = self.data_dir / self._runtime_file
        try:
            runtime = json.loads(runtime_path.read_text())
            where = (
                f" (pid {runtime.get('pid')}, https://localhost:{runtime.get('port')}, "
                f"proxy port {runtime.get('proxy_port')}: see {runtime_path})"
            )
        except (OSError, ValueError, AttributeError):
            where = ""  # it has not written server.json yet, or does not write one
        return (
            f"another kv-emulator is serving from {self.data_dir}{where}; it holds {self.path}. "
            f"`kv-emulator env --data-dir {self.data_dir}` prints how to reach it; stop it or pass another --data-dir"
        )
