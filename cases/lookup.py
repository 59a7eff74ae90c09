"""Read-only lookups correlation needs, answered from the case file.

``StoreKnownCases`` answers the three questions intake's correlation asks, in
its order: a case reference token, Message-IDs from ``In-Reply-To`` and
``References``, and a child's identifier (or name and date of birth) with the
agencies involved. Each answer is a case reference, or None.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date
from typing import Iterable, Iterator

from sqlalchemy import func, select

from cases.models import RESOLVED, Case, Event, Message, Outbound, Party
from cases.store import Store, Tx

_NOT_ID = re.compile(r"[\s\-]+")


def normalise_identifier(identifier: str | None) -> str | None:
    """An identifier as compared: spaces and dashes removed, upper case (``943 476 5919`` -> ``9434765919``)."""
    if identifier is None:
        return None
    text = _NOT_ID.sub("", identifier).upper()
    return text or None


def _message_id_forms(ids: Iterable[str]) -> set[str]:
    forms: set[str] = set()
    for raw in ids:
        if not raw:
            continue
        bare = raw.strip().strip("<>").strip()
        if bare:
            forms.update({bare, f"<{bare}>"})
    return forms


def _name_key(name: str | None) -> str | None:
    return " ".join(name.casefold().split()) if name else None


class StoreKnownCases:
    """The case file seen as correlation's ``KnownCases``: case references in, case references out.

    Built on a ``Store``, each question is its own short read; built on an open
    ``Tx``, the questions are asked inside that unit of work (so a watcher can
    correlate and record in one transaction).
    """

    def __init__(self, source: Store | Tx):
        self._source = source

    @contextmanager
    def _tx(self) -> Iterator[Tx]:
        if isinstance(self._source, Tx):
            yield self._source
        else:
            with self._source.transaction() as tx:
                yield tx

    def case_for_reference(self, ref: str) -> str | None:
        """The case with this reference (``OLD-2026-0007``), if the case file holds it."""
        with self._tx() as tx:
            case = tx.case_by_ref(ref)
            return case.ref if case else None

    def case_for_message_ids(self, ids: Iterable[str]) -> str | None:
        """The case a message with one of these Message-IDs belongs to (received or sent by us).

        When several match, the latest-listed id wins (``References`` lists oldest first).
        """
        ordered = [i for i in ids if i]
        with self._tx() as tx:
            for message_id in reversed(ordered):
                forms = _message_id_forms([message_id])
                if not forms:
                    continue
                for query in (
                    select(Case.ref).join(Message, Message.case_id == Case.id).where(Message.message_id.in_(forms)),
                    select(Case.ref).join(Outbound, Outbound.case_id == Case.id).where(Outbound.message_id.in_(forms)),
                    select(Case.ref).join(Event, Event.case_id == Case.id).where(Event.message_id.in_(forms)),
                ):
                    ref = tx.session.execute(query.order_by(Case.id.desc()).limit(1)).scalar_one_or_none()
                    if ref:
                        return ref
        return None

    def case_for_child(
        self,
        identifier: str | None,
        name: str | None = None,
        dob: date | None = None,
        agencies: Iterable[str] = (),
    ) -> str | None:
        """The open case about this child: by identifier, else by name, date of birth and an agency in common.

        Resolved cases are not reopened by a new form. Name and date of birth
        alone are not enough: at least one agency must be a party to the case,
        and if more than one case fits, none is chosen (a person decides).
        """
        wanted = normalise_identifier(identifier)
        with self._tx() as tx:
            open_cases = select(Case).where(Case.status != RESOLVED)
            if wanted:
                for case in tx.session.execute(
                    open_cases.where(Case.child_identifier.is_not(None)).order_by(Case.id.desc())
                ).scalars():
                    if normalise_identifier(case.child_identifier) == wanted:
                        return case.ref
                return None
            if not (name and dob):
                return None
            agency_keys = {_name_key(a) for a in agencies if a}
            if not agency_keys:
                return None
            candidates = tx.session.execute(
                open_cases.where(Case.child_dob == dob, func.lower(Case.child_name).is_not(None))
            ).scalars()
            matches = []
            for case in candidates:
                if _name_key(case.child_name) != _name_key(name):
                    continue
                parties = tx.session.execute(select(Party.agency).where(Party.case_id == case.id)).scalars()
                if agency_keys & {_name_key(a) for a in parties if a}:
                    matches.append(case.ref)
            return matches[0] if len(matches) == 1 else None
