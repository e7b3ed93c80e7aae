"""Event subscriptions: what one subscriber asked for (filters, schema, handler or webhook) and what it got.

The filters are Event Grid's: included event types, subject begins/ends with (case-insensitive, as Event
Grid's default ``isSubjectCaseSensitive: false``), and the vault (the topic). Arguments that can never
match anything are refused at subscribe time with a ``ValueError``, so a typo does not pass silently.
"""

from __future__ import annotations

import inspect
import re
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from .shapes import EVENT_TYPES, PREFIX, SCHEMAS, Event

__all__ = ["HandlerError", "Subscription"]

# Subjects are object names (or the vault's name): letters, digits and dashes only.
_SUBJECT_TEXT = re.compile(r"^[0-9a-zA-Z-]*$")
_SHORT_TYPES = {t[len(PREFIX) :].lower(): t for t in EVENT_TYPES}


class HandlerError:
    """A handler (or webhook) failure: the event it failed on and the error, kept for the test report."""

    def __init__(self, subscription: str, event: dict[str, Any], error: BaseException | str) -> None:
        self.subscription = subscription
        self.event = event
        self.error = error
        self.traceback = (
            "".join(traceback.format_exception(type(error), error, error.__traceback__))
            if isinstance(error, BaseException)
            else str(error)
        )

    @property
    def event_type(self) -> str:
        return str(self.event.get("eventType") or self.event.get("type"))

    def __str__(self) -> str:
        subject = self.event.get("subject")
        return f"subscription {self.subscription}, {self.event_type} for {subject!r}:\n{self.traceback}"

    def __repr__(self) -> str:
        return f"<HandlerError {self.subscription} {self.event_type}: {self.error!r}>"


def _event_types(types: str | Iterable[str] | None) -> frozenset[str] | None:
    if types is None:
        return None
    given = [types] if isinstance(types, str) else list(types)
    if not given:
        raise ValueError("types=[] can never match: give at least one event type, or None for all of them")
    resolved = set()
    for name in given:
        if not isinstance(name, str):
            raise ValueError(f"event types are strings, not {name!r}")
        full = _SHORT_TYPES.get(name.lower().removeprefix(PREFIX.lower()))
        if full is None:
            raise ValueError(f"unknown Key Vault event type {name!r}; known types: {', '.join(EVENT_TYPES)}")
        resolved.add(full)
    return frozenset(resolved)


def _subject_filter(value: str | None, which: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{which} takes a string, not {value!r}")
    if not _SUBJECT_TEXT.match(value) or len(value) > 127:
        raise ValueError(
            f"{which}={value!r} can never match: a Key Vault event's subject is the object's name "
            "(letters, digits and dashes, at most 127), e.g. subject_begins_with='db-'"
        )
    return value.lower()


def _endpoint(endpoint: str | None) -> str | None:
    if endpoint is None:
        return None
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"endpoint must be an http(s) URL, not {endpoint!r}")
    return endpoint


class Subscription:
    """One event subscription. ``received`` lists the events it matched, in its schema, in order."""

    def __init__(
        self,
        name: str,
        *,
        handler: Callable[[dict[str, Any]], Any] | None,
        endpoint: str | None,
        types: str | Iterable[str] | None,
        subject_begins_with: str | None,
        subject_ends_with: str | None,
        schema: str,
        vault: str | None,
        since: int,
    ) -> None:
        if handler is not None and not callable(handler):
            raise ValueError(f"handler must be callable, not {handler!r}")
        if inspect.iscoroutinefunction(handler):
            raise ValueError("handlers are called synchronously, with the request: pass a plain function")
        resolved = SCHEMAS.get(schema.lower()) if isinstance(schema, str) else None
        if resolved is None:
            raise ValueError(f"unknown schema {schema!r}: use 'eventgrid' or 'cloudevents'")
        if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9-]{3,64}$", name):
            raise ValueError(f"name={name!r}: Event Grid names subscriptions with 3-64 letters, digits and dashes")
        self.name = name
        self.handler = handler
        self.endpoint = _endpoint(endpoint)
        self.types = _event_types(types)
        self.subject_begins_with = _subject_filter(subject_begins_with, "subject_begins_with")
        self.subject_ends_with = _subject_filter(subject_ends_with, "subject_ends_with")
        self.schema = resolved
        self.vault = vault
        """The vault's name (lowercase), or None for every vault of the emulator."""
        self.since = since
        self.active = True
        self._lock = threading.Lock()
        self._received: list[dict[str, Any]] = []
        self._dead_letters: list[dict[str, Any]] = []
        self._errors: list[HandlerError] = []
        self._refresh: Callable[[], None] = lambda: None
        self._changed: Callable[[], None] = lambda: None
        """Called after what it got changed (an event received, a dead letter): the grid counts its changes."""

    def matches(self, event: Event) -> bool:
        subject = event.subject.lower()
        return (
            self.active
            and event.sequence > self.since
            and (self.vault is None or event.vault.lower() == self.vault)
            and (self.types is None or event.type in self.types)
            and (self.subject_begins_with is None or subject.startswith(self.subject_begins_with))
            and (self.subject_ends_with is None or subject.endswith(self.subject_ends_with))
        )

    # -- what it got ------------------------------------------------------------------------------

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every event this subscription matched, as dicts in its schema (events due by now included)."""
        self._refresh()
        with self._lock:
            return list(self._received)

    @property
    def dead_letters(self) -> list[dict[str, Any]]:
        """Events its webhook never accepted: the event plus ``deadLetterReason``, ``deliveryAttempts``, ..."""
        self._refresh()
        with self._lock:
            return list(self._dead_letters)

    @property
    def errors(self) -> list[HandlerError]:
        """Exceptions its handler raised (the request that caused the event went on unharmed)."""
        self._refresh()
        with self._lock:
            return list(self._errors)

    def _record(self, rendered: dict[str, Any]) -> None:
        with self._lock:
            self._received.append(rendered)
        self._changed()

    def _record_error(self, rendered: dict[str, Any], error: BaseException | str) -> None:
        with self._lock:
            self._errors.append(HandlerError(self.name, rendered, error))

    def _record_dead_letter(self, letter: dict[str, Any]) -> None:
        with self._lock:
            self._dead_letters.append(letter)
        self._changed()

    def _settings(self) -> dict[str, Any]:
        """What the subscription was made with, as both the description and the state write it."""
        return {
            "name": self.name,
            "endpoint": self.endpoint,
            "types": sorted(self.types) if self.types is not None else None,
            "subject_begins_with": self.subject_begins_with,
            "subject_ends_with": self.subject_ends_with,
            "schema": self.schema,
            "vault": self.vault,
        }

    def to_dict(self, *, events: bool = False) -> dict[str, Any]:
        """A JSON-friendly description (for the server's management API); with ``events=True`` the received
        events, dead letters and handler errors themselves instead of their counts."""
        if events:
            self._refresh()
            with self._lock:
                details = {
                    "received": list(self._received),
                    "dead_letters": list(self._dead_letters),
                    "errors": [{"event": e.event, "error": e.traceback} for e in self._errors],
                }
            return {**self.to_dict(), **details}
        return {
            **self._settings(),
            "received": len(self._received),
            "dead_letters": len(self._dead_letters),
            "errors": len(self._errors),
        }

    def to_state(self) -> dict[str, Any]:
        """Plain data (kv_emulator.state): a webhook subscription and what it got (a handler is a process's
        function: such subscriptions are not state, and are left out by :meth:`EventGrid.to_state`)."""
        self._refresh()
        with self._lock:
            return {
                **self._settings(),
                "received": list(self._received),
                "dead_letters": list(self._dead_letters),
            }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Subscription:
        subscription = cls(
            data["name"],
            handler=None,
            endpoint=data.get("endpoint"),
            types=data.get("types"),
            subject_begins_with=data.get("subject_begins_with"),
            subject_ends_with=data.get("subject_ends_with"),
            schema=data.get("schema", "eventgrid"),
            vault=data.get("vault"),
            since=0,
        )
        subscription._received = list(data.get("received", ()))
        subscription._dead_letters = list(data.get("dead_letters", ()))
        return subscription

    def __repr__(self) -> str:
        target = self.endpoint or getattr(self.handler, "__name__", None) or "recorded only"
        return f"<Subscription {self.name} -> {target}, {len(self._received)} received>"
