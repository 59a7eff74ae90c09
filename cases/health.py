"""Is the service healthy? Four checks on the case file, for ``/healthz`` and ``resdesk health``.

``case_file``  the database answers and its schema is this version's
``watcher``    a watcher holds a mailbox lease that has not expired
``outbox``     nothing due has waited longer than ``outbox_stuck_minutes``, and nothing failed
               or is left unconfirmed since then
``mailbox``    a watcher read the mailbox within ``mailbox_silent_minutes`` (the last contact time)

Each check is ``{"ok": bool, "detail": str}``; the whole is ``ok`` only when every check is.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from resdesk.cases.engine import current_revision, head_revision
from resdesk.cases.models import PENDING, Lease, Mailbox, Outbound
from resdesk.cases.store import Store


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def check_health(store: Store, now: datetime, *, outbox_stuck_minutes: float = 60,
                 mailbox_silent_minutes: float = 30) -> dict:
    """The four checks as at ``now`` (aware); never raises for an unreachable database (it is a failed check)."""
    checks: dict[str, dict] = {}
    try:
        revision, head = current_revision(store.engine), head_revision()
        checks["case_file"] = {"ok": revision == head, "detail": f"schema {revision}, this version {head}"}
        with store.transaction() as tx:
            leases = tx.session.execute(select(Lease).where(Lease.name.startswith("mailbox:"))).scalars().all()
            live = [lease for lease in leases if _aware(lease.expires_at) > now]
            checks["watcher"] = {
                "ok": bool(live),
                "detail": f"lease held by {live[0].holder} until {_aware(live[0].expires_at).isoformat()}" if live
                else "no watcher holds a mailbox lease",
            }
            stuck_before = now - timedelta(minutes=outbox_stuck_minutes)
            waiting = tx.session.execute(select(func.count()).select_from(Outbound).where(
                Outbound.state == PENDING, func.coalesce(Outbound.next_attempt_at, Outbound.created_at) < stuck_before
            )).scalar_one()
            troubled = tx.session.execute(select(Outbound.state, func.count()).where(
                Outbound.state.in_(("failed", "unconfirmed")), Outbound.created_at >= stuck_before
            ).group_by(Outbound.state)).all()
            problems = [f"{waiting} due for over {outbox_stuck_minutes:g} minutes"] if waiting else []
            problems += [f"{count} {state}" for state, count in troubled]
            checks["outbox"] = {"ok": not problems, "detail": "; ".join(problems) or "nothing waiting too long"}
            contact = _aware(tx.session.execute(select(func.max(Mailbox.seen_at))).scalar_one())
            checks["mailbox"] = {
                "ok": contact is not None and contact >= now - timedelta(minutes=mailbox_silent_minutes),
                "detail": f"last contact {contact.isoformat()}" if contact else "no mailbox read yet",
                "last_contact": contact.isoformat() if contact else None,
            }
    except Exception as exc:  # noqa: BLE001 - an unreachable case file is a failed check, reported as such
        checks.setdefault("case_file", {"ok": False, "detail": f"unreachable ({type(exc).__name__})"})
        checks["case_file"] = {"ok": False, "detail": f"unreachable ({type(exc).__name__})"}
    return {"ok": all(c["ok"] for c in checks.values()) and len(checks) == 4, "at": now.isoformat(), "checks": checks}


__all__ = ["check_health"]
