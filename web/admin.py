"""``/users`` (admin role): add a user (the password is generated and shown once), disable one,
or reset one's password."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from resdesk.cases import users
from resdesk.cases.models import ADMIN, ROLES
from resdesk.errors import ResdeskError
from resdesk.web.access import requires
from resdesk.web.app import workspace

blueprint = Blueprint("admin", __name__)


@blueprint.get("/users")
@requires(ADMIN)
def listing():
    with workspace().store.transaction() as tx:
        rows = users.list_users(tx)
    return render_template("users.html", rows=rows, roles=ROLES)


def _with_new_password(work, done: str):
    password = users.generate_password()
    try:
        with workspace().store.transaction() as tx:
            work(tx, password)
    except ResdeskError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.listing"), code=303)
    # Shown in this response only: never put in the session cookie or a redirect.
    with workspace().store.transaction() as tx:
        rows = users.list_users(tx)
    return render_template("users.html", rows=rows, roles=ROLES, done=done, new_password=password)


@blueprint.post("/users")
@requires(ADMIN)
def add():
    name, role = request.form.get("name", "").strip(), request.form.get("role", "")
    return _with_new_password(lambda tx, pw: users.add_user(tx, name, role, pw, actor=g.user.name),
                              f"{name} was added as {role}.")


@blueprint.post("/users/<name>/reset")
@requires(ADMIN)
def reset(name: str):
    return _with_new_password(lambda tx, pw: users.reset_password(tx, name, pw, actor=g.user.name),
                              f"{name}'s password was reset.")


@blueprint.post("/users/<name>/disable")
@requires(ADMIN)
def disable(name: str):
    try:
        with workspace().store.transaction() as tx:
            users.disable_user(tx, name, actor=g.user.name)
    except ResdeskError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{name} can no longer sign in.", "done")
    return redirect(url_for("admin.listing"), code=303)
