"""Haringey's shared inbox (lscb@haringey.example): a case settled by Heads of Service (its
stage 2 summary sent from Outlook with a winmail.dat), a stage 1 summary typed as the
template's labels, a macro-enabled "form", and the mail around them.
"""

from __future__ import annotations

import attachments as files
import automatic
import mime
from corpus import Mail, Mailbox, expect, template

MAILBOX = Mailbox(
    protocol="haringey",
    business_unit=("LSCB Business Unit", "lscb@haringey.example"),
    mx="mx.haringey.example",
    allowed_sender_domains=("haringey.example", "police.example", "nhs.example", "school.example"),
)
BU = MAILBOX.business_unit

FUNMI = ("Funmi Adeyemi", "funmi.adeyemi@nhs.example")
TOM = ("Tom Ellery", "tom.ellery@haringey.example")
CHLOE = ("Chloe Barraclough", "chloe.barraclough@haringey.example")
MARCUS = ("Dr Marcus Obi", "marcus.obi@nhs.example")
AOIFE = ("Aoife Gallagher", "a.gallagher@school.example")
DC_PATEL = ("DC Ravi Patel", "ravi.patel@police.example")

KOFI = "Kofi Hollyhock"
LEO = "Leo Bramblewood"

def _typed_summary() -> str:
    summary = files.record(
        "stage-summary",
        protocol="haringey",
        stage=1,
        meeting_date="12/11/2026",
        attendees="Aoife Gallagher (DSL, Park Lane Academy - sample); Tom Ellery (Team Manager, Haringey CSC - sample)",
        summary=(
            "Leo Bramblewood (DOB 27/02/2014). School asked for a joint home visit after Leo came in with an "
            "unexplained bruise for the second time this half term. CSC had planned a phone call to mum only. "
            "Agreed a joint visit is proportionate."
        ),
        outcome="actions-agreed",
        actions=[
            {"action": "Joint home visit (SW + DSL)", "owner": "Tom Ellery", "timeline": "13/11/2026",
             "completed": "No"},
            {"action": "Body map and chronology to CSC", "owner": "Aoife Gallagher", "timeline": "12/11/2026",
             "completed": "Yes"},
        ],
    )
    return (
        "Hi all - stage 1 summary typed out below as our form wouldn't open on the school laptops.\n\n"
        + files.typed_form("stage-summary", summary)
        + "\nThanks, Aoife\n\n"
        "Aoife Gallagher | Designated Safeguarding Lead | Park Lane Academy (sample)\n"
    )


def messages() -> list[Mail]:
    return [
        Mail(
            key="haringey-001", sent="2026-11-09 14:20:00", sender=FUNMI, to=[TOM], cc=[BU],
            subject="Inter-agency Escalation and Resolution Protocol - Stage 1 summary (first line managers) - KH",
            body=(
                "Dear Tom,\n\n"
                "Thank you for discussing Kofi Hollyhock (DOB 11/05/2017) with me today.\n\n"
                "Health disagree with the plan to step Kofi down from a CP plan to CIN at Thursday's\n"
                "review: the dental and optician appointments are still outstanding and the health\n"
                "visitor has not been able to see the baby at home since September.\n\n"
                "We could not agree at first line manager level.\n\n"
                "Outcome: Escalated\n"
                "I have asked Dr Obi (Named Doctor) to contact your Head of Service.\n\n"
                "Best wishes\n"
                "Funmi\n\n"
                "Funmi Adeyemi | Safeguarding Children Lead | Whittington Health (sample)\n"
            ),
            expect=expect("stage-summary", thread="haringey-A", stage=1, outcome="escalated", child=KOFI,
                          features=("no-seed-subject",)),
        ),
        Mail(
            key="haringey-002", sent="2026-11-11 10:05:00", sender=TOM, to=[FUNMI], cc=[BU, CHLOE],
            reply_to="haringey-001",
            subject="RE: Inter-agency Escalation and Resolution Protocol - Stage 1 summary (first line managers) - KH",
            body=(
                "Funmi - thanks. I've asked Chloe to set up the Heads of Service meeting this week and\n"
                "postponed the review until it has happened.\n\n"
                "Tom\n"
            ),
            expect=expect("reply", thread="haringey-A", child=KOFI, features=("reply-keeps-summary-subject", "in-reply-to",)),
        ),
        Mail(
            key="haringey-003", sent="2026-11-12 11:40:00", sender=AOIFE, to=[TOM], cc=[BU],
            subject="WG: Escalation and resolution - stage 1 form (school/CSC) - L.B.",
            body=_typed_summary(),
            expect=expect("filled-template", thread="haringey-B", stage=1, outcome="actions-agreed", child=LEO,
                          template=template("stage-summary", "email-text"),
                          features=("wg-prefix", "label-value-lines", "pipe-table-actions")),
        ),
        Mail(
            key="haringey-004", sent="2026-11-13 09:02:00", sender=TOM, to=[AOIFE], cc=[BU],
            reply_to="haringey-003",
            subject="RE: WG: Escalation and resolution - stage 1 form (school/CSC) - L.B.",
            body=(
                "Aoife - joint visit done this morning with Sam (SW). Mum engaged; I'll update the\n"
                "chronology. Action 1 complete.\n\n"
                "Tom Ellery | Team Manager | Haringey CSC (sample)\n"
            ),
            expect=expect("reply", thread="haringey-B", child=LEO, features=("in-reply-to",)),
        ),
        Mail(
            key="haringey-005", sent="2026-11-17 16:30:00", sender=CHLOE, to=[MARCUS, FUNMI], cc=[BU, TOM],
            reply_to="haringey-002", mailer="Microsoft Exchange Server",
            subject="RE: Inter-agency Escalation and Resolution Protocol - Stage 2 summary (Heads of Service) - KH",
            body=(
                "Dear Marcus, Funmi\n\n"
                "Summary of today's Heads of Service meeting (stage 2) for Kofi Hollyhock:\n\n"
                "- The CP plan will stay in place for one more review period (3 months).\n"
                "- Health visitor to have a joint visit with the SW before 1 December.\n"
                "- Dental and optician appointments to be added to the plan as outcomes.\n\n"
                "Outcome: resolved\n\n"
                "Kind regards\n"
                "Chloe Barraclough\n"
                "Head of Service, Safeguarding & Social Care (sample)\n"
            ),
            attachments=[mime.attachment("winmail.dat", "application/ms-tnef", files.winmail_dat())],
            expect=expect("stage-summary", thread="haringey-A", stage=2, outcome="resolved", child=KOFI,
                          features=("in-reply-to", "tnef"),
                          notes="The winmail.dat carries a plain text file, not a form; the outcome is in the body."),
        ),
        Mail(
            key="haringey-006", sent="2026-11-19 15:15:00", sender=AOIFE, to=[BU],
            subject="Escalation & Resolution Protocol - Stage 2 Summary form - L.B. (please enable editing)",
            body=(
                "Hello,\n\n"
                "Please see the attached Stage 2 Summary form. You may need to click Enable Editing\n"
                "and Enable Content for the form to display.\n\n"
                "Aoife\n"
            ),
            attachments=[mime.attachment("Stage 2 Summary - LB.docx", files.DOCX_TYPE, files.macro_docx())],
            expect=expect("hostile", reason="hostile-attachment", features=("macro-enabled", "renamed-docm"),
                          notes="A macro-enabled package (word/vbaProject.bin) named .docx; never opened."),
        ),
        Mail(
            key="haringey-007", sent="2026-11-20 10:10:00", sender=DC_PATEL, to=[TOM], cc=[BU],
            subject="Escalation & resolution - STAGE ONE SUMMARY - child F.F.",
            body=(
                "Tom,\n\n"
                "Re Freddie Fernsby (DOB 03/10/2016). Police asked for the s47 to be joint; CSC had\n"
                "started it single agency. Spoke to your duty manager - joint visit agreed for today.\n\n"
                "OUTCOME: RESOLVED\n\n"
                "DC Ravi Patel\n"
                "CAIT (sample)\n"
            ),
            expect=expect("stage-summary", thread="haringey-C", stage=1, outcome="resolved", child="Freddie Fernsby",
                          features=("upper-case", "stage-word-number")),
        ),
        Mail(
            key="haringey-008", sent="2026-11-23 08:45:00",
            sender=("Microsoft Outlook", "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@haringey.example"),
            to=[BU], return_path="<>", mailer=None,
            subject="Undeliverable: Inter-agency Escalation and Resolution Protocol - Stage 2 summary (Heads of Service) - KH",
            headers=[("Auto-Submitted", "auto-replied"), ("X-MS-Exchange-Message-Is-Ndr", "")],
            body=automatic.bounce(
                key="haringey-008", reporting_mta="mx.haringey.example", recipient="dr.m.obi@nhs.example",
                status="5.1.10", diagnostic="550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by "
                "SMTP address lookup",
                arrival="Mon, 23 Nov 2026 08:44:58 +0000",
                original_headers=(
                    "From: LSCB Business Unit <lscb@haringey.example>\n"
                    "To: dr.m.obi@nhs.example\n"
                    "Subject: Inter-agency Escalation and Resolution Protocol - Stage 2 summary (Heads of\n"
                    " Service) - KH\n"
                    "Date: Mon, 23 Nov 2026 08:44:57 +0000\n"
                    "Message-ID: <lscb-fw-20261123-01@haringey.example>\n"
                ),
                style="exchange",
            ),
            expect=expect("automatic", automatic="bounce", thread="haringey-A",
                          features=("multipart-report", "null-return-path", "exchange-ndr", "protocol-words-in-subject")),
        ),
        Mail(
            key="haringey-009", sent="2026-11-24 12:30:00", sender=("Facilities Helpdesk", "facilities@haringey.example"),
            to=[BU], subject="Reminder: Civic Centre car park closed 30 November",
            body=(
                "All,\n\n"
                "The Civic Centre car park will be closed on Monday 30 November for resurfacing.\n"
                "Please use the Station Road car park; permits will be honoured.\n\n"
                "Facilities Helpdesk\n"
            ),
            expect=expect("not-protocol", features=("internal-notice",)),
        ),
    ]
