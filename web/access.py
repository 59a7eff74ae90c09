"""Who may do what: every route names the role it needs, and a route that names none is refused.

Roles rank auditor < business-unit < admin: an auditor reads and downloads
everything; the business unit also acts on cases and the quarantine; an admin also
manages users. ``requires`` marks a view; the app's ``before_request`` checks the
mark, so a new route cannot be forgotten open.
"""

from __future__ import annotations

from typing import Callable

from resdesk.cases.models import ADMIN, AUDITOR, BUSINESS_UNIT

RANK = {AUDITOR: 1, BUSINESS_UNIT: 2, ADMIN: 3}
PUBLIC = "public"


def requires(role: str) -> Callable:
    """Mark a view as needing ``role`` (or ``"public"``: the sign-in page and static files)."""

    def mark(view: Callable) -> Callable:
        view.required_role = role
        return view

    return mark


def allowed(user_role: str | None, needed: str) -> bool:
    """Whether a signed-in user's role meets what a view needs (pure)."""
    if needed == PUBLIC:
        return True
    return user_role is not None and RANK.get(user_role, 0) >= RANK[needed]
