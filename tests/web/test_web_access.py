"""Every route of the workspace: refused without sign-in, refused to the wrong role, refused
without a CSRF token; the sign-in limit; security headers; every view audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from resdesk.cases.models import AuditEntry
from tests.web.casefile import ACCOUNT_LIMIT, ADDRESS_LIMIT, PASSWORD, csrf_token, sign_in

PUBLIC = {"/login", "/", "/static/<path:filename>"}


def _routes(app):
    """(method, path) of every rule the app serves, with real values for its parts."""
    values = {"ref": "OLD-2026-0001", "ledger_id": "1", "document_id": "1", "name": "auditor", "filename": "workspace.css"}
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def _posts(app):
    return [path for method, path in _routes(app) if method == "POST"]


def _gets(app):
    return [path for method, path in _routes(app) if method == "GET"]


def test_the_route_table_covers_every_kind_of_route(shared_app):
    """GIVEN the app WHEN its routes are listed THEN finding, seeing, acting, quarantine, alerts and users are all there."""
    paths = {path for _, path in _routes(shared_app)}
    for expected in ("/cases", "/overdue", "/api/cases", "/cases/OLD-2026-0001", "/cases/OLD-2026-0001/record.pdf",
                     "/cases/OLD-2026-0001/verify", "/quarantine", "/alerts", "/users", "/cases/OLD-2026-0001/merge",
                     "/quarantine/1/release", "/alerts/acknowledge", "/logout"):
        assert expected in paths
    assert len(_posts(shared_app)) >= 15


def test_every_page_needs_sign_in(shared_app, shared_client):
    """GIVEN no session WHEN any GET route is asked for THEN it redirects to /login (the API answers 401)."""
    for path in _gets(shared_app):
        response = shared_client.get(path)
        if path.startswith("/api/"):
            assert response.status_code == 401, path
        else:
            assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_every_action_needs_sign_in(shared_app, shared_client):
    """GIVEN no session but a valid CSRF token WHEN any POST route is called THEN it is sent to /login, nothing done."""
    token = csrf_token(shared_client.get("/login").get_data(as_text=True))
    for path in _posts(shared_app):
        response = shared_client.post(path, data={"csrf_token": token, "reason": "x", "text": "x"})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_an_auditor_may_not_act(shared_app, shared_client, shared_case_file):
    """GIVEN an auditor signed in WHEN every state-changing route is posted with a valid token
    THEN each answers 403 and the case file is unchanged (except the sign-out, which every role may)."""
    sign_in(shared_client, "auditor")
    token = csrf_token(shared_client.get("/cases").get_data(as_text=True))
    with shared_case_file.store.transaction() as tx:
        before = tx.session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())).scalars().first()
    for path in _posts(shared_app):
        if path == "/logout":
            continue
        response = shared_client.post(path, data={"csrf_token": token, "reason": "because", "text": "note",
                                            "to_ref": "OLD-2026-0002", "into_ref": "OLD-2026-0002", "stage": "2"})
        assert response.status_code == 403, path
    with shared_case_file.store.transaction() as tx:
        actions = tx.session.execute(select(AuditEntry.action).where(AuditEntry.seq > before)).scalars().all()
    assert set(actions) <= {"viewed"}


def test_the_business_unit_may_not_manage_users(shared_client):
    """GIVEN the business unit signed in WHEN it opens /users or adds a user THEN both answer 403."""
    sign_in(shared_client, "bu")
    token = csrf_token(shared_client.get("/cases").get_data(as_text=True))
    assert shared_client.get("/users").status_code == 403
    assert shared_client.post("/users", data={"csrf_token": token, "name": "eve", "role": "admin"}).status_code == 403


def test_every_action_needs_a_csrf_token(shared_app, shared_client):
    """GIVEN an admin signed in WHEN any POST route is called without the CSRF token THEN it answers 403."""
    sign_in(shared_client, "admin")
    for path in _posts(shared_app):
        response = shared_client.post(path, data={"reason": "because", "text": "note"})
        assert response.status_code == 403, path


def test_sign_in_with_a_wrong_token_is_refused(shared_client):
    """GIVEN a forged CSRF token WHEN the sign-in form is posted THEN it answers 403."""
    shared_client.get("/login")
    response = shared_client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


def test_failed_sign_ins_are_limited_per_account(shared_client):
    """GIVEN as many wrong passwords for one account as the limit allows WHEN another attempt comes, even with
    the right password, THEN it answers 429; another account is still served."""
    for _ in range(ACCOUNT_LIMIT):
        assert sign_in(shared_client, "bu", "wrong password!").status_code == 401
    assert sign_in(shared_client, "bu").status_code == 429
    assert sign_in(shared_client, "auditor").status_code == 302


def test_failed_sign_ins_are_limited_per_address(shared_client):
    """GIVEN the limit's failed sign-ins from one address across many names WHEN another comes THEN it answers 429."""
    for n in range(ADDRESS_LIMIT):
        assert sign_in(shared_client, f"nobody{n}", "wrong password!").status_code == 401
    assert sign_in(shared_client, "admin").status_code == 429


def test_successful_sign_ins_do_not_count(shared_client):
    """GIVEN many successful sign-ins WHEN one more comes THEN it is still let in."""
    for _ in range(ADDRESS_LIMIT + 1):
        assert sign_in(shared_client, "admin").status_code == 302


def test_security_headers_on_every_page(shared_app, shared_client):
    """GIVEN a signed-in admin WHEN every page is fetched THEN each has a strict CSP with frame-ancestors 'none',
    no-store caching and nosniff."""
    sign_in(shared_client, "admin")
    for path in _gets(shared_app) + ["/login"]:
        response = shared_client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_flags(shared_case_file, tmp_path):
    """GIVEN the default settings (Secure cookies) WHEN a user signs in THEN the session cookie is Secure,
    HttpOnly and SameSite=Strict, with the idle time-out as its lifetime."""
    from resdesk.web import create_app

    settings = shared_case_file.settings.model_copy(update={"web": shared_case_file.settings.web.model_copy(update={"secure_cookies": True})})
    shared_client = create_app(settings, shared_case_file.store).test_client()
    response = sign_in(shared_client, "admin")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Expires=" in cookie  # the idle time-out: a permanent session of web.idle_minutes


def test_every_view_and_download_is_audited(shared_app, shared_client, shared_case_file):
    """GIVEN an auditor WHEN they open a case, its record and a raw message THEN each is an audit entry with their name."""
    sign_in(shared_client, "auditor")
    for path in ("/cases/OLD-2026-0001", "/cases/OLD-2026-0001/record.pdf", "/cases/OLD-2026-0001/messages/1.eml"):
        assert shared_client.get(path).status_code == 200
    with shared_case_file.store.transaction() as tx:
        entries = tx.session.execute(select(AuditEntry).where(AuditEntry.actor == "auditor")).scalars().all()
    seen = [(e.action, e.case_ref, e.payload.get("path")) for e in entries]
    assert ("viewed", "OLD-2026-0001", "/cases/OLD-2026-0001") in seen
    assert ("downloaded", "OLD-2026-0001", "/cases/OLD-2026-0001/record.pdf") in seen
    assert ("downloaded", "OLD-2026-0001", "/cases/OLD-2026-0001/messages/1.eml") in seen


def test_a_disabled_user_is_signed_out(client, case_file):
    """GIVEN a signed-in business-unit user WHEN an admin disables them THEN their next request goes to /login."""
    from resdesk.cases import users

    sign_in(client, "bu")
    assert client.get("/cases").status_code == 200
    with case_file.store.transaction() as tx:
        users.disable_user(tx, "bu", actor="admin")
    assert client.get("/cases").status_code == 302


def test_sign_out_ends_the_session(shared_client):
    """GIVEN a signed-in user WHEN they sign out THEN the next page goes to /login."""
    sign_in(shared_client, "auditor")
    token = csrf_token(shared_client.get("/cases").get_data(as_text=True))
    assert shared_client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert shared_client.get("/cases").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/"])
def test_sign_in_never_sends_a_user_to_another_site(shared_client, target):
    """GIVEN a ``next`` pointing off the site WHEN a user signs in THEN they land on /cases instead."""
    token = csrf_token(shared_client.get("/login").get_data(as_text=True))
    response = shared_client.post("/login", data={"username": "auditor", "password": PASSWORD, "csrf_token": token, "next": target})
    assert response.headers["Location"] == "/cases"
