"""The business unit's actions through the workspace, each audited with who and why, and what
auditors find, see and verify."""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from resdesk.cases.models import AuditEntry, Message, Outbound
from tests.web.casefile import CHILD, csrf_token, sign_in


def _token(client) -> str:
    return csrf_token(client.get("/cases").get_data(as_text=True))


def _audit(store, action: str) -> list[AuditEntry]:
    with store.transaction() as tx:
        return list(tx.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_find_by_child_name_ignores_accents_and_case(shared_client):
    """GIVEN a case for Zoë Ångström-Núñez WHEN an auditor searches 'zoe angstrom' or 'ZOË' THEN the case is found,
    and a name that is not there finds nothing."""
    sign_in(shared_client, "auditor")
    for query in ("zoe angstrom", "ZOË", "nunez"):
        rows = shared_client.get("/api/cases", query_string={"q": query}).get_json()
        assert [r["ref"] for r in rows] == ["OLD-2026-0001"], query
        assert rows[0]["child_name"] == CHILD
        assert set(rows[0]) >= {"ref", "protocol", "stage", "status", "child_name", "overdue"}
    assert shared_client.get("/api/cases", query_string={"q": "Poppy"}).get_json() == []


def test_find_by_nhs_number_agency_stage_and_status(shared_client):
    """GIVEN two cases WHEN searched by NHS number without spaces, by agency, by stage and status THEN each
    answers the cases that match."""
    sign_in(shared_client, "auditor")

    def refs(**query):
        return [r["ref"] for r in shared_client.get("/api/cases", query_string=query).get_json()]

    assert refs(q="9434765919") == ["OLD-2026-0001"]
    assert refs(agency="nhs.example") == ["OLD-2026-0002"]
    assert refs(stage="1", status="open") == ["OLD-2026-0001", "OLD-2026-0002"]
    assert refs(status="resolved") == []
    assert refs(**{"from": "2026-12-15"}) == []
    assert shared_client.get("/api/cases", query_string={"status": "sideways"}).status_code == 400


def test_overdue_lists_what_to_chase(shared_client):
    """GIVEN stage 1 cases due within 2 working days of 14 December WHEN /overdue is opened on 16 December at noon
    THEN both are there as due today, with the child's initials, not the name."""
    sign_in(shared_client, "auditor")
    page = shared_client.get("/overdue").get_data(as_text=True)
    assert "OLD-2026-0001" in page and "OLD-2026-0002" in page
    assert "Z.Å." in page and CHILD not in page


def test_case_page_shows_timeline_messages_and_audit(shared_client):
    """GIVEN a case WHEN its page is opened THEN it has the SVG timeline with today marked, the message's own text,
    the facts with their source and the audit trail."""
    sign_in(shared_client, "auditor")
    page = shared_client.get("/cases/OLD-2026-0001").get_data(as_text=True)
    assert '<svg id="timeline"' in page and 'id="today"' in page and "Stage 1" in page
    assert "Summary of our stage 1 discussion" in page
    assert CHILD in page
    assert "case-opened" in page


def test_record_pdf_carries_message_text_and_passes_qpdf(shared_client, tmp_path):
    """GIVEN a case WHEN its record is downloaded THEN it is a PDF qpdf accepts, holding the messages' text."""
    sign_in(shared_client, "auditor")
    response = shared_client.get("/cases/OLD-2026-0001/record.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / "record.pdf"
    path.write_bytes(response.data)
    subprocess.run(["qpdf", "--check", str(path)], check=True, capture_output=True)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "Summary of our stage 1 discussion" in text


def test_verify_reports_an_altered_archived_file(client, case_file):
    """GIVEN an intact case WHEN its archived message is altered on disk THEN /verify names that file."""
    sign_in(client, "auditor")
    assert "Intact" in client.get("/cases/OLD-2026-0001/verify").get_data(as_text=True)
    with case_file.store.transaction() as tx:
        path = tx.session.get(Message, 1).archive_path
    with open(path, "ab") as handle:
        handle.write(b"tampered\n")
    page = client.get("/cases/OLD-2026-0001/verify").get_data(as_text=True)
    assert "Not intact" in page and "message 1" in page and "altered" in page


def test_release_from_quarantine_trusting_the_domain_files_it_on_its_case(client, case_file):
    """GIVEN a stage 2 summary held because school.example is not allowed WHEN the business unit releases it,
    trusting the domain, THEN it is filed on OLD-2026-0001, which moves to stage 2, and the release is audited."""
    sign_in(client, "bu")
    response = client.post(f"/quarantine/{case_file.quarantined_id}/release",
                           data={"csrf_token": _token(client), "reason": "the school is a partner", "trust": "domain"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/cases/OLD-2026-0001")
    page = client.get("/cases/OLD-2026-0001").get_data(as_text=True)
    assert "The school&#39;s view" in page
    [entry] = _audit(case_file.store, "quarantine-released")
    assert entry.actor == "bu" and entry.payload["reason"] == "the school is a partner"
    assert entry.payload["trusted"] == "school.example"


def test_move_a_misfiled_message_and_merge_cases(client, case_file):
    """GIVEN a message filed on OLD-2026-0002 that belongs to OLD-2026-0001 WHEN it is moved, and then
    OLD-2026-0002 is merged into OLD-2026-0001, THEN the messages are on OLD-2026-0001, the duplicate is marked
    merged, and both actions are audited with who and why."""
    sign_in(client, "bu")
    client.post("/cases/OLD-2026-0002/move-message",
                data={"csrf_token": _token(client), "ledger_id": case_file.misfiled_id, "to_ref": "OLD-2026-0001",
                      "reason": "it is about Zoë"})
    with case_file.store.transaction() as tx:
        assert tx.session.get(Message, case_file.misfiled_id).case_id == tx.require_case("OLD-2026-0001").id
    client.post("/cases/OLD-2026-0002/merge",
                data={"csrf_token": _token(client), "into_ref": "OLD-2026-0001", "reason": "same child"})
    with case_file.store.transaction() as tx:
        assert tx.require_case("OLD-2026-0002").status == "merged"
        assert len(tx.messages_for(tx.require_case("OLD-2026-0001"))) == 3
    assert [e.payload["reason"] for e in _audit(case_file.store, "message-moved-in")] == ["it is about Zoë"]
    assert [(e.actor, e.case_ref) for e in _audit(case_file.store, "case-merged-in")] == [("bu", "OLD-2026-0001")]


def test_accepting_a_message_checks_the_case_it_was_seen_on(client, case_file):
    """GIVEN a message from someone not on the case, filed on OLD-2026-0002 WHEN the business unit posts
    an acceptance of it from OLD-2026-0001's page THEN it is refused, saying where the message is, and
    nothing is recorded; posted from OLD-2026-0002's page it is recorded there."""
    sign_in(client, "bu")
    url = f"/cases/OLD-2026-0001/messages/{case_file.misfiled_id}/accept"
    client.post(url, data={"csrf_token": _token(client), "reason": "it counts"})
    assert "is filed on OLD-2026-0002, not OLD-2026-0001" in client.get("/cases/OLD-2026-0001").get_data(as_text=True)
    assert _audit(case_file.store, "message-accepted") == []
    response = client.post(f"/cases/OLD-2026-0002/messages/{case_file.misfiled_id}/accept",
                           data={"csrf_token": _token(client), "reason": "it counts"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#message-{case_file.misfiled_id}")
    assert [(e.actor, e.case_ref) for e in _audit(case_file.store, "message-accepted")] == [("bu", "OLD-2026-0002")]


def test_stage_note_close_reopen_and_clear_review(client, case_file):
    """GIVEN an open case WHEN the business unit sets stage 2, adds a note, closes it and re-opens it
    THEN each shows on the case and a re-opened case is open and counted again."""
    sign_in(client, "bu")
    base = "/cases/OLD-2026-0001"
    client.post(f"{base}/stage", data={"csrf_token": _token(client), "stage": "2", "reason": "agreed on the phone"})
    client.post(f"{base}/notes", data={"csrf_token": _token(client), "text": "Called the school."})
    client.post(f"{base}/close", data={"csrf_token": _token(client), "reason": "resolved at the meeting"})
    assert client.get("/api/cases", query_string={"status": "resolved"}).get_json()[0]["ref"] == "OLD-2026-0001"
    client.post(f"{base}/reopen", data={"csrf_token": _token(client), "reason": "escalated again"})
    [row] = [r for r in client.get("/api/cases", query_string={"status": "open"}).get_json() if r["ref"] == "OLD-2026-0001"]
    assert row["status"] == "open" and row["stage"] == 2
    page = client.get(base).get_data(as_text=True)
    assert "Called the school." in page and "escalated again" in page
    response = client.post(f"{base}/clear-review", data={"csrf_token": _token(client), "reason": "checked"}, follow_redirects=True)
    assert "does not need review" in response.get_data(as_text=True)


def test_set_and_clear_a_case_fact_from_the_case_page(client, case_file):
    """GIVEN an open Oldham case WHEN the business unit sets its case start and a threshold dispute,
    then clears the dispute THEN the case page shows the fact as set by that person, the clock
    counts from the new start, each change is audited, and a change without a reason is refused."""
    sign_in(client, "bu")
    base = "/cases/OLD-2026-0001"
    refused = client.post(f"{base}/facts", data={"csrf_token": _token(client), "name": "threshold-dispute",
                                                 "value": "yes", "reason": " "}, follow_redirects=True)
    assert "needs a reason" in refused.get_data(as_text=True)
    client.post(f"{base}/facts", data={"csrf_token": _token(client), "name": "case_start",
                                       "value": "2026-03-02T09:00", "reason": "date on the referral"})
    client.post(f"{base}/facts", data={"csrf_token": _token(client), "name": "threshold-dispute",
                                       "value": "yes", "reason": "the MASH decision is disputed"})
    with case_file.store.transaction() as tx:
        from resdesk.cases import facts_of

        facts = facts_of(tx.require_case("OLD-2026-0001"))
        assert facts["threshold-dispute"].value is True and facts["threshold-dispute"].set_by == "bu"
        assert str(facts["case_start"].value).startswith("2026-03-02")
    page = client.get(base).get_data(as_text=True)
    assert "threshold-dispute" in page and "set by bu" in page
    client.post(f"{base}/facts/clear", data={"csrf_token": _token(client), "name": "threshold-dispute",
                                             "reason": "settled: not a threshold matter"})
    with case_file.store.transaction() as tx:
        from resdesk.cases import facts_of

        assert "threshold-dispute" not in facts_of(tx.require_case("OLD-2026-0001"))
    assert len(_audit(case_file.store, "fact-set")) + len(_audit(case_file.store, "fact-cleared")) >= 3


def test_an_action_without_a_reason_changes_nothing(client, case_file):
    """GIVEN the business unit WHEN it closes a case without a reason THEN it is told why and the case stays open."""
    sign_in(client, "bu")
    response = client.post("/cases/OLD-2026-0001/close", data={"csrf_token": _token(client), "reason": " "},
                           follow_redirects=True)
    assert "needs a reason" in response.get_data(as_text=True)
    with case_file.store.transaction() as tx:
        assert tx.require_case("OLD-2026-0001").status == "open"


def test_resend_and_cancel_outbound_and_acknowledge_alerts(client, case_file):
    """GIVEN an acknowledgement written to the outbox WHEN the business unit cancels it, then resends it,
    and acknowledges a failed-send alert THEN its state follows and the alert leaves /alerts."""
    with case_file.store.transaction() as tx:
        case = tx.require_case("OLD-2026-0001")
        row = Outbound(idempotency_key="test:1", message_id="<m1@resdesk>", case_id=case.id, kind="acknowledgement",
                       recipients=["dana.whitfield@police.example"], subject="Received", state="failed")
        tx.session.add(row)
    sign_in(client, "bu")
    client.post("/cases/OLD-2026-0001/outbound/cancel",
                data={"csrf_token": _token(client), "message_id": "<m1@resdesk>", "reason": "sent by hand"})
    with case_file.store.transaction() as tx:
        assert tx.session.execute(select(Outbound.state)).scalar_one() == "cancelled"
    client.post("/cases/OLD-2026-0001/outbound/resend",
                data={"csrf_token": _token(client), "message_id": "<m1@resdesk>", "reason": "not received"})
    with case_file.store.transaction() as tx:
        assert tx.session.execute(select(Outbound.state)).scalar_one() == "pending"
        tx.raise_alert("outbound-failed", {"message_id": "<m2@resdesk>"})
    assert "could not be sent" in client.get("/alerts").get_data(as_text=True)
    [key] = [k for k in ("alert:1",)]
    client.post("/alerts/acknowledge", data={"csrf_token": _token(client), "key": key, "reason": "resent by hand"})
    assert "could not be sent" not in client.get("/alerts").get_data(as_text=True)


def test_quarantine_dismiss_and_file(client, case_file):
    """GIVEN a quarantined message WHEN it is filed on a case THEN it is on that case and off the list."""
    sign_in(client, "bu")
    assert "school.example is not an allowed" in client.get("/quarantine").get_data(as_text=True)
    client.post(f"/quarantine/{case_file.quarantined_id}/file",
                data={"csrf_token": _token(client), "ref": "OLD-2026-0002", "reason": "belongs here"})
    assert "Nothing is held" in client.get("/quarantine").get_data(as_text=True)
    with case_file.store.transaction() as tx:
        assert tx.session.get(Message, case_file.quarantined_id).case_id == tx.require_case("OLD-2026-0002").id


def test_admin_adds_and_resets_users(client, case_file):
    """GIVEN an admin WHEN they add an auditor THEN the password shown once signs them in."""
    sign_in(client, "admin")
    page = client.post("/users", data={"csrf_token": _token(client), "name": "amira", "role": "auditor"}).get_data(as_text=True)
    import re

    password = re.search(r'id="new-password">([^<]+)<', page).group(1)
    other = client.application.test_client()
    assert sign_in(other, "amira", password).status_code == 302


def test_downloads_are_attachments_of_their_own_case(shared_client):
    """GIVEN a message on OLD-2026-0001 WHEN it is downloaded through its case THEN it comes as an attachment;
    through another case THEN 404."""
    sign_in(shared_client, "auditor")
    response = shared_client.get("/cases/OLD-2026-0001/messages/1.eml")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment;")
    assert b"Summary of our stage 1 discussion" in response.data
    assert shared_client.get("/cases/OLD-2026-0002/messages/1.eml").status_code == 404
