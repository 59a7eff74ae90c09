"""Reading a form typed into an email body as ``Label: value`` lines.

The labels are the ones printed on the templates ("Name of Child/Young Person:
Jane Doe"), tolerant of case, punctuation and spacing; a repeating table may be
typed as ``|``-separated rows under a header row. Quoted lines (``> …``) are
earlier mail and are skipped.
"""

from __future__ import annotations

from resdesk.forms import labels
from resdesk.forms.assemble import FieldProblem, RawForm, build_record
from resdesk.forms.grid import read_lines
from resdesk.forms.records import KINDS, REQUIRED, FormRecord
from resdesk.forms.values import blank
from resdesk.errors import FormError

# Fewer labelled lines than this is ordinary mail mentioning a label, not a form.
MIN_LABELS = 2
# A signature's "Role: …" and "Agency: …" lines are not a form: without the kind's
# required fields it takes this many labelled lines to be a form (with an error to report).
MIN_LABELS_WHEN_INCOMPLETE = 4


def _read(kind: str, text: str) -> tuple[int, RawForm]:
    raw = RawForm()
    matched = read_lines(kind, text, raw)
    return matched + sum(len(rows) for rows in raw.rows.values()), raw


def read_email_text(text: str, *, source: str | None = None) -> FormRecord | None:
    """The form typed into ``text``, or None when it holds none; ``FormError`` if it is invalid.

    A text holds a form when its labelled lines give the kind's required fields
    (a Resolution Notice's child and professional, say), or when it has so many
    labelled lines that it can only be a form with something missing.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first_lines = [line for line in text.split("\n") if line.strip() and not line.lstrip().startswith(">")][:4]
    try:
        kind = labels.kind_from_title(first_lines)
        results = {k: _read(k, text) for k in ([kind] if kind else KINDS)}
        best = max(results, key=lambda k: results[k][0])
        matched, raw = results[best]
    except FieldProblem as problem:
        raise FormError(problem.reason, file=source, field=problem.field) from None
    complete = all(not blank(raw.fields.get(name)) for name in REQUIRED[best])
    if matched < MIN_LABELS or (not complete and matched < MIN_LABELS_WHEN_INCOMPLETE):
        return None
    return build_record(best, raw, file=source)
