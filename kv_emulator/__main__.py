"""``python -m kv_emulator serve``: the same as the ``kv-emulator`` command."""

from __future__ import annotations

import sys

from .server.cli import main

if __name__ == "__main__":
    sys.exit(main())
