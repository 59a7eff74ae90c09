"""Matching printed labels to field names, tolerant of case, punctuation and spacing.

"D.O.B", "d.o.b:" and "DOB" are one label; "Agreed timeline (Please be
specific)" also matches "Agreed timeline". Each form kind has its own index, built
from ``forms.layout``, so "D.O.B" means ``child_dob`` on both Sandwell and Oldham forms.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from resdesk.forms.layout import TEMPLATES, Template

CONTEXT = "@context:"
COMBINED = "@combined:"

_PARENS = re.compile(r"\([^)]*\)")
_NUMBERED_STAGE = re.compile(r"\bstage (?:\d+|zero|one|two|three|four|five) summary\b")


_DROPPED = re.compile(r"[.'’`]")
_SPACED = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)  # a form's labels repeat in every copy of it
def normalise(text: str) -> str:
    """Lower case, "&" as "and", dots and apostrophes dropped, other punctuation as spaces."""
    text = text.lower().replace("&", " and ").replace("(s)", "s")
    text = _DROPPED.sub("", text)
    return " ".join(_SPACED.sub(" ", text).split())


def _keys(text: str) -> set[str]:
    """The forms of a label that count as the same: as printed, without its brackets, and
    with no spaces at all ("D. O. B." is "D.O.B")."""
    keys = {normalise(text), normalise(_PARENS.sub(" ", text))}
    keys |= {"=" + k.replace(" ", "") for k in keys}
    return {k for k in keys if k.strip("=")}


@cache
def label_index(kind: str) -> dict[str, str]:
    """Normalised label -> field name (or a context/combined marker) for one kind."""
    template = TEMPLATES[kind]
    index: dict[str, str] = {}
    for f in template.fields():
        for text in (f.label, *f.aliases, f.name.replace("_", " ")):
            for key in _keys(text):
                index.setdefault(key, f.name)
    for context in template.contexts:
        index.setdefault(normalise(context), CONTEXT + context)
    for combined in template.combined:
        index[normalise(combined)] = COMBINED + combined
    return index


@cache
def column_index(kind: str) -> dict[str, tuple[str, int, str | None]]:
    """Normalised column header -> (table, column position, sub-field or None) for one kind.

    A column holding several fields (Sandwell's "Child Details") is one header on
    the seed, but a person typing a table may give each its own column ("DOB").
    """
    index: dict[str, tuple[str, int, str | None]] = {}
    for table in TEMPLATES[kind].tables():
        for position, column in enumerate(table.columns):
            texts = [column.header, *column.aliases]
            if len(column.fields) == 1:
                texts.append(column.fields[0].name.replace("_", " "))
            for text in texts:
                for key in _keys(text):
                    index.setdefault(key, (table.name, position, None))
            if len(column.fields) > 1:
                for f in column.fields:
                    subs = [f.label, f.name.replace("_", " "), f.name.replace("child_", "childs ")]
                    if f.name.endswith("dob"):
                        subs.append("date of birth")
                    for text in subs:
                        for key in _keys(text):
                            index.setdefault(key, (table.name, position, f.name))
    return index


def match_label(kind: str, text: str) -> str | None:
    """The field a printed label names on this kind of form, or None."""
    index = label_index(kind)
    for key in _keys(text):
        if key in index:
            return index[key]
    return None


def match_column(kind: str, text: str) -> tuple[str, int, str | None] | None:
    """The (table, column, sub-field) a header cell names on this kind of form, or None."""
    index = column_index(kind)
    for key in _keys(text):
        if key in index:
            return index[key]
    # A header cell may run on with guidance ("Child Details: Name: DOB: Age:").
    plain = normalise(_PARENS.sub(" ", text))
    for start, place in _run_on_starts(kind):
        if plain.startswith(start):
            return place
    return None


@cache
def _run_on_starts(kind: str) -> tuple[tuple[str, tuple[str, int, str | None]], ...]:
    """Each column header of two words or more, with the space a run-on cell has after it, and its
    place; in ``column_index`` order, so the first that starts a cell is the one named."""
    return tuple((key + " ", place) for key, place in column_index(kind).items() if len(key.split()) >= 2)


def context_of(kind: str, text: str) -> str | None:
    """The context a label sets for short labels after it in a row ("Disagreement resolved at")."""
    keys = _keys(text)
    for context in TEMPLATES[kind].contexts:
        if normalise(context) in keys:
            return context
    return None


def context_labels(kind: str, context: str) -> dict[str, str]:
    """Short labels ("Level", "Date") that mean a field after a context label."""
    table = TEMPLATES[kind].contexts.get(context, {})
    return {normalise(k): v for k, v in table.items()}


def kind_from_title(texts: list[str]) -> str | None:
    """The kind whose title appears in the first lines of a document, if any."""
    joined = " | ".join(normalise(t) for t in texts)
    # "Stage 2 Summary", as the protocols' subject lines put it, is a stage summary.
    joined = _NUMBERED_STAGE.sub("stage summary", joined)
    best: tuple[int, str] | None = None
    for t in TEMPLATES.values():
        for words in t.title_words:
            position = joined.find(normalise(words))
            if position >= 0 and (best is None or position < best[0]):
                best = (position, t.kind)
    return best[1] if best else None


def template(kind: str) -> Template:
    return TEMPLATES[kind]
