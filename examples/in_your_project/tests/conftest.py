"""Imports the application, which reads a secret at import time: session mode is already active here."""

from __future__ import annotations

import orders_app  # noqa: F401  # reads db-password from the (emulated, seeded) vault
