"""The counters' folder (``service.metrics_dir``) is opt-in: a command never fails, nor litters the folder it
runs in, for counters nobody asked to share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "resdesk.toml"
    config.write_text(
        f'[storage]\ndatabase = "sqlite:///{tmp_path / "resdesk.sqlite3"}"\narchive = "{tmp_path / "archive"}"\n'
        f'[smtp]\npickup_folder = "{tmp_path / "outbox"}"\n'
    )
    return config


def test_a_tick_started_where_var_metrics_cannot_be_made_still_does_its_work(tmp_path):
    """GIVEN settings that never mention ``service.metrics_dir`` and a working folder where ``var/metrics``
    cannot be made (here ``var`` is a file; likewise a read-only folder, or ``/`` for a user who is not
    root, systemd's default working folder) WHEN ``resdesk tick`` runs THEN it plans and sends as it did
    before the counters were shared (the counters are optional; the outbox is not): exit 0."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "var").write_text("not a folder")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESDESK_", "PROMETHEUS_"))}
    run = subprocess.run([sys.executable, "-m", "resdesk", "tick", "--config", str(_config(tmp_path))],
                         cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr


def test_running_a_test_file_leaves_no_counter_files_in_the_repository(tmp_path):
    """GIVEN the repository's ``var/metrics`` as it is WHEN one test file that runs ``resdesk tick`` inside
    the test process (tests/cases/test_case_upgrade.py, its SQLite case) runs from the repository, as
    ``make test`` does THEN no counter file is added under the repository: the suite does not litter the
    working tree, nor set PROMETHEUS_MULTIPROC_DIR for the rest of its process."""
    folder = ROOT / "var" / "metrics"
    before = set(folder.glob("*.db")) if folder.is_dir() else set()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESDESK_", "PROMETHEUS_"))}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "tests/cases/test_case_upgrade.py::test_an_old_case_file_is_refused_until_migrate_upgrades_it[sqlite]"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    after = set(folder.glob("*.db")) if folder.is_dir() else set()
    assert after - before == set(), sorted(p.name for p in after - before)
