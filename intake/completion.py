"""What completing a ledger claim writes (``Ledger.complete``): the UPDATE held for the transaction,
the fault when completions written together find a claim lost, and what the audit chain keeps of why.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Mapping

from sqlalchemy import Connection, bindparam, select, update

from resdesk.cases.models import QUARANTINED, Message
from resdesk.errors import StoreError

_MESSAGES = Message.__table__


@functools.cache
def statement(columns: tuple[str, ...]):
    """``UPDATE messages SET <columns> WHERE`` the claim is still the caller's; built once per set of
    columns, so the statement cache serves every later one and completions held together share it."""
    c = _MESSAGES.c
    return (
        update(_MESSAGES)
        .where(c.id == bindparam("claim_id"), c.state == bindparam("claim_state"),
               c.claimed_by == bindparam("claim_worker"), c.attempts == bindparam("claim_attempts"))
        .values({name: bindparam(f"set_{name}", type_=c[name].type) for name in columns})
    )


def lost_claim(connection: Connection, completions: list[dict]) -> StoreError:
    """The fault when completions written together changed fewer rows than they were: names the
    first whose row is not as that completion left it (taken over, or released by ``reclaim_abandoned``,
    meanwhile). Read only on this failing path; the transaction then rolls back."""
    c = _MESSAGES.c
    rows = {row.id: row for row in connection.execute(
        select(c.id, c.folder, c.uid, c.state, c.reason, c.attempts)
        .where(c.id.in_({completion["claim_id"] for completion in completions}))
    )}
    lost = next(
        (completion for completion in completions
         if (row := rows.get(completion["claim_id"])) is None
         or (row.state, row.reason, row.attempts) != (completion["set_state"], completion["set_reason"],
                                                       completion["claim_attempts"])),
        completions[0],  # each row as completed: one claim was completed twice
    )
    row = rows.get(lost["claim_id"])
    name = f"{row.folder}/{row.uid}" if row is not None else f"#{lost['claim_id']}"
    return StoreError(
        f"The claim on message {name} by {lost['claim_worker']} was taken over before it was completed; "
        "its work is discarded."
    )


def _sha256_text(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def audited_reason(state: str, reason: str | None, refused: Mapping[str, str] | None) -> dict:
    """What the audit chain keeps of why a message was completed: the reason itself, except for
    refused (quarantined) messages, whose reason and refused values are kept only as SHA-256."""
    if state != QUARANTINED:
        return {"reason": reason}
    return {
        "reason_sha256": _sha256_text(reason) if reason is not None else None,
        "refused_fields": {name: _sha256_text(str(value)) for name, value in (refused or {}).items()},
    }
