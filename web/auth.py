"""Signing in and out: ``/login`` (fields ``username`` and ``password``) and ``/logout``.

Failed sign-ins are counted per account and per client address by Flask-Limiter
(only failures count; past the limit every attempt, right or wrong, gets 429), in the
storage ``web.rate_limit_storage`` names (the case file by default). A
successful sign-in starts a fresh session; each attempt is in the audit chain.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from resdesk.cases import users
from resdesk.cases.models import AUDITOR
from resdesk.cases.search import fold
from resdesk.web.access import PUBLIC, requires


def _safe_next(target: str | None) -> str:
    """Only a path on this site ("/cases?q=…"), never another site ("//evil", "https://…")."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("find.cases")


def _failed(response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    return "account:" + fold(request.form.get("username", ""))


def install_login(app: Flask, limiter: Limiter, web) -> None:
    """Register the ``auth`` blueprint with its limits (``web.login_limit_per_*``) on ``app``."""
    from resdesk.web.app import workspace

    blueprint = Blueprint("auth", __name__)

    @requires(PUBLIC)
    def login():
        if request.method == "GET":
            return render_template("login.html", next=request.args.get("next", ""))
        name = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        with workspace().store.transaction() as tx:
            user = users.authenticate(tx, name, password) if name and password else None
            tx.audit(name[:64] or "-", "signed-in" if user else "sign-in-refused", None,
                     {"address": request.remote_addr})
        if user is None:
            return render_template("login.html", error="The user name or password is wrong.",
                                   next=request.form.get("next", "")), 401
        session.clear()
        session.permanent = True
        session["user"] = user.name
        session["epoch"] = user.password_changed_at.isoformat()
        return redirect(_safe_next(request.form.get("next")))

    login = limiter.limit(web.login_limit_per_address, key_func=get_remote_address, methods=["POST"],
                          deduct_when=_failed, scope="login-address")(login)
    login = limiter.limit(web.login_limit_per_account, key_func=_account_key, methods=["POST"],
                          deduct_when=_failed, scope="login-account")(login)
    login.required_role = PUBLIC
    blueprint.add_url_rule("/login", "login", login, methods=["GET", "POST"])

    @requires(AUDITOR)
    def logout():
        with workspace().store.transaction() as tx:
            tx.audit(g.user.name, "signed-out", None, {})
        session.clear()
        return redirect(url_for("auth.login"))

    blueprint.add_url_rule("/logout", "logout", logout, methods=["POST"])

    @requires(PUBLIC)
    def home():
        return redirect(url_for("find.cases"))

    blueprint.add_url_rule("/", "home", home)
    app.register_blueprint(blueprint)
