"""Reading case facts from a message: typed lines, form fields, prose mentions, sender domains (pure).

- A typed line states a fact: ``Date raised: 23/11/2026``, ``Threshold dispute: yes``,
  ``Area of disagreement: Drift and delay``, ``Responding agency: Oldham Children's Social Care``,
  ``Stage 2 started: 30/11/2026 10:00`` — any label of ``protocols.facts.FACTS``,
  case and punctuation aside, at the start of a line of the new text (quoted
  lines, ``>``, are earlier mail and are not read). Two lines giving one fact
  different values set nothing: they are returned as a mention.
- A form field states a fact where the vocabulary names it
  (``escalation-concern.discussion_date`` is the case start).
- A condition only *mentioned* in prose ("the child is on a child protection plan")
  sets nothing: it is returned as a mention, with its sentence, for a person to confirm.
- ``agency_domains`` (settings) names the agency of an address by its domain.

Dates are UK dates (day/month/year), times local (Europe/London).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Iterable, Mapping

from resdesk.forms.values import uk_date
from resdesk.protocols.facts import FACTS, FROM_FORM, FROM_MESSAGE, FactDefinition, definition, parse_value
from resdesk.protocols.timeparse import to_local
from resdesk.errors import UsageError

__all__ = ["FactReading", "Mention", "read_facts", "agency_of"]


@dataclass(frozen=True)
class FactReading:
    """A fact stated by a message: ``value`` typed for ``protocols.facts.parse_value``."""

    name: str
    value: Any
    source: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Mention:
    """A condition mentioned in prose, not stated: ``sentence`` quotes it."""

    name: str
    sentence: str


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower().replace("’", "'").replace("'", "")).split())


def _labels() -> dict[str, FactDefinition]:
    index = {_key(label): fact for fact in FACTS.values() for label in fact.labels}
    for stage in range(10):
        fact = definition(f"stage_{stage}_start")
        index.update({_key(label): fact for label in fact.labels})
    return index


_LABELS = _labels()
# Every pattern here runs in time linear in the text: a value is taken greedily and trimmed in
# Python, the clock time is looked for only at the end, and sentences are cut at their ends in one
# pass (a lazy group before a trailing class, or a failing search from every position, is quadratic).
_LINE = re.compile(r"^[ \t*_]*(?P<label>[A-Za-z][A-Za-z0-9 '’/()-]{1,60}?)[ \t*_]*:[ \t*_]*(?P<value>[^\r\n]*)$", re.M)
_CLOCK_AT_END = re.compile(r"(?P<h>\d{1,2})[:.](?P<m>\d{2})$")
_SENTENCE_END = re.compile(r"[.!?\n]")
_TRAILING = " \t*_."


def _new_text(body: str) -> str:
    lines = (body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = []
    for line in lines:
        if line.lstrip().startswith(">") or re.match(r"^\s*(-----\s*original message|on .+ wrote:\s*$|from:\s)", line, re.I):
            if not line.lstrip().startswith(">"):
                break  # the rest is the quoted earlier mail
            continue
        kept.append(line)
    return "\n".join(kept)


def _moment(text: str) -> datetime:
    """A date, optionally followed by a clock time after a space or comma (and "at")."""
    text = " ".join(text.split())
    day_text, at = text, time()
    clock = _CLOCK_AT_END.search(text)
    if clock is not None:
        head = text[: clock.start()]
        stripped = head.rstrip(" ,")
        if stripped != head:
            if stripped.endswith(" at"):
                stripped = stripped[:-3].rstrip(" ,")
            if stripped:
                day_text, at = stripped, time(int(clock.group("h")), int(clock.group("m")))
    return to_local(datetime.combine(uk_date(day_text), at))


def _sentences(text: str):
    """Sentences ending in ``.``, ``!`` or ``?`` (with it), and the text's last one; a line broken
    off without an end mark is not a sentence (as the product has always read them)."""
    start = 0
    for end in _SENTENCE_END.finditer(text):
        segment = text[start : end.start()]
        if segment:
            if end.group() != "\n":
                yield segment + end.group()
            elif end.end() == len(text):
                yield segment
        start = end.end()
    if start < len(text):
        yield text[start:]


def _value(fact: FactDefinition, text: str) -> Any:
    if fact.kind == "moment":
        return _moment(text)
    return parse_value(fact, text)


def _without_disagreements(readings: list[FactReading], mentions: list[Mention]) -> list[FactReading]:
    """Typed lines that give one fact two different values are not guessed between: each becomes a
    mention for a person to settle, and the fact stays as it was."""
    values: dict[str, list[FactReading]] = {}
    for reading in readings:
        values.setdefault(reading.name, []).append(reading)
    kept = []
    for name, stated in values.items():
        if len({repr(r.value) for r in stated}) == 1:
            kept.append(stated[0])
        else:
            mentions.append(Mention(name, " / ".join(r.detail["line"] for r in stated)))
    return kept


def read_facts(
    body: str, forms: Iterable[tuple[str, Mapping[str, Any]]] = ()
) -> tuple[list[FactReading], list[Mention]]:
    """The facts a message states (typed lines, then form fields) and the conditions it only mentions.

    ``forms`` is (form kind, fields) for each template read from the message. A
    typed line whose value cannot be read is returned as a mention, so a person sees it.
    """
    text = _new_text(body)
    readings: list[FactReading] = []
    mentions: list[Mention] = []
    stated: set[str] = set()
    for match in _LINE.finditer(text):
        fact = _LABELS.get(_key(match.group("label")))
        stated_value = match.group("value").rstrip(_TRAILING)
        if fact is None or not stated_value.strip():
            continue
        line = match.group(0).strip()
        try:
            value = _value(fact, stated_value)
        except (ValueError, UsageError, AttributeError):
            mentions.append(Mention(fact.name, line))
            continue
        readings.append(FactReading(fact.name, value, FROM_MESSAGE, {"line": line}))
        stated.add(fact.name)
    readings = _without_disagreements(readings, mentions)
    for kind, fields in forms:
        for fact in FACTS.values():
            for qualified in fact.form_fields:
                form_kind, _, name = qualified.partition(".")
                raw = fields.get(name)
                if form_kind != kind or raw in (None, "", []) or fact.name in stated:
                    continue
                try:
                    value = _value(fact, raw) if isinstance(raw, str) else parse_value(fact, raw)
                except (ValueError, UsageError, AttributeError):
                    continue
                readings.append(FactReading(fact.name, value, FROM_FORM, {"field": qualified}))
                stated.add(fact.name)
    for sentence in (piece.strip() for piece in _sentences(text)):
        if _LINE.match(sentence):
            continue
        words = f" {_key(sentence)} "
        for fact in FACTS.values():
            if fact.name in stated or any(m.name == fact.name for m in mentions):
                continue
            if any(f" {_key(phrase)} " in words for phrase in fact.mentions):
                mentions.append(Mention(fact.name, sentence[:300]))
    return readings, mentions


def agency_of(address: str | None, agency_domains: Mapping[str, str]) -> str | None:
    """The agency an address belongs to by its domain (or a parent domain) in ``agency_domains``."""
    if not address or "@" not in address:
        return None
    domain = address.rsplit("@", 1)[1].lower().rstrip(".")
    domains = {d.lower().lstrip("@."): name for d, name in agency_domains.items()}
    parts = domain.split(".")
    for index in range(len(parts) - 1):
        name = domains.get(".".join(parts[index:]))
        if name:
            return name
    return None
