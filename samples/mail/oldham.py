"""Oldham's shared inbox (oscp.group@oldham.example): one case that climbs all four stages
to a Resolution Notice, a case settled at stage 1, a stage 1 summary whose outcome cannot be
read, a case first heard of at stage 3, and the mail that lands beside them.
"""

from __future__ import annotations

import attachments as files
import mime
import automatic
from corpus import Mail, Mailbox, expect, nhs_number, template

MAILBOX = Mailbox(
    protocol="oldham",
    business_unit=("OSCP Group", "oscp.group@oldham.example"),
    mx="mx.oldham.example",
    allowed_sender_domains=("oldham.example", "police.example", "nhs.example", "school.example"),
)
BU = MAILBOX.business_unit

RACHEL = ("Rachel Fenwick", "r.fenwick@school.example")
HEAD = ("Daniel Hartley", "head@school.example")
IMRAN = ("Imran Qureshi", "imran.qureshi@oldham.example")
BERNADETTE = ("Bernadette Okafor", "bernadette.okafor@oldham.example")
GRAHAM = ("Graham Pilling", "graham.pilling@oldham.example")
SIOBHAN = ("DS Siobhán Ní Bhriain", "siobhan.nibhriain@police.example")
ZOE = ("Zoë Lindqvist", "zoe.lindqvist@nhs.example")
KERRY = ("Kerry Whitworth", "kerry.whitworth@nhs.example")
LUKAS = ("Brenner, Lukas (Insp.)", "lukas.brenner@police.example")

POPPY = "Poppy Thistledown"
POPPY_NHS = nhs_number("999123457")

COUNCIL_FOOTER = """
--
This email and any attachments are confidential and may contain personal information.
If you have received it in error please tell the sender and delete it. Oldham Council
(sample) monitors email for the purposes of security."""


def _resolution_notice() -> bytes:
    notice = files.record(
        "resolution-notice",
        notification_date="12/11/2026",
        child_name=POPPY,
        child_dob="14/03/2015",
        child_identifier=POPPY_NHS,
        raised_by_name="Graham Pilling",
        raised_by_agency="Oldham Council (sample) - Children's Social Care",
        raised_by_role="Assistant Director, Children's Social Care",
        raised_by_contact="graham.pilling@oldham.example / 0161 000 0417",
        discussion_summary=(
            "Holly Lane Primary (sample) disagree with the decision to close the referral of "
            "3 November at assessment with no further action. Stage 1 (5/11) and stage 2 (9/11) "
            "did not resolve it. At stage 3 (12/11) school and CSC still disagree on whether the "
            "threshold for a child and family assessment is met. Barrier: differing views of the "
            "weight to give Poppy's disclosures to her class teacher."
        ),
        outcome_summary="Not resolved at stage 3. Referred to the OSCP virtual panel for decision.",
        actions=[
            {"action": "Share chronology of school concerns since September with the panel",
             "owner": "Rachel Fenwick, DSL", "timeline": "13/11/2026", "completed": "No"},
            {"action": "Provide assessment decision record and manager's rationale",
             "owner": "Imran Qureshi, Team Manager", "timeline": "13/11/2026", "completed": "No"},
        ],
    )
    return files.filled_docx("resolution-notice", notice, "Graham Pilling", "2026-11-12T17:22:00Z")


def messages() -> list[Mail]:
    return [
        Mail(
            key="oldham-001", sent="2026-11-04 15:10:00", sender=SIOBHAN, to=[IMRAN], cc=[BU],
            subject="=?utf-8?q?OFFICIAL-SENSITIVE:_Escalation_&_Resolution_Protocol:_Stage_1?=\n"
                    " =?utf-8?q?_Summary_=E2=80=93_Zo=C3=AB_Q=2E?=",
            body=(
                "OFFICIAL-SENSITIVE\n\n"
                "Imran,\n\n"
                "Thanks for the call this afternoon. Summary as agreed:\n\n"
                "Child: Zoë Quillfeather (DOB 02/07/2012)\n"
                "Concern: police had asked for a strategy discussion after the DA incident on 31/10;\n"
                "CSC had logged it as information only.\n"
                "Discussion: we went through the incident log and the previous two call-outs. You agreed\n"
                "the pattern meets threshold and a strategy discussion is booked for Fri 6/11 at 10:00.\n\n"
                "Outcome: resolved\n\n"
                "Agreed actions:\n"
                "- Strategy discussion 06/11/2026 10:00 - Imran to chair\n"
                "- PPIU to send the three incident logs beforehand - me, by 05/11\n\n"
                "Many thanks\n"
                "Siobhán\n\n"
                "DS Siobhán Ní Bhriain\n"
                "Public Protection Investigation Unit | Police (sample)\n"
            ),
            expect=expect("stage-summary", thread="oldham-B", stage=1, outcome="resolved",
                          child="Zoë Quillfeather",
                          features=("encoded-word-subject", "non-ascii-name", "official-sensitive-prefix")),
        ),
        Mail(
            key="oldham-002", sent="2026-11-05 16:42:00", sender=RACHEL, to=[IMRAN], cc=[BU, HEAD],
            subject="Escalation & Resolution Protocol: Stage 1 Summary",
            body=(
                "Hi Imran\n\n"
                "Following our phone call today (stage 1 under the OSCP escalation protocol):\n\n"
                f"Child: {POPPY}, DOB 14/03/2015, Y6 Holly Lane Primary (sample)\n"
                f"NHS number: {POPPY_NHS}\n\n"
                "What we discussed: school referred on 03/11 after Poppy told her class teacher she is\n"
                "often left to look after her younger brother overnight. The referral was closed at\n"
                "the front door with NFA. School do not agree - this is the third disclosure this term\n"
                "and attendance has dropped to 81%.\n\n"
                "You explained the decision was based on mum's account and no previous CSC history.\n"
                "We did not reach agreement.\n\n"
                "Outcome: escalated\n"
                "(to stage 2 - I will ask Daniel to speak to your Head of Service)\n\n"
                "Rachel\n\n"
                "Rachel Fenwick\n"
                "Deputy Head / Designated Safeguarding Lead\n"
                "Holly Lane Primary School (sample)\n"
            ),
            mailer="Microsoft Outlook 16.0",
            expect=expect("stage-summary", thread="oldham-A", stage=1, outcome="escalated", child=POPPY,
                          features=("exact-seed-subject",)),
        ),
        Mail(
            key="oldham-003", sent="2026-11-06 09:15:00", sender=IMRAN, to=[RACHEL], cc=[BU, BERNADETTE],
            subject="RE: Escalation & Resolution Protocol: Stage 1 Summary", reply_to="oldham-002",
            body=(
                "Rachel,\n\n"
                "Received, thank you - that is an accurate summary. I've passed this to Bernadette\n"
                "(Head of Service) and she will contact Daniel today to arrange the stage 2 meeting.\n\n"
                "Imran\n\n"
                "Imran Qureshi | Team Manager, MASH & Assessment | Oldham Council (sample)\n"
                + COUNCIL_FOOTER + "\n\n"
                "-----Original Message-----\n"
                "From: Rachel Fenwick <r.fenwick@school.example>\n"
                "Sent: 05 November 2026 16:42\n"
                "Subject: Escalation & Resolution Protocol: Stage 1 Summary\n\n"
                "> Outcome: escalated\n"
                "> (to stage 2 - I will ask Daniel to speak to your Head of Service)\n"
            ),
            expect=expect("reply", thread="oldham-A", child=POPPY, features=("reply-keeps-summary-subject", "in-reply-to", "quoted-outcome"),
                          notes="Quotes the stage 1 outcome line; records nothing new."),
        ),
        Mail(
            key="oldham-004", sent="2026-11-09 17:05:00", sender=BERNADETTE, to=[HEAD, RACHEL],
            cc=[BU, IMRAN], reply_to="oldham-003",
            subject="RE: FW: Escalation and Resolution Protocol: Stage Two Summary - child PT",
            body=(
                "Dear Daniel, Rachel\n\n"
                "Thank you for meeting with Imran and me this afternoon. Stage 2 summary below.\n\n"
                "Attendees: Daniel Hartley (Headteacher), Rachel Fenwick (DSL), Imran Qureshi (TM),\n"
                "Bernadette Okafor (HoS, CSC)\n\n"
                "Summary: we re-read the referral and the two earlier contacts from school (Sept, Oct).\n"
                "CSC position remains that the threshold for a C&F assessment is not met and an Early\n"
                "Help offer is appropriate. School feel this underestimates the risk of Poppy being\n"
                "left in charge overnight.\n\n"
                "Outcome: Escalated\n\n"
                "As we could not agree I will progress to stage 3 today and notify OSCP.\n\n"
                "Kind regards\n"
                "Bernadette\n\n"
                "Bernadette Okafor\n"
                "Head of Service - Children's Social Care\n"
                + COUNCIL_FOOTER + "\n"
            ),
            expect=expect("stage-summary", thread="oldham-A", stage=2, outcome="escalated", child=POPPY,
                          features=("in-reply-to", "stage-word-number", "and-for-ampersand", "re-fw-prefix")),
        ),
        Mail(
            key="oldham-005", sent="2026-11-10 10:20:00", sender=BERNADETTE, to=[BU], cc=[GRAHAM, HEAD],
            reply_to="oldham-004",
            subject="Notification of Escalation progressing to stage 3",
            body=(
                "OSCP colleagues\n\n"
                "Please note the escalation below is progressing to stage 3.\n\n"
                f"Child: {POPPY} (DOB 14/03/2015)\n"
                "Agencies: Holly Lane Primary School (sample) / Oldham CSC (sample)\n"
                "Stage 1: 05/11/2026 - not resolved\n"
                "Stage 2: 09/11/2026 - not resolved\n"
                "Issue: threshold for assessment following school referral of 03/11/2026.\n\n"
                "Stage 3 meeting between Graham Pilling (AD) and Daniel Hartley with the Head of\n"
                "Education Safeguarding is booked for Thursday 12/11 at 15:00.\n\n"
                "Bernadette Okafor\n"
                "Head of Service - Children's Social Care\n"
            ),
            expect=expect("stage-3-notification", thread="oldham-A", stage=3, child=POPPY,
                          features=("in-reply-to", "exact-seed-subject")),
        ),
        Mail(
            key="oldham-006", sent="2026-11-11 08:03:00", sender=KERRY, to=[BU],
            subject="Automatic reply: FW: Notification of Escalation progressing to stage 3",
            headers=[
                ("In-Reply-To", "<oscp-fw-20261110-01@oldham.example>"),
                ("References", "<oldham-005@oldham.example>\n <oscp-fw-20261110-01@oldham.example>"),
                *automatic.OOO_HEADERS,
            ],
            body=(
                "Thank you for your email. I am on annual leave until Monday 16 November with no\n"
                "access to email. For urgent safeguarding advice please contact the Named Nurse\n"
                "duty line on 0161 000 0999.\n\n"
                "Kerry Whitworth, Designated Nurse Safeguarding Children\n"
            ),
            expect=expect("automatic", automatic="out-of-office", thread="oldham-A",
                          features=("auto-submitted", "protocol-words-in-subject"),
                          notes="An auto-reply to the business unit's forward of oldham-005; no reply may go back."),
        ),
        Mail(
            key="oldham-007", sent="2026-11-12 16:50:00", sender=GRAHAM, to=[HEAD], cc=[BU, BERNADETTE, RACHEL],
            reply_to="oldham-005",
            subject="Escalation & Resolution Protocol : stage 3 summary",
            body=(
                "Daniel,\n\n"
                "Thanks for your time today. Summary of our stage 3 discussion:\n\n"
                "- We agreed the facts: three disclosures this term, attendance 81%, no CSC history.\n"
                "- We did not agree whether the threshold for a child and family assessment is met.\n"
                "- Early Help offer made to mum on 10/11 - she has not yet responded.\n\n"
                "Outcome: escalated\n\n"
                "I will send the Resolution Notice to OSCP this evening so the virtual panel can\n"
                "consider it (stage 4).\n\n"
                "Graham\n\n"
                "Graham Pilling\n"
                "Assistant Director, Children's Social Care\n"
                + COUNCIL_FOOTER + "\n"
            ),
            expect=expect("stage-summary", thread="oldham-A", stage=3, outcome="escalated", child=POPPY,
                          features=("in-reply-to", "space-before-colon", "lower-case-subject")),
        ),
        Mail(
            key="oldham-008", sent="2026-11-12 17:30:00", sender=GRAHAM, to=[BU], cc=[BERNADETTE],
            reply_to="oldham-007",
            subject="Resolution Notice - stage 4 - P.T. (DOB 14/03/2015)",
            body=(
                "Dear OSCP\n\n"
                "Please find attached the Resolution Notice for P.T. - escalated to stage 4 following\n"
                "today's stage 3 discussion, which did not resolve the disagreement.\n\n"
                "Regards\n"
                "Graham Pilling\n"
                "Assistant Director, Children's Social Care\n"
            ),
            attachments=[mime.attachment("Resolution Notice - PT.docx", files.DOCX_TYPE, _resolution_notice())],
            expect=expect("filled-template", thread="oldham-A", stage=4, child=POPPY,
                          template=template("resolution-notice", "docx", "Resolution Notice - PT.docx"),
                          features=("word-content-controls",)),
        ),
        Mail(
            key="oldham-009", sent="2026-11-13 13:12:00", sender=ZOE, to=[IMRAN], cc=[BU],
            subject="Stage 1 summary - escalation & resolution protocol (AL)",
            body=(
                "Hi Imran,\n\n"
                "Summary of our stage 1 conversation re Alfie Larkspur (DOB 21/09/2019):\n\n"
                "Health's concern is that the CP medical requested by the paediatrician on 09/11 has\n"
                "not been arranged. You said the SW is waiting for parental consent and the strategy\n"
                "discussion notes are not finalised.\n\n"
                "Outcome: partly - awaiting SW manager's response re CP medical, will update\n\n"
                "Thanks\n"
                "Zoë\n\n"
                "Zoë Lindqvist\n"
                "Named Nurse Safeguarding Children | NHS Trust (sample)\n"
            ),
            expect=expect("stage-summary", thread="oldham-C", stage=1, outcome="unreadable",
                          child="Alfie Larkspur",
                          features=("non-ascii-name", "unreadable-outcome"),
                          notes="The outcome line is none of resolved/escalated/actions agreed: the case "
                                "is flagged for a person to review, never guessed."),
        ),
        Mail(
            key="oldham-010", sent="2026-11-16 11:04:00", sender=LUKAS, to=[BU],
            cc=[("Bernadette Okafor", "bernadette.okafor@oldham.example")],
            subject="AW: Notification of Escalation progressing to Stage 3 - H.W.",
            headers=[("Thread-Topic", "Notification of Escalation progressing to Stage 3 - H.W.")],
            body=(
                "Hallo / Good morning,\n\n"
                "As discussed with Bernadette, Police are progressing this escalation to stage 3.\n\n"
                "Child: Harriet Wrenfield, 15, DOB 30/01/2011\n"
                "Disagreement: missing episodes (x4 since 1 Oct) - police view is that a return home\n"
                "interview and CE screening should have been completed; CSC view is these were\n"
                "done by the school nurse. Stage 1 on 10/11 and stage 2 on 12/11 did not resolve it.\n\n"
                "Stage 3 will be between Supt. Carla Mendes and Graham Pilling, w/c 16/11.\n\n"
                "Mit freundlichen Grüßen / Kind regards\n"
                "Insp. Lukas Brenner\n"
                "Partnerships & Safeguarding | Police (sample)\n"
            ),
            expect=expect("stage-3-notification", thread="oldham-D", stage=3, child="Harriet Wrenfield",
                          features=("aw-prefix", "new-case-at-stage-3", "comma-in-display-name"),
                          notes="Earlier stages never reached this inbox: the case opens at stage 3."),
        ),
        Mail(
            key="oldham-011", sent="2026-11-17 07:48:00",
            sender=("oscp.group@oldham.example", "oscp.group@oldham-safeguarding.example"),
            to=[BU],
            subject="RE: Notification of Escalation progressing to stage 3 - URGENT document review",
            auth=("mx.oldham.example;\n\tspf=pass smtp.mailfrom=oldham-safeguarding.example;\n"
                  "\tdkim=none;\n\tdmarc=none header.from=oldham-safeguarding.example"),
            body=(
                "Good morning,\n\n"
                "The panel papers for this escalation have been shared securely. Please review and\n"
                "sign before 12:00 today or the case will be closed:\n\n"
                "  https://oldham-safeguarding.example/secure/panel-papers?id=7731\n\n"
                "OSCP Business Unit\n"
            ),
            expect=expect("spoofed", reason="spoofed-sender",
                          features=("address-in-display-name", "domain-not-allowed", "lookalike-domain"),
                          notes="Display name is the business unit's own address; the real sender domain "
                                "is not one of the partnership's agencies."),
        ),
        Mail(
            key="oldham-012", sent="2026-11-18 09:30:00",
            sender=("Mail Delivery System", "MAILER-DAEMON@mx.oldham.example"), to=[BU],
            subject="Undelivered Mail Returned to Sender", return_path="<>", mailer=None,
            headers=[("Auto-Submitted", "auto-replied")],
            body=automatic.bounce(
                key="oldham-012", reporting_mta="mx.oldham.example", recipient="d.hartley.old@school.example",
                status="5.1.1", diagnostic="550 5.1.1 <d.hartley.old@school.example>: Recipient address rejected: "
                "User unknown in virtual mailbox table",
                arrival="Wed, 18 Nov 2026 09:29:51 +0000",
                original_headers=(
                    "From: OSCP Group <oscp.group@oldham.example>\n"
                    "To: d.hartley.old@school.example\n"
                    "Subject: Acknowledgement: the stage 3 summary (outcome: escalated) [OLD-2026-0002]\n"
                    "Date: Wed, 18 Nov 2026 09:29:50 +0000\n"
                    "Message-ID: <ack-20261118-0929@oldham.example>\n"
                    "Auto-Submitted: auto-generated\n"
                ),
            ),
            expect=expect("automatic", automatic="bounce",
                          features=("multipart-report", "null-return-path", "case-token-in-returned-headers"),
                          notes="Returns a notice the business unit sent; the case token inside need not match "
                                "a case this run created."),
        ),
        Mail(
            key="oldham-013", sent="2026-11-20 12:00:00",
            sender=("OSCP Communications", "comms@oldham.example"), to=[BU], html=True,
            subject="OSCP 7 Minute Briefing: Neglect and the Graded Care Profile | December 2026",
            mailer="Mailchimp Mailer (sample)",
            headers=[("List-Id", "OSCP briefings <briefings.oldham.example>"),
                     ("List-Unsubscribe", "<https://oldham.example/unsubscribe?l=briefings>")],
            body=(
                "OSCP 7 Minute Briefing - December 2026\n\n"
                "This month: neglect and the Graded Care Profile 2 (GCP2).\n\n"
                "1. Why it matters: neglect is the most common reason for a child protection plan.\n"
                "2. What is GCP2: a tool to measure the quality of care a child receives.\n"
                "3. Training dates: 8 December and 19 January - book via the OSCP website.\n\n"
                "Our escalation protocol was refreshed in July; the resolution notice is on the website.\n\n"
                "You are receiving this because you subscribed to OSCP briefings. Unsubscribe.\n"
            ),
            expect=expect("not-protocol", features=("newsletter", "list-headers", "protocol-words-in-body")),
        ),
    ]
