"""Checking an auditor record offline: the case JSON embedded in the PDF carries each audit
entry with every field its hash is computed from, and each message's and document's SHA-256.

``read_record`` takes the embedded JSON out of the PDF; ``check_record`` recomputes every
embedded entry's hash and, given the case file, checks that each entry and each digest is
there unchanged. Raises ``RenderError`` for a file that is not a Resolution Desk record.
"""

from __future__ import annotations

import io
import json
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from resdesk.cases.verify import Verification, check_record_entries, compare_record
from resdesk.errors import RenderError


def read_record(pdf: bytes) -> dict[str, Any]:
    """The case JSON embedded in a record PDF (its ``case-REF.json`` attachment)."""
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
    except (PdfReadError, ValueError, OSError) as exc:
        raise RenderError(f"The file is not a readable PDF ({exc}).") from None
    for name, contents in attachments.items():
        if name.startswith("case-") and name.endswith(".json") and contents:
            try:
                return json.loads(contents[0])
            except ValueError as exc:
                raise RenderError(f"The record's embedded {name} is not valid JSON ({exc}).") from None
    raise RenderError("The PDF embeds no case JSON; it is not a Resolution Desk case record.")


def record_digests(document: dict[str, Any]) -> dict[str, str]:
    """Each received message's and document's SHA-256 as the record lists them."""
    digests = {f"message {m.get('ledger_id')} ({m.get('subject')})": m["sha256"]
               for m in document.get("messages") or [] if m.get("sha256")}
    digests.update({f"document {d.get('filename')}": d["sha256"] for d in document.get("documents") or []
                    if d.get("sha256")})
    return digests


def check_record(pdf: bytes, store=None) -> Verification:
    """Check a record PDF by itself, or (given ``store``) against the case file."""
    document = read_record(pdf)
    ref, entries = document.get("ref", "?"), document.get("audit") or []
    if any("prev_hash" not in entry for entry in entries):
        raise RenderError("The record predates verifiable audit entries; generate it again.")
    if store is None:
        return check_record_entries(ref, entries)
    return compare_record(store, ref, entries, record_digests(document))
