"""``/reports``: the returns in the workspace, on the reports scenario's case file (two quarters of
dated mail, tests/reports/scenario.py): the same figures as the files, a clear error for a bad
period, every download by role and audited."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timezone

import pytest
from lxml import html
from openpyxl import load_workbook
from sqlalchemy import select

from resdesk.cases import users
from resdesk.cases.models import AuditEntry
from resdesk.reports import FORMATS, REPORT_KINDS
from resdesk.reports.activity import area_name
from resdesk.web import create_app
from resdesk.wiring import open_store_for
from tests.reports.scenario import build_case_file as build_scenario
from tests.web.casefile import PASSWORD, ROLES, settings_for, sign_in

NOW = datetime(2027, 1, 15, 12, 0, tzinfo=timezone.utc)
Q4 = "/reports?kind=activity&by=quarter&quarter=2026Q4"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """The scenario's case file, with a user of each role."""
    root = tmp_path_factory.mktemp("reports-web")
    settings = settings_for(root)
    store = open_store_for(settings)
    build_scenario(store, root)
    with store.transaction() as tx:
        for name, role in ROLES.items():
            users.add_user(tx, name, role, PASSWORD, actor="test")
    yield settings, store
    store.close()


@pytest.fixture
def client(scenario):
    settings, store = scenario
    app = create_app(settings, store, clock=lambda: NOW)
    app.config["TESTING"] = True
    return app.test_client()


def _page(client, path: str):
    response = client.get(path)
    return response, html.fromstring(response.get_data(as_text=True))


def _figures(page) -> dict[str, str]:
    return {row.findtext("th"): row.findtext("td") for row in page.xpath('//table[@id="figures"]//tr')}


def _table(page, title: str) -> list[list[str]]:
    (table,) = page.xpath(f'//table[@data-title="{title}"]')
    return [[cell.text_content() for cell in row.xpath("td")] for row in table.xpath("tbody/tr")]


def _links(page) -> dict[tuple[str, str], str]:
    """(report name, format name) -> link, from the page's download table."""
    found = {}
    for row in page.xpath('//table[@id="downloads"]/tbody/tr'):
        name = row.findtext("td")
        for link in row.xpath(".//a"):
            found[(name, link.text)] = link.get("href")
    return found


def test_the_page_shows_the_numbers_the_csv_and_xlsx_hold(client):
    """GIVEN the scenario's fourth quarter WHEN the business unit opens the activity report and downloads its
    CSV and Excel files from the page THEN the page says 8 cases opened, its table of areas and its table of
    highest stages count the files' rows exactly, and both files hold the same rows."""
    sign_in(client, "bu")
    response, page = _page(client, Q4)
    assert response.status_code == 200
    assert _figures(page)["Cases opened"] == "8"
    by_area = {area: int(count) for area, count in _table(page, "Cases opened by area of disagreement")}
    by_stage = {stage: int(count) for stage, count in _table(page, "Highest stage reached by cases opened in the period")}
    links = _links(page)
    assert len(links) == len(REPORT_KINDS) * len(FORMATS)

    download = client.get(links[("Escalation activity (every protocol)", "CSV")])
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    workbook = load_workbook(io.BytesIO(client.get(links[("Escalation activity (every protocol)", "Excel")]).get_data()))
    sheet = list(workbook.active.iter_rows(values_only=True))
    assert [dict(zip(sheet[0], (("" if v is None else str(v)) for v in r))) for r in sheet[1:]] == rows

    assert len(rows) == int(_figures(page)["Cases opened"])
    assert Counter(area_name(r["area_of_disagreement"]) for r in rows) == by_area
    assert Counter(f"Stage {r['highest_stage']}" if r["highest_stage"] else "No stage recorded" for r in rows) == by_stage
    assert by_area == {"Thresholds": 2, "Plans": 2, "Information sharing": 2, "Drift and delay": 1,
                       "Provision of services": 1}


def test_the_themes_page_and_its_csv_list_the_same_areas(client):
    """GIVEN the fourth quarter WHEN an auditor opens Gloucestershire's strategic log THEN its table's areas and
    counts are the CSV's rows: plans in two stage 4 escalations of the quarter (G1, G2: recurring; G0 reached
    stage 4 in September), information sharing in one (G3)."""
    sign_in(client, "auditor")
    _, page = _page(client, "/reports?kind=gloucestershire-strategic-log&by=quarter&quarter=2026Q4")
    shown = [(area, int(count), recurring) for area, count, recurring, _ in
             _table(page, "Themes across stage 4 escalations")]
    assert shown == [("Plans", 2, "yes"), ("Information sharing", 1, "no")]
    link = _links(page)[("Gloucestershire: strategic escalation log (stage 4)", "CSV")]
    rows = list(csv.DictReader(io.StringIO(client.get(link).get_data().decode("utf-8-sig"))))
    assert [(area_name(r["area_of_disagreement"]), int(r["count"]), r["recurring"]) for r in rows] == shown


def test_charts_are_drawn_by_the_app_with_no_script(client):
    """GIVEN the activity report WHEN shown THEN each chart is an SVG image carried in the page itself, and
    the page has no script."""
    sign_in(client, "auditor")
    _, page = _page(client, Q4)
    sources = [img.get("src") for img in page.xpath('//figure[@class="report-chart"]/img')]
    assert len(sources) == 3 and all(s.startswith("data:image/svg+xml;base64,") for s in sources)
    assert not page.xpath("//script")


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("by=dates&first=2026-12-31&last=2026-10-01", "The last day is before the first day."),
        ("by=dates&first=2026-02-30&last=2026-03-01", "One of those dates does not exist."),
        ("by=dates&first=2026-10-01", "Give both the first and the last day."),
        ("by=month&month=", "Choose the month."),
        ("by=month&month=2026-13", "That is not a month."),
        ("by=quarter&quarter=2026Q5", "Choose one of the quarters listed."),
        ("kind=everything&by=quarter&quarter=2026Q4", "Choose one of the reports listed."),
    ],
)
def test_a_period_that_cannot_be_read_is_a_clear_error(client, query, error):
    """GIVEN a period chosen wrongly WHEN the page is asked for it THEN it answers 400 with a plain sentence
    and offers no figures or files."""
    sign_in(client, "auditor")
    response, page = _page(client, f"/reports?{query}")
    assert response.status_code == 400
    assert page.get_element_by_id("report-error").text_content().startswith(error)
    assert not page.xpath('//*[@id="figures" or @id="downloads"]')


def test_a_month_and_a_date_range_are_periods_too(client):
    """GIVEN November 2026 as a month and as its two dates WHEN shown THEN both say the same figures."""
    sign_in(client, "auditor")
    _, month = _page(client, "/reports?kind=activity&by=month&month=2026-11")
    _, dates = _page(client, "/reports?kind=activity&by=dates&first=2026-11-01&last=2026-11-30")
    assert _figures(month) == _figures(dates)
    assert _figures(month)["Cases opened"] == "5"  # O3, O4, G1, G2, G3


def test_every_download_needs_a_role_and_is_audited(client, scenario):
    """GIVEN the download links WHEN asked for signed out THEN each is sent to sign in; WHEN an auditor downloads
    a PDF THEN it is an attachment and the audit chain says who downloaded what; a link with a made-up period,
    format or a time after now is refused in plain words."""
    sign_in(client, "auditor")
    _, page = _page(client, Q4)
    links = _links(page)
    client.post("/logout", data={"csrf_token": page.xpath('//input[@name="csrf_token"]')[0].get("value")})
    for link in links.values():
        response = client.get(link)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), link
    sign_in(client, "auditor")
    pdf = client.get(links[("Oldham: themes from escalations (quarterly)", "PDF")])
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="oldham-themes-2026Q4.pdf"'
    _, store = scenario
    with store.transaction() as tx:
        last = tx.session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
        assert (last.actor, last.action, last.payload["path"]) == ("auditor", "downloaded", "/reports/download")
    for bad in ("kind=activity&format=pdf&period=2026Q9", "kind=activity&format=exe&period=2026Q4",
                "kind=activity&format=csv&period=2026Q4&as_at=2030-01-01T00:00:00%2B00:00"):
        response = client.get(f"/reports/download?{bad}")
        assert response.status_code == 400 and b"cannot be made" in response.get_data(), bad


def test_the_navigation_links_to_the_reports(client):
    """GIVEN any signed-in user WHEN a workspace page is shown THEN its navigation offers Reports."""
    sign_in(client, "auditor")
    _, page = _page(client, "/cases")
    assert [a.get("href") for a in page.xpath("//header//nav/a") if a.text == "Reports"] == ["/reports"]
