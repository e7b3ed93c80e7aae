"""The one place the version is written: ``kv_emulator.__version__``, ``kv-emulator --version`` and the
package metadata (pyproject.toml reads it) all come from here."""

__version__ = "0.1.0"
