"""``resdesk deadline ID STAGE --from WHEN [--case-start WHEN]``: one stage's due time."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "deadline",
        help="when a stage is due under a protocol",
        description="The stage's due time under the protocol (PRODUCT §4), and its cumulative "
        "target when --case-start is given. Times without an offset are Europe/London.",
    )
    parser.add_argument("protocol", metavar="ID")
    parser.add_argument("stage", metavar="STAGE")
    parser.add_argument("--from", dest="start", metavar="WHEN", required=True, help="when the stage started")
    parser.add_argument("--case-start", metavar="WHEN", help="when the case started, for the cumulative target")
    parser.add_argument("--variant", help="for a stage the protocol splits (lscp-lsab 4: urgent, non-urgent)")
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from resdesk.protocols import WorkingCalendar, cumulative_due, due_after, parse_when
    from resdesk.commands.protocols import registry_for
    from resdesk.errors import UsageError
    from resdesk.output import print_json

    registry, settings = registry_for(args)
    protocol = registry.get(args.protocol)
    try:
        number = int(args.stage)
    except ValueError:
        raise UsageError(f"The stage must be a number such as 2, not '{args.stage}'.") from None
    stage = protocol.stage(number, args.variant)
    start = parse_when(args.start, what="--from time")
    case_start = parse_when(args.case_start, what="--case-start time") if args.case_start else None
    calendar = calendar_for(protocol, settings)
    due = due_after(stage.timescale, start, calendar)
    cumulative = cumulative_due(stage, case_start, calendar)
    document = {
        "protocol": protocol.id,
        "stage": stage.number,
        "variant": stage.variant,
        "stage_name": stage.name,
        "from": start.isoformat(),
        "due": due.isoformat() if due else None,
        "basis": stage.timescale.basis,
        "case_start": case_start.isoformat() if case_start else None,
        "cumulative_due": cumulative.isoformat() if cumulative else None,
        "cumulative_basis": (
            f"{stage.cumulative_working_days} working days from the case start"
            if stage.cumulative_working_days is not None
            else None
        ),
        "if_unresolved": stage.if_unresolved,
        "source": stage.sources["timescale"],
    }
    if args.json:
        print_json(document)
        return 0
    print(f"{protocol.name}, stage {stage.label} ({stage.name})")
    print(f"  from: {start:%a %d %b %Y %H:%M %Z}")
    if due:
        print(f"  due:  {due:%a %d %b %Y %H:%M:%S %Z}  ({stage.timescale.basis})")
    else:
        reason = stage.timescale.no_fixed_timescale
        print(f"  due:  no fixed timescale ({reason})")
    if cumulative:
        print(f"  cumulative target: {cumulative:%a %d %b %Y %H:%M:%S %Z}  ({document['cumulative_basis']})")
    elif stage.cumulative_working_days is not None:
        print(f"  cumulative target: working day {stage.cumulative_working_days} of the case (give --case-start)")
    print(f"  source: {document['source']}")
    if stage.if_unresolved:
        print(f"  if unresolved: {stage.if_unresolved}")
    return 0


def calendar_for(protocol, settings):
    """The protocol's nation's working days, less the partnership's own closure days."""
    from resdesk.protocols import WorkingCalendar

    return WorkingCalendar(protocol.nation, settings.partnership.extra_closure_days)
