"""``resdesk forms blank KIND --format docx|pdf -o FILE`` and ``resdesk forms parse FILE [--json]``."""

from __future__ import annotations

import argparse

KINDS = ("resolution-notice", "escalation-concern", "summary-log", "stage-summary")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "forms",
        help="blank templates, and reading filled ones",
        description="Blank fillable templates of each form kind, and reading a filled template "
        "(Word, PDF or text) into its record (PRODUCT §6).",
    )
    actions = parser.add_subparsers(dest="forms_action", metavar="ACTION", parser_class=type(parser))
    blank = actions.add_parser(
        "blank",
        help="write a blank fillable template",
        description="Write a blank template whose form boxes are named by the field names.",
    )
    blank.add_argument("kind", metavar="KIND", choices=KINDS, help=", ".join(KINDS))
    blank.add_argument("--format", dest="fmt", choices=("docx", "pdf"), default="docx", help="docx or pdf")
    blank.add_argument("-o", "--output", metavar="FILE", required=True, help="where to write it")
    blank.set_defaults(handler=run_blank)
    parse = actions.add_parser(
        "parse",
        help="read a filled template into its record",
        description="Read a filled Word, PDF or text form. Bad input: exit status 2 and one "
        "sentence naming the file, the field and the reason.",
    )
    parse.add_argument("file", metavar="FILE")
    parse.add_argument("--json", action="store_true", help='print {"kind": ..., "fields": {...}}')
    parse.set_defaults(handler=run_parse)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def run_blank(args: argparse.Namespace) -> int:
    from pathlib import Path

    from resdesk.forms import blank_docx, blank_pdf
    from resdesk.errors import UsageError

    data = blank_docx(args.kind) if args.fmt == "docx" else blank_pdf(args.kind)
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        raise UsageError(f"Cannot write {args.output} ({exc.strerror}).") from None
    return 0


def _show(value) -> str:
    if isinstance(value, list):
        return f"{len(value)} row(s)"
    return "" if value is None else str(value)


def run_parse(args: argparse.Namespace) -> int:
    from pathlib import Path

    from resdesk.forms import read_form
    from resdesk.errors import UsageError
    from resdesk.output import print_json, print_table

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read {args.file} ({exc.strerror}).") from None
    record = read_form(data, path.name)
    document = record.as_json()
    if args.json:
        print_json(document)
        return 0
    print(f"{path.name}: {document['kind']}")
    print_table(["field", "value"], [[name, _show(value)] for name, value in document["fields"].items()])
    for table in ("actions", "entries"):
        for number, row in enumerate(document["fields"].get(table) or [], start=1):
            print(f"\n{table} {number}")
            print_table(["field", "value"], [[k, _show(v)] for k, v in row.items()])
    return 0
