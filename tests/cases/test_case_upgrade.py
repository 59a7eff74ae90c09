"""An existing case file is upgraded only by `resdesk migrate`; the services refuse an old schema."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import text

from resdesk.cases import open_store, verify_chain
from resdesk.cases.engine import _alembic_config, create_store_engine, current_revision, head_revision
from resdesk.cli import main
from resdesk.errors import SchemaOutOfDate, StoreError

AT = datetime(2026, 5, 1, 9, 30)


def _old_hash(prev: str, seq: int, payload: dict) -> str:
    """The link as revision 0001 hashed it: the payload itself inside the canonical JSON."""
    document = {"seq": seq, "at": AT.replace(tzinfo=timezone.utc).isoformat(timespec="microseconds"),
                "actor": "resdesk", "action": "case-details-updated", "case_ref": "OLD-2026-0001", "payload": payload}
    text_ = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + text_).encode()).hexdigest()


def _case_file_at_0001(url: str, *, tamper: bool = False) -> None:
    """A case file made by the previous version: schema 0001 and three audit entries hashed its way."""
    engine = create_store_engine(url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        prev = "0" * 64
        for seq in (1, 2, 3):
            payload = {"child_name": "Zoë O'Brien", "n": seq}
            digest = _old_hash(prev, seq, payload)
            if tamper and seq == 2:
                payload = {"child_name": "someone else", "n": seq}
            connection.execute(text(
                "INSERT INTO audit (seq, at, actor, action, case_ref, payload, prev_hash, hash) "
                "VALUES (:seq, :at, 'resdesk', 'case-details-updated', 'OLD-2026-0001', :payload, :prev, :hash)"
            ), {"seq": seq, "at": AT, "payload": json.dumps(payload), "prev": prev, "hash": digest})
            prev = digest
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'resdesk.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()


def _config(tmp_path, url: str) -> str:
    config = tmp_path / "resdesk.toml"
    config.write_text(f'[storage]\ndatabase = "{url}"\narchive = "{tmp_path / "archive"}"\n')
    return str(config)


def test_an_old_case_file_is_refused_until_migrate_upgrades_it(url, tmp_path, capsys):
    """GIVEN a case file at schema 0001 WHEN a service opens it THEN it is refused with a sentence naming
    `resdesk migrate`; WHEN `migrate --check` runs THEN it exits 1 and changes nothing; WHEN `migrate` runs
    THEN the schema is at head, the old audit chain was relinked and verifies, and the service opens it."""
    _case_file_at_0001(url)
    with pytest.raises(SchemaOutOfDate, match="run `resdesk migrate`"):
        open_store(url, tmp_path / "archive")
    config = _config(tmp_path, url)
    assert main(["tick", "--config", config]) == 1
    assert "resdesk migrate" in capsys.readouterr().err

    assert main(["migrate", "--check", "--config", config, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["was"], report["up_to_date"]) == ("0001", False)
    engine = create_store_engine(url)
    assert current_revision(engine) == "0001"

    assert main(["migrate", "--config", config]) == 0
    assert f"from schema 0001 to {head_revision()}" in capsys.readouterr().out
    assert current_revision(engine) == head_revision()
    engine.dispose()
    store = open_store(url, tmp_path / "archive")
    assert verify_chain(store) == (True, None)
    with store.transaction() as tx:
        tx.audit("resdesk", "after-upgrade", None, {})
    assert verify_chain(store) == (True, None)
    store.close()
    assert main(["migrate", "--check", "--config", config]) == 0


def test_migrate_refuses_an_old_chain_that_is_already_broken(url, tmp_path):
    """GIVEN a 0001 case file whose audit entry 2 was edited WHEN it is migrated THEN the upgrade stops,
    naming entry 2, and the case file stays at 0001 (nothing is relinked over the tampering)."""
    _case_file_at_0001(url, tamper=True)
    with pytest.raises(StoreError, match="broken at entry 2"):
        open_store(url, tmp_path / "archive", upgrade=True)
    engine = create_store_engine(url)
    assert current_revision(engine) == "0001"
    engine.dispose()
