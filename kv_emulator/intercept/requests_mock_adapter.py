"""``requests-mock`` beside the emulator: vault and identity URLs still reach the emulator.

A ``requests_mock.Mocker`` swaps every session's adapter for its own, which refuses unregistered URLs
(``NoMockAddress``). While an emulator runs, that adapter hands the URLs the emulator answers to a plain
``HTTPAdapter`` instead, where the emulator's ``responses`` door answers them; everything else is the
mocker's as before. Nothing is patched when ``requests-mock`` is not installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any
from unittest import mock

from requests.adapters import HTTPAdapter

__all__ = ["RequestsMockInterceptor"]


class RequestsMockInterceptor:
    def __init__(self, app_for: Callable[[str], Any]) -> None:
        self._app_for = app_for
        self._patch: Any = None

    def start(self) -> None:
        if importlib.util.find_spec("requests_mock") is None:
            return
        from requests_mock.adapter import Adapter

        previous = Adapter.send
        app_for = self._app_for

        def send(adapter: Any, request: Any, **kwargs: Any) -> Any:
            if app_for(str(request.url)) is not None:
                return HTTPAdapter().send(request, **kwargs)  # answered by the emulator's responses door
            return previous(adapter, request, **kwargs)

        self._patch = mock.patch.object(Adapter, "send", send)
        self._patch.start()

    def stop(self) -> None:
        if self._patch is not None:
            self._patch.stop()
            self._patch = None
