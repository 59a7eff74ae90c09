"""The dependency gate: what is installed meets the advisory-free lower bounds, and pip-audit finds no
known vulnerability in it (it asks the package index, as CI can)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in [*project["dependencies"], *project["optional-dependencies"]["test"]]]


def test_every_installed_dependency_meets_its_lower_bound():
    """GIVEN pyproject's requirements (bounds past the releases with advisories) WHEN the installed
    versions are read THEN each one satisfies its requirement, so a stale environment cannot pass."""
    unmet = []
    for requirement in _requirements():
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            unmet.append(f"{requirement} is not installed")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            unmet.append(f"{requirement.name} {installed} does not meet {requirement.specifier}")
    assert unmet == []


def test_pip_audit_finds_no_known_vulnerability_in_what_is_installed(tmp_path):
    """GIVEN the installed environment WHEN pip-audit checks every installed distribution against the
    package index's advisories THEN none has a known vulnerability (the product itself, installed
    editable, is not on the index and is skipped)."""
    report = tmp_path / "audit.json"
    done = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--format", "json", "--output", str(report),
         "--skip-editable", "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=600,
    )
    assert report.exists(), done.stderr[-2000:]
    dependencies = json.loads(report.read_text())["dependencies"]
    vulnerable = {d["name"]: [v["id"] for v in d["vulns"]] for d in dependencies if d.get("vulns")}
    assert vulnerable == {}
    assert done.returncode == 0, done.stderr[-2000:]
