"""The ``resdesk`` command line.

Each command lives in its own module under ``resdesk.commands`` with a
``register(subparsers)`` function that adds its parser and sets ``handler``.
Modules import heavy libraries inside their handlers, so ``resdesk --help``
starts fast. Errors become one sentence on stderr and an exit status:
0 success, 1 the work failed, 2 bad usage or bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from resdesk.errors import ResdeskError

# One line per command module; the order is the order shown in --help.
COMMAND_MODULES = (
    "resdesk.commands.protocols",
    "resdesk.commands.deadline",
    "resdesk.commands.forms",
    "resdesk.commands.watch",
    "resdesk.commands.tick",
    "resdesk.commands.cases",
    "resdesk.commands.report",
    "resdesk.commands.demo",
    "resdesk.commands.migrate",
    "resdesk.commands.retention",
    "resdesk.commands.backup",
    "resdesk.commands.export_child",
    "resdesk.commands.health",
    "resdesk.commands.check",
    "resdesk.commands.verify",
    "resdesk.commands.act",
    "resdesk.commands.quarantine",
    "resdesk.commands.alerts",
    "resdesk.commands.users",
    "resdesk.commands.serve",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one sentence and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"resdesk: {message[0].upper()}{message[1:]}.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="resdesk",
        description="Resolution Desk: escalation-and-resolution mail, deadlines and notices "
        "for safeguarding partnerships.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a command not shipped in this build
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except ResdeskError as exc:
        print(f"resdesk: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("resdesk: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
