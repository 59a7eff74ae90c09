"""A case file built from dated scenario mail spanning two quarters (2026 Q3 and Q4).

Three partnerships' inboxes (Oldham, Gloucestershire, Sandwell) are Maildirs
drained by the real watcher into one case file, one message at a time in date
order, so every reply finds the case its first message opened. Each case's
first message states the area of disagreement and the agencies on labelled
lines, as agencies are asked to; Sandwell's first case carries the Appendix 3
template typed into the mail.

The cases (times 10:00 Europe/London; "→ N" is a stage summary escalating to stage N):

| case | protocol | mail | area | raising → responding |
|---|---|---|---|---|
| O0 | oldham | Tue 15 Sep stage 1 resolved | roles and responsibilities | Oldham Schools → Oldham CSC |
| O1 | oldham | Tue 8 Sep → 2; Thu 10 Sep → 3; Tue 6 Oct stage 3 resolved | thresholds | GMP → Oldham CSC |
| O2 | oldham | Mon 5 Oct → 2; Wed 7 Oct → 3; Mon 2 Nov → 4 | thresholds | GMP → Oldham CSC |
| O3 | oldham | Tue 3 Nov stage 1 resolved | information sharing | Oldham Schools → Oldham CSC |
| O4 | oldham | Mon 16 Nov → 2; Tue 17 Nov → 3 | drift and delay | Oldham Schools → Pennine Care |
| G0 | gloucestershire | Tue 22 Sep → 2; Wed 23 Sep → 3; Thu 24 Sep → 4 | plans | Constabulary → Glos CSC |
| G1 | gloucestershire | Mon 2 Nov → 2; Wed 4 Nov → 3; Mon 9 Nov → 4 | plans | Constabulary → Glos CSC |
| G2 | gloucestershire | Tue 10 Nov → 2; Thu 12 Nov → 3; Fri 20 Nov → 4 | plans | Constabulary → Glos CSC |
| G3 | gloucestershire | Thu 12 Nov → 2; Fri 13 Nov → 3; Wed 25 Nov → 4 | information sharing | ICB → Glos CSC |
| S1 | sandwell | Wed 7 Oct → 2 (template typed in); Fri 16 Oct stage 2 resolved | provision of services | Oakfield Primary → Children's Trust |
| S2 | sandwell | Mon 19 Oct → 2 | thresholds | WM Police → Children's Trust |
"""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from resdesk.cases import Store
from resdesk.forms import EscalationConcern, email_text
from resdesk.intake.ledger import Ledger
from resdesk.intake.process import IntakePolicy, IntakeProcessor
from resdesk.intake.sources import MaildirSource
from resdesk.intake.watch import Watcher
from resdesk.protocols import default_registry

LONDON = ZoneInfo("Europe/London")
REGISTRY = default_registry()
INBOX = "escalations@partnership.example"
# The processor's "now": after the scenario, so no message's Date looks like the future.
RECEIVED = datetime(2027, 1, 15, 12, 0, tzinfo=timezone.utc)

GMP, OLDHAM_CSC = "Greater Manchester Police", "Oldham Children's Social Care"
SCHOOLS, PENNINE = "Oldham Schools", "Pennine Care"
CONSTABULARY, GLOS_CSC, ICB = "Gloucestershire Constabulary", "Gloucestershire Children's Social Care", "NHS Gloucestershire ICB"
OAKFIELD, TRUST, WMP = "Oakfield Primary School", "Sandwell Children's Trust", "West Midlands Police"


@dataclass(frozen=True)
class Mail:
    protocol: str
    case: str
    when: datetime
    stage: int
    outcome: str
    first: tuple[str, str, str] | None = None  # area line, raising agency, responding agency
    form: str = ""


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=LONDON)


def _sandwell_template() -> str:
    record = EscalationConcern(
        child_name="Amira Okafor",
        child_dob=date(2014, 3, 9),
        raised_by_name="Grace Mensah",
        raised_by_email="g.mensah@oakfield.example",
        raised_by_role_agency="Designated Safeguarding Lead, Oakfield Primary School",
        current_level_of_need="child-in-need",
        perceived_level_of_need="child-protection",
        disagreement_details="School considers the speech and language referral was closed without a service.",
    )
    return email_text("escalation-concern", record)


MAILS = (
    Mail("oldham", "O1", _at(9, 8), 1, "escalated", ("Thresholds", GMP, OLDHAM_CSC)),
    Mail("oldham", "O1", _at(9, 10), 2, "escalated"),
    Mail("oldham", "O0", _at(9, 15), 1, "resolved", ("Roles & responsibilities", SCHOOLS, OLDHAM_CSC)),
    Mail("gloucestershire", "G0", _at(9, 22), 1, "escalated", ("Plans", CONSTABULARY, GLOS_CSC)),
    Mail("gloucestershire", "G0", _at(9, 23), 2, "escalated"),
    Mail("gloucestershire", "G0", _at(9, 24), 3, "escalated"),
    Mail("oldham", "O2", _at(10, 5), 1, "escalated", ("thresholds/eligibility", GMP, OLDHAM_CSC)),
    Mail("oldham", "O1", _at(10, 6), 3, "resolved"),
    Mail("oldham", "O2", _at(10, 7), 2, "escalated"),
    Mail("sandwell", "S1", _at(10, 7), 1, "escalated", ("Provision of services", OAKFIELD, TRUST),
         form=_sandwell_template()),
    Mail("sandwell", "S1", _at(10, 16), 2, "resolved"),
    Mail("sandwell", "S2", _at(10, 19), 1, "escalated", ("Threshold", WMP, TRUST)),
    Mail("oldham", "O2", _at(11, 2), 3, "escalated"),
    Mail("gloucestershire", "G1", _at(11, 2), 1, "escalated", ("plans", CONSTABULARY, GLOS_CSC)),
    Mail("oldham", "O3", _at(11, 3), 1, "resolved", ("Information sharing", SCHOOLS, OLDHAM_CSC)),
    Mail("gloucestershire", "G1", _at(11, 4), 2, "escalated"),
    Mail("gloucestershire", "G1", _at(11, 9), 3, "escalated"),
    Mail("gloucestershire", "G2", _at(11, 10), 1, "escalated", ("Plans", CONSTABULARY, GLOS_CSC)),
    Mail("gloucestershire", "G2", _at(11, 12), 2, "escalated"),
    Mail("gloucestershire", "G3", _at(11, 12), 1, "escalated", ("Sharing of information", ICB, GLOS_CSC)),
    Mail("gloucestershire", "G3", _at(11, 13), 2, "escalated"),
    Mail("oldham", "O4", _at(11, 16), 1, "escalated", ("Drift & delay", SCHOOLS, PENNINE)),
    Mail("oldham", "O4", _at(11, 17), 2, "escalated"),
    Mail("gloucestershire", "G2", _at(11, 20), 3, "escalated"),
    Mail("gloucestershire", "G3", _at(11, 25), 3, "escalated"),
)


def _raw(mail: Mail, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Practitioner {mail.case} <lead.{mail.case.lower()}@agency.example>"
    msg["To"] = INBOX
    msg["Subject"] = f"Escalation & Resolution Protocol: Stage {mail.stage} Summary"
    msg["Date"] = format_datetime(mail.when)
    msg["Message-ID"] = f"<{mail.case.lower()}-{n}@agency.example>"
    if mail.first is None:
        first_id = f"<{mail.case.lower()}-first@agency.example>"
        msg["In-Reply-To"] = first_id
        msg["References"] = first_id
    else:
        msg.replace_header("Message-ID", f"<{mail.case.lower()}-first@agency.example>")
    lines = ["Dear colleagues,", "", f"Summary of the stage {mail.stage} discussion.", ""]
    if mail.first is not None:
        area, raising, responding = mail.first
        lines += [f"Area of disagreement: {area}", f"Raising agency: {raising}", f"Responding agency: {responding}", ""]
    if mail.form:
        lines += [mail.form, ""]
    lines += [f"Outcome: {mail.outcome}", "", "Regards"]
    msg.set_content("\n".join(lines))
    return msg.as_bytes()


def build_case_file(store: Store, root: Path) -> dict[str, str]:
    """Drain the scenario's mail into ``store`` with the real watcher; the case references by scenario name."""
    ledger = Ledger(store)
    policy = IntakePolicy(frozenset({INBOX}), (), None, 1_000_000)
    watchers: dict[str, tuple[mailbox.Maildir, Watcher]] = {}
    for protocol in ("oldham", "gloucestershire", "sandwell"):
        path = root / f"maildir-{protocol}"
        inbox = mailbox.Maildir(path, create=True)
        processor = IntakeProcessor(store, ledger, REGISTRY.get(protocol), policy, clock=lambda: RECEIVED)
        watcher = Watcher(MaildirSource(path), store, processor, processed_folder="Resdesk/Processed",
                          quarantine_folder="Resdesk/Quarantine", max_bytes=1_000_000, ledger=ledger)
        watchers[protocol] = (inbox, watcher)
    refs: dict[str, str] = {}
    for n, mail in enumerate(MAILS):
        inbox, watcher = watchers[mail.protocol]
        inbox.add(_raw(mail, n))
        assert watcher.acquire()
        try:
            report = watcher.drain()
        finally:
            watcher.release()
        assert report.filed.get("done") == 1, (mail, report)
    from resdesk.cases.models import Message

    with store.transaction() as tx:
        for message in tx.session.query(Message).all():
            name = message.message_id.strip("<>").split("-")[0].upper()
            case = tx.case_by_id(message.case_id)
            refs.setdefault(name, case.ref)
            assert refs[name] == case.ref, f"{name}'s mail went to two cases"
    return refs
