"""What does installing the pytest plugin cost a project that never uses it?

Runs ``python -X importtime -c "import pytest_kv.plugin"`` ``--runs`` times in fresh processes and reports
the medians of: pytest itself (paid by any pytest run), the plugin's own modules on top of it, and whether
``kv_emulator`` (with the Azure SDK, cryptography and werkzeug) was imported at all. Then it runs
``pytest --collect-only`` on a project with one plain test and reports whether ``kv_emulator`` was loaded.

    python benchmarks/plugin_import.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def _importtime() -> dict[str, tuple[int, int]]:
    """(self, cumulative) microseconds per module, from one ``-X importtime`` run."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pytest_kv.plugin"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    times: dict[str, tuple[int, int]] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if cumulative.isdigit():
            times[name] = (int(own), int(cumulative))
    return times


def _own(run: dict[str, tuple[int, int]]) -> int:
    """The plugin's own modules (an editable install's import hook, when there is one, counts apart)."""
    return sum(own for name, (own, _) in run.items() if name == "pytest_kv" or name.startswith("pytest_kv."))


def _collect_loads_kv_emulator() -> bool:
    with tempfile.TemporaryDirectory() as project:
        Path(project, "test_plain.py").write_text("def test_plain():\n    assert True\n")
        Path(project, "conftest.py").write_text(
            "import sys\n\ndef pytest_sessionfinish(session):\n"
            "    print('kv_emulator loaded:', 'kv_emulator' in sys.modules)\n"
        )
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-s", "-p", "no:cacheprovider", project],
            capture_output=True,
            text=True,
            cwd=project,
        )
    return "kv_emulator loaded: True" in result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = [_importtime() for _ in range(parser.parse_args().runs)]
    pytest_ms = statistics.median(run.get("pytest", (0, 0))[1] for run in runs) / 1000
    plugin_ms = statistics.median(_own(run) for run in runs) / 1000
    total_ms = statistics.median(run["pytest_kv.plugin"][1] for run in runs) / 1000
    loaded = sum("kv_emulator" in run for run in runs)
    print(f"import pytest_kv.plugin, {len(runs)} fresh processes (median)")
    print(f"  pytest itself (any pytest run pays it)  {pytest_ms:8.1f} ms")
    print(f"  the plugin's own modules                {plugin_ms:8.1f} ms")
    print(f"  total (with pytest, and any editable-install hook) {total_ms:8.1f} ms")
    print(f"  kv_emulator imported                    {loaded} of {len(runs)} runs")
    print(f"  pytest --collect-only, plain project    kv_emulator loaded: {_collect_loads_kv_emulator()}")


if __name__ == "__main__":
    main()
