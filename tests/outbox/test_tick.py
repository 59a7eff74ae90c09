"""``resdesk tick`` run over simulated days: every reminder and alert exactly once, in working hours."""

from __future__ import annotations

import email
import json
from collections import Counter
from datetime import date, timedelta
from email import policy

from resdesk.cases import open_store
from resdesk.cli import main
from tests.render.tools import pdf_text, qpdf_check
from tests.render.casefile import BUSINESS_UNIT, case_token, REGISTRY, local, oldham_stage2_escalated, recorded, write_config


def _tick(config, when: str, capsys) -> dict:
    status = main(["tick", "--config", str(config), "--now", when, "--json"])
    out = capsys.readouterr().out
    assert status == 0, out
    return json.loads(out)


def test_tick_twice_a_day_for_a_week_sends_every_reminder_exactly_once(tmp_path, smtp_server, capsys):
    """GIVEN two Oldham cases — one escalated to stage 3 on Mon 2 Nov 2026 (due Wed 4 Nov), one
    opened at stage 1 on Tue 3 Nov (due Thu 5 Nov) WHEN `resdesk tick --now` runs at 07:30 and 11:00
    every day Mon 2 to Sun 8 Nov THEN each case gets one reminder on its due day and one overdue
    alert on the next working day, to the business unit and to the case's agency, all at the 11:00 tick (07:30 is
    outside working hours); the acknowledgements and the stage 3 notification go once, on the first tick;
    no Message-ID arrives twice."""
    config = write_config(tmp_path, smtp_server)
    store = open_store(f"sqlite:///{tmp_path / 'resdesk.sqlite3'}", tmp_path / "archive")
    first = oldham_stage2_escalated(store, at=local(2026, 11, 2, 10, 0))
    oldham = REGISTRY.get("oldham")
    with store.transaction() as tx:
        case = tx.create_case(oldham, local(2026, 11, 3, 10, 0), child_name="Kai O'Neill")
        tx.record_stage_summary(case, oldham, 1, "actions agreed", local(2026, 11, 3, 10, 0))
        recorded(tx, case, local(2026, 11, 3, 10, 0), stage=1, outcome="actions-agreed",
                 subject="Escalation & Resolution Protocol: Stage 1 Summary", message_id="<s1b@nca.example>")
        second = case.ref
    tokens = {ref: case_token(store, ref) for ref in (first, second)}
    store.close()

    sent_at: dict[str, list[str]] = {}
    for offset in range(7):
        day = date(2026, 11, 2) + timedelta(days=offset)
        for hour in ("07:30", "11:00"):
            when = f"{day.isoformat()}T{hour}"
            report = _tick(config, when, capsys)
            assert report["errors"] == [] and report["unconfirmed"] == []
            for row in report["sent"]:
                sent_at.setdefault(row["key"], []).append(when)

    assert all(len(times) == 1 for times in sent_at.values()), sent_at
    reminders = {key: times[0] for key, times in sent_at.items()
                 if key.split(":")[0] in ("reminder", "overdue") and ":party:" not in key}
    copies = {key.split(":party:")[0]: times[0] for key, times in sent_at.items() if ":party:" in key}
    # The agency on the first case (its summary's sender) is reminded at the same tick; the second has none.
    assert copies == {key: when for key, when in reminders.items() if f":{first}:" in key}
    assert reminders == {
        f"reminder:{first}:3:2026-11-04T23:59:59+00:00": "2026-11-04T11:00",
        f"overdue:{first}:3:2026-11-04T23:59:59+00:00": "2026-11-05T11:00",
        f"reminder:{second}:1:2026-11-05T23:59:59+00:00": "2026-11-05T11:00",
        f"overdue:{second}:1:2026-11-05T23:59:59+00:00": "2026-11-06T11:00",
    }
    others = {key: times[0] for key, times in sent_at.items() if key not in reminders and ":party:" not in key}
    assert sorted(key.split(":")[0] for key in others) == ["ack", "ack", "notice"]

    received = smtp_server.messages
    ids = Counter(email.message_from_bytes(m.raw, policy=policy.default)["Message-ID"] for m in received)
    assert len(received) == 7 + len(copies) and max(ids.values()) == 1
    alerts = [email.message_from_bytes(m.raw, policy=policy.default) for m in received if m.rcpt_tos == (BUSINESS_UNIT,)]
    alerts = [m for m in alerts if m["Subject"].startswith(("Reminder", "Overdue"))]  # the notice goes there too
    subjects = [message["Subject"] for message in alerts]
    for message in alerts:
        (attachment,) = list(message.iter_attachments())
        pdf = attachment.get_content()
        qpdf_check(pdf, tmp_path)
        text = pdf_text(pdf, tmp_path)
        assert message["X-Resdesk-Case"] in text
        assert ("Wednesday 4 November 2026 at 23:59" in text) or ("Thursday 5 November 2026 at 23:59" in text)
    assert sorted(subjects) == sorted([
        f"Reminder: stage 3 due {tokens[first]}", f"Overdue: stage 3 {tokens[first]}",
        f"Reminder: stage 1 due {tokens[second]}", f"Overdue: stage 1 {tokens[second]}",
    ])


def test_tick_without_anything_due_says_so(tmp_path, smtp_server, capsys):
    """GIVEN an empty case file WHEN `resdesk tick` runs THEN it prints that nothing was sent and exits 0."""
    config = write_config(tmp_path, smtp_server)
    assert main(["tick", "--config", str(config), "--now", "2026-11-02T11:00"]) == 0
    assert capsys.readouterr().out.strip() == "Nothing to send."
    assert smtp_server.messages == []


def test_tick_with_a_bad_time_is_a_usage_error(tmp_path, smtp_server, capsys):
    """GIVEN a --now that is not a time WHEN `resdesk tick` runs THEN it exits 2 with one sentence."""
    config = write_config(tmp_path, smtp_server)
    assert main(["tick", "--config", str(config), "--now", "next tuesday"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("resdesk: Cannot read the --now time") and err.count("\n") == 1


def test_unconfirmed_message_is_settled_by_a_person(tmp_path, smtp_server, capsys):
    """GIVEN a stage 3 notification left unconfirmed by a crash mid-send WHEN a person runs
    `resdesk tick --not-delivered ID` THEN it is sent again, once; and `--delivered` for a message that is
    not unconfirmed is refused with exit status 2."""
    from sqlalchemy import update

    from resdesk.cases import Outbound

    config = write_config(tmp_path, smtp_server)
    store = open_store(f"sqlite:///{tmp_path / 'resdesk.sqlite3'}", tmp_path / "archive")
    oldham_stage2_escalated(store, at=local(2026, 11, 2, 10, 0))
    store.close()
    first = _tick(config, "2026-11-02T10:05", capsys)
    notice = next(row for row in first["sent"] if row["kind"] == "notice")
    # What a crash between DATA and the commit leaves: the row as it was while transmitting.
    store = open_store(f"sqlite:///{tmp_path / 'resdesk.sqlite3'}", tmp_path / "archive")
    with store.transaction() as tx:
        tx.session.execute(update(Outbound).where(Outbound.message_id == notice["message_id"]).values(state="sending"))
    store.close()
    smtp_server.clear()
    recovered = _tick(config, "2026-11-02T10:10", capsys)
    assert [row["message_id"] for row in recovered["unconfirmed"]] == [notice["message_id"]]
    assert smtp_server.messages == []
    again = main(["tick", "--config", str(config), "--now", "2026-11-02T10:15", "--json",
                  "--not-delivered", notice["message_id"]])
    sent = json.loads(capsys.readouterr().out)["sent"]
    assert again == 0 and [row["message_id"] for row in sent] == [notice["message_id"]]
    assert len(smtp_server.messages) == 1
    assert main(["tick", "--config", str(config), "--delivered", notice["message_id"]]) == 2
    assert "no unconfirmed message" in capsys.readouterr().err
