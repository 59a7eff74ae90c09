"""The workspace's Flask application: ``create_app(settings, store)``.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Strict, Secure unless
turned off for loopback, ending after ``web.idle_minutes`` unused); every
state-changing request needs Flask-WTF's CSRF token (403 without); failed
sign-ins are limited per account and per address by Flask-Limiter (429), counted in
the case file by default (``web.rate_limit_storage``), so every process shares them. Every
response carries a strict Content-Security-Policy with ``frame-ancestors 'none'``
and ``Cache-Control: no-store``. Routes live in blueprints (``BLUEPRINTS``), so
another part of the product can add its own with ``app.register_blueprint``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Flask, g, jsonify, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits.errors import ConfigurationError
from werkzeug.middleware.proxy_fix import ProxyFix

from resdesk.cases import users
from resdesk.errors import UsageError
from resdesk.protocols import WorkingCalendar, to_local
from resdesk.web.access import PUBLIC, allowed

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Workspace:
    """What every route works with: the settings, the case file, the protocols and the clock."""

    settings: Any
    store: Any
    registry: Any
    processor: Any = None
    clock: Callable[[], datetime] | None = None
    closure_days: tuple = field(default_factory=tuple)

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(timezone.utc)

    def calendar_for(self, protocol) -> WorkingCalendar:
        return WorkingCalendar(protocol.nation, extra_closures=self.closure_days)


def workspace() -> Workspace:
    """The running app's workspace (inside a request)."""
    from flask import current_app

    return current_app.extensions["resdesk"]


def _when(value, pattern: str = "%a %d %b %Y %H:%M") -> str:
    if not value:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return to_local(value).strftime(pattern)


def create_app(settings, store, *, registry=None, processor=None, clock=None) -> Flask:
    """The workspace app for ``settings`` (the product's settings model) on the open ``store``.

    ``processor`` is the intake processor used to release quarantined mail (None: release is
    refused with a reason); ``clock`` replaces the wall clock (tests, the demo's fixed now).
    """
    from resdesk.protocols import default_registry
    from resdesk.web.routes import BLUEPRINTS, install_login

    web = settings.web
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=web.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_NAME="resdesk_session",
        SESSION_COOKIE_SECURE=web.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=web.idle_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if web.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=web.proxy_hops, x_proto=web.proxy_hops, x_host=web.proxy_hops)
    app.extensions["resdesk"] = Workspace(
        settings, store, registry or default_registry(settings.partnership.protocols_dir), processor, clock,
        tuple(settings.partnership.extra_closure_days),
    )
    CSRFProtect(app)
    limiter = _limiter(app, web.rate_limit_storage, store)
    app.jinja_env.filters["when"] = _when
    app.jinja_env.globals["allowed"] = lambda needed: allowed(getattr(g.get("user"), "role", None), needed)
    install_login(app, limiter, web)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.before_request(_authorise)
    app.after_request(_audit_view)
    app.after_request(_security_headers)
    _error_pages(app)
    return app


def _limiter(app: Flask, storage_uri: str, store) -> Limiter:
    """Flask-Limiter counting into ``storage_uri``: ``casefile://`` is the case file (``cases.ratelimits``,
    shared by every process), anything else a ``limits`` storage URI (``redis://…``)."""
    from resdesk.cases.ratelimits import SCHEME

    options = {"store": store} if urlsplit(storage_uri).scheme == SCHEME else {}
    try:
        return Limiter(get_remote_address, app=app, storage_uri=storage_uri, storage_options=options,
                       default_limits=[])
    except ConfigurationError as exc:
        raise UsageError(f"Setting web.rate_limit_storage is invalid: {exc}.") from None


def _signed_in() -> users.SignedIn | None:
    name = session.get("user")
    if not name:
        return None
    with workspace().store.transaction() as tx:
        user = users.current_user(tx, name)
    if user is None or session.get("epoch") != user.password_changed_at.isoformat():
        session.clear()  # disabled, removed, or the password was reset since
        return None
    return user


def _authorise():
    """Before every request: who is signed in, and whether the route allows their role."""
    from flask import abort, current_app

    g.user = None
    if request.endpoint is None:
        return None  # no such route: 404
    view = current_app.view_functions[request.endpoint]
    needed = PUBLIC if request.endpoint == "static" else getattr(view, "required_role", None)
    if needed is None:
        abort(403)  # a route that names no role is closed
    g.user = _signed_in()
    if needed == PUBLIC:
        return None
    if g.user is None:
        if request.path.startswith("/api/"):
            return jsonify({"error": "sign in first"}), 401
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if not allowed(g.user.role, needed):
        abort(403)
    return None


DOWNLOADS = {"see.record_pdf", "see.message_eml", "see.document_file", "reports.download"}


def _audit_view(response):
    """Every page a user sees and every file they download goes into the audit chain."""
    user = g.get("user")
    if user is None or request.method != "GET" or request.endpoint in (None, "static") or response.status_code != 200:
        return response
    action = "downloaded" if request.endpoint in DOWNLOADS else "viewed"
    ref = (request.view_args or {}).get("ref")
    with workspace().store.transaction() as tx:
        case = tx.case_by_ref(ref) if ref else None
        tx.audit(user.name, action, case.ref if case else None,
                 {"path": request.path, "query": request.query_string.decode("utf-8", "replace")[:500]})
    return response


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _error_pages(app: Flask) -> None:
    def page(status: int, title: str, text: str):
        if request.path.startswith("/api/"):
            return jsonify({"error": text}), status
        return render_template("error.html", status=status, title=title, text=text), status

    app.register_error_handler(CSRFError, lambda e: page(403, "Refused", f"The form's security token is missing or stale ({e.description}). Go back, reload the page and try again."))
    app.register_error_handler(403, lambda e: page(403, "Not allowed", "Your role does not allow this."))
    app.register_error_handler(404, lambda e: page(404, "Not found", "There is nothing at this address."))
    app.register_error_handler(405, lambda e: page(405, "Not allowed", "This address does not take that method."))
    app.register_error_handler(429, lambda e: page(429, "Too many attempts", "Too many failed sign-ins. Wait a while and try again."))
    app.register_error_handler(413, lambda e: page(413, "Too large", "That request is too large."))
