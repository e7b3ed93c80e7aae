"""The emulator's Event Grid: turns the vaults' changes and the clock into Key Vault events, in order.

The models only say "a new version exists" (``VersionedStore.on_new_version``) and "the access policies
changed" (``Authorization.on_change``); this module decides what that publishes. Events are queued while
the vault's lock is held and delivered after it is released: at the end of each request, when the clock
moves, when a test reads ``published``/``received``, or on :meth:`EventGrid.flush`. Near-expiry and
expiry events keep their own schedule here, so a jump of the clock delivers every event that fell due
inside it, oldest first, each with ``eventTime`` the moment it fell due.
"""

from __future__ import annotations

import collections
import functools
import heapq
import itertools
import re
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..clock import Clock
from ..errors import KeyVaultError
from ..hosts import VaultAddress, parse_name_or_url
from .delivery import Delivery, validate_endpoint
from .shapes import Event, to_eventgrid
from .subscriptions import HandlerError, Subscription

if TYPE_CHECKING:
    from ..objects.vault import Vault
    from ..objects.versioned import Version, VersionedStore

__all__ = ["EventGrid", "weakly"]

DAY = 86_400
_VAULT_NAME = re.compile(r"^[a-z0-9-]{3,24}$")
PUBLISHED_KEPT = 10_000  # ``published`` keeps the newest this many (a long session-mode run stays small)
PENDING_LIMIT = 1_000  # with nobody subscribed, events wait for a reader; past this they are published anyway
NEAR_EXPIRY = 30 * DAY  # secrets and certificates; keys follow their rotation policy's Notify action


def weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    """A callable that calls ``method`` while its object lives (and does nothing after): for hooks that the
    emulator's own parts hold, so they never keep the emulator alive in a reference cycle."""
    ref = weakref.WeakMethod(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        target = ref()
        return None if target is None else target(*args, **kwargs)

    return call


class _Tracked:
    """One version whose NearExpiry/Expired events may still fall due."""

    def __init__(self, vault: Vault, store: VersionedStore[Any], kind: str, version: Version[Any], sequence: int):
        self.vault, self.store, self.kind, self.version, self.sequence = vault, store, kind, version, sequence
        self.superseded_at: float | None = None
        self.announced_at = float(version.attributes.created)
        self.fired: set[str] = set()


class EventGrid:
    """``emulator.events``: subscribe to the vaults' events; see docs/events.md."""

    def __init__(self, clock: Clock, default_vault: Callable[[], str], vaults: Callable[[], list[Vault]]) -> None:
        self.clock = clock
        self._default_vault = default_vault
        self._all_vaults = vaults
        self._lock = threading.Lock()
        self._sequence = itertools.count(1)
        self._last_sequence = 0
        self._names = itertools.count(1)
        self._tie = itertools.count()  # keeps equal times in the order they were queued
        self._subscriptions: list[Subscription] = []
        self._published: collections.deque[Event] = collections.deque(maxlen=PUBLISHED_KEPT)
        self._pending: list[Event] = []
        self._tracked: dict[tuple[int, str, str], list[_Tracked]] = {}
        self._retries: list[tuple[float, int, Delivery]] = []
        self._flush_lock = threading.Lock()
        self.changes = 0
        """Counts changes to what the subscriptions got (an event received, a dead letter): a server saves the
        events section after a read that moved it, as it does for a vault's own change counter."""
        clock.add_listener(weakly(self._clock_moved), stop=weakly(self.next_due))

    # -- the public API ---------------------------------------------------------------------------

    def subscribe(
        self,
        handler: Callable[[dict[str, Any]], Any] | None = None,
        *,
        endpoint: str | None = None,
        types: str | Iterable[str] | None = None,
        subject_begins_with: str | None = None,
        subject_ends_with: str | None = None,
        schema: str = "eventgrid",
        vault: str | None = None,
        name: str | None = None,
    ) -> Subscription:
        """Receive the events of changes made from now on: call ``handler(event_dict)``, POST to ``endpoint``,
        or both; ``subscription.received`` records every match. ``ValueError`` for arguments that cannot work."""
        vault_name = self._vault_name(vault)
        if name is not None and any(s.name.lower() == str(name).lower() for s in self.subscriptions):
            raise ValueError(f"a subscription named {name!r} exists already")
        subscription = Subscription(
            name or f"kv-emulator-{next(self._names)}",
            handler=handler,
            endpoint=endpoint,
            types=types,
            subject_begins_with=subject_begins_with,
            subject_ends_with=subject_ends_with,
            schema=schema,
            vault=vault_name,
            since=0,
        )
        if subscription.endpoint is not None:
            topic = VaultAddress(vault_name or self._default_vault()).resource_id
            validate_endpoint(subscription, topic, self.clock.time())
        self.flush()  # what happened before this subscription is not its business
        with self._lock:
            subscription.since = self._last_sequence
            subscription._refresh = weakly(self.flush)
            subscription._changed = weakly(self._note_change)
            self._subscriptions.append(subscription)
        return subscription

    def subscribe_json(self, body: Any) -> Subscription:
        """:meth:`subscribe` from a JSON object (the server's ``/_kv/events``): ``endpoint``, ``types``,
        ``subject_begins_with``, ``subject_ends_with``, ``schema``, ``vault``, ``name``; ``ValueError`` for
        anything else (a handler cannot travel over HTTP)."""
        allowed = {"endpoint", "types", "subject_begins_with", "subject_ends_with", "schema", "vault", "name"}
        if not isinstance(body, dict):
            raise ValueError("a subscription is a JSON object")
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ValueError(f"unknown subscription fields {unknown}; known: {sorted(allowed)}")
        return self.subscribe(**body)

    def to_state(self) -> list[dict[str, Any]]:
        """Plain data (kv_emulator.state): the webhook subscriptions (handlers belong to a process)."""
        return [s.to_state() for s in self.subscriptions if s.handler is None and s.endpoint is not None]

    def from_state(self, data: list[dict[str, Any]]) -> None:
        """Take back :meth:`to_state`'s subscriptions (their endpoints were validated when first made), in place
        of the webhook subscriptions there are (a process's handler subscriptions stay)."""
        for old in self.subscriptions:
            if old.handler is None:
                self.unsubscribe(old)
        for item in data:
            subscription = Subscription.from_state(item)
            with self._lock:
                subscription.since = self._last_sequence
                subscription._refresh = weakly(self.flush)
                subscription._changed = weakly(self._note_change)
                self._subscriptions.append(subscription)

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            subscription.active = False
            self._subscriptions = [s for s in self._subscriptions if s is not subscription]

    @property
    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return list(self._subscriptions)

    def subscription(self, name: str) -> Subscription:
        """The subscription called ``name`` (``KeyError`` if none): for a management API that names them."""
        with self._lock:
            for subscription in self._subscriptions:
                if subscription.name.lower() == name.lower():
                    return subscription
        raise KeyError(name)

    @property
    def published(self) -> list[dict[str, Any]]:
        """Every event the vaults published, subscribed or not, in the Event Grid schema, oldest first."""
        self.flush()
        with self._lock:
            return [to_eventgrid(event) for event in self._published]

    @property
    def errors(self) -> list[HandlerError]:
        """Every subscription's handler errors so far (shown in pytest's report when a test fails); reading them
        delivers nothing, so a report never posts to a webhook whose mock is gone."""
        return [error for subscription in self.subscriptions for error in list(subscription._errors)]

    def format_errors(self) -> str:
        return "\n".join(str(error) for error in self.errors)

    def clear(self) -> None:
        """Forget subscriptions, published events, schedules and pending retries."""
        with self._lock:
            for subscription in self._subscriptions:
                subscription.active = False
            self._subscriptions.clear()
            self._published.clear()
            self._pending.clear()
            self._tracked.clear()
            self._retries.clear()

    # -- what the models tell us ------------------------------------------------------------------

    def watch(self, vault: Vault) -> None:
        """Listen to a new vault's changes (Managed HSMs publish no Key Vault events: unverified).

        A certificate's issued version comes with versions of its key and secret, announced as Key and Secret
        events too (unverified: no capture says whether the service sends them); restores and recoveries
        bring back existing versions and announce nothing (none documented or reported)."""
        if vault.managed_hsm:
            return
        # The hooks hold the vault and this hub weakly: the models keep no reference cycle through them.
        vault_ref, policy_changed = weakref.ref(vault), weakly(self._policy_changed)
        for kind in ("secret", "key", "certificate"):
            self._store(vault, kind).on_new_version.append(
                functools.partial(weakly(self._new_version), vault_ref, kind)
            )
        vault.authorization.on_change.append(lambda: policy_changed(vault_ref()))

    @staticmethod
    def _store(vault: Vault, kind: str) -> VersionedStore[Any]:
        stores: dict[str, VersionedStore[Any]] = {
            "secret": vault.secrets,
            "key": vault.keys,
            "certificate": vault.certificates,
        }
        return stores[kind]

    def _new_version(self, vault_ref: weakref.ref[Vault], kind: str, version: Version[Any]) -> None:
        vault = vault_ref()
        if vault is None:
            return
        store = self._store(vault, kind)
        # Called under the vault's lock: only queue. The moment is the version's own (a rotation or
        # renewal made late by a clock jump is stamped when it fell due).
        now = self.clock.time()
        when = now if int(now) == version.attributes.created else float(version.attributes.created)
        attributes = version.attributes
        with self._lock:
            sequence = self._next_sequence()
            self._pending.append(
                Event.for_version(
                    "NewVersionCreated",
                    kind=store.kind,
                    vault=vault.name,
                    vault_url=vault.url,
                    topic=vault.authorization.resource_id,
                    name=version.name,
                    version=version.version,
                    not_before=attributes.not_before,
                    expires=attributes.expires,
                    time=when,
                    sequence=sequence,
                )
            )
            versions = self._tracked.setdefault((id(vault), store.kind, version.name.lower()), [])
            if versions:
                versions[-1].superseded_at = when
            versions.append(_Tracked(vault, store, store.kind, version, sequence))
            versions[-1].announced_at = when

    def _policy_changed(self, vault: Vault | None) -> None:
        if vault is None:
            return
        with self._lock:
            self._pending.append(
                Event.access_policy_changed(
                    vault=vault.name,
                    vault_url=vault.url,
                    topic=vault.authorization.resource_id,
                    time=self.clock.time(),
                    sequence=self._next_sequence(),
                )
            )
        if self._subscriptions:
            self._flush(catch_up=False)  # told outside any vault lock: deliver now

    def _note_change(self) -> None:
        with self._lock:
            self.changes += 1

    def _next_sequence(self) -> int:
        self._last_sequence = next(self._sequence)
        return self._last_sequence

    # -- delivery ---------------------------------------------------------------------------------

    def flush(self) -> None:
        """Deliver everything due by the emulator's clock now, oldest first. Safe to call any time."""
        self._flush(catch_up=True)

    def after_request(self) -> None:
        """The pipeline's hook: deliver what the request caused (nothing to do without subscriptions)."""
        if self._subscriptions or len(self._pending) > PENDING_LIMIT:
            self._flush(catch_up=False)  # the request itself read its store, which caught up

    def _clock_moved(self) -> None:
        if self._subscriptions:
            self.flush()

    def next_due(self) -> float | None:
        """When something is next due for a subscriber (an expiry event, a retry, a vault's own timed work), so
        that a jump of the clock stops there: handlers then run, and make their changes, at that moment."""
        if not self._subscriptions:
            return None
        with self._lock:
            candidates = [self._retries[0][0]] if self._retries else []
            tracked = [entry for versions in self._tracked.values() for entry in versions]
        candidates.extend(due for entry in tracked if (due := self._next_due_for(entry)) is not None)
        vaults = [vault for vault in self._all_vaults() if not vault.managed_hsm]
        candidates.extend(due for vault in vaults if (due := vault.next_due) != float("inf"))
        return min(candidates, default=None)

    def _next_due_for(self, entry: _Tracked) -> float | None:
        expires = entry.version.attributes.expires
        if expires is None or len(entry.fired) == 2:
            return None
        times = [] if "Expired" in entry.fired else [float(expires)]
        if "NearExpiry" not in entry.fired:
            near = self._key_notify_time(entry, expires) if entry.kind == "key" else expires - NEAR_EXPIRY
            if near is not None:
                times.append(float(max(near, entry.version.attributes.created)))
        if entry.superseded_at is not None:
            times = [t for t in times if t < entry.superseded_at]
        return min(times, default=None)

    def _flush(self, *, catch_up: bool) -> None:
        for _ in range(3):  # again if another thread queued events just as the delivering one finished
            if not self._flush_lock.acquire(blocking=False):
                return  # a handler's own request or clock move, or another thread: the running loop covers it
            try:
                if catch_up:
                    self._catch_up_vaults()
                while self._deliver_due():
                    pass
            finally:
                self._flush_lock.release()
            if not self._pending:
                return

    def _catch_up_vaults(self) -> None:
        """Let each vault do its timed work (rotation, renewal) due by now, so its new versions are seen."""
        now = self.clock.time()
        for vault in self._all_vaults():
            if not vault.managed_hsm:
                vault.catch_up(now)

    def _deliver_due(self) -> bool:
        now = self.clock.time()
        tie = self._tie
        work: list[tuple[float, int, Event | Delivery]] = []
        with self._lock:
            work.extend((e.time, next(tie), e) for e in self._pending)
            self._pending.clear()
            while self._retries and self._retries[0][0] <= now:
                work.append(heapq.heappop(self._retries))
        work.extend((e.time, next(tie), e) for e in self._expiry_events(now))
        if not work:
            return False
        heapq.heapify(work)
        later: list[tuple[float, int, Delivery]] = []
        while work:
            when, order, item = heapq.heappop(work)
            if isinstance(item, Delivery):
                if when > now:
                    later.append((when, order, item))  # a retry not due yet
                elif not item.attempt():
                    heapq.heappush(work, (item.due, next(tie), item))
            else:  # an event is published whatever the clock says now (it may have been set back)
                for delivery in self._publish(item):
                    if not delivery.attempt():
                        heapq.heappush(work, (delivery.due, next(tie), delivery))
        with self._lock:
            for entry in later:
                heapq.heappush(self._retries, entry)
        return True

    def _publish(self, event: Event) -> list[Delivery]:
        with self._lock:
            self._published.append(event)
            matched = [s for s in self._subscriptions if s.matches(event)]
        deliveries = []
        for subscription in matched:
            rendered = event.render(subscription.schema)
            subscription._record(rendered)
            if subscription.handler is not None:
                try:
                    subscription.handler(event.render(subscription.schema))
                except Exception as exc:  # the request that caused the event must not fail
                    subscription._record_error(rendered, exc)
            if subscription.endpoint is not None:
                deliveries.append(Delivery(subscription, rendered, published=event.time, due=event.time))
        return deliveries

    # -- near expiry and expired ------------------------------------------------------------------

    def _expiry_events(self, now: float) -> list[Event]:
        with self._lock:
            tracked = [(key, list(versions)) for key, versions in self._tracked.items()]
        due: list[Event] = []
        for key, versions in tracked:
            for entry in versions:
                due.extend(self._due_for(entry, now))
            self._forget_settled(key, versions)
        return due

    def _due_for(self, entry: _Tracked, now: float) -> list[Event]:
        expires = entry.version.attributes.expires
        superseded = entry.superseded_at
        if expires is None:
            if superseded is not None:
                entry.fired.update(("NearExpiry", "Expired"))  # no longer current: can never expire as such
            return []
        if "NearExpiry" in entry.fired:
            near: int | None = expires  # settled: no need to ask the key's policy again
        elif entry.kind == "key":
            near = self._key_notify_time(entry, expires)
        else:
            near = expires - NEAR_EXPIRY
        created = entry.version.attributes.created
        events = []
        for what, when in (("NearExpiry", max(near, created) if near is not None else None), ("Expired", expires)):
            if what in entry.fired:
                continue
            if when is None or (superseded is not None and superseded <= when):
                entry.fired.add(what)  # only the current version's expiry is announced
                continue
            if when > now or not self._still_live(entry):
                continue
            entry.fired.add(what)
            attributes = entry.version.attributes
            events.append(
                Event.for_version(
                    what,
                    kind=entry.kind,
                    vault=entry.vault.name,
                    vault_url=entry.vault.url,
                    topic=entry.vault.authorization.resource_id,
                    name=entry.version.name,
                    version=entry.version.version,
                    not_before=attributes.not_before,
                    expires=attributes.expires,
                    time=max(float(when), entry.announced_at),  # never before its version was announced
                    sequence=entry.sequence,
                )
            )
        return events

    @staticmethod
    def _key_notify_time(entry: _Tracked, expires: int) -> int | None:
        try:
            policy = entry.vault.keys.get_rotation_policy(entry.version.name)
        except KeyVaultError:
            return expires - NEAR_EXPIRY
        return policy.next_action(entry.version.attributes.created, expires, "Notify")

    @staticmethod
    def _still_live(entry: _Tracked) -> bool:
        try:
            entry.store.get(entry.version.name, entry.version.version)
        except KeyVaultError:
            return False  # deleted: nothing expires in the bin (unverified)
        return True

    def _forget_settled(self, key: tuple[int, str, str], versions: list[_Tracked]) -> None:
        settled = [v for v in versions if len(v.fired) == 2]
        if settled:
            with self._lock:
                current = self._tracked.get(key, [])
                current[:] = [v for v in current if v not in settled or v is current[-1]]

    def _vault_name(self, vault: str | None) -> str | None:
        if vault is None:
            return None
        if not isinstance(vault, str):
            raise ValueError(f"vault takes a vault name or URL, not {vault!r}")
        try:
            address = parse_name_or_url(vault)
        except (ValueError, KeyVaultError) as exc:
            raise ValueError(f"vault={vault!r} is not a vault name or URL: {exc}") from None
        if address.managed_hsm:
            raise ValueError(f"vault={vault!r} can never match: Managed HSMs publish no Key Vault events")
        name = address.name.lower()
        if not _VAULT_NAME.match(name):
            raise ValueError(f"vault={vault!r} is not a vault name or URL (3-24 letters, digits and dashes)")
        return name

    def __repr__(self) -> str:
        return f"<EventGrid {len(self._subscriptions)} subscription(s), {len(self._published)} published>"
