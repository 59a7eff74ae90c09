"""Fixtures for the forms tests: the samples, and a private LibreOffice for conversions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SAMPLES = HERE.parents[1] / "samples" / "forms"


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def soffice(tmp_path_factory):
    """Convert files with a real LibreOffice using a profile private to this test session."""
    profile = tmp_path_factory.mktemp("lo-profile")

    def convert(files: list[Path], target: str, outdir: Path) -> list[Path]:
        outdir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", target, "--outdir", str(outdir), *map(str, files)],
            capture_output=True, text=True, timeout=180,
        )
        extension = target.split(":")[0]
        produced = [outdir / (f.stem + "." + extension) for f in files]
        missing = [p for p in produced if not p.exists()]
        assert not missing, f"LibreOffice did not produce {missing}: {result.stdout} {result.stderr}"
        return produced

    return convert
