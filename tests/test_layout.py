"""The house's shape: one installed namespace, floors that only point down, true public surfaces.

Floors, lowest first (STYLE.md "Layout shows the architecture"):
``protocols`` → ``cases`` / ``forms`` / ``signin`` → ``intake`` / ``render`` → ``outbox`` → ``web`` → the
``resdesk`` shell. ``resdesk.errors`` is a leaf every floor may use; it imports nothing of the
product, and ``resdesk/__init__.py`` imports nothing but it, so using the error tree never loads
the shell.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Folder in the checkout -> (installed name, floor). Same-floor packages may not import each other.
FLOORS = {
    "protocols": ("resdesk.protocols", 0),
    "cases": ("resdesk.cases", 1),
    "forms": ("resdesk.forms", 1),
    "signin": ("resdesk.signin", 1),
    "intake": ("resdesk.intake", 2),
    "render": ("resdesk.render", 2),
    "outbox": ("resdesk.outbox", 3),
    # Returns read the case file and render; the workspace (floor 4) shows them.
    "reports": ("resdesk.reports", 3),
    "web": ("resdesk.web", 4),
    "resdesk": ("resdesk", 5),
}
LEAF = "resdesk.errors"
CORE = [folder for folder, (_, floor) in FLOORS.items() if floor < 5]
BARE = {"intake", "forms", "cases", "render", "protocols", "outbox", "reports", "web", "signin"}


def _package_of(module: str) -> str | None:
    """The checkout folder a ``resdesk...`` module lives in, or None for the leaf error tree."""
    if module == LEAF or module.startswith(LEAF + "."):
        return None
    parts = module.split(".")
    if parts[0] != "resdesk":
        return None
    if len(parts) > 1 and parts[1] in FLOORS and parts[1] != "resdesk":
        return parts[1]
    return "resdesk"


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import in ``path`` as (line, module); ``from resdesk import x`` gives ``resdesk.x``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module == "resdesk":
                found += [(node.lineno, f"resdesk.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def _modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def test_imports_only_point_down():
    """GIVEN every module of every floor WHEN its imports are read
    THEN none reaches a higher floor or a different package on the same floor, and no core
    package imports the shell."""
    wrong = []
    for folder in FLOORS:
        if not (ROOT / folder).is_dir():
            continue
        floor = FLOORS[folder][1]
        for path in _modules(folder):
            for line, module in _imports(path):
                target = _package_of(module)
                if target is None or target == folder:
                    continue
                if FLOORS[target][1] >= floor:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert wrong == []


def test_nothing_imports_a_bare_top_level_package():
    """GIVEN every Python file of the project WHEN its imports are read
    THEN none names ``intake``, ``forms``, ``cases``, ``render``, ``protocols`` or ``outbox`` bare."""
    bare = []
    for path in sorted(ROOT.rglob("*.py")):
        if {".venv", ".git", "__pycache__"} & set(path.relative_to(ROOT).parts):
            continue
        for line, module in _imports(path):
            if module.split(".")[0] in BARE:
                bare.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert bare == []


def test_the_error_tree_is_a_leaf():
    """GIVEN resdesk/errors.py and resdesk/__init__.py WHEN their imports are read
    THEN the error tree imports nothing of the product, and loading the package loads only it."""
    assert [m for _, m in _imports(ROOT / "resdesk" / "errors.py") if m.startswith("resdesk")] == []
    body = ast.parse((ROOT / "resdesk" / "__init__.py").read_text()).body  # main() imports the cli lazily
    top = [n.module for n in body if isinstance(n, ast.ImportFrom)] + [a.name for n in body if isinstance(n, ast.Import) for a in n.names]
    assert set(top) <= {LEAF, "__future__"}


def test_core_loads_without_the_shell():
    """GIVEN a fresh interpreter WHEN every core package is imported
    THEN no shell module (cli, settings, wiring, commands, demo) has been loaded."""
    names = [FLOORS[f][0] for f in CORE if (ROOT / f).is_dir()]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "shell = ('resdesk.cli', 'resdesk.settings', 'resdesk.wiring', 'resdesk.commands', 'resdesk.demo')\n"
        "print(sorted(m for m in sys.modules if m.startswith(shell)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def test_pyproject_installs_every_package_folder():
    """GIVEN pyproject.toml's package list WHEN compared with the folders holding an __init__.py
    THEN every package folder is installed under the resdesk namespace, and nothing else is."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    expected = set()
    for installed, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            rel = init.parent.relative_to(ROOT / folder).parts
            expected.add(".".join((installed, *rel)))
    assert set(config["packages"]) == expected
    assert all(name == "resdesk" or name.startswith("resdesk.") for name in config["packages"])


@pytest.mark.parametrize("package", sorted(FLOORS[f][0] for f in FLOORS if (ROOT / f).is_dir()) + ["resdesk.intake.sources"])
def test_every_public_surface_is_true(package):
    """GIVEN a package's __all__ WHEN each name is looked up THEN each exists."""
    module = importlib.import_module(package)
    assert [name for name in module.__all__ if not hasattr(module, name)] == []


@pytest.mark.e2e
def test_the_wheel_holds_one_package_and_runs_the_demo(tmp_path):
    """GIVEN the project built as a wheel WHEN its names are listed and it is installed in a fresh
    virtual environment THEN its only top-level package is ``resdesk``, and ``resdesk demo`` run
    from an empty folder exits 0 with the 14 demo cases; ``migrate --check`` and ``health`` run on
    its case file, and `resdesk serve` answers its sign-in page and metrics."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    (wheel,) = wheels.glob("resdesk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {"resdesk"}
    assert any(name.startswith("resdesk/samples/maildir/oldham/new/") for name in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    installed = subprocess.run([*pip, str(wheel)], capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-2000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESDESK_") and k != "PYTHONPATH"}
    run = subprocess.run(
        [str(venv / "bin" / "resdesk"), "demo", "--out", str(elsewhere / "demo"), "--json"],
        cwd=elsewhere, capture_output=True, text=True, timeout=600, env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert len(report["cases"]) == 14
    assert str(ROOT) not in run.stdout

    # The service's own commands run from the wheel too: the schema check and the health checks.
    env["RESDESK_STORAGE__DATABASE"] = f"sqlite:///{elsewhere / 'demo' / 'resdesk.sqlite3'}"
    check = subprocess.run([str(venv / "bin" / "resdesk"), "migrate", "--check"], cwd=elsewhere,
                           capture_output=True, text=True, timeout=120, env=env)
    assert check.returncode == 0, check.stderr[-2000:]
    health = subprocess.run([str(venv / "bin" / "resdesk"), "health", "--json"], cwd=elsewhere,
                            capture_output=True, text=True, timeout=120, env=env)
    checks = json.loads(health.stdout)["checks"]
    assert checks["case_file"]["ok"] and not checks["watcher"]["ok"]  # no watcher runs

    # And the workspace: `resdesk serve` from the wheel answers its health route and its sign-in page.
    port = _free_port()
    env.update(RESDESK_WEB__SECURE_COOKIES="false", RESDESK_WEB__PORT=str(port))
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen([str(venv / "bin" / "resdesk"), "serve"], cwd=elsewhere, env=env,
                                  stdout=log, stderr=log)
        try:
            login = _wait_for(f"http://127.0.0.1:{port}/login", server, log)
            assert login.status == 200 and 'name="password"' in login.read().decode()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as metrics:
                assert b"resdesk_" in metrics.read()
        finally:
            server.terminate()
            server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log) -> object:
    """The first answer from ``url`` while ``process`` starts (up to a minute); what it said if it died."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise AssertionError(log.read().decode(errors="replace")[-2000:]) from None
            time.sleep(0.3)
