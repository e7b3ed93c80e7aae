"""Event Grid notifications from the emulated vaults: ``emulator.events.subscribe(...)``; docs/events.md."""

from .delivery import RETRY_DELAYS
from .grid import EventGrid, weakly
from .shapes import EVENT_TYPES, format_time
from .subscriptions import HandlerError, Subscription

__all__ = ["EVENT_TYPES", "RETRY_DELAYS", "EventGrid", "HandlerError", "Subscription", "format_time", "weakly"]
