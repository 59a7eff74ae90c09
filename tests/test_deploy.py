"""Running it for real: the systemd units verify, the Containerfile lints and installs only the wheel."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resdesk.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/resdesk/venv/bin/resdesk"
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
             "CapabilityBoundingSet=", "User=resdesk")


def test_systemd_analyze_verify_passes_on_the_units(tmp_path):
    """GIVEN the watch, serve and tick services and the tick timer, with the install prefix pointed at this
    checkout's resdesk WHEN `systemd-analyze verify` checks them THEN it reports nothing and exits 0."""
    resdesk = Path(sys.executable).with_name("resdesk")
    for unit in UNITS.glob("resdesk-*"):
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, str(resdesk)))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["resdesk-serve.service", "resdesk-tick.service", "resdesk-tick.timer", "resdesk-watch.service"]
    result = subprocess.run(["systemd-analyze", "verify", *names], cwd=tmp_path, capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("unit", ["resdesk-watch.service", "resdesk-serve.service", "resdesk-tick.service"])
def test_each_service_runs_hardened_as_its_own_user_with_secrets_as_credentials(unit):
    """GIVEN a service unit THEN it runs as the resdesk user with the hardening options, and any password
    arrives through LoadCredential=, never written in the unit."""
    text = (UNITS / unit).read_text()
    lines = set(text.splitlines())
    assert [option for option in HARDENING if option not in lines] == []
    assert "password" not in re.sub(r"(LoadCredential=\S+|#.*)", "", text).lower()
    assert any(line.startswith("LoadCredential=smtp-password:") for line in lines)


def test_the_watcher_refuses_to_start_on_an_old_schema():
    """GIVEN the watcher and web units THEN each checks the schema (`migrate --check`) before starting."""
    for unit in ("resdesk-watch.service", "resdesk-serve.service"):
        assert f"ExecStartPre={INSTALLED} migrate --check" in (UNITS / unit).read_text()


def test_credentials_from_load_credential_reach_the_settings(tmp_path):
    """GIVEN $CREDENTIALS_DIRECTORY holding mailbox-password and smtp-password WHEN settings load THEN both
    passwords are set from those files; an environment variable still wins."""
    (tmp_path / "mailbox-password").write_text("imap-secret\n")
    (tmp_path / "smtp-password").write_text("smtp-secret\n")
    settings = load_settings(environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert (settings.mailbox.password, settings.smtp.password) == ("imap-secret", "smtp-secret")
    settings = load_settings(environ={"CREDENTIALS_DIRECTORY": str(tmp_path), "RESDESK_SMTP__PASSWORD": "env"})
    assert settings.smtp.password == "env"


def test_the_containerfile_lints_clean_and_installs_only_the_built_wheel():
    """GIVEN the Containerfile WHEN hadolint checks it THEN it finds nothing; and its runtime stage installs the
    wheel built in the first stage (with the PostgreSQL driver) and none of the test servers."""
    result = subprocess.run([shutil.which("hadolint") or Path(sys.executable).with_name("hadolint"),
                             str(ROOT / "Containerfile")], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "")
    text = (ROOT / "Containerfile").read_text()
    build, runtime = text.split("\nFROM ", 2)[1:]
    assert "python -m build --wheel --outdir /wheels" in build
    assert "COPY --from=build /wheels/" in runtime and "resdesk-*.whl)[postgresql]" in runtime
    for test_only in ("dovecot", "libreoffice", "qpdf", "poppler", "postgresql ", "[test]"):
        assert test_only not in runtime
    assert 'CMD ["demo"' in runtime and "USER 10001" in runtime
