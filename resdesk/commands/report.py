"""``resdesk report KIND --period PERIOD [--format pdf|docx|csv|xlsx] -o FILE``: a periodic return."""

from __future__ import annotations

import argparse
from pathlib import Path

KINDS_HELP = "activity, oldham-themes, sandwell-summary-log or gloucestershire-strategic-log"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="a periodic return (activity, themes, summary log) as PDF, Word, CSV or XLSX",
        description="Writes a return for a period from the case file: the activity report for every "
        "protocol, Oldham's quarterly themes (§1.6), Sandwell's Appendix 4 summary log or "
        "Gloucestershire's strategic escalation log.",
    )
    parser.add_argument("kind", metavar="KIND", help=KINDS_HELP)
    parser.add_argument("--period", required=True, metavar="PERIOD",
                        help="a quarter (2026Q4), a month (2026-11) or dates (2026-10-01..2026-12-31)")
    parser.add_argument("--format", choices=("pdf", "docx", "csv", "xlsx"),
                        help="the file's format (default: from the -o file's suffix, else pdf)")
    parser.add_argument("-o", "--output", metavar="FILE", help="where to write the return")
    parser.add_argument("--agency", metavar="NAME", help="sandwell-summary-log: one raising agency's log")
    parser.add_argument("--now", metavar="WHEN", help="judge running stages as at this time (default: now)")
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--json", action="store_true", help="print the figures and tables as one JSON document")
    parser.set_defaults(handler=run)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    suffix = Path(args.output).suffix.lower().lstrip(".") if args.output else ""
    return suffix if suffix in ("pdf", "docx", "csv", "xlsx") else "pdf"


def run(args: argparse.Namespace) -> int:
    from resdesk.commands.cases import _context
    from resdesk.errors import UsageError
    from resdesk.output import print_json
    from resdesk.reports import build_report, parse_period, partnership_name, write_report

    if not args.output and not args.json:
        raise UsageError("Give -o FILE to write the return, or --json to print its figures.")
    period = parse_period(args.period)
    settings, registry, store, calendar, now = _context(args)
    try:
        report = build_report(args.kind, store, period, registry, now, calendar, agency=args.agency)
    finally:
        store.close()
    partnership = partnership_name(registry, settings.partnership.protocol)
    if args.output:
        fmt = _format(args)
        Path(args.output).write_bytes(write_report(report, fmt, partnership))
    if args.json:
        print_json({
            "kind": report.kind, "title": report.title, "source": report.source,
            "period": {"label": period.label, "first": period.first.isoformat(), "last": period.last.isoformat()},
            "figures": dict(report.figures),
            "tables": [{"title": t.title, "columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                       for t in report.tables],
            "export": {"columns": list(report.export.columns), "rows": [list(r) for r in report.export.rows]},
        })
    else:
        print(f"Wrote {report.title} for {period.label} to {args.output} ({_format(args)}).")
    return 0
