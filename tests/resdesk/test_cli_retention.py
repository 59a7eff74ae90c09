"""The retention and legal hold commands, through the command line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from resdesk.cases import open_store, verify_chain
from resdesk.cli import main

NOW = datetime(2036, 6, 1, 12, tzinfo=timezone.utc)


def test_hold_dry_run_and_apply_through_the_commands(tmp_path, capsys, oldham):
    """GIVEN two cases resolved ten years ago and a Maildir WHEN one is held with `resdesk case REF --hold` and
    `resdesk retention --dry-run` runs THEN only the other is listed and nothing changes; WHEN `--apply` runs THEN
    it is gone, the held one stays, and the chain verifies; a hold without a case is one clear error."""
    url = f"sqlite:///{tmp_path / 'case.sqlite3'}"
    store = open_store(url, tmp_path / "archive")
    refs = []
    with store.transaction() as tx:
        for _ in range(2):
            case = tx.create_case(oldham, NOW - timedelta(days=4000))
            case.status, case.resolved_at = "resolved", NOW - timedelta(days=3660)
            refs.append(case.ref)
    store.close()
    config = tmp_path / "resdesk.toml"
    config.write_text(f'[storage]\ndatabase = "{url}"\narchive = "{tmp_path / "archive"}"\n'
                      f'[mailbox]\npath = "{tmp_path / "maildir"}"\n')
    common = ["--config", str(config), "--now", NOW.isoformat()]
    assert main(["case", refs[0], "--hold", "county court claim", *common, "--json"]) == 0
    capsys.readouterr()
    assert main(["retention", "--dry-run", *common, "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert {d["case"] for d in plan["due"]} == {refs[1]} and plan["held"] == [refs[0]] and not plan["applied"]
    assert main(["retention", "--apply", *common]) == 0
    out = capsys.readouterr().out
    assert f"Disposed of {refs[1]} case (1): retention.cases_years = 7 years" in out
    assert f"Kept {refs[0]}: under a legal hold." in out
    store = open_store(url, tmp_path / "archive")
    with store.transaction() as tx:
        assert [c.ref for c in tx.all_cases()] == [refs[0]]
    assert verify_chain(store) == (True, None)
    store.close()
    assert main(["case", "OLD-2099-0001", "--hold", "x", *common]) == 2
    assert "There is no case OLD-2099-0001" in capsys.readouterr().err
