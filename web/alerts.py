"""``/alerts``: failed or unconfirmed sends, bounces and mailbox resets, until acknowledged."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from resdesk.cases.models import AUDITOR, BUSINESS_UNIT
from resdesk.outbox.alerts import acknowledge, open_alerts
from resdesk.web.access import requires
from resdesk.web.act import perform
from resdesk.web.app import workspace

blueprint = Blueprint("alerts", __name__)


@blueprint.get("/alerts")
@requires(AUDITOR)
def listing():
    with workspace().store.transaction() as tx:
        rows = open_alerts(tx)
    return render_template("alerts.html", rows=rows)


@blueprint.post("/alerts/acknowledge")
@requires(BUSINESS_UNIT)
def acknowledge_alert():
    key = request.form.get("key", "")
    return perform(lambda tx, now, who, why: acknowledge(tx, key, now, actor=who, reason=why),
                   "The alert was acknowledged.", url_for("alerts.listing"))
