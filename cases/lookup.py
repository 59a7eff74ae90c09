"""Read-only lookups correlation needs, answered from the case file.

``StoreKnownCases`` implements ``intake.correlate.KnownCases``: the three
questions correlation asks, in its order: a case reference token, Message-IDs
from ``In-Reply-To`` and ``References``, and a child's identifier (or name and
date of birth) with the agencies involved. Each answer is a case reference, or None.
"""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from datetime import date
from typing import Iterable, Iterator, Sequence

from sqlalchemy import bindparam, literal, select, union_all

from resdesk.cases.models import RESOLVED, Case, Event, Message, Outbound, Party
from resdesk.cases.store import Store, Tx

_NOT_ID = re.compile(r"[\s\-]+")
MESSAGE_IDS_A_QUERY = 150  # each bound in two forms, in each of three selects: 900 values, under even old SQLite's 999


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

    With ``protocol`` (a partnership's protocol id, e.g. ``"oldham"``) only that partnership's
    cases are ever answered: where one case file serves several partnerships, mail to one
    partnership's inbox can never find, and so never change, another's case.
    """

    def __init__(self, source: Store | Tx, protocol: str | None = None):
        self._source = source
        self._protocol = protocol

    def _ours(self, query):
        return query if self._protocol is None else query.where(Case.protocol == self._protocol)

    @contextmanager
    def _tx(self) -> Iterator[Tx]:
        if isinstance(self._source, Tx):
            yield self._source
        else:
            with self._source.transaction() as tx:
                yield tx

    def case_for_reference(self, reference: str) -> str | None:
        """The case with this reference (``OLD-2026-0007``), if the case file holds it."""
        with self._tx() as tx:
            case = tx.case_by_ref(reference)
            if case is None or (self._protocol is not None and case.protocol != self._protocol):
                return None
            return case.ref

    def case_for_message_ids(self, message_ids: Sequence[str]) -> str | None:
        """The case holding any of these Message-IDs (received by us or sent by us), trying them in order.

        Correlation passes ``In-Reply-To`` then ``References`` newest first, so the
        closest message in the thread decides; for each, a message received on a case comes first,
        then one sent, then any event naming it, the newest case first. One query asks for
        ``MESSAGE_IDS_A_QUERY`` of them at once (a References header may hold tens of thousands, more
        than a statement may bind), the next only if none of those is filed.

        Asked inside a unit of work, it finds cases opened or written to earlier in the same unit
        without flushing what that unit has pending: everything it reads is in the database already
        (a case's row and its ledger rows are written at once, its events before any query,
        ``cases.pending``), and a case's reference and partnership never change in a unit of work.
        """
        wanted = [forms for message_id in message_ids if (forms := _message_id_forms([message_id]))]
        with self._tx() as tx, tx.session.no_autoflush:
            for start in range(0, len(wanted), MESSAGE_IDS_A_QUERY):
                ref = self._first_holder(tx, wanted[start : start + MESSAGE_IDS_A_QUERY])
                if ref is not None:
                    return ref
        return None

    def _first_holder(self, tx: Tx, wanted: list[set[str]]) -> str | None:
        """The case of the first of ``wanted`` (each a Message-ID's forms) that one is filed on, by one query."""
        every = sorted(set().union(*wanted))
        found = tx.session.execute(_holders(self._protocol is not None), {"ids": every, "protocol": self._protocol}).all()
        for forms in wanted:
            best = None
            for rank, message_id, case_id, ref in found:
                if message_id in forms and (best is None or (rank, -case_id) < best[:2]):
                    best = (rank, -case_id, ref)
            if best is not None:
                return best[2]
        return None

    def case_for_child(
        self,
        identifier: str | None,
        name: str | None = None,
        dob: date | None = None,
        agencies: Sequence[str] = (),
    ) -> str | None:
        """The one open case about this child: by identifier with the name or date of birth
        agreeing, else (no identifier given) by name and date of birth.

        An identifier alone never joins (two children given the same wrong number must not
        share a case): the case must also hold the same name (letter case and spacing aside)
        or the same date of birth. Resolved cases are not reopened by a new form. By
        identifier, if more than one open case fits, the agencies narrow the choice. By name
        and date of birth, at least one agency must be a party to the case. If more than one
        case still fits, none is chosen: a person decides.
        """
        wanted = normalise_identifier(identifier)
        agency_keys = {_name_key(a) for a in agencies if a}
        with self._tx() as tx:
            open_cases = self._ours(select(Case).where(Case.status != RESOLVED).order_by(Case.id))
            if wanted:
                if not (name or dob):
                    return None
                matches = [
                    case
                    for case in tx.session.execute(open_cases.where(Case.child_identifier.is_not(None))).scalars()
                    if normalise_identifier(case.child_identifier) == wanted and _same_child(case, name, dob)
                ]
                if len(matches) > 1 and agency_keys:
                    matches = [case for case in matches if agency_keys & _agencies_of(tx, case)]
                return matches[0].ref if len(matches) == 1 else None
            if not (name and dob and agency_keys):
                return None
            matches = [
                case
                for case in tx.session.execute(open_cases.where(Case.child_dob == dob)).scalars()
                if _name_key(case.child_name) == _name_key(name) and agency_keys & _agencies_of(tx, case)
            ]
            return matches[0].ref if len(matches) == 1 else None


@functools.cache
def _holders(of_one_partnership: bool):
    """The query for (rank, Message-ID, case id, case reference) of every received message (rank 0),
    sent message (1) and event (2) whose Message-ID is one of the ``ids`` given (with
    ``of_one_partnership``, on the cases of the ``protocol`` given only): built once."""
    ids = bindparam("ids", expanding=True)
    return union_all(*(
        select(literal(rank).label("rank"), table.message_id, Case.id, Case.ref)
        .join(table, table.case_id == Case.id)
        .where(table.message_id.in_(ids), *([Case.protocol == bindparam("protocol")] if of_one_partnership else []))
        for rank, table in enumerate((Message, Outbound, Event))
    ))


def _same_child(case: Case, name: str | None, dob: date | None) -> bool:
    """The case's child agrees with the form's on the name or the date of birth."""
    same_name = bool(name) and case.child_name is not None and _name_key(case.child_name) == _name_key(name)
    same_dob = dob is not None and case.child_dob == dob
    return same_name or same_dob


def _agencies_of(tx: Tx, case: Case) -> set[str | None]:
    return {_name_key(a) for a in tx.session.execute(select(Party.agency).where(Party.case_id == case.id)).scalars() if a}


def cases_about_child(tx: Tx, *, identifier: str | None = None, name: str | None = None,
                      dob: date | None = None) -> list[Case]:
    """Every case, open or resolved, about one child: by identifier (compared without spaces or dashes),
    or by name (case and spacing ignored) and date of birth together. For subject access requests."""
    cases = tx.session.execute(select(Case).order_by(Case.id)).scalars()
    if identifier is not None:
        wanted = normalise_identifier(identifier)
        return [c for c in cases if wanted and normalise_identifier(c.child_identifier) == wanted]
    return [c for c in cases if c.child_dob == dob and _name_key(c.child_name) == _name_key(name)]
