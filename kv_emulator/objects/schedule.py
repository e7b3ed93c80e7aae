"""When a vault's time-driven work is due: purges, key rotations, certificate renewals, notifications.

The stores plan a job whenever a write changes when an object next needs attention (a soft delete plans its
purge, a new key version or rotation policy plans its rotation and notification, a completed certificate
version plans its lifetime actions). :meth:`Schedule.run` then does only the jobs whose time has come, so a
request when nothing is due costs one comparison, whatever the size of the vault.

Jobs run in five phases, always in this order (each phase until nothing in it is due):

1. ``purge``: deleted objects past their scheduled purge date are dropped (with what belongs to the name:
   a key's rotation policy, a certificate's policy);
2. ``issue``: certificate operations whose issuance time has passed complete (``certificate_issuance_time``);
3. ``rotate``: keys rotate as their rotation policies say, each rotation at the moment it was due;
4. ``renew``: certificates' lifetime actions (``AutoRenew`` makes a new version with its key and secret,
   ``EmailContacts`` is recorded), in each policy's order, as each version's triggers pass;
5. ``notify``: keys' ``Notify`` actions for their latest versions, after rotations and renewals have made them.

A job is named by (phase, owner, key): owner is the store (``"secret"``, ``"key"``, ``"certificate"``),
key the lowercased object name. At most one due time counts per job: planning it again replaces it (the
old heap entry is skipped when popped). A job whose work is due but cannot be done yet (a renewal while the
certificate's operation is still in progress) waits: it is tried again on every run until it is done or
planned for later, which costs a little only while such jobs exist.
"""

from __future__ import annotations

import heapq
import inspect
import itertools
import threading
import weakref
from collections.abc import Callable

__all__ = ["PHASES", "Schedule"]

PHASES = ("purge", "issue", "rotate", "renew", "notify")
_NEVER = float("inf")

Job = tuple[str, str, str]  # (phase, owner, key)
Handler = Callable[[str, int], None]  # (key, now): do what is due, and plan or wait for what comes next


class Schedule:
    """The due times of one vault's jobs, a min-heap per phase; guarded by the vault's lock."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._heaps: dict[str, list[tuple[int, int, str, str]]] = {phase: [] for phase in PHASES}
        self._planned: dict[Job, int] = {}
        self._waiting: set[Job] = set()
        # A store's bound method is held weakly: the store owns the schedule, so a strong one would be a cycle.
        self._handlers: dict[tuple[str, str], Callable[[], Handler | None]] = {}
        self._order = itertools.count()
        self._next: float = _NEVER
        self._running = False
        self.changes = 0
        """Counts the jobs done and the changes the stores report (:meth:`changed`): a server saves a vault
        after a read only when this moved, so a read that changed nothing costs no snapshot."""

    def register(self, phase: str, owner: str, handler: Handler) -> None:
        """Say who does ``phase`` jobs for ``owner``'s objects."""
        if phase not in self._heaps:
            raise ValueError(f"unknown phase {phase!r}")
        if inspect.ismethod(handler):
            self._handlers[(phase, owner)] = weakref.WeakMethod(handler)
        else:
            self._handlers[(phase, owner)] = lambda: handler

    def plan(self, phase: str, owner: str, key: str, due: int | None) -> None:
        """Run the job at ``due`` (Unix seconds), replacing its previous time; ``None`` cancels it."""
        job = (phase, owner, key)
        if due is None:
            self._planned.pop(job, None)
            return
        if self._planned.get(job) == due:
            return
        self._planned[job] = due
        heap = self._heaps[phase]
        heapq.heappush(heap, (due, next(self._order), owner, key))
        if due < self._next:
            self._next = due
        if len(heap) > 64 + 4 * len(self._planned):
            self._compact()

    def changed(self) -> None:
        """Something in the vault changed outside a job (a new version, however made)."""
        self.changes += 1

    def wait(self, phase: str, owner: str, key: str) -> None:
        """The job's work is due but cannot be done now: try it again on the next run."""
        self._planned.pop((phase, owner, key), None)
        self._waiting.add((phase, owner, key))

    @property
    def next_due(self) -> float:
        """The earliest planned time (``inf`` when nothing is planned); a waiting job makes it 0."""
        return 0 if self._waiting else self._next

    def run(self, now: int) -> None:
        """Do every job due by ``now``, phase by phase (see the module docstring)."""
        if now < self._next and not self._waiting:
            return
        with self._lock:
            if self._running:
                # Jobs use the stores' internals, never their public (catching-up) methods.
                raise RuntimeError("a scheduled job called back into catch_up")
            self._running = True
            try:
                waiting, self._waiting = self._waiting, set()
                for phase, owner, key in waiting:
                    self.plan(phase, owner, key, now)
                while self._next <= now:
                    for phase in PHASES:
                        self._run_phase(phase, now)
                    self._next = min((heap[0][0] for heap in self._heaps.values() if heap), default=_NEVER)
            finally:
                self._running = False

    def _run_phase(self, phase: str, now: int) -> None:
        heap = self._heaps[phase]
        while heap and heap[0][0] <= now:
            due, _, owner, key = heapq.heappop(heap)
            job = (phase, owner, key)
            if self._planned.get(job) != due:
                continue  # replanned or cancelled since
            del self._planned[job]
            handler = self._handlers[(phase, owner)]()
            if handler is not None:
                handler(key, now)
                self.changes += 1

    def _compact(self) -> None:
        """Drop heap entries that were replanned or cancelled (they only cost memory)."""
        for phase, heap in self._heaps.items():
            live = [entry for entry in heap if self._planned.get((phase, entry[2], entry[3])) == entry[0]]
            heapq.heapify(live)
            self._heaps[phase] = live

    def clear(self) -> None:
        for heap in self._heaps.values():
            heap.clear()
        self._planned.clear()
        self._waiting.clear()
        self._next = _NEVER
