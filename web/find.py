"""Finding cases: ``/cases`` (search form and results), ``/overdue`` (what to chase today) and
``/api/cases`` (the same search as JSON).

Query parameters: ``q`` (reference, child's name — accents and case ignored —, NHS
number or other identifier, agency), ``agency``, ``protocol``, ``stage``, ``status``
(open, overdue, needs-review, resolved), ``from`` and ``to`` (local dates the case
opened, inclusive).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, jsonify, render_template, request

from resdesk.cases.models import AUDITOR
from resdesk.cases.search import STATUSES, CaseQuery, chase_list, find_cases
from resdesk.web.access import requires
from resdesk.web.app import workspace

blueprint = Blueprint("find", __name__)

API_FIELDS = ("ref", "protocol", "stage", "variant", "status", "child_name", "child_identifier", "overdue",
              "stage_due", "cumulative_due", "opened", "agencies", "review_reason", "next_action")


def query_from(args) -> CaseQuery:
    """A ``CaseQuery`` from request parameters; 400 for a stage, status or date that cannot be read."""
    try:
        stage = int(args["stage"]) if args.get("stage", "").strip() else None
        opened_from = date.fromisoformat(args["from"]) if args.get("from", "").strip() else None
        opened_to = date.fromisoformat(args["to"]) if args.get("to", "").strip() else None
    except ValueError:
        abort(400, "A stage must be a number and dates must be written 2026-12-04.")
    status = args.get("status", "").strip()
    if status and status not in STATUSES:
        abort(400, f"The status must be one of {', '.join(STATUSES)}.")
    return CaseQuery(text=args.get("q", "").strip(), agency=args.get("agency", "").strip(),
                     protocol=args.get("protocol", "").strip(), stage=stage, status=status,
                     opened_from=opened_from, opened_to=opened_to)


def _search():
    ws = workspace()
    return find_cases(ws.store, ws.registry, ws.now(), query_from(request.args), ws.calendar_for)


@blueprint.get("/cases")
@requires(AUDITOR)
def cases():
    ws = workspace()
    return render_template("cases.html", rows=_search(), args=request.args, statuses=STATUSES,
                           protocols=ws.registry.ids())


@blueprint.get("/api/cases")
@requires(AUDITOR)
def api_cases():
    return jsonify([{name: row.get(name) for name in API_FIELDS} for row in _search()])


@blueprint.get("/overdue")
@requires(AUDITOR)
def overdue():
    ws = workspace()
    return render_template("overdue.html", rows=chase_list(ws.store, ws.registry, ws.now(), ws.calendar_for))
