"""The message ledger: every message is claimed in the case file before any work on it.

A message is keyed by (account, folder, UIDVALIDITY, UID) and carries its
content hash. ``claim`` writes the row (state *claimed*) and commits before the
caller does anything else; the caller later finishes the row with ``complete``
inside the same transaction that records what the message did to its case, so a
kill at any instant leaves either nothing or both::

    claim = ledger.claim(key, sha256, worker)
    if claim is not None:
        ...read, classify, correlate...
        with store.transaction() as tx:
            tx.record_stage_summary(...)
            ledger.complete(tx, claim, "done", case_id=case.id)

A claim abandoned by a stopped worker is taken over once it is older than the
claim timeout (or at once, via ``reclaim_abandoned``, by the worker that now holds
the mailbox's lease); after ``max_attempts`` claims the message is handed back
for quarantine with the reason "failed N times: ...".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Mapping, Protocol as Interface

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from resdesk.cases.models import (
    CLAIMED,
    DONE,
    FAILED,
    FINAL_STATES,
    IGNORED,
    QUARANTINED,
    Mailbox,
    Message,
)
from resdesk.cases import pending
from resdesk.cases.store import Store, Tx
from resdesk.intake.completion import audited_reason, lost_claim, statement

STATES = (CLAIMED, DONE, QUARANTINED, FAILED, IGNORED)


class MessageKey(Interface):
    """Anything naming a message in a mailbox (a mail source's reference, or ``LedgerKey``)."""

    account: str
    folder: str
    uidvalidity: object
    uid: object


@dataclass(frozen=True)
class LedgerKey:
    account: str
    folder: str
    uidvalidity: str
    uid: str


@dataclass(frozen=True)
class Claim:
    """The right to work on one message, until completed or taken over.

    ``exhausted`` is set when the message has used up its attempts: the holder
    must move it to quarantine and complete it as quarantined with ``reason``.
    ``duplicate_of`` is the ledger id of an already handled message with the same
    content (the same mail seen again, say under a new UIDVALIDITY): the holder
    should record it as a duplicate, not as a new case event. ``sha256``, ``message_id`` and
    ``attempts`` are the ledger row's as claimed: what the completion's audit entry records.
    """

    ledger_id: int
    key: LedgerKey
    sha256: str | None
    worker: str
    attempts: int
    exhausted: bool = False
    reason: str | None = None
    duplicate_of: int | None = None
    ref: object = None  # the mail source's own reference, as passed to ``claim``
    message_id: str | None = None


@dataclass(frozen=True)
class UidValidityChange:
    account: str
    folder: str
    previous: str
    current: str


def _key(ref: MessageKey) -> LedgerKey:
    return LedgerKey(str(ref.account), str(ref.folder), str(ref.uidvalidity), str(ref.uid))


_MESSAGES = Message.__table__
_CLAIM_NEW = insert(_MESSAGES)


def _get(row: "Message | dict", name: str):
    """A column of a ledger row, loaded (``Message``) or just written (its values)."""
    return row[name] if isinstance(row, dict) else getattr(row, name)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


def _seconds(ttl: timedelta | float) -> timedelta:
    return ttl if isinstance(ttl, timedelta) else timedelta(seconds=float(ttl))


class Ledger:
    """Claims, completions, UIDVALIDITY tracking and mailbox leases, on a store."""

    def __init__(self, store: Store, *, claim_timeout: timedelta | float = 300.0, max_attempts: int = 3):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.store = store
        self.claim_timeout = _seconds(claim_timeout)
        self.max_attempts = max_attempts

    # -- claims ------------------------------------------------------------------------------

    def claim(
        self,
        ref: MessageKey,
        sha256: str | None,
        worker: str,
        *,
        message_id: str | None = None,
        subject: str | None = None,
        sender: str | None = None,
        received_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Claim | None:
        """Claim a message before any work on it; None if it is handled or held by a live claim."""
        headers = {"message_id": message_id, "subject": subject, "sender": sender, "received_at": received_at}
        try:
            with self.store.transaction() as tx:
                return self._claim_in(tx, [(ref, sha256, headers)], worker, _now(now))[0]
        except IntegrityError:
            return None  # another worker inserted the same key first (PostgreSQL)

    def claim_many(self, wanted: list[tuple[MessageKey, str | None, dict]], worker: str, *,
                   now: datetime | None = None) -> list[Claim | None]:
        """Claim a fetch batch in one committed transaction: for each (ref, sha256, headers) in
        ``wanted`` the claim ``claim`` would give, in the same order (None where it would give None).
        ``headers`` holds ``claim``'s keyword arguments (message_id, subject, sender, received_at).

        One commit, one read of the batch's rows, one insert flush and one duplicate lookup for the
        batch instead of all of them per message; what a kill leaves is the same as for single
        claims (committed claims, retried once abandoned). Where another worker inserted one of the
        keys first (PostgreSQL), the batch is claimed again one by one."""
        now = _now(now)
        if not wanted:
            return []
        if len({(str(ref.account), str(ref.folder)) for ref, _, _ in wanted}) > 1:
            return [self.claim(ref, sha256, worker, now=now, **headers) for ref, sha256, headers in wanted]
        try:
            with self.store.transaction() as tx:
                return self._claim_in(tx, wanted, worker, now)
        except IntegrityError:
            return [self.claim(ref, sha256, worker, now=now, **headers) for ref, sha256, headers in wanted]

    def _claim_in(self, tx: Tx, wanted: list[tuple[MessageKey, str | None, dict]], worker: str,
                  now: datetime) -> list[Claim | None]:
        """``claim_many``'s work inside ``tx``, for messages of one account and folder."""
        keys = [_key(ref) for ref, _, _ in wanted]
        account, folder = keys[0].account, keys[0].folder
        # Every column of the ledger's unique key is given, so each row is found by a seek of its
        # index, not by reading every row of the folder (a batch of a long backlog would be quadratic).
        validities = {k.uidvalidity for k in keys}
        rows = {
            (row.uidvalidity, row.uid): row
            for row in tx.session.execute(
                select(Message).where(
                    Message.account == account, Message.folder == folder,
                    Message.uidvalidity.in_(validities), Message.uid.in_({k.uid for k in keys}),
                ).with_for_update()
            ).scalars()
        }
        taken: list[tuple[MessageKey, LedgerKey, Message | dict | None, Claim | None]] = []
        new: list[dict] = []
        for (ref, sha256, headers), key in zip(wanted, keys):
            row = rows.get((key.uidvalidity, key.uid))
            if row is None:
                row = rows[(key.uidvalidity, key.uid)] = self._new_row(key, sha256, worker, now, **headers)
                new.append(row)
                taken.append((ref, key, row, None))
            elif isinstance(row, dict):  # the same message twice in one batch: claimed just above
                taken.append((ref, key, None, None))
            else:
                took, exhausted = self._take_over(row, key, sha256, worker, now, **headers)
                taken.append((ref, key, row if took else None, exhausted))
        tx.session.flush()  # the rows taken over
        if new:  # new rows: one executemany, then their ids in one read (no row-at-a-time INSERT … RETURNING)
            connection = tx.session.connection()
            connection.execute(_CLAIM_NEW, new)
            ids = {(uidvalidity, uid): id_ for id_, uidvalidity, uid in connection.execute(
                select(_MESSAGES.c.id, _MESSAGES.c.uidvalidity, _MESSAGES.c.uid).where(
                    _MESSAGES.c.account == account, _MESSAGES.c.folder == folder,
                    _MESSAGES.c.uidvalidity.in_(validities), _MESSAGES.c.uid.in_({row["uid"] for row in new})))}
            for row in new:
                row["id"] = ids[(row["uidvalidity"], row["uid"])]
        hashes = {_get(row, "sha256") for _, _, row, exhausted in taken
                  if row is not None and exhausted is None and _get(row, "sha256")}
        firsts = dict(tx.session.execute(
            select(Message.sha256, func.min(Message.id))
            .where(Message.account == account, Message.sha256.in_(hashes), Message.state.in_((DONE, QUARANTINED)))
            .group_by(Message.sha256)
        ).all()) if hashes else {}
        claims: list[Claim | None] = []
        for ref, key, row, exhausted in taken:
            if exhausted is not None:
                claims.append(replace(exhausted, ref=ref))
            elif row is None:
                claims.append(None)
            else:
                sha256 = _get(row, "sha256")
                claims.append(Claim(_get(row, "id"), key, sha256, worker, _get(row, "attempts"),
                                    duplicate_of=firsts.get(sha256), ref=ref, message_id=_get(row, "message_id")))
        return claims

    @staticmethod
    def _new_row(key: LedgerKey, sha256, worker, now, message_id=None, subject=None, sender=None,
                 received_at=None) -> dict:
        """A new ledger row's values, claimed (written by ``_CLAIM_NEW``)."""
        return dict(
            account=key.account, folder=key.folder, uidvalidity=key.uidvalidity, uid=key.uid,
            sha256=sha256, message_id=message_id, subject=subject, sender=sender,
            received_at=received_at, state=CLAIMED, attempts=1, claimed_by=worker, claimed_at=now,
        )

    def _take_over(self, row: Message, key: LedgerKey, sha256, worker, now, message_id=None, subject=None,
                   sender=None, received_at=None) -> tuple[bool, Claim | None]:
        """Take over an existing row if it may be: (taken, the exhausted claim when its attempts ran out)."""
        if row.state in FINAL_STATES:
            return False, None
        if row.state == CLAIMED and row.claimed_at is not None and row.claimed_at > now - self.claim_timeout:
            return False, None  # held by a live claim
        # Failed, or claimed by a worker that stopped: take it over.
        previous = row.reason or (f"claim by {row.claimed_by} abandoned" if row.state == CLAIMED else "failed")
        row.attempts += 1
        row.state = CLAIMED
        row.claimed_by = worker
        row.claimed_at = now
        row.sha256 = row.sha256 or sha256
        row.message_id = row.message_id or message_id
        row.subject = row.subject or subject
        row.sender = row.sender or sender
        if row.attempts > self.max_attempts:
            reason = f"failed {row.attempts - 1} times: {previous}"
            row.reason = reason
            return True, Claim(row.id, key, row.sha256, worker, row.attempts, exhausted=True, reason=reason,
                               message_id=row.message_id)
        return True, None

    def complete(
        self,
        tx: Tx,
        claim: Claim,
        state: str,
        reason: str | None = None,
        case_id: int | None = None,
        *,
        archive_path: str | None = None,
        duplicate_of: int | None = None,
        now: datetime | None = None,
        refused: Mapping[str, str] | None = None,
        answer_to: str | None = None,
        sender_verification: str | None = None,
    ) -> None:
        """Finish a claim inside the caller's transaction (with the case events it recorded).

        ``state`` is done, quarantined, ignored, or failed (retryable: the next claim
        takes it up again until the attempts run out). ``answer_to`` (whom the refusal
        reply goes to) and ``sender_verification`` (``intake.senders``' verdict) are kept on the
        row. ``case_id`` is the case the message was recorded on; the audit entry names its reference.

        The UPDATE (a statement built once per set of columns, checking the claim is still ours) is
        held with the transaction's events and audit entries (``cases.pending``) and written with every
        other completion held beside it by one executemany, before anything reads the case file, before
        a savepoint and at commit; the audit entry is built from ``claim``, not read back. If any claim
        written together was lost to another worker meanwhile, fewer rows change than were completed,
        and ``StoreError`` is raised there (at the latest by the commit), which rolls the whole
        transaction back: nothing of it is written.

        The audit entry of a quarantined message keeps no refused value: its reason sentence (which
        may quote one) only as a SHA-256, and ``refused`` (field name -> refused value) as the field
        names with the SHA-256 of each value. The ledger row keeps the reason for the business unit.
        """
        if state not in (DONE, QUARANTINED, IGNORED, FAILED):
            raise ValueError(f"cannot complete a claim as {state!r}")
        values: dict = {"state": state, "reason": reason, "completed_at": _now(now)}
        if case_id is not None:
            values["case_id"] = case_id
        if archive_path:
            values["archive_path"] = archive_path
        duplicate = duplicate_of if duplicate_of is not None else (claim.duplicate_of if state == IGNORED else None)
        if duplicate is not None:
            values["duplicate_of"] = duplicate
        if state != FAILED:
            values.update(claimed_by=None, claimed_at=None)
        if answer_to is not None:
            values["answer_to"] = answer_to
        if sender_verification is not None:
            values["sender_verification"] = sender_verification
        tx.forget_loaded(Message, claim.ledger_id)  # its next read writes the completion out first
        case = tx.case_by_id(case_id) if case_id is not None else None
        key = claim.key
        tx.audit(  # before the completion is held: the chain's first append may write out what is held
            claim.worker,
            f"message-{state}",
            case.ref if case else None,
            {
                "ledger_id": claim.ledger_id,
                "account": key.account,
                "folder": key.folder,
                "uidvalidity": key.uidvalidity,
                "uid": key.uid,
                "sha256": claim.sha256,
                "message_id": claim.message_id,
                **audited_reason(state, reason, refused),
                "attempts": claim.attempts,
            },
        )
        pending.hold(
            tx.session, statement(tuple(values)),
            {**{f"set_{name}": value for name, value in values.items()}, "claim_id": claim.ledger_id,
             "claim_state": CLAIMED, "claim_worker": claim.worker, "claim_attempts": claim.attempts},
            unmatched=lost_claim,
        )

    def reclaim_abandoned(self, account: str, folder: str, worker: str) -> int:
        """Release claims on a mailbox held by anyone but ``worker`` (who now holds its lease).

        Call this after acquiring the mailbox's lease: whoever held those claims no
        longer runs, so their messages become retryable at once (attempts still count).
        """
        with self.store.transaction() as tx:
            result = tx.session.execute(
                update(Message)
                .where(
                    Message.account == account,
                    Message.folder == folder,
                    Message.state == CLAIMED,
                    Message.claimed_by != worker,
                )
                .values(state=FAILED, reason="the worker handling it stopped before finishing")
            )
            return result.rowcount or 0

    def known_uids(self, account: str, folder: str, uidvalidity: object) -> set[str]:
        """UIDs already handled (done, quarantined or ignored) under this UIDVALIDITY."""
        with self.store.transaction() as tx:
            return set(
                tx.session.execute(
                    select(Message.uid).where(
                        Message.account == account,
                        Message.folder == folder,
                        Message.uidvalidity == str(uidvalidity),
                        Message.state.in_(tuple(FINAL_STATES)),
                    )
                ).scalars()
            )

    def entry(self, ledger_id: int) -> Message | None:
        with self.store.transaction() as tx:
            return tx.session.get(Message, ledger_id)

    # -- UIDVALIDITY ------------------------------------------------------------------------

    def check_uidvalidity(
        self, account: str, folder: str, uidvalidity: object, *, now: datetime | None = None
    ) -> UidValidityChange | None:
        """Record the folder's UIDVALIDITY; on a change, raise an alert and report it.

        Earlier ledger rows stay keyed by the old UIDVALIDITY, so new mail at low
        UIDs is never mistaken for mail already handled.
        """
        current = str(uidvalidity)
        now = _now(now)
        with self.store.transaction() as tx:
            row = tx.session.execute(
                select(Mailbox).where(Mailbox.account == account, Mailbox.folder == folder)
            ).scalar_one_or_none()
            if row is None:
                tx.session.add(Mailbox(account=account, folder=folder, uidvalidity=current, seen_at=now))
                return None
            row.seen_at = now
            if row.uidvalidity == current:
                return None
            change = UidValidityChange(account, folder, row.uidvalidity, current)
            row.uidvalidity = current
            tx.raise_alert(
                "uidvalidity-changed",
                {"account": account, "folder": folder, "previous": change.previous, "current": current},
                at=now,
            )
            return change
