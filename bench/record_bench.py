"""The auditor record: time and peak memory against the number of events in the case.

Each size renders in its own process (``python -m bench.record_bench N``) so its
peak resident memory (VmHWM) is its own: the example case with N events and N
messages, rendered by ``render_case_record`` (PDF/A-3b, the case's JSON
embedded). The smallest size is the baseline of the time and memory ratios.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time

from bench.measure import run_measured_python

QUICK = bool(os.environ.get("RESDESK_BENCH_QUICK"))
SIZES = (10, 100, 300) if QUICK else (10, 100, 300, 1000)
MEMORY_TARGET_MB = 200


def render(events: int) -> dict:
    from datetime import datetime, timedelta

    from pypdf import PdfReader

    from resdesk.render import EventRow, render_case_record
    from resdesk.render.examples import example_case_record

    base = example_case_record()
    start_at = datetime(2026, 12, 16, 9)
    view = base.model_copy(update={
        "events": [EventRow(at=start_at + timedelta(minutes=i), kind="message-recorded",
                            description=f"Stage summary {i} recorded from the agency's lead practitioner")
                   for i in range(events)],
        "messages": [base.messages[0].model_copy(update={"at": start_at + timedelta(minutes=i)}) for i in range(events)],
    })
    started = time.perf_counter()
    pdf = render_case_record(view)
    return {"seconds": time.perf_counter() - started, "pages": len(PdfReader(io.BytesIO(pdf)).pages), "bytes": len(pdf)}


def run() -> list[str]:
    rows, first = [], None
    for events in SIZES:
        _, peak, out = run_measured_python(["-m", "bench.record_bench", str(events)])
        result = json.loads(out)
        first = first or (events, result["seconds"], peak)
        rows.append(f"| {events:,} events + {events:,} messages | {result['pages']} | {result['seconds']:.1f} | "
                    f"{result['seconds'] / first[1]:.1f}× | {peak:.0f} | {peak / first[2]:.1f}× |")
    largest = SIZES[-1]
    peak_largest = float(rows[-1].split("|")[5])
    verdict = "met" if peak_largest <= MEMORY_TARGET_MB else "NOT met"
    return [
        "Auditor record (PDF/A-3b, JSON embedded) of the example case grown to N events and N messages, "
        f"each size in its own process; ratios against the {SIZES[0]}-event record of the same run:",
        "",
        "| case | pages | seconds | time ratio | peak MB | memory ratio |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Target: the record of {largest:,} events within {MEMORY_TARGET_MB} MB — **{verdict}** "
        f"({peak_largest:.0f} MB).",
    ]


if __name__ == "__main__":
    print(json.dumps(render(int(sys.argv[1]))))
