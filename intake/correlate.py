"""Which case a received message belongs to (pure; the case file is asked through ``KnownCases``).

The order is the product's (PRODUCT §3, step 3):

1. the case reference the product puts in the subject of everything it sends, e.g.
   ``[OLD-2026-0007-K3F9QZ]`` — two to five capital letters, the year, four or more digits,
   then the case token's six-character check code (``cases.tokens``; reported in
   ``Correlation.code`` for ``intake.authority``, never needed to find the case)
   (also taken from our ``X-Resdesk-Case`` header if a reply kept it, and from the
   stage-summary form's ``case_ref`` field);
2. ``In-Reply-To`` then ``References`` against Message-IDs the case file already holds;
3. the child's identifier (NHS number or local ID) together with the name or date of birth —
   an identifier alone never joins two messages — else name, date of birth and an agency,
   read from a filled form, passed in as a plain dict of the form's fields;
4. otherwise a new case.

The reference is recognised with or without its brackets. In brackets any letter case
is accepted (``[old-2026-0007]``: someone retyped it); without brackets only the exact
form ``OLD-2026-0007`` with a year from 2000 to 2099 counts, so that ordinary text such as
a product code is not mistaken for a case. A reference that the case file does not know
is reported, not trusted: the message falls through to the later steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal, Mapping, Protocol, Sequence

from resdesk.intake.message import InboundMessage

# The optional last part is the case token's check code (``cases.tokens``). Every quantifier is
# bounded and no two can match the same characters, so matching is linear in the subject.
_BRACKETED = re.compile(r"\[\s*([A-Za-z]{2,5})-(20\d\d)-(\d{4,9})(?:-([A-Za-z2-7]{6}))?\s*\]")
_BARE = re.compile(r"(?<![\w-])([A-Z]{2,5})-(20\d\d)-(\d{4,9})(?:-([A-Z2-7]{6}))?(?![\w-])")
_PREFIX = re.compile(r"[A-Z]{2,5}")
_NHS_SEPARATORS = re.compile(r"[\s\-]+")

Method = Literal["reference", "thread", "child", "new"]


def format_reference(prefix: str, year: int, number: int) -> str:
    """The case reference ``PREFIX-YEAR-NNNN`` (``format_reference("OLD", 2026, 7)`` is ``OLD-2026-0007``)."""
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"A case reference prefix is 2 to 5 capital letters, not {prefix!r}.")
    if not 2000 <= year <= 2099:
        raise ValueError(f"A case reference year is from 2000 to 2099, not {year}.")
    if not 1 <= number <= 999_999_999:
        raise ValueError(f"A case reference number is from 1 to 999999999, not {number}.")
    return f"{prefix}-{year}-{number:04d}"


def reference_token(reference: str, code: str = "") -> str:
    """The reference as the product writes it in a subject: ``[OLD-2026-0007-K3F9QZ]`` with its
    check code (``cases.tokens``), ``[OLD-2026-0007]`` without."""
    return f"[{reference}-{code}]" if code else f"[{reference}]"


def find_reference(subject: str) -> str | None:
    """The first case reference in a subject, in its canonical form, or None."""
    found = find_references(subject)
    return found[0] if found else None


def find_references(subject: str) -> list[str]:
    """Every case reference in a subject, bracketed ones first, canonical and without repeats."""
    return list(find_tokens(subject))


def find_tokens(subject: str) -> dict[str, str | None]:
    """Every case reference in a subject (bracketed ones first, then in order) mapped to the check
    code written beside it (upper case), or None where it was written without one."""
    bracketed = [(_canonical(m), _code(m)) for m in _BRACKETED.finditer(subject)]
    bare = [(_canonical(m), _code(m)) for m in _BARE.finditer(subject)]
    found: dict[str, str | None] = {}
    for reference, code in (*bracketed, *bare):
        if found.get(reference) is None:
            found[reference] = code
    return found


def _canonical(match: re.Match[str]) -> str:
    prefix, year, number, _ = match.groups()
    return f"{prefix.upper()}-{year}-{number}"


def _code(match: re.Match[str]) -> str | None:
    code = match.group(4)
    return code.upper() if code else None


def normalise_identifier(value: str | None) -> str | None:
    """An identifier as compared: spaces and dashes dropped, upper case (``943 476 5919`` -> ``9434765919``)."""
    if value is None:
        return None
    return _NHS_SEPARATORS.sub("", value).upper() or None


class KnownCases(Protocol):
    """Read-only questions correlation asks of the case file; the store implements them."""

    def case_for_reference(self, reference: str) -> str | None:
        """The case with this reference (canonical ``OLD-2026-0007``), if it exists."""

    def case_for_message_ids(self, message_ids: Sequence[str]) -> str | None:
        """The case holding any of these Message-IDs (``<id@host>``), trying them in order."""

    def case_for_child(
        self,
        identifier: str | None,
        name: str | None,
        dob: date | None,
        agencies: Sequence[str],
    ) -> str | None:
        """The open case for this child (identifier with the name or date of birth agreeing,
        else name and date of birth) involving these agencies, if exactly one matches."""


@dataclass(frozen=True)
class Correlation:
    """The case a message belongs to, how it was found, and anything a person should see."""

    case: str | None
    method: Method
    detail: str
    notes: tuple[str, ...] = ()
    code: str | None = None  # the check code written beside the reference that found the case
    @property
    def is_new(self) -> bool:
        return self.case is None


_IDENTIFIER_FIELDS = ("child_identifier", "nhs_number", "local_id")
_NAME_FIELDS = ("child_name",)
_DOB_FIELDS = ("child_dob",)
_AGENCY_FIELDS = ("raised_by_agency", "raised_by_role_agency", "agency", "receiving_agency")


def correlate(
    msg: InboundMessage,
    known: KnownCases,
    form_fields: Mapping[str, object] | None = None,
) -> Correlation:
    """Find the case for ``msg`` in the product's order; ``Correlation.case`` None means new."""
    notes: list[str] = []
    for reference, code in _references(msg, form_fields or {}).items():
        case = known.case_for_reference(reference)
        if case is not None:
            return Correlation(case, "reference", f"the subject carries {reference}", tuple(notes), code)
        notes.append(f"the reference {reference} is not a known case")

    thread = list(msg.thread_ids)
    if thread:
        case = known.case_for_message_ids(thread)
        if case is not None:
            return Correlation(case, "thread", "it answers a message filed on the case", tuple(notes))

    if form_fields:
        identifier = normalise_identifier(_first_text(form_fields, _IDENTIFIER_FIELDS))
        name = _first_text(form_fields, _NAME_FIELDS)
        dob = _first_date(form_fields, _DOB_FIELDS)
        agencies = _agencies(form_fields)
        if (identifier and (name or dob)) or (name and dob):
            case = known.case_for_child(identifier, name, dob, agencies)
            if case is not None:
                which = "identifier with name or date of birth" if identifier and (name or dob) else "name and date of birth"
                return Correlation(case, "child", f"the form's child {which} matches", tuple(notes))

    return Correlation(None, "new", "no reference, thread or child matches a known case", tuple(notes))


def _references(msg: InboundMessage, fields: Mapping[str, object]) -> dict[str, str | None]:
    """References (with any check code) in the subject, then in our X-Resdesk-Case header if a
    reply kept it, then in the stage-summary form's ``case_ref`` field."""
    found = find_tokens(msg.subject)
    for extra in (msg.resdesk_case, fields.get("case_ref")):
        if isinstance(extra, str) and extra.strip():
            for reference, code in find_tokens(f"[{extra.strip()[:100].strip('[]')}]").items():
                if found.get(reference) is None:
                    found[reference] = code
    return found


def _first_text(fields: Mapping[str, object], names: Sequence[str]) -> str | None:
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _first_date(fields: Mapping[str, object], names: Sequence[str]) -> date | None:
    for name in names:
        value = fields.get(name)
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                continue
    return None


def _agencies(fields: Mapping[str, object]) -> list[str]:
    found: list[str] = []
    for name in _AGENCY_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            found.append(" ".join(value.split()))
        elif isinstance(value, (list, tuple)):
            found.extend(" ".join(str(v).split()) for v in value if str(v).strip())
    return list(dict.fromkeys(found))
