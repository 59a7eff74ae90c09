"""The workspace in a real browser: Debian's chromium against ``resdesk serve``."""

from __future__ import annotations

import subprocess

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from resdesk.cases import open_store
from resdesk.cases.models import AuditEntry, Message
from tests.web import browser
from tests.web.casefile import CHILD, PASSWORD, build_case_file

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path):
    """A fresh case file, served by ``resdesk serve``; (url, case file, settings)."""
    case_file = build_case_file(tmp_path / "casefile")
    case_file.store.close()
    port = browser.free_port()
    config = browser.write_config(case_file, tmp_path / "resdesk.toml", port)
    server = browser.Server(config, port, tmp_path / "serve.log")
    yield server.url, case_file
    server.stop()


def _store(case_file):
    return open_store(case_file.settings.storage.database, case_file.settings.storage.archive)


def _fill(form, **fields):
    for name, value in fields.items():
        form.find_element(By.NAME, name).send_keys(value)


def test_each_role_signs_in_and_sees_what_it_may(served, driver):
    """GIVEN a user of each role WHEN each signs in THEN each lands on the cases; only the business unit and
    admin see the actions on a case, only the admin sees Users; a wrong password is refused."""
    url, _ = served
    browser.sign_in(driver, url, "auditor", "not the password")
    assert "wrong" in driver.find_element(By.CSS_SELECTOR, ".flash.error").text
    for name, acts, admin in (("auditor", False, False), ("bu", True, False), ("admin", True, True)):
        browser.sign_in(driver, url, name, PASSWORD)
        assert driver.find_element(By.ID, "signed-in-as").text.startswith(name)
        assert bool(driver.find_elements(By.LINK_TEXT, "Users")) is admin
        driver.get(url + "/cases/OLD-2026-0001")
        assert bool(driver.find_elements(By.ID, "merge-form")) is acts
        browser.sign_out(driver)
        assert driver.current_url.endswith("/login")


def test_auditor_finds_sees_downloads_and_verifies(served, driver):
    """GIVEN Zoë Ångström-Núñez's case WHEN an auditor searches with other accents and case, opens the case,
    downloads its record and verifies it, then an archived file is altered THEN the case is found both ways,
    its timeline is drawn, the record passes qpdf with the message text in it, and the alteration is reported."""
    url, case_file = served
    browser.sign_in(driver, url, "auditor", PASSWORD)
    for query in ("zoe angstrom", "ZOË ÅNGSTRÖM-NUÑEZ"):
        driver.get(url + "/cases")
        box = driver.find_element(By.ID, "q")
        box.clear()
        box.send_keys(query)
        browser.click_and_wait(driver, driver.find_element(By.ID, "search"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")
        assert [r.find_element(By.TAG_NAME, "a").text for r in rows] == ["OLD-2026-0001"], query
    browser.click_and_wait(driver, driver.find_element(By.LINK_TEXT, "OLD-2026-0001"))
    assert driver.find_element(By.ID, "case-ref").text == "OLD-2026-0001"
    timeline = driver.find_element(By.ID, "timeline")
    assert timeline.find_elements(By.CSS_SELECTOR, "rect") and timeline.find_elements(By.ID, "today")
    assert CHILD in driver.find_element(By.ID, "facts").text

    driver.find_element(By.ID, "record-link").click()
    record = browser.wait_for_file(driver.downloads, ".pdf")
    subprocess.run(["qpdf", "--check", str(record)], check=True, capture_output=True)
    text = subprocess.run(["pdftotext", str(record), "-"], check=True, capture_output=True, text=True).stdout
    assert "OLD-2026-0001" in text and "Summary of our stage 1 discussion" in text

    browser.click_and_wait(driver, driver.find_element(By.ID, "verify-link"))
    assert driver.find_element(By.ID, "verdict").text.startswith("Intact")
    store = _store(case_file)
    with store.transaction() as tx:
        path = tx.session.get(Message, 1).archive_path
    store.close()
    with open(path, "r+b") as handle:
        handle.write(b"X")
    driver.refresh()
    verdict = driver.find_element(By.ID, "verdict").text
    assert verdict.startswith("Not intact") and "message 1" in verdict and "altered" in verdict


def test_business_unit_releases_moves_and_merges(served, driver):
    """GIVEN a stage 2 summary held in quarantine, a message misfiled on OLD-2026-0002 and that duplicate case
    WHEN the business unit releases the held message, moves the misfiled one and merges the duplicate
    THEN OLD-2026-0001 reaches stage 2 with all three messages, and each action is in the audit trail."""
    url, case_file = served
    browser.sign_in(driver, url, "bu", PASSWORD)
    driver.get(url + "/quarantine")
    held = driver.find_element(By.ID, f"held-{case_file.quarantined_id}")
    release = held.find_element(By.CSS_SELECTOR, "form.release")
    _fill(release, reason="The school is now a partner agency")
    Select(release.find_element(By.NAME, "trust")).select_by_value("domain")
    browser.click_and_wait(driver, release.find_element(By.TAG_NAME, "button"))
    assert driver.find_element(By.ID, "case-ref").text == "OLD-2026-0001"
    assert driver.find_element(By.ID, "case-stage").text == "2"
    assert "The school's view" in driver.page_source

    driver.get(url + "/cases/OLD-2026-0002")
    move = driver.find_element(By.ID, f"message-{case_file.misfiled_id}").find_element(By.CSS_SELECTOR, "form.move")
    _fill(move, to_ref="OLD-2026-0001", reason="It is about Zoë")
    browser.click_and_wait(driver, move.find_element(By.TAG_NAME, "button"))
    assert "moved to OLD-2026-0001" in driver.find_element(By.CSS_SELECTOR, ".flash.done").text

    merge = driver.find_element(By.ID, "merge-form")
    _fill(merge, into_ref="OLD-2026-0001", reason="Same child, opened twice")
    browser.click_and_wait(driver, merge.find_element(By.TAG_NAME, "button"))
    assert driver.find_element(By.ID, "case-ref").text == "OLD-2026-0001"
    assert len(driver.find_elements(By.CSS_SELECTOR, "article.message")) == 4
    audit = driver.find_element(By.ID, "audit").text
    assert "message-moved-in: It is about Zoë" in audit and "case-merged-in: Same child, opened twice" in audit

    store = _store(case_file)
    with store.transaction() as tx:
        actions = {(e.action, e.actor) for e in tx.session.execute(select(AuditEntry)).scalars()}
    store.close()
    assert {("quarantine-released", "bu"), ("message-moved-in", "bu"), ("case-merged-in", "bu")} <= actions


def test_business_unit_adds_a_party_from_the_case_page(served, driver):
    """GIVEN an open case WHEN the business unit fills in the case page's add-party form (address, name,
    agency, role, reason) THEN the page says so, the person is listed under People, and the audit trail
    names who added them and why; the same address again is refused, saying why."""
    url, _ = served
    browser.sign_in(driver, url, "bu", PASSWORD)
    driver.get(url + "/cases/OLD-2026-0001")
    form = driver.find_element(By.ID, "add-party-form")
    _fill(form, email="eve.marsh@school.example", name="Eve Marsh", agency="Education", role="DSL",
          reason="The school's safeguarding lead joined the meeting")
    browser.click_and_wait(driver, form.find_element(By.TAG_NAME, "button"))
    assert "party was added" in driver.find_element(By.CSS_SELECTOR, ".flash.done").text
    assert "Eve Marsh <eve.marsh@school.example>, Education (DSL)" in driver.find_element(By.ID, "people").text
    assert "party-added: The school's safeguarding lead joined the meeting" in driver.find_element(By.ID, "audit").text

    form = driver.find_element(By.ID, "add-party-form")
    _fill(form, email="EVE.MARSH@school.example", reason="again")
    browser.click_and_wait(driver, form.find_element(By.TAG_NAME, "button"))
    assert "already a party" in driver.find_element(By.CSS_SELECTOR, ".flash.error").text



def test_business_unit_records_an_outcome_letter_sent_from_the_case_page(served, driver):
    """GIVEN an Oldham case resolved early an hour ago (the server's clock is the real one), its outcome letter
    due within a further 2 working days WHEN the business unit picks the letter in the case page's form and
    records it done today with a reason THEN the page says so, the deadline reads met with today's moment,
    the form is gone, and the audit trail names why; an empty reason is refused by the form itself."""
    from datetime import datetime, timedelta, timezone

    from tests.web.casefile import resolved_early

    url, case_file = served
    store = _store(case_file)
    try:
        ref = resolved_early(store, datetime.now(timezone.utc) - timedelta(hours=1))
    finally:
        store.close()
    browser.sign_in(driver, url, "bu", PASSWORD)
    driver.get(url + f"/cases/{ref}")
    status = driver.find_element(By.CSS_SELECTOR, "#deadline-outcome-letter .deadline-status")
    assert status.text in ("on-time", "due-today")
    form = driver.find_element(By.ID, "deadline-met-form")
    assert [o.get_attribute("value") for o in Select(form.find_element(By.NAME, "deadline")).options] == [
        "outcome-letter"]
    form.find_element(By.TAG_NAME, "button").click()  # no reason: the browser keeps the form (required)
    assert driver.find_elements(By.ID, "deadline-met-form")
    _fill(form, reason="The practitioner's email to the school was forwarded to us")
    browser.click_and_wait(driver, form.find_element(By.TAG_NAME, "button"))
    assert "outcome-letter deadline is recorded done" in driver.find_element(By.CSS_SELECTOR, ".flash.done").text
    assert driver.find_element(By.CSS_SELECTOR, "#deadline-outcome-letter .deadline-status").text == "met"
    assert not driver.find_elements(By.ID, "deadline-met-form")
    assert ("deadline-met: The practitioner's email to the school was forwarded to us"
            in driver.find_element(By.ID, "audit").text)


def test_business_unit_accepts_a_message_from_someone_not_on_the_case(served, driver):
    """GIVEN OLD-2026-0002 on the review list for a stage 1 summary from someone not on it (changing
    nothing) WHEN the business unit presses "Accept this message" under it, giving a reason THEN the page
    says the message was recorded, the sender is listed under People, the case is off the review list,
    the audit trail names who accepted it and why, and the message no longer offers acceptance."""
    url, case_file = served
    browser.sign_in(driver, url, "bu", PASSWORD)
    driver.get(url + "/cases/OLD-2026-0002")
    message = driver.find_element(By.ID, f"message-{case_file.misfiled_id}")
    assert "someone not on the case" in message.text
    form = message.find_element(By.CSS_SELECTOR, "form.accept")
    _fill(form, reason="Dana chairs this case's stage 1 meeting too")
    browser.click_and_wait(driver, form.find_element(By.TAG_NAME, "button"))
    assert "accepted and recorded: OLD-2026-0002 is now open" in driver.find_element(By.CSS_SELECTOR, ".flash.done").text
    assert "dana.whitfield@police.example" in driver.find_element(By.ID, "people").text
    assert "message-accepted: Dana chairs this case's stage 1 meeting too" in driver.find_element(By.ID, "audit").text
    message = driver.find_element(By.ID, f"message-{case_file.misfiled_id}")
    assert not message.find_elements(By.CSS_SELECTOR, "form.accept")
