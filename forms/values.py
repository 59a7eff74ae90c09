"""Reading single values the way agencies type them.

Each function takes what a person typed (or what a form field held) and returns
the product's value, or raises ``ValueError`` with a sentence saying why. They
are used as pydantic validators by ``forms.records`` and are pure.
"""

from __future__ import annotations

import re
from datetime import date

import nhs_number
from email_validator import EmailNotValidError, validate_email

LEVELS_OF_NEED = (
    "universal",
    "early-help",
    "child-in-need",
    "child-protection",
    "child-in-care",
    "care-leaver",
)

# How the seeds (Sandwell Appendix 3 and 4) and agencies write each level of need.
_LEVEL_WORDS = {
    "universal": "universal",
    "universal services": "universal",
    "universal service": "universal",
    "early help": "early-help",
    "eh": "early-help",
    "child in need": "child-in-need",
    "child in need s17": "child-in-need",
    "cin": "child-in-need",
    "s17": "child-in-need",
    "child protection": "child-protection",
    "child protection s47": "child-protection",
    "cp": "child-protection",
    "s47": "child-protection",
    "child in care": "child-in-care",
    "looked after child": "child-in-care",
    "cla": "child-in-care",
    "lac": "child-in-care",
    "care leaver": "care-leaver",
}

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

_NUMERIC_DATE = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WORDED_DATE = re.compile(
    r"^(?:[a-z]+day,?\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+([a-z]+)\.?,?\s+(\d{2}|\d{4})$"
)
_US_WORDED_DATE = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{2}|\d{4})$")


# What Word and our templates show in an empty control; never a value.
PLACEHOLDERS = frozenset(
    {"Click or tap here to enter text.", "Choose an item.", "Click or tap to enter a date."}
)


# Unicode bidirectional controls (embeddings, overrides, isolates, marks): invisible, and able to
# make a name or reference read backwards in a notice ("Trojan Source", CVE-2021-42574).
_BIDI_CONTROLS = dict.fromkeys(
    [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
# Other invisible control characters (C0 except tab and line ends, DEL, C1).
_OTHER_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])


def without_controls(text: str) -> str:
    """``text`` without bidirectional controls or other invisible control characters (tabs and
    line ends are kept). Applied to every name, subject and free text before it is stored or
    rendered; linear in the text's length."""
    return text.translate(_BIDI_CONTROLS).translate(_OTHER_CONTROLS)


_BLANK_MARKS = re.compile(r"[\s_.…]+")


def blank(value: object) -> bool:
    """True when a person left the field empty (spaces, underscores, dots, or a placeholder)."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    return not _BLANK_MARKS.sub("", value) or value.strip() in PLACEHOLDERS


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        # Two-digit years: 00-69 are this century, 70-99 the last (a care leaver
        # can be 25, so births in the 1990s and 2000s both occur).
        year += 2000 if year < 70 else 1900
    return year


def _make(day: int, month: int, year: int, text: str) -> date:
    if not 1 <= month <= 12:
        raise ValueError(
            f"'{text}' is not a UK date (day/month/year): there is no month {month}"
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"'{text}' is not a real date (day/month/year)") from None


def uk_date(value: object) -> date | None:
    """A date written UK-style: ``03/04/2015`` is 3 April; also ``3 April 2015``, ``3.4.15``.

    ISO ``2015-04-03`` is accepted too (our JSON and Word date controls use it).
    """
    if isinstance(value, date):
        return value
    if blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a date, got {type(value).__name__}")
    text = " ".join(value.split())
    lowered = text.lower().replace(",", ", ").strip()
    lowered = " ".join(lowered.split())
    if match := _ISO_DATE.match(lowered):
        year, month, day = (int(g) for g in match.groups())
        return _make(day, month, year, text)
    if match := _NUMERIC_DATE.match(lowered):
        day, month = int(match.group(1)), int(match.group(2))
        return _make(day, month, _year(match.group(3)), text)
    for pattern, day_group, month_group in ((_WORDED_DATE, 1, 2), (_US_WORDED_DATE, 2, 1)):
        if match := pattern.match(lowered):
            month = _MONTHS.get(match.group(month_group))
            if month is None:
                raise ValueError(f"'{text}' names no month")
            return _make(int(match.group(day_group)), month, _year(match.group(3)), text)
    raise ValueError(f"'{text}' is not a date (write it day/month/year, e.g. 03/04/2015)")


# The NHS number rules come from the ``nhs-number`` package (NHS Data Dictionary: ten digits,
# Modulus 11, the ranges numbers are issued from). Numbers outside every issued range, or in
# the unallocated and reserved ranges, are refused, and so are numbers of one repeated digit
# (``0000000000`` passes Modulus 11 but is what people type when they have no number).
# The synthetic range (999…) is kept: it is what test patients and training material use.
_REFUSED_REGIONS = (nhs_number.REGION_UNALLOCATED, nhs_number.REGION_RESERVED)


def nhs_check_digit_ok(digits: str) -> bool:
    """Modulus 11 check of a 10-digit NHS number (weights 10..2; 11 means 0; 10 is invalid)."""
    return len(digits) == 10 and digits.isdigit() and nhs_number.is_valid(digits)


def nhs_number_problem(digits: str) -> str | None:
    """Why ten digits are not an NHS number a child could have, or None when they are."""
    if len(digits) != 10 or not digits.isdigit():
        return "an NHS number is 10 digits"
    if len(set(digits)) == 1:
        return "a number of one repeated digit is never issued"
    if not nhs_number.is_valid(digits):
        return "its Modulus 11 check digit is wrong"
    region = nhs_number.NhsNumber(digits).region
    if region is None or region in _REFUSED_REGIONS:
        return "it is outside the ranges NHS numbers are issued from"
    return None


_NHS_PREFIX = re.compile(r"^(?:nhs(?:\s*(?:no|number|num))?\.?\s*[:#]?\s*)", re.IGNORECASE)
LOCAL_LABEL = "local identifier"
NHS_LABEL = "NHS number"


def child_identifier(value: object) -> str | None:
    """An NHS number (normalised to 10 digits, checked by the NHS rules) or a local ID as typed.

    Ten digits with spaces or dashes are an NHS number and must pass the rules of
    ``nhs_number_problem``; a number that fails is an error, never kept. Text marked ``NHS``
    must be a valid NHS number. Anything else (a PID, an 11-digit number, a reference with
    letters) is kept as typed and is a *local* identifier (``identifier_kind``), which is
    never enough on its own to join two messages to one case.
    """
    if blank(value):
        return None
    text = " ".join(str(value).split())
    marked = bool(_NHS_PREFIX.match(text))
    candidate = _NHS_PREFIX.sub("", text) if marked else text
    digits = re.sub(r"[\s\-]", "", candidate)
    if digits.isdigit() and (len(digits) == 10 or marked):
        problem = nhs_number_problem(digits)
        if problem:
            raise ValueError(f"'{text}' is not a valid NHS number ({problem})")
        return digits
    return text


def identifier_kind(identifier: str | None) -> str | None:
    """``"nhs"`` for a valid NHS number (as ``child_identifier`` returns it), ``"local"`` for
    anything else, None for no identifier."""
    if not identifier:
        return None
    digits = re.sub(r"[\s\-]", "", identifier)
    return "nhs" if nhs_number_problem(digits) is None else "local"


def identifier_label(identifier: str | None) -> str:
    """The identifier as a document shows it: ``943 476 5919 (NHS number)``,
    ``PID 88213 (local identifier)``, or an empty string."""
    kind = identifier_kind(identifier)
    if kind is None:
        return ""
    if kind == "nhs":
        digits = re.sub(r"[\s\-]", "", identifier or "")
        return f"{digits[:3]} {digits[3:6]} {digits[6:]} ({NHS_LABEL})"
    return f"{identifier} ({LOCAL_LABEL})"


def child_dob(value: object, today: date) -> date | None:
    """A child's date of birth (``uk_date``), refused when it is after ``today``."""
    born = uk_date(value)
    if born is not None and born > today:
        raise ValueError(f"'{value}' is a date of birth in the future")
    return born


def age_on(born: date, today: date) -> int:
    """Whole years from ``born`` to ``today``."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def email_address(value: object) -> str | None:
    """An e-mail address checked for syntax only (no network look-up)."""
    if blank(value):
        return None
    text = str(value).strip().removeprefix("mailto:")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"'{text}' is not an e-mail address ({exc})") from None
    return result.normalized


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def level_of_need(value: object) -> str | None:
    """One of ``LEVELS_OF_NEED``, from the seed's wording ("Child in Need (S17)") or ours."""
    if blank(value):
        return None
    key = _words(str(value))
    if key.replace(" ", "-") in LEVELS_OF_NEED:
        return key.replace(" ", "-")
    if key in _LEVEL_WORDS:
        return _LEVEL_WORDS[key]
    raise ValueError(
        f"'{str(value).strip()}' is not a level of need (one of {', '.join(LEVELS_OF_NEED)})"
    )


_YES = {"yes", "y", "true", "done", "completed", "complete", "☒", "☑", "✓", "✔", "x"}
_NO = {"no", "n", "false", "not completed", "not yet", "☐"}


def yes_no(value: object) -> bool | None:
    """Yes/No for "Action Completed? (Yes/No)": True, False, or None when left empty."""
    if isinstance(value, bool):
        return value
    if blank(value):
        return None
    key = str(value).strip().lower().rstrip(".")
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueError(f"'{str(value).strip()}' is not Yes or No")


_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def stage_number(value: object) -> int | None:
    """A stage or level number: ``2``, ``Stage 2``, ``Level two``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if blank(value):
        return None
    key = _words(str(value))
    key = re.sub(r"^(stage|level)\s*", "", key)
    if key.isdigit():
        return int(key)
    if key in _NUMBER_WORDS:
        return _NUMBER_WORDS[key]
    raise ValueError(f"'{str(value).strip()}' is not a stage number")


def age_in_years(value: object) -> int | None:
    """A child's age in whole years: ``7``, ``7 years``, ``7 yrs``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if blank(value):
        return None
    match = re.fullmatch(r"(\d{1,2})\s*(?:y|yr|yrs|year|years|years old)?", str(value).strip().lower())
    if not match:
        raise ValueError(f"'{str(value).strip()}' is not an age in years")
    return int(match.group(1))
