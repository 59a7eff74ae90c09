"""``resdesk check [--config FILE] [--send-test TO] [--json]``: the set-up check, run once by IT.

Each step prints one line, ``PASS`` or ``FAIL``, with what it found or what to do
next; a step that cannot run because an earlier one failed is ``SKIP``. Exit
status 0 only when every step passes, 1 otherwise (2 when the settings cannot be
read at all).

Steps: the settings load; the mailbox signs in (for ``auth = "microsoft"`` or
``"google"``, a token first); the watched folder opens; the processed and
quarantine folders exist or can be created; SMTP authenticates; with
``--send-test TO``, one test message goes to TO.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check the settings, the mailbox sign-in, its folders and SMTP, step by step",
        description="Check a set-up once: load the settings, sign in to the mailbox (getting a Microsoft "
        "or Google token first when configured), open the watched folder, make sure the processed and "
        "quarantine folders can be created, authenticate to SMTP, and optionally send one test message. "
        "Prints PASS or FAIL per step with what to do next; exits 0 only when every step passes.",
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--send-test", metavar="TO", help="also send one test message to this address")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


@dataclass
class Step:
    name: str
    status: str  # "pass", "fail" or "skip"
    detail: str


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)

    def add(self, name: str, status: str, detail: str) -> bool:
        self.steps.append(Step(name, status, detail))
        return status == "pass"

    @property
    def passed(self) -> bool:
        return all(step.status == "pass" for step in self.steps)


def run(args: argparse.Namespace) -> int:
    from resdesk.errors import ResdeskError
    from resdesk.output import print_json
    from resdesk.settings import load_settings

    report = Report()
    try:
        settings = load_settings(args.config)
    except ResdeskError as exc:
        report.add("settings", "fail", str(exc))
        _print(report, args.json)
        return exc.exit_status
    where = args.config or "resdesk.toml (or defaults)"
    report.add("settings", "pass", f"read from {where}; mailbox {settings.mailbox.username} "
               f"({settings.mailbox.kind}, auth {settings.mailbox.auth})")
    check_mailbox(settings, report)
    check_smtp(settings, report, args.send_test)
    _print(report, args.json)
    if args.json:
        print_json({"passed": report.passed, "steps": [step.__dict__ for step in report.steps]})
    return 0 if report.passed else 1


def check_mailbox(settings, report: Report) -> None:
    """Sign-in, the watched folder, and the folders mail is filed in."""
    from resdesk.errors import ResdeskError
    from resdesk.intake.sources import connect_source
    from resdesk.signin import token_source

    box = settings.mailbox
    if box.kind == "imap" and box.auth != "password":
        try:
            tokens = token_source(box, box.username, section="mailbox")
            tokens.token()
        except ResdeskError as exc:
            report.add("mailbox sign-in", "fail", str(exc))
            for name in ("watched folder", "filing folders"):
                report.add(name, "skip", "needs the mailbox sign-in")
            return
        report.add("mailbox sign-in", "pass", f"a {box.auth} token for {box.username}")
    try:
        source = connect_source(box)
    except ResdeskError as exc:
        report.add("watched folder", "fail", str(exc))
        report.add("filing folders", "skip", "needs the watched folder")
        return
    try:
        uidvalidity, waiting = source.snapshot()
        report.add("watched folder", "pass", f"{box.folder} opened; {len(waiting)} message(s) waiting")
        try:
            for folder in (box.processed_folder, box.quarantine_folder):
                source.prepare_folder(folder)
        except ResdeskError as exc:
            report.add("filing folders", "fail", f"{exc} Create it by hand or give the account the right to.")
        else:
            report.add("filing folders", "pass", f"{box.processed_folder} and {box.quarantine_folder} are there")
    finally:
        source.close()


def check_smtp(settings, report: Report, send_test: str | None) -> None:
    """SMTP authentication, then optionally one test message."""
    from resdesk.errors import ResdeskError
    from resdesk.outbox.smtp import SmtpSender

    smtp = settings.smtp
    if not smtp.enabled or smtp.pickup_folder:
        why = "smtp.enabled = false" if not smtp.enabled else f"mail goes to the pickup folder {smtp.pickup_folder}"
        report.add("SMTP", "pass", f"not used ({why})")
        if send_test:
            report.add("test message", "skip", f"nothing is sent over SMTP ({why})")
        return
    try:
        sender = SmtpSender.from_settings(smtp, settings.mailbox)
        sender.check_login()
    except ResdeskError as exc:
        report.add("SMTP", "fail", str(exc))
        if send_test:
            report.add("test message", "skip", "needs SMTP")
        return
    how = f"XOAUTH2 as {sender.username}" if sender.token_source else (
        f"password login as {sender.username}" if sender.username else "no login")
    report.add("SMTP", "pass", f"{smtp.host}:{smtp.port} accepted {how}")
    if send_test:
        try:
            message_id = sender.send_test(smtp.sender, send_test)
        except ResdeskError as exc:
            report.add("test message", "fail", str(exc))
        else:
            report.add("test message", "pass", f"sent to {send_test} as {message_id}")


def _print(report: Report, as_json: bool) -> None:
    if as_json:
        return
    for step in report.steps:
        print(f"{step.status.upper():<5} {step.name}: {step.detail}")
    failed = sum(step.status == "fail" for step in report.steps)
    print("All checks passed." if report.passed else f"{failed} check(s) failed; fix the first one and run again.")
