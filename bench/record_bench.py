"""The auditor record: time and peak memory against the number of events in the case.

Each size renders in its own process (``python -m bench.record_bench N``) so its
peak resident memory (VmHWM) is its own: the example case with N events and N
messages, rendered by ``render_case_record`` (PDF/A-3u, the case's JSON
embedded), which lays the record out part by part in the render worker (a child
process, measured too) and joins the parts in the calling process. The smallest
size is the baseline of the time and memory ratios.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time

from bench.measure import run_measured_tree

QUICK = bool(os.environ.get("RESDESK_BENCH_QUICK"))
SIZES = (10, 100, 300) if QUICK else (10, 100, 300, 1000)
MEMORY_TARGET_MB = 200


def render(events: int) -> dict:
    from datetime import datetime, timedelta

    from pypdf import PdfReader

    from resdesk.render import EventRow, render_case_record
    from resdesk.render.examples import example_case_record
    from resdesk.render.recordparts import plan_parts

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
    return {"seconds": time.perf_counter() - started, "pages": len(PdfReader(io.BytesIO(pdf)).pages),
            "parts": len(plan_parts(view)), "bytes": len(pdf)}


def run() -> list[str]:
    rows, first, largest_peak = [], None, 0.0
    for events in SIZES:
        measured = run_measured_tree(["-m", "bench.record_bench", str(events)])
        result = json.loads(measured.out)
        peak = max(measured.peak_mb, measured.child_peak_mb)
        first = first or (result["seconds"], peak)
        largest_peak = peak
        rows.append(f"| {events:,} events + {events:,} messages | {result['pages']} | {result['parts']} | "
                    f"{result['seconds']:.1f} | {result['seconds'] / first[0]:.1f}× | {measured.peak_mb:.0f} | "
                    f"{measured.child_peak_mb:.0f} | {peak / first[1]:.1f}× |")
    largest = SIZES[-1]
    verdict = "met" if largest_peak <= MEMORY_TARGET_MB else "NOT met"
    return [
        "Auditor record (PDF/A-3u, tagged, JSON embedded) of the example case grown to N events and N messages, "
        "each size in its own process; laid out in parts of about eight pages in the render worker and joined "
        f"in the calling process; ratios against the {SIZES[0]}-event record of the same run:",
        "",
        "| case | pages | parts | seconds | time ratio | peak MB, calling process | peak MB, render worker "
        "| memory ratio (larger of the two) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Target: the record of {largest:,} events within {MEMORY_TARGET_MB} MB — **{verdict}** "
        f"({largest_peak:.0f} MB, the larger of the two processes).",
    ]


if __name__ == "__main__":
    print(json.dumps(render(int(sys.argv[1]))))
