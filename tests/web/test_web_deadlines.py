"""Recording a deadline kept outside the case file done (here a resolved case's outcome letter sent),
from the case page and from ``resdesk act deadline-met``: refused without a reason, for a name the
case does not have to record, on an open case with none; audited with who and why once done."""

from __future__ import annotations

import io
import json
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from resdesk.cases.models import AuditEntry
from resdesk.cli import main
from tests.web import browser
from tests.web.casefile import NOW, csrf_token, resolved_early, sign_in

RESOLVED = NOW - timedelta(hours=2)  # Wed 16 Dec 2026 10:00: the letter is due Fri 18 Dec (16, 17 (1), 18 (2))


def _post(client, ref: str, **form):
    token = csrf_token(client.get(f"/cases/{ref}").get_data(as_text=True))
    return client.post(f"/cases/{ref}/deadlines", data={"csrf_token": token, **form}, follow_redirects=True)


def test_the_case_page_records_the_outcome_letter_sent_and_refuses_what_makes_no_sense(case_file, client):
    """GIVEN an Oldham case resolved early on Wed 16 Dec (its outcome letter due Fri 18 Dec) and an open case
    WHEN the business unit posts the form with no reason, an unknown deadline name, on the open case, or
    without the CSRF token, or an auditor posts it THEN each is refused and nothing is recorded; WHEN it posts
    a reason and the name THEN the page reads the letter met, the form is gone, and the audit trail names
    who and why."""
    ref = resolved_early(case_file.store, RESOLVED)
    sign_in(client, "bu")
    page = client.get(f"/cases/{ref}").get_data(as_text=True)
    assert 'id="deadline-met-form"' in page and "on-time" in page
    refusals = [
        (ref, {"deadline": "outcome-letter", "reason": " "}, "needs a reason"),
        (ref, {"deadline": "outcome-leter", "reason": "sent"}, "no deadline &#39;outcome-leter&#39;"),
        ("OLD-2026-0001", {"deadline": "outcome-letter", "reason": "sent"}, "it can be recorded once the case is resolved"),
    ]
    for case_ref, form, refusal in refusals:
        answer = _post(client, case_ref, **form)
        assert answer.status_code == 200 and refusal in answer.get_data(as_text=True), refusal
    assert 'id="deadline-met-form"' not in client.get("/cases/OLD-2026-0001").get_data(as_text=True)
    forged = client.post(f"/cases/{ref}/deadlines", data={"deadline": "outcome-letter", "reason": "sent"})
    assert forged.status_code in (400, 403)
    with case_file.store.transaction() as tx:
        assert tx.session.execute(select(AuditEntry).where(AuditEntry.action == "deadline-met")).first() is None

    done = _post(client, ref, deadline="outcome-letter", reason="the practitioner copied us in", done="2026-12-16")
    page = done.get_data(as_text=True)
    assert "The outcome-letter deadline is recorded done." in page
    assert 'id="deadline-met-form"' not in page
    assert '<td class="deadline-status">met</td>' in page
    assert "deadline-met: the practitioner copied us in" in page
    with case_file.store.transaction() as tx:
        (entry,) = tx.session.execute(select(AuditEntry).where(AuditEntry.action == "deadline-met")).scalars()
        assert (entry.actor, entry.case_ref, entry.payload["deadline"]) == ("bu", ref, "outcome-letter")

    client.get("/logout")
    sign_in(client, "auditor")
    assert _post_as_auditor(client, ref).status_code == 403


def _post_as_auditor(client, ref):
    token = csrf_token(client.get("/cases").get_data(as_text=True))
    return client.post(f"/cases/{ref}/deadlines", data={"csrf_token": token, "deadline": "outcome-letter",
                                                        "reason": "x"})


@pytest.fixture
def resdesk(capsys, monkeypatch):
    def run(*args):
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        code = main(list(args))
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run


def test_resdesk_act_deadline_met_records_it_and_refuses_what_makes_no_sense(case_file, resdesk, tmp_path):
    """GIVEN an Oldham case resolved early on Wed 16 Dec and an open case WHEN ``resdesk act deadline-met`` runs
    without --reason THEN it is bad usage; with an unknown name, on the open case, or a --done before the
    resolution's day THEN exit 2 with one sentence saying why; WHEN run with the name, a reason and the
    letter's date Thu 17 Dec THEN the case's clock (JSON and text) reads it met then, audited as the named
    person; WHEN
    recorded again THEN refused."""
    ref = resolved_early(case_file.store, RESOLVED)
    config = str(browser.write_config(case_file, tmp_path / "resdesk.toml", 8080))
    now = ("--now", "2026-12-18T09:00", "--config", config)
    with pytest.raises(SystemExit) as usage:
        resdesk("act", "deadline-met", ref, "outcome-letter", *now)
    assert usage.value.code == 2
    for case_ref, name, extra, refusal in (
        (ref, "letter", (), "has no deadline 'letter' that a person records done (its deadlines to record: "
                            "outcome-letter)"),
        ("OLD-2026-0001", "outcome-letter", (), "(its deadlines to record: none now)"),
        (ref, "outcome-letter", ("--done", "2026-12-15"), "cannot have been done before that day"),
    ):
        refused = resdesk("act", "deadline-met", case_ref, name, "--reason", "sent", *extra, *now)
        assert refused.returncode == 2 and refusal in refused.stderr, refused.stderr
    done = resdesk("act", "deadline-met", ref, "outcome-letter", "--done", "2026-12-17T15:30",
                   "--reason", "letter seen in the school's reply", "--as", "dana", *now)
    assert done.returncode == 0 and "deadline-met done by dana" in done.stdout
    case = json.loads(resdesk("case", ref, "--json", "--now", "2026-12-21T10:00", "--config", config).stdout)
    (stage_0,) = case["clock"]
    assert [(d["name"], d["due"], d["done"], d["status"]) for d in stage_0["deadlines"]] == [
        ("outcome-letter", "2026-12-18T23:59:59+00:00", "2026-12-17T15:30:00+00:00", "met")]
    assert [(a["actor"], a["payload"]["reason"]) for a in case["audit"] if a["action"] == "deadline-met"] == [
        ("dana", "letter seen in the school's reply")]
    shown = resdesk("case", ref, "--now", "2026-12-21T10:00", "--config", config).stdout
    assert "met (done Thu 17 Dec 2026 15:30)" in shown
    again = resdesk("act", "deadline-met", ref, "outcome-letter", "--reason", "twice", *now)
    assert again.returncode == 2 and "already recorded done" in again.stderr


def test_the_case_page_records_a_running_stage_s_referral_to_mash_made(case_file, client):
    """GIVEN a Sandwell case at stage 1 since Mon 14 Dec with the child at imminent risk (the MARF and MASH
    referral due that day, overdue now) WHEN the business unit opens the case page THEN the form offers that
    deadline under its stage; WHEN it records it made on Mon 14 Dec THEN the page reads it met and offers
    nothing more to record."""
    from resdesk.cases import set_fact
    from resdesk.protocols import default_registry

    sandwell = default_registry().get("sandwell")
    raised = NOW - timedelta(days=2)
    with case_file.store.transaction() as tx:
        case = tx.create_case(sandwell, raised, child_name="Poppy Hart")
        set_fact(tx, case, "imminent_risk", True, by="dana", reason="the summary says so", at=raised)
        tx.record_stage_summary(case, sandwell, 1, "actions-agreed", raised)
        ref = case.ref
    sign_in(client, "bu")
    page = client.get(f"/cases/{ref}").get_data(as_text=True)
    assert 'id="deadline-met-form"' in page
    assert ('<option value="imminent-risk-referral">Stage 1: a MARF completed and the case referred to MASH '
            '(due Mon 14 Dec 2026 23:59)</option>') in page
    done = _post(client, ref, deadline="imminent-risk-referral", reason="MASH confirmed it", done="2026-12-14")
    page = done.get_data(as_text=True)
    assert "The imminent-risk-referral deadline is recorded done." in page
    assert 'id="deadline-met-form"' not in page
    assert '<tr id="deadline-imminent-risk-referral"><td>1</td>' in page and '<td class="deadline-status">met</td>' in page


def test_a_record_of_done_made_in_error_is_withdrawn_from_the_case_page_and_the_command_line(
        case_file, client, resdesk, tmp_path):
    """GIVEN an Oldham case resolved early on Wed 16 Dec with its outcome letter recorded sent WHEN the business
    unit withdraws that record from the case page with a reason THEN the page says so, the letter reads on-time
    with nothing done and the form to record it is back; an auditor may not withdraw, nor anyone without the
    CSRF token. WHEN it is recorded again and withdrawn with ``resdesk act withdraw-deadline-met`` THEN the same;
    withdrawing again is refused, saying nothing is recorded."""
    ref = resolved_early(case_file.store, RESOLVED)
    sign_in(client, "bu")
    _post(client, ref, deadline="outcome-letter", reason="the practitioner copied us in", done="2026-12-16")
    page = client.get(f"/cases/{ref}").get_data(as_text=True)
    assert 'id="withdraw-deadline-met-form"' in page and 'id="deadline-met-form"' not in page
    forged = client.post(f"/cases/{ref}/deadlines/withdraw", data={"deadline": "outcome-letter", "reason": "x"})
    assert forged.status_code in (400, 403)
    token = csrf_token(page)
    done = client.post(f"/cases/{ref}/deadlines/withdraw", follow_redirects=True, data={
        "csrf_token": token, "deadline": "outcome-letter", "reason": "that letter was for another child"})
    page = done.get_data(as_text=True)
    assert "The record of the outcome-letter deadline done is withdrawn" in page
    assert '<tr id="deadline-outcome-letter">' in page and '<td class="deadline-status">on-time</td>' in page
    assert 'id="deadline-met-form"' in page and 'id="withdraw-deadline-met-form"' not in page
    assert "deadline-met-withdrawn: that letter was for another child" in page
    client.get("/logout")
    sign_in(client, "auditor")
    token = csrf_token(client.get("/cases").get_data(as_text=True))
    assert client.post(f"/cases/{ref}/deadlines/withdraw", data={
        "csrf_token": token, "deadline": "outcome-letter", "reason": "x"}).status_code == 403

    config = str(browser.write_config(case_file, tmp_path / "resdesk.toml", 8080))
    now = ("--now", "2026-12-18T09:00", "--config", config)
    assert resdesk("act", "deadline-met", ref, "outcome-letter", "--reason", "sent", *now).returncode == 0
    withdrawn = resdesk("act", "withdraw-deadline-met", ref, "outcome-letter", "--reason", "wrong again", "--as", "dana",
                        *now)
    assert withdrawn.returncode == 0 and "withdraw-deadline-met done by dana" in withdrawn.stdout
    case = json.loads(resdesk("case", ref, "--json", "--now", "2026-12-18T09:05", "--config", config).stdout)
    (stage_0,) = case["clock"]
    assert [(d["name"], d["done"], d["status"]) for d in stage_0["deadlines"]] == [("outcome-letter", None, "due-today")]
    again = resdesk("act", "withdraw-deadline-met", ref, "outcome-letter", "--reason", "twice", *now)
    assert again.returncode == 2 and "no record of a deadline 'outcome-letter' done to withdraw" in again.stderr
