"""The Reports page in a real browser: Debian's chromium against ``resdesk serve`` on the reports
scenario's case file (tests/reports/scenario.py)."""

from __future__ import annotations

import csv
import subprocess
from types import SimpleNamespace

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from resdesk.cases import users
from resdesk.wiring import open_store_for
from tests.reports.scenario import build_case_file as build_scenario
from tests.web import browser
from tests.web.casefile import PASSWORD, ROLES, settings_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path):
    """The scenario's case file with a user of each role, served by ``resdesk serve``; its url."""
    settings = settings_for(tmp_path / "casefile")
    store = open_store_for(settings)
    build_scenario(store, tmp_path / "casefile")
    with store.transaction() as tx:
        for name, role in ROLES.items():
            users.add_user(tx, name, role, PASSWORD, actor="test")
    store.close()
    port = browser.free_port()
    config = browser.write_config(SimpleNamespace(settings=settings), tmp_path / "resdesk.toml", port)
    server = browser.Server(config, port, tmp_path / "serve.log")
    yield server.url
    server.stop()


def _dates(driver, first: str, last: str) -> None:
    """Choose "From ... to ..." with two days (set as ISO values: the date fields' typed format is the
    browser's locale's)."""
    driver.find_element(By.ID, "by-dates").click()
    for field, value in (("first", first), ("last", last)):
        driver.execute_script("arguments[0].value = arguments[1];", driver.find_element(By.ID, field), value)


def test_business_unit_chooses_a_period_sees_the_log_and_downloads_it(served, driver):
    """GIVEN the scenario's case file WHEN the business unit opens Reports from the navigation, first gives
    dates that end before they start, then chooses Sandwell's summary log for 1 October to 31 December 2026
    THEN the bad dates are refused in plain words; the log shows S1 and S2 with its chart drawn; the CSV
    downloaded from the page holds exactly the rows the page shows, and the PDF passes qpdf --check."""
    url = served
    browser.sign_in(driver, url, "bu", PASSWORD)
    browser.click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Reports"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Reports"

    _dates(driver, "2026-12-31", "2026-10-01")
    browser.click_and_wait(driver, driver.find_element(By.ID, "show"))
    assert driver.find_element(By.ID, "report-error").text.startswith("The last day is before the first day.")

    Select(driver.find_element(By.ID, "kind")).select_by_value("sandwell-summary-log")
    _dates(driver, "2026-10-01", "2026-12-31")
    browser.click_and_wait(driver, driver.find_element(By.ID, "show"))
    figures = {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
               for row in driver.find_elements(By.CSS_SELECTOR, "#figures tr")}
    assert (figures["Escalations"], figures["Resolved in the period"]) == ("2", "1")
    table = driver.find_element(By.CSS_SELECTOR, 'table.report-table[data-title="AGENCY ESCALATION SUMMARY LOG"]')
    shown = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
             for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert [row[0] for row in shown] == ["SAN-2026-0001", "SAN-2026-0002"]
    chart = driver.find_element(By.CSS_SELECTOR, "figure.report-chart img")
    assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth;", chart) > 0

    row = driver.find_element(By.XPATH, '//table[@id="downloads"]//tr[td[starts-with(., "Sandwell")]]')
    row.find_element(By.LINK_TEXT, "CSV").click()
    saved = browser.wait_for_file(driver.downloads, ".csv")
    with saved.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    headings = [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert rows[0] == headings
    assert [[" ".join(value.split()) for value in r] for r in rows[1:]] == [[" ".join(v.split()) for v in r] for r in shown]

    row.find_element(By.LINK_TEXT, "PDF").click()
    pdf = browser.wait_for_file(driver.downloads, ".pdf")
    subprocess.run(["qpdf", "--check", str(pdf)], check=True, capture_output=True)
