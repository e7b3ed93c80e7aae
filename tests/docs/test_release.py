"""A release that installs (issue 21, item 6): the wheel built from this tree works in a fresh venv.

Marked ``release`` (about 15-30 s: a wheel build, a venv, a server start and a pytest run); deselect it with
``-m "not release"``. The wheel is built from a copy of the tree with the ``build`` front end (the dev extra)
and the setuptools already installed (``--no-isolation``: no download), and installed with ``--no-deps``.
The fresh venv borrows this environment's dependencies through a path entry, never its kv_emulator: the
test checks that ``kv_emulator`` and ``pytest_kv`` are imported from the wheel's files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest
import requests

import kv_emulator

pytestmark = [pytest.mark.release, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "kv_emulator", "pytest_kv")


def _run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=180, cwd=cwd, env=env
    )
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build", reason="the dev extra's `build` builds the wheel")
    tree = tmp_path_factory.mktemp("tree")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tree / name)
    out = tmp_path_factory.mktemp("dist")
    log = _run(sys.executable, "-m", "build", "--wheel", "--sdist", "--no-isolation", "--outdir", out, tree)
    warnings = [line for line in log.splitlines() if "warning" in line.lower() and "byte-compil" not in line]
    assert not warnings, "\n".join(warnings)  # e.g. setuptools' deprecated license table
    (built,) = out.glob("kv_emulator-*.whl")
    assert built.name == f"kv_emulator-{kv_emulator.__version__}-py3-none-any.whl"  # one source for the version
    assert list(out.glob(f"kv_emulator-{kv_emulator.__version__}.tar.gz"))
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with only the wheel installed; the dependencies come from this environment's site-packages."""
    home = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", home)
    python = home / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return home


def _clean_env() -> dict[str, str]:
    """No PYTHONPATH: the venv must find kv_emulator in its own site-packages."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_the_wheel_installs_a_console_script_and_the_pytest_plugin(venv: Path) -> None:
    python = venv / "bin" / "python"
    where = json.loads(
        _run(
            python,
            "-c",
            "import json, kv_emulator, pytest_kv; "
            "print(json.dumps([kv_emulator.__file__, pytest_kv.__file__, kv_emulator.__version__]))",
            cwd=venv,  # not this tree: python -c puts the working directory first on sys.path
            env=_clean_env(),
        )
    )
    assert all(path.startswith(str(venv)) for path in where[:2]), where  # the wheel's copy, not this tree
    assert where[2] == kv_emulator.__version__
    (dist_info,) = (venv / "lib").glob("python*/site-packages/kv_emulator-*.dist-info")
    entry_points = (dist_info / "entry_points.txt").read_text()
    assert "[pytest11]" in entry_points and "keyvault = pytest_kv.plugin" in entry_points
    assert "kv-emulator = kv_emulator.__main__:main" in entry_points
    assert "License-Expression: MIT" in (dist_info / "METADATA").read_text()
    assert (dist_info / "licenses" / "LICENSE").is_file()
    version = _run(venv / "bin" / "kv-emulator", "--version", env=_clean_env())
    assert version.strip() == f"kv-emulator {kv_emulator.__version__}"


def test_the_installed_console_script_serves(venv: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    command = [venv / "bin" / "kv-emulator", "serve", "--port", "0", "--proxy-port", "0", "--ephemeral"]
    server = subprocess.Popen(
        [*command, "--data-dir", data_dir, "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(),
    )
    try:
        deadline = time.monotonic() + 60
        while not (data_dir / "server.json").exists():
            assert server.poll() is None and time.monotonic() < deadline, "the installed server did not start"
            time.sleep(0.1)
        runtime = json.loads((data_dir / "server.json").read_text())
        health = requests.get(f"http://127.0.0.1:{runtime['proxy_port']}/_kv/health", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=20)
        for stream in (server.stdout, server.stderr):
            if stream is not None:
                stream.close()
    assert server.returncode == 0


def test_the_installed_pytest_plugin_runs_a_test(venv: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "test_uses_the_plugin.py").write_text(
        textwrap.dedent(
            """
            from azure.keyvault.secrets import SecretClient

            def test_a_secret(keyvault):
                client = SecretClient(keyvault.vault_url, keyvault.credential)
                client.set_secret("db-password", "hunter2")
                assert client.get_secret("db-password").value == "hunter2"
            """
        )
    )
    command = ("-m", "pytest", "-q", "-p", "no:cacheprovider")
    probe = "import pytest_kv.plugin as p; print(p.__file__)"
    assert _run(venv / "bin" / "python", "-c", probe, cwd=project, env=_clean_env()).startswith(str(venv))
    output = _run(venv / "bin" / "python", *command, cwd=project, env=_clean_env())
    assert "1 passed" in output
