"""``/quarantine``: mail held back, each with the reason a person can act on, and the business
unit's three decisions — release (process again, optionally trusting the sender or domain),
file on a chosen case, or dismiss — each with a required reason.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from resdesk.cases.models import AUDITOR, BUSINESS_UNIT
from resdesk.errors import ResdeskError
from resdesk.intake import quarantine as held
from resdesk.web.access import requires
from resdesk.web.act import perform
from resdesk.web.app import workspace

blueprint = Blueprint("quarantine", __name__)


@blueprint.get("/quarantine")
@requires(AUDITOR)
def listing():
    with workspace().store.transaction() as tx:
        rows = held.quarantined(tx)
    return render_template("quarantine.html", rows=rows)


@blueprint.post("/quarantine/<int:ledger_id>/release")
@requires(BUSINESS_UNIT)
def release(ledger_id: int):
    ws = workspace()
    trust = request.form.get("trust") or None
    if trust not in (None, "sender", "domain"):
        trust = None
    if ws.processor is None:
        flash("This workspace was started without the watcher's settings, so it cannot process mail.", "error")
        return redirect(url_for("quarantine.listing"), code=303)
    try:
        outcome = held.release(ws.store, ws.processor, ledger_id, ws.now(), actor=g.user.name,
                               reason=request.form.get("reason", ""), trust=trust)
    except ResdeskError as exc:
        flash(str(exc), "error")
        return redirect(url_for("quarantine.listing"), code=303)
    if outcome.case_ref:
        flash(f"The message was processed again and filed on {outcome.case_ref}.", "done")
        return redirect(url_for("see.case", ref=outcome.case_ref), code=303)
    flash(f"The message was processed again: {outcome.state}" + (f" ({outcome.reason})" if outcome.reason else "") + ".",
          "done" if outcome.state != "quarantined" else "error")
    return redirect(url_for("quarantine.listing"), code=303)


@blueprint.post("/quarantine/<int:ledger_id>/file")
@requires(BUSINESS_UNIT)
def file_on_case(ledger_id: int):
    ref = request.form.get("ref", "").strip().upper()
    return perform(lambda tx, now, who, why: held.file_on_case(tx, ledger_id, ref, now, actor=who, reason=why),
                   f"The message was filed on {ref}.", url_for("quarantine.listing"))


@blueprint.post("/quarantine/<int:ledger_id>/dismiss")
@requires(BUSINESS_UNIT)
def dismiss(ledger_id: int):
    return perform(lambda tx, now, who, why: held.dismiss(tx, ledger_id, now, actor=who, reason=why),
                   "The message was dismissed.", url_for("quarantine.listing"))
