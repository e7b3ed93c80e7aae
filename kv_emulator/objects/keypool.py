"""RSA keys generated ahead of time, in a worker process, so ``create_key`` does not wait for them.

RSA generation is the slowest thing a key-heavy suite does (about 50 ms for 2048 bits, 0.5 s for 4096)
and it holds the GIL, so a thread would only steal time from the tests. A worker process
(:mod:`.rsa_worker`) keeps a few fresh keys of each size that was asked for ready; every key is handed out
exactly once and made by ``cryptography`` with the normal parameters, so nothing is weakened or reused.
When no key is ready, the request generates one inline, as it would without a pool.

One pool serves the whole process (per-test emulators are short-lived, the worker is not): the Emulator takes
:meth:`RsaKeyPool.shared` and hands it to its vaults, whose key and certificate stores take keys from it.
The worker starts on the first RSA request, which is generated inline meanwhile, so the pool never makes a
test wait longer than making one key would. A size (2048, 3072, 4096, ...) is kept ready once it has been
asked for; when a request finds none ready, the depth kept for that size doubles (up to ``MAX_DEPTH``), so a
suite that makes big keys in bursts finds them ready later. The worker is asked for two keys at a time, each
of the size short of its depth that was asked for most recently, so a suite moving on to 4096-bit keys does
not wait behind a queue of smaller ones.

When the worker has nothing left to make for the pool, it fills the reserve (:mod:`.keyreserve`): keys of the
kinds this machine's suites asked for, kept on disk for the next run, and taken before any key is generated
inline. So a suite that makes big keys in bursts waits for them on its first run only.
``KV_EMULATOR_KEY_POOL=0`` turns the pool (and the reserve) off; ``KV_EMULATOR_KEY_RESERVE=0`` the reserve alone.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .keyreserve import RESERVED_EXPONENT, KeyReserve

__all__ = ["RsaKeyPool", "shared_pool"]

DEPTH = 3
"""Keys kept ready or on their way per (bits, exponent), once that kind has been asked for."""
MAX_DEPTH = 12
"""The most a kind's depth grows to after requests found it empty."""
IN_FLIGHT = 2
"""Requests the worker has at a time: one to make, one queued so it never waits for the next; few, so a
newly wanted size is not stuck behind a queue of others."""

_WORKER = Path(__file__).with_name("rsa_worker.py")
KeyKind = tuple[int, int]  # (bits, public exponent)


class RsaKeyPool:
    _shared: RsaKeyPool | None = None
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> RsaKeyPool | None:
        """The process's pool (made on first use), or None when ``KV_EMULATOR_KEY_POOL=0``."""
        if os.environ.get("KV_EMULATOR_KEY_POOL", "1").strip().lower() in ("0", "false", "off", "no"):
            return None
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls(reserve=KeyReserve.default())
            return cls._shared

    def __init__(self, depth: int = DEPTH, max_depth: int = MAX_DEPTH, reserve: KeyReserve | None = None) -> None:
        self.depth = depth
        self.max_depth = max(depth, max_depth)
        self._depths: dict[KeyKind, int] = {}
        self._lock = threading.Lock()
        self._delivered = threading.Condition(self._lock)  # notified when a key is filed as ready
        self._process: subprocess.Popen[bytes] | None = None
        self._broken = False
        # DER from the worker, or a key made here that a request did not need (see _race).
        self._ready: dict[KeyKind, collections.deque[bytes | rsa.RSAPrivateKey]] = collections.defaultdict(
            collections.deque
        )
        # Requests in flight, in order: the kind, and the reserve folder a key goes to (None: to this pool).
        self._asked: collections.deque[tuple[KeyKind, str | None]] = collections.deque()
        self.reserve = reserve
        self._reserve_kinds = reserve.kinds() if reserve is not None else []
        self._last_asked: dict[KeyKind, int] = {}  # kind -> when it was last taken (a counter)
        self._takes = 0
        self.served = 0
        """Keys handed out from the pool or its reserve (the rest were generated inline)."""
        self.from_reserve = 0
        """Keys of :attr:`served` that came from the reserve on disk."""

    def take(self, bits: int, exponent: int = 65537) -> rsa.RSAPrivateKey:
        """A fresh key: a ready one from the worker, else one from the reserve, else one generated here and now."""
        kind = (bits, exponent)
        with self._lock:
            ready = self._ready[kind].popleft() if self._ready[kind] else None
            first_ask = kind not in self._depths
            in_the_making = ready is None and not self._broken and bool(self._asked) and self._asked[0] == (kind, None)
            if ready is None and not first_ask:  # asked before, and still ran dry: keep more ready
                self._depths[kind] = min(self._depths[kind] * 2, self.max_depth)
            self._depths.setdefault(kind, self.depth)
            self._takes += 1
            self._last_asked[kind] = self._takes
            self._feed()
        if ready is None and self.reserve is not None and exponent == RESERVED_EXPONENT:
            if first_ask and self.reserve.want(kind):  # from now on the reserve keeps this kind too
                with self._lock:
                    if kind not in self._reserve_kinds:
                        self._reserve_kinds.append(kind)
            ready = self.reserve.claim(kind)
            if ready is not None:
                self.from_reserve += 1
        if ready is not None:
            self.served += 1
            return _load(ready)
        if in_the_making:
            return self._race(kind)
        return rsa.generate_private_key(public_exponent=exponent, key_size=bits)

    def _race(self, kind: KeyKind) -> rsa.RSAPrivateKey:
        """None ready, but the worker is making one of this kind: make one here too (generation releases the
        GIL, so in a thread) and take whichever comes first. The other goes into the pool, so no key is wasted
        and the wait is never longer than making the key here would be."""
        outcome: dict[str, Any] = {}

        def generate() -> None:
            try:
                key: Any = rsa.generate_private_key(public_exponent=kind[1], key_size=kind[0])
            except BaseException as error:  # handed to the waiting request, which raises it
                key = error
            with self._delivered:
                if "taken" in outcome and isinstance(key, rsa.RSAPrivateKey):
                    self._ready[kind].append(key)  # the worker's came first: this one waits for the next request
                else:
                    outcome["mine"] = key
                self._delivered.notify_all()

        threading.Thread(target=generate, name="kv-emulator-rsa-inline", daemon=True).start()
        with self._delivered:
            while "mine" not in outcome and not self._ready[kind]:
                self._delivered.wait()
            outcome["taken"] = True
            if "mine" in outcome:
                mine = outcome["mine"]
                if isinstance(mine, BaseException):
                    raise mine
                return mine
            ready = self._ready[kind].popleft()
        self.served += 1
        return _load(ready)

    @property
    def busy(self) -> bool:
        """Whether the worker has keys to make (for the pool or its reserve)."""
        with self._lock:
            return bool(self._asked)

    def depth_for(self, bits: int, exponent: int = 65537) -> int:
        """How many keys of this kind the pool keeps ready or on their way (0 until one is asked for)."""
        with self._lock:
            return self._depths.get((bits, exponent), 0)

    def _feed(self) -> None:
        """Keep the worker busy with ``IN_FLIGHT`` requests: each for the kind short of its depth (counting
        what is ready and on its way) that was taken most recently; with nothing short and nothing in flight,
        one key for the reserve (lock held)."""
        while not self._broken and len(self._asked) < IN_FLIGHT:
            pending = [kind for kind, folder in self._asked if folder is None]
            short = [k for k, depth in self._depths.items() if len(self._ready[k]) + pending.count(k) < depth]
            if short:
                kind = max(short, key=lambda k: self._last_asked.get(k, 0))
                if not self._ask(kind, None):
                    return
                continue
            if not self._asked and self.reserve is not None:
                kinds = sorted(self._reserve_kinds, key=lambda k: self._last_asked.get(k, 0), reverse=True)
                wanted = next((k for k in kinds if self.reserve.count(k) < self.reserve.limit), None)
                if wanted is not None:
                    self._ask(wanted, str(self.reserve.kind_folder(wanted)))
            return

    def _ask(self, kind: KeyKind, folder: str | None) -> bool:
        """Send the worker one request (started on first use); False when there is no worker."""
        process = self._process or self._start()
        if process is None or process.stdin is None:
            return False
        line = f"{kind[0]} {kind[1]}" + (f" {folder}" if folder else "")
        try:
            process.stdin.write(f"{line}\n".encode())
            process.stdin.flush()
        except (OSError, ValueError):
            self._broken = True
            return False
        self._asked.append((kind, folder))
        return True

    def _start(self) -> subprocess.Popen[bytes] | None:
        try:
            process = subprocess.Popen(
                [sys.executable, str(_WORKER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self._broken = True
            return None
        self._process = process
        threading.Thread(target=self._collect, args=(process,), name="kv-emulator-rsa-pool", daemon=True).start()
        atexit.register(self.shutdown)
        return process

    def _collect(self, process: subprocess.Popen[bytes]) -> None:
        """Reader thread: file each key the worker sends under the kind asked for first."""
        stream = process.stdout
        assert stream is not None
        while True:
            header = stream.read(4)
            if len(header) < 4:
                break
            der = stream.read(struct.unpack(">I", header)[0])
            with self._lock:
                kind, folder = self._asked.popleft()
                if folder is None:  # (a reserve key went to its folder: the worker answered with nothing)
                    self._ready[kind].append(der)
                    self._delivered.notify_all()
                self._feed()
        stream.close()
        with self._lock:
            self._broken = True  # the worker ended: generate inline from now on

    def shutdown(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            self._broken = True
        if process is not None and process.stdin is not None:
            # The worker may have died with a request still buffered: there is nothing left to tell it.
            with contextlib.suppress(OSError):
                process.stdin.close()
            # Keys still in the making are not needed: stop now rather than after them (reserve keys are
            # written whole or not at all).
            with contextlib.suppress(OSError):
                process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _load(ready: bytes | rsa.RSAPrivateKey) -> rsa.RSAPrivateKey:
    if isinstance(ready, rsa.RSAPrivateKey):
        return ready
    # Made by our own worker with cryptography: re-validating the key would only cost time.
    key = serialization.load_der_private_key(ready, password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the key pool's worker sent something other than an RSA key")
    return key


def shared_pool() -> RsaKeyPool | None:
    """The process's pool, or None when ``KV_EMULATOR_KEY_POOL=0`` (:meth:`RsaKeyPool.shared`)."""
    return RsaKeyPool.shared()
