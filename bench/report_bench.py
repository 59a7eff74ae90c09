"""The ``activity`` return over 10,000 cases against one plain SQL query reading the same rows.

A SQLite case file (migrated to head) is filled with 10,000 cases opened through
2026 across the five protocols, each with one to four stage entries and, for
most, a resolution, and its area of disagreement and agencies as case facts,
written in bulk. Timed, alternately, with medians reported:

- baseline: one plain ``SELECT`` of every case joined to its stage events (the
  rows the report reads), fetched into Python with the sqlite3 driver;
- ours: ``build_report("activity", ...)`` for the whole of 2026 (its SQL
  aggregates, the stage spans judged by each protocol's calendar, the export
  rows), and the same followed by writing the CSV.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

CASES = 10_000
ROUNDS = 5
PROTOCOLS = {"oldham": (1, 4), "gloucestershire": (1, 4), "sandwell": (1, 4), "haringey": (1, 2), "lscp-lsab": (1, 3)}
AREAS = ("thresholds", "roles-and-responsibilities", "action-or-inaction", "plans", "information-sharing",
         "provision-of-services", "drift-and-delay", "child-protection-conference", None)
AGENCIES = ("Police", "Children's Social Care", "Health", "Education", "Probation", None)
BASELINE = """
SELECT c.id, c.ref, c.protocol, c.opened_at, c.status, c.resolved_at, a.value, r.value, s.value,
       e.kind, e.stage, e.variant, e.at
FROM cases c LEFT JOIN events e ON e.case_id = c.id AND e.kind IN ('stage-entered', 'resolved')
LEFT JOIN case_facts a ON a.case_id = c.id AND a.name = 'area_of_disagreement'
LEFT JOIN case_facts r ON r.case_id = c.id AND r.name = 'raising_agency'
LEFT JOIN case_facts s ON s.case_id = c.id AND s.name = 'responding_agency'
ORDER BY c.id, e.at
"""


def _fill(store) -> int:
    from resdesk.cases.models import Case, CaseFact, Event

    rng = random.Random(15)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    cases, events, facts = [], [], []
    for n in range(1, CASES + 1):
        protocol = rng.choice(list(PROTOCOLS))
        first, last = PROTOCOLS[protocol]
        opened = start + timedelta(minutes=rng.randrange(0, 350 * 24 * 60))
        at, stage = opened, first
        reached = rng.randint(first, last)
        for stage in range(first, reached + 1):
            events.append({"case_id": n, "kind": "stage-entered", "stage": stage, "variant": None, "at": at,
                           "detail": {}, "recorded_at": at})
            at += timedelta(hours=rng.randrange(4, 24 * 12))
        resolved = at if rng.random() < 0.7 else None
        if resolved:
            events.append({"case_id": n, "kind": "resolved", "stage": reached, "variant": None, "at": resolved,
                           "detail": {}, "recorded_at": resolved})
        cases.append({
            "id": n, "ref": f"BEN-2026-{n:05d}", "protocol": protocol, "status": "resolved" if resolved else "open",
            "stage": reached, "stage_started": opened, "opened_at": opened, "resolved_at": resolved,
            "created_at": opened, "updated_at": opened,
        })
        for name, value in (("area_of_disagreement", rng.choice(AREAS)), ("raising_agency", rng.choice(AGENCIES)),
                            ("responding_agency", rng.choice(AGENCIES))):
            if value is not None:
                facts.append({"case_id": n, "name": name, "value": value, "source": "message", "estimated": False,
                              "set_by": "resdesk-intake", "set_at": opened, "reason": "read from message",
                              "detail": {}})
    with store.transaction() as tx:
        tx.session.execute(Case.__table__.insert(), cases)
        tx.session.execute(Event.__table__.insert(), events)
        tx.session.execute(CaseFact.__table__.insert(), facts)
    return len(events)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run() -> list[str]:
    from resdesk.cases import open_store
    from resdesk.protocols import default_registry
    from resdesk.reports import build_report, parse_period, write_report

    registry = default_registry()
    period = parse_period("2026-01-01..2026-12-31")
    now = datetime(2027, 1, 15, 12, 0, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        store = open_store(f"sqlite:///{path}", Path(folder) / "archive")
        event_count = _fill(store)
        connection = sqlite3.connect(path)
        build_report("activity", store, period, registry, now)  # warm: imports, calendars
        connection.execute(BASELINE).fetchall()
        plain, ours, with_csv = [], [], []
        rows = exported = 0
        for _ in range(ROUNDS):
            began = time.perf_counter()
            rows = len(connection.execute(BASELINE).fetchall())
            plain.append(time.perf_counter() - began)
            began = time.perf_counter()
            report = build_report("activity", store, period, registry, now)
            ours.append(time.perf_counter() - began)
            began = time.perf_counter()
            write_report(build_report("activity", store, period, registry, now), "csv")
            with_csv.append(time.perf_counter() - began)
            exported = len(report.export.rows)
        connection.close()
        store.close()
    base = _median_ms(plain)
    return [
        f"{CASES:,} cases with {event_count:,} stage and resolution events (SQLite), the whole of 2026; "
        f"median of {ROUNDS} alternating rounds.",
        "",
        "| what | median | ratio to the plain query |",
        "|---|---|---|",
        f"| one plain SQL query reading the same rows ({rows:,} rows) | {base:.0f} ms | 1.0 |",
        f"| `activity` report: figures, stage tally, {exported:,} export rows | {_median_ms(ours):.0f} ms | "
        f"{_median_ms(ours) / base:.1f} |",
        f"| the same, written as CSV | {_median_ms(with_csv):.0f} ms | {_median_ms(with_csv) / base:.1f} |",
        "",
        f"Figures: {report.figure('Cases opened'):,} opened, {report.figure('Stages met'):,} stages met, "
        f"{report.figure('Stages missed'):,} missed.",
    ]
