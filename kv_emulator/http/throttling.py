"""Key Vault's service limits: per vault, weighted transactions per 10-second window, and the exact 429.

From the service-limits documentation (research/protocol.md §6). Keys count by type and protection:
creates of any RSA size or EC curve share one limit (20 software, 10 HSM per 10 s); all other key
operations share one limit (4,000 software, 2,000 HSM) in which an RSA-3072 operation weighs 4 and an
RSA-4096 one 8 (the documented limits are a quarter and an eighth). Secrets, certificates and other vault
transactions: 300 creates, 4,000 others. A request answered 429 does not count (current documentation).
Off by default; ``throttle_scale`` scales every limit (0.001 makes them reachable with a handful of
requests) and ``throttle_limits`` sets single classes. The 429 itself is :class:`kv_emulator.errors.Throttled`.
"""

from __future__ import annotations

import collections
import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..config import RETRY_AFTER_HEADERS, TRANSACTION_CLASSES
from ..errors import KeyVaultError, Throttled

if TYPE_CHECKING:
    from ..api.operation import Throttle
    from ..config import Settings
    from ..objects.vault import Vault

__all__ = ["RETRY_AFTER_HEADERS", "TRANSACTION_CLASSES", "Throttled", "Throttler", "classify"]

WINDOW_SECONDS = 10.0


def _rsa_weight(bits: int | None) -> int:
    return {3072: 4, 4096: 8}.get(bits or 2048, 1)


def classify(
    throttle: Throttle, vault: Vault, name: str | None, version: str | None, body: Callable[[], dict[str, Any]]
) -> tuple[str, int]:
    """(transaction class, weight) of one request of an operation whose record says ``throttle``; ``body()`` is
    its parsed JSON object (``{}`` if none), asked for only by the creates that size a key from it."""
    if not throttle.startswith("key-"):
        return throttle, 1
    hsm, bits = vault.managed_hsm, None
    if throttle == "key-create-from-body":
        document = body()
        hsm, bits = hsm or _body_says_hsm(document), _body_key_size(document)
    elif name:
        try:
            material = vault.keys.get(name, version).payload.material
            hsm, bits = material.hsm, material.key_size if material.family == "RSA" else None
        except KeyVaultError:
            pass  # an unknown key still costs a transaction; the handler answers 404
    protection = "hsm" if hsm else "software"
    if throttle.startswith("key-create"):
        return f"key-{protection}-create", 1
    return f"key-{protection}-other", _rsa_weight(bits)


def _body_says_hsm(body: dict[str, Any]) -> bool:
    """CreateKey names the type in ``kty``; ImportKey in ``key.kty`` or with ``Hsm: true``."""
    key = body.get("key") if isinstance(body.get("key"), dict) else {}
    kty = body.get("kty") or key.get("kty")  # type: ignore[union-attr]
    return (isinstance(kty, str) and kty.endswith("-HSM")) or body.get("Hsm") is True


def _body_key_size(body: dict[str, Any]) -> int | None:
    """An RSA create's size (``key_size``); an import's from the modulus length."""
    size = body.get("key_size")
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    key = body.get("key")
    modulus = key.get("n") if isinstance(key, dict) else None
    if isinstance(modulus, str):
        return round(len(modulus.rstrip("=")) * 6 / 1024) * 1024 or None
    return None


class Throttler:
    """Sliding 10-second windows of weighted transactions, per vault host and class, on the emulator's clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], collections.deque[tuple[float, int]]] = collections.defaultdict(
            collections.deque
        )

    @staticmethod
    def limit(settings: Settings, transaction_class: str) -> int:
        if transaction_class in settings.throttle_limits:
            return settings.throttle_limits[transaction_class]
        return max(1, math.floor(TRANSACTION_CLASSES[transaction_class] * settings.throttle_scale))

    def admit(self, settings: Settings, vault: str, transaction_class: str, weight: int, now: float) -> None:
        """Count the transaction against ``vault`` (its DNS name), or raise :class:`Throttled` (not counted)."""
        limit = self.limit(settings, transaction_class)
        with self._lock:
            window = self._windows[(vault, transaction_class)]
            while window and window[0][0] <= now - WINDOW_SECONDS:
                window.popleft()
            used = sum(w for _, w in window)
            if used + weight > limit:
                raise Throttled(_retry_after_headers(settings))
            window.append((now, weight))

    def used(self, vault: str, transaction_class: str, now: float) -> int:
        """The weighted transactions of ``transaction_class`` in ``vault``'s window at ``now`` (a read)."""
        with self._lock:
            window = self._windows.get((vault, transaction_class), ())
            return sum(w for t, w in window if t > now - WINDOW_SECONDS)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


def _retry_after_headers(settings: Settings) -> list[tuple[str, str]]:
    """The configured Retry-After header: absent (as the service sends), seconds, or milliseconds."""
    seconds = settings.throttle_retry_after
    if seconds is None:
        return []
    header = settings.throttle_retry_after_header
    if header == "Retry-After":
        return [(header, str(math.ceil(seconds)))]  # whole seconds, as HTTP defines it (0 is sent as 0)
    return [(header, str(round(seconds * 1000)))]
