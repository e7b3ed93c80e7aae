"""Run every example under ``examples/`` (and check the docs point at real ones), so they stay honest.

Example test files live outside ``testpaths``; each runs here in its own ``python -m pytest`` process,
exactly as a user would run it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kv_emulator
from kv_emulator import errors

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"
EXAMPLE_TESTS = sorted(path.name for path in EXAMPLES.glob("test_*.py"))
EXAMPLE_SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py") if not path.name.startswith("test_"))
SESSION_EXAMPLE = "test_session_mode.py"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_KV_INTERCEPT", "PYTEST_ADDOPTS")}
    env.update(extra)
    return env


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _pytest(example: str, *options: str, env: dict[str, str] | None = None) -> str:
    result = _run("-m", "pytest", f"examples/{example}", "-p", "no:cacheprovider", "-q", *options, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.mark.slow
def test_quickstart_runs_and_says_ok():
    result = _run("examples/quickstart.py")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "vault      https://kv-emulator.vault.azure.net"
    assert lines[-1] == "quickstart: ok"
    assert result.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize("script", [name for name in EXAMPLE_SCRIPTS if name != "quickstart.py"])
def test_script_runs_and_says_ok(script):
    result = _run(f"examples/{script}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == f"{script.removesuffix('.py')}: ok"


def test_there_are_examples():
    assert {"test_fixture.py", "test_marker.py", "test_async_client.py", "test_errors.py", SESSION_EXAMPLE} <= set(
        EXAMPLE_TESTS
    )
    assert {"quickstart.py", "hello.py"} <= set(EXAMPLE_SCRIPTS)


@pytest.mark.slow
@pytest.mark.parametrize("example", [name for name in EXAMPLE_TESTS if name != SESSION_EXAMPLE])
def test_example_passes(example):
    output = _pytest(example)
    assert re.search(r"\d+ passed", output), output
    assert "skipped" not in output and "warning" not in output.lower(), output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "env"),
    [
        pytest.param(["--kv-intercept=session"], {}, id="command-line"),
        pytest.param([], {"PYTEST_KV_INTERCEPT": "session"}, id="environment"),
        pytest.param(["-o", "kv_intercept=session"], {}, id="ini"),
    ],
)
def test_session_mode_example_passes(options, env):
    output = _pytest(SESSION_EXAMPLE, *options, env=_env(**env))
    assert "3 passed" in output, output


@pytest.mark.slow
def test_session_mode_example_skips_when_session_mode_is_off():
    output = _pytest(SESSION_EXAMPLE, "-rs")
    assert "3 skipped" in output, output
    assert "session mode is off" in output, output


@pytest.mark.slow
def test_a_failure_report_shows_the_journal(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (tmp_path / "test_failing.py").write_text(
        "from azure.keyvault.secrets import SecretClient\n\n"
        "def test_fails(keyvault):\n"
        "    SecretClient(keyvault.vault_url, keyvault.credential).set_secret('a', 'b')\n"
        "    assert False\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_failing.py"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "kv-emulator requests" in result.stdout
    assert "PUT https://kv-emulator.vault.azure.net/secrets/a?api-version=" in result.stdout
    assert "-> 200 [SetSecret]" in result.stdout


# -- the docs point at real files and name every option and error kind -----------------------------------


def _docs() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(DOCS.glob("*.md"))}


def test_docs_reference_existing_examples():
    referenced = {ref for text in _docs().values() for ref in re.findall(r"examples/[\w./-]+\.py", text)}
    assert referenced, "the docs should point at the examples"
    missing = sorted(ref for ref in referenced if not (ROOT / ref).is_file())
    assert not missing, f"docs reference missing examples: {missing}"
    documented = {Path(ref).name for ref in referenced}
    undocumented = sorted({*EXAMPLE_TESTS, *EXAMPLE_SCRIPTS} - documented)
    assert not undocumented, f"examples no doc points at: {undocumented}"


def test_full_examples_in_the_docs_are_example_files():
    """A Python block that starts with an import is a full example: it must be part of an example file."""
    sources = [path.read_text() for path in EXAMPLES.glob("*.py")]
    for name, text in _docs().items():
        for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL):
            if block.startswith(("import ", "from ")):
                assert any(block in source for source in sources), f"{name}: block not in examples/:\n{block}"


def test_docs_list_every_setting():
    text = _docs()["pytest-plugin.md"]
    missing = [name for name in kv_emulator.Settings.option_names() if f"`{name}`" not in text]
    assert not missing, f"docs/pytest-plugin.md does not document: {missing}"


def test_docs_list_every_error_kind():
    text = _docs()["errors.md"]
    kinds = [name for name in errors.__all__ if isinstance(getattr(errors, name), type)]
    missing = [name for name in kinds if f"`{name}`" not in text]
    assert not missing, f"docs/errors.md does not document: {missing}"
