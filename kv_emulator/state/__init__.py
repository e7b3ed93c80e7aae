"""State as data: one lossless, versioned format for everything an emulator knows (docs/state.md).

A state document is plain JSON: ``{"format": 1, "clock": ..., "identity": ..., "registry": ..., ...}``. Each
top-level key but ``format`` is a *section*, written and read by the model that owns it (its ``to_state()``
and ``from_state()``): the clock, the directory, the vault registry (every vault with every version of every
object, deleted ones with their dates, and the backup-sealing key), the control plane, event subscriptions.
Other parts register their own sections with :func:`register_section`; a section this build does not know
is refused on load, never dropped. Nothing of a process (locks, threads, factories) is in it.

``FORMAT`` is the format's version: each change to it adds a step to :data:`MIGRATIONS` that lifts a document
of the previous version, so data written by an older build loads in a newer one; a document of a newer
format than this build knows is refused, naming both. ``schema.json`` beside this module describes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import KeyVaultError

__all__ = [
    "FORMAT",
    "MIGRATIONS",
    "Section",
    "StateError",
    "export_state",
    "import_state",
    "is_state",
    "register_section",
    "sections",
    "upgrade",
]

#: The version of the state format this build writes (and the newest it reads).
FORMAT = 1

#: ``MIGRATIONS[n]`` lifts a document of format ``n`` to format ``n + 1`` (a pure function of plain data).
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class StateError(ValueError):
    """A state document this build cannot load: says what, and what to do."""


@dataclasses.dataclass(frozen=True)
class Section:
    """One top-level part of the state, and who writes and reads it."""

    name: str
    dump: Callable[[Any], Any]
    """``dump(emulator)``: the section as plain JSON-able data, or None when there is nothing to keep."""
    load: Callable[[Any, Any], None]
    """``load(emulator, data)``: put the section back into a fresh (or just emptied) emulator."""
    order: int = 50
    """Sections load in this order (the clock first: the others' times are read against it)."""


_SECTIONS: dict[str, Section] = {}


def register_section(
    name: str, dump: Callable[[Any], Any], load: Callable[[Any, Any], None], *, order: int = 50
) -> Section:
    """Add a section to every state document this build writes and reads (a part's owner calls this once, at
    import). Registering the same name again replaces it (a module reloaded in tests)."""
    if name == "format":
        raise ValueError("'format' is the document's version, not a section")
    section = _SECTIONS[name] = Section(name, dump, load, order)
    return section


def sections() -> list[Section]:
    """The sections this build knows, in load order."""
    _builtins()
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name))


def is_state(document: object) -> bool:
    """Whether a parsed document is a state document (it has ``format``) rather than a seed file."""
    return isinstance(document, Mapping) and "format" in document


def export_state(emulator: Any) -> dict[str, Any]:
    """Everything ``emulator`` knows, as a state document."""
    document: dict[str, Any] = {"format": FORMAT}
    for section in sections():
        value = section.dump(emulator)
        if value is not None:
            document[section.name] = value
    return document


def upgrade(document: Mapping[str, Any], *, source: str = "the state") -> dict[str, Any]:
    """The document lifted to :data:`FORMAT` (a copy), or :class:`StateError` for one this build cannot read:
    a newer format, an unknown section, something that is not a state document."""
    version = document.get("format") if isinstance(document, Mapping) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise StateError(f"{source} is not a kv-emulator state document (no integer 'format')")
    if version > FORMAT:
        raise StateError(
            f"{source} is in state format {version}, written by a newer kv-emulator; this build reads state "
            f"formats 1 to {FORMAT}. Upgrade kv-emulator to read it."
        )
    lifted = dict(document)
    while version < FORMAT:
        lifted = MIGRATIONS[version](lifted)
        version += 1
        lifted["format"] = version
    known = {section.name for section in sections()}
    unknown = sorted(set(lifted) - known - {"format"})
    if unknown:
        raise StateError(
            f"{source} has section(s) {', '.join(repr(n) for n in unknown)} that this build of kv-emulator does "
            f"not know (it knows {', '.join(sorted(known))}): it was written by a build with more parts. "
            "Load it with that build, or remove the section(s) if you mean to lose them."
        )
    return lifted


def import_state(emulator: Any, document: Mapping[str, Any], *, source: str = "the state") -> None:
    """Replace what ``emulator`` knows with the document's (checked and lifted first: a refused document
    changes nothing). Sections the document lacks are emptied, as a dump that lacked them said."""
    lifted = upgrade(document, source=source)
    for section in sections():
        try:
            section.load(emulator, lifted.get(section.name))
        except (KeyVaultError, KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, StateError):
                raise
            what = f"{type(exc).__name__}: {exc}" if not isinstance(exc, KeyVaultError) else str(exc)
            raise StateError(f"{source} cannot be loaded: its {section.name!r} section is not valid ({what})") from exc


def _builtins() -> None:
    """The emulator's own sections (imported late: the models they name import nothing from here)."""
    if "registry" not in _SECTIONS:
        from . import builtin  # noqa: F401  (registers them)
