"""The check code in a case token: ``[OLD-2026-0007-K3F9QZ]``.

References are sequential, so anyone can guess ``OLD-2026-0008``. The product's own subjects
therefore carry, after the reference, a short code that only the case file can compute: the
first six base-32 characters of HMAC-SHA256(key, reference) (RFC 2104; 30 bits, so a guess is
right about once in a thousand million). Intake finds a case by its reference with or without
the code (people retype references from memory), but only a message whose code is right — or
that answers the case's own mail — lets someone the case's mail went to act on the case; a
reference typed without its code is trusted only from a party, and a wrong code never
(``intake.authority``).

Where the key lives, and why: in the case file itself (``case_file_keys``), generated once
with ``secrets`` when first needed. The codes must stay valid for the life of the case — years,
through backups, restores and moves to a new server — and the case file is the one thing that
always travels with the references it protects; a key held only in the environment would, once
lost or changed, silently demote every outstanding thread. Keeping it beside the cases gives
nothing away: whoever can read the case file can already read every case. (The brief's "secrets
only from the environment" is about credentials to other systems; this is a property of the
case file, like its audit chain.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import weakref

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from resdesk.cases.models import CaseFileKey
from resdesk.cases.store import Store

__all__ = ["CHECK_CODE_LENGTH", "case_token_key", "check_code", "code_matches"]

CHECK_CODE_LENGTH = 6
_KEY_NAME = "case-token-check-code"
_known: "weakref.WeakKeyDictionary[Store, bytes]" = weakref.WeakKeyDictionary()


def check_code(key: bytes, reference: str) -> str:
    """The check code of ``reference`` (canonical ``OLD-2026-0007``) under ``key``: six characters
    of A-Z and 2-7 (``K3F9QZ``-like)."""
    digest = hmac.new(key, reference.strip().upper().encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:CHECK_CODE_LENGTH]


def code_matches(key: bytes, reference: str, code: str | None) -> bool:
    """Whether ``code`` (any letter case) is ``reference``'s check code; compared in constant time."""
    if not code:
        return False
    return hmac.compare_digest(check_code(key, reference), code.strip().upper())


def case_token_key(store: Store) -> bytes:
    """This case file's check-code key, generated and stored the first time it is asked for.

    Opens its own short units of work (never call it inside one); when two processes create
    the key at once, the one stored first wins and both use it."""
    if store in _known:
        return _known[store]
    with store.transaction() as tx:
        row = tx.session.get(CaseFileKey, _KEY_NAME)
        value = row.value if row is not None else None
    if value is None:
        try:
            with store.transaction() as tx:
                tx.session.add(CaseFileKey(name=_KEY_NAME, value=secrets.token_hex(32)))
        except IntegrityError:
            pass
        with store.transaction() as tx:
            value = tx.session.execute(select(CaseFileKey.value).where(CaseFileKey.name == _KEY_NAME)).scalar_one()
    key = bytes.fromhex(value)
    _known[store] = key
    return key
