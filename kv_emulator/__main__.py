"""``kv-emulator`` and ``python -m kv_emulator``: serve, ca, env (see docs/server.md)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from .emulator import Emulator
    from .server.cli import main as cli

    return cli(argv, make_emulator=Emulator)


if __name__ == "__main__":
    sys.exit(main())
