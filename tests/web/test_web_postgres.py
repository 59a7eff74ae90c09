"""The workspace on a PostgreSQL case file works as on SQLite."""

from __future__ import annotations

from resdesk.web import create_app
from resdesk.wiring import build_processor
from tests.web.casefile import NOW, build_case_file, csrf_token, sign_in


def test_find_see_release_and_verify_on_postgresql(postgres, tmp_path):
    """GIVEN the small case file in PostgreSQL WHEN the business unit finds the case by name, opens it, releases
    the held message and verifies the case THEN each works and the case reaches stage 2."""
    case_file = build_case_file(tmp_path, postgres.new_database())
    try:
        app = create_app(case_file.settings, case_file.store,
                         processor=build_processor(case_file.settings, case_file.store), clock=lambda: NOW)
        client = app.test_client()
        sign_in(client, "bu")
        assert [r["ref"] for r in client.get("/api/cases?q=zoe").get_json()] == ["OLD-2026-0001"]
        assert client.get("/cases/OLD-2026-0001").status_code == 200
        token = csrf_token(client.get("/quarantine").get_data(as_text=True))
        client.post(f"/quarantine/{case_file.quarantined_id}/release",
                    data={"csrf_token": token, "reason": "partner school", "trust": "domain"})
        assert client.get("/api/cases?q=zoe").get_json()[0]["stage"] == 2
        assert "Intact" in client.get("/cases/OLD-2026-0001/verify").get_data(as_text=True)
    finally:
        case_file.store.close()
