"""``resdesk export-child IDENTIFIER | --name NAME --dob DATE -o DIR``: answer a subject access request."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export-child",
        help="gather every case, message, document and notice about one child into a folder, with an index PDF",
        description="For a subject access request: find every case about one child (by identifier, such as the "
        "NHS number, or by name and date of birth together) and write its timeline, the messages received, the "
        "documents and the messages sent into DIR (empty or new), with index.pdf listing each file and its "
        "SHA-256. The export is recorded in each case's audit trail.",
    )
    parser.add_argument("identifier", metavar="IDENTIFIER", nargs="?", help="the child's identifier (NHS number)")
    parser.add_argument("--name", metavar="NAME", help="the child's name (with --dob, instead of an identifier)")
    parser.add_argument("--dob", metavar="DATE", help="the child's date of birth, YYYY-MM-DD")
    parser.add_argument("-o", "--out", metavar="DIR", required=True, help="the folder to write (empty or new)")
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import getpass
    from datetime import date, datetime, timezone

    from resdesk.commands.protocols import registry_for
    from resdesk.errors import UsageError
    from resdesk.output import print_json
    from resdesk.subject_access import export_child
    from resdesk.wiring import open_store_for

    if (args.identifier is None) == (args.name is None):
        raise UsageError("Give the child's identifier, or --name with --dob, but not both.")
    dob = None
    if args.name is not None:
        try:
            dob = date.fromisoformat(args.dob or "")
        except ValueError:
            raise UsageError("--name needs --dob as a date, YYYY-MM-DD.") from None
    registry, settings = registry_for(args)
    store = open_store_for(settings)
    try:
        export = export_child(
            store, registry, datetime.now(timezone.utc), args.out, identifier=args.identifier, name=args.name,
            dob=dob, partnership=registry.get(settings.partnership.protocol).name,
            actor=f"user:{getpass.getuser()}",
        )
    finally:
        store.close()
    if args.json:
        print_json(export.as_json())
    else:
        print(f"Exported {len(export.cases)} case(s) ({', '.join(export.cases)}), {export.files} file(s), "
              f"into {export.folder}; index: {export.folder / 'index.pdf'}.")
    return 0
