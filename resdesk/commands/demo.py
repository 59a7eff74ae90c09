"""``resdesk demo``: the embedded default, run end to end on ``samples/``."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run the embedded default on samples/")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from resdesk.cli import main

    print("Protocols this installation knows:\n")
    main(["protocols"])
    print("\nA worked deadline: Oldham stage 2 entered on Wednesday 23 December 2026 at 10:00,")
    print("with the case opened on Monday 14 December 2026 (Christmas and the Boxing Day")
    print("substitute holiday are not working days):\n")
    return main(["deadline", "oldham", "2", "--from", "2026-12-23T10:00", "--case-start", "2026-12-14"])
