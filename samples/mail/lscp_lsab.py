"""The joint LSCP/LSAB shared inbox (escalations@lscp-lsab.example): a transitions case
that climbs all four steps to an urgent independently chaired meeting, a step 1 summary
typed as the template's labels and forwarded twice, an out-of-office, and the partnerships'
newsletter.
"""

from __future__ import annotations

import automatic
import mime
from corpus import Mail, Mailbox, expect, template

MAILBOX = Mailbox(
    protocol="lscp-lsab",
    business_unit=("Safeguarding Partnerships Business Unit", "escalations@lscp-lsab.example"),
    mx="mx.lscp-lsab.example",
    allowed_sender_domains=("lscp-lsab.example", "council.example", "police.example", "nhs.example",
                            "school.example", "care.example"),
)
BU = MAILBOX.business_unit

TARIQ = ("Tariq Mahmood", "tariq.mahmood@council.example")
ELLIE = ("Ellie Brandt", "ellie.brandt@nhs.example")
JOANNE = ("Joanne Pickering", "joanne.pickering@council.example")
SEAN = ("Seán Doherty", "sean.doherty@nhs.example")
SLO_COUNCIL = ("Margaret Oyelaran", "margaret.oyelaran@council.example")
CHAIR = ("Independent Chair (LSAB)", "chair@lscp-lsab.example")
ZOE = ("Zoë Adeyemi-Clarke", "zoe.adeyemi-clarke@care.example")
LIAM = ("Liam Forsyth", "liam.forsyth@council.example")

JASPER = "Jasper Marigold"
MAISIE = "Maisie Kestrelwood"

TYPED_STEP_1 = """Liam - as discussed, step 1 summary below for your records. Copying the business unit.

Case reference:
Protocol: LSCP / LSAB Escalation to Resolution
Stage: 1
Date of discussion/meeting: 13/11/2026
Attendees: Zoë Adeyemi-Clarke (Registered Manager, Brookside Care - sample); Liam Forsyth (Social Worker, Children's Services - sample)
Summary of discussion: Maisie Kestrelwood (DOB 22/01/2010) is placed at Brookside. The home asked for the missing-from-care protocol to be updated after two late returns; the SW had not received the return interview notes. Notes re-sent and the protocol will be updated at the placement review.
Outcome: Resolved

| Agreed Actions | Who is Accountable | Agreed timeline | Action Completed? |
| Re-send return interview notes | Zoë Adeyemi-Clarke | 13/11/2026 | Yes |
| Update missing-from-care protocol | Liam Forsyth | 20/11/2026 | No |

Zoë

Zoë Adeyemi-Clarke
Registered Manager | Brookside Care (sample)
"""


def messages() -> list[Mail]:
    return [
        Mail(
            key="lscp-lsab-001", sent="2026-11-02 10:30:00", sender=TARIQ, to=[ELLIE], cc=[BU],
            subject="Escalation to Resolution - Step 1 summary - professional to professional discussion - JM",
            body=(
                "Hi Ellie,\n\n"
                "Summary of our step 1 discussion about Jasper Marigold (DOB 07/12/2008), who turns 18\n"
                "next month.\n\n"
                "I asked for the adult CMHT to accept Jasper before his birthday so that he is not\n"
                "left without a care coordinator; you advised CMHT criteria are not met until he is\n"
                "18 and the CAMHS discharge summary is complete. We could not agree.\n\n"
                "Outcome: escalated\n"
                "Next step 2 - our managers.\n\n"
                "Tariq\n"
                "Tariq Mahmood | Transitions Social Worker | Council (sample)\n"
            ),
            expect=expect("stage-summary", thread="lscp-lsab-A", stage=1, outcome="escalated", child=JASPER,
                          features=("step-not-stage",)),
        ),
        Mail(
            key="lscp-lsab-002", sent="2026-11-04 16:00:00", sender=JOANNE, to=[SEAN], cc=[BU, TARIQ, ELLIE],
            reply_to="lscp-lsab-001",
            subject="RE: Escalation to Resolution - Step 2 summary - manager to manager - JM",
            body=(
                "Seán,\n\n"
                "Thanks for the call. Step 2 summary: we agreed a joint transitions meeting is needed\n"
                "but not who holds case responsibility between now and 18. Neither service can move.\n\n"
                "Outcome: escalated\n"
                "I'll ask our SLO to contact yours.\n\n"
                "Joanne Pickering\n"
                "Team Manager, Transitions (sample)\n"
            ),
            expect=expect("stage-summary", thread="lscp-lsab-A", stage=2, outcome="escalated", child=JASPER,
                          features=("in-reply-to", "step-not-stage")),
        ),
        Mail(
            key="lscp-lsab-003", sent="2026-11-09 11:15:00", sender=SLO_COUNCIL, to=[SEAN], cc=[BU, JOANNE],
            reply_to="lscp-lsab-002",
            subject="Re: Escalation to resolution process - STEP 3 SUMMARY (SLO to SLO)",
            mailer="Mozilla Thunderbird 128.4",
            body=(
                "Dear Seán,\n\n"
                "SLO to SLO discussion (step 3) re J.M., 09/11/2026. The Trust's SLO is on leave, so\n"
                "this was with you as deputy. We could not agree interim case responsibility and the\n"
                "birthday is in 4 weeks, so I am asking the business unit for an independently\n"
                "chaired meeting as an urgent matter.\n\n"
                "Outcome: escalated\n\n"
                "Margaret Oyelaran\n"
                "Senior Liaison Officer, Adults & Children's Services (sample)\n"
            ),
            expect=expect("stage-summary", thread="lscp-lsab-A", stage=3, outcome="escalated", child=JASPER,
                          features=("in-reply-to", "lower-case-re", "upper-case", "step-not-stage")),
        ),
        Mail(
            key="lscp-lsab-004", sent="2026-11-10 18:05:00", sender=CHAIR, to=[SLO_COUNCIL, SEAN], cc=[BU],
            reply_to="lscp-lsab-003",
            subject="URGENT: Escalation to Resolution - Step 4 summary - Independent Chaired Meeting",
            body=(
                "Dear both,\n\n"
                "Thank you for attending this afternoon's independently chaired meeting (step 4, urgent).\n\n"
                "Agreed: Children's Services keep case responsibility until 07/12; the CMHT allocate a\n"
                "care coordinator now for a joint handover; transitions panel on 24/11.\n\n"
                "Outcome: resolved\n\n"
                "The non-urgent learning (transitions at 17.5) is referred to the next Significant\n"
                "Incident Review Group.\n\n"
                "Independent Chair, LSAB (sample)\n"
            ),
            expect=expect("stage-summary", thread="lscp-lsab-A", stage=4, outcome="resolved", child=JASPER,
                          features=("in-reply-to", "urgent-prefix", "step-not-stage")),
        ),
        Mail(
            key="lscp-lsab-005", sent="2026-11-11 08:40:00", sender=SEAN, to=[CHAIR], cc=[BU],
            reply_to="lscp-lsab-004",
            subject="RE: URGENT: Escalation to Resolution - Step 4 summary - Independent Chaired Meeting",
            body=(
                "Thank you - care coordinator allocated this morning (Priya in the north team).\n\n"
                "Seán Doherty\nSafeguarding Adults Lead / Deputy SLO (sample)\n"
            ),
            expect=expect("reply", thread="lscp-lsab-A", child=JASPER, features=("reply-keeps-summary-subject", "in-reply-to", "non-ascii-name")),
        ),
        Mail(
            key="lscp-lsab-006", sent="2026-11-16 12:00:00", sender=ZOE, to=[LIAM], cc=[BU],
            subject="Fwd: FW: Escalation to Resolution step 1 form - MK",
            mailer="Apple Mail (2.3826)",
            body=TYPED_STEP_1,
            expect=expect("filled-template", thread="lscp-lsab-B", stage=1, outcome="resolved", child=MAISIE,
                          template=template("stage-summary", "email-text"),
                          features=("fwd-fw-prefix", "label-value-lines", "pipe-table-actions", "non-ascii-name")),
        ),
        Mail(
            key="lscp-lsab-007", sent="2026-11-16 12:00:30", sender=LIAM, to=[ZOE], cc=[BU],
            reply_to="lscp-lsab-006",
            subject="Automatic reply: Fwd: FW: Escalation to Resolution step 1 form - MK",
            headers=automatic.OOO_HEADERS,
            body="I'm on a course until 17 November. Please contact the duty team if urgent.\n\nLiam Forsyth\n",
            expect=expect("automatic", automatic="out-of-office", thread="lscp-lsab-B",
                          features=("auto-submitted", "in-reply-to", "protocol-words-in-subject"),
                          notes="Replied to all, so it reached the business unit; threaded on a real case."),
        ),
        Mail(
            key="lscp-lsab-008", sent="2026-11-19 09:00:00",
            sender=("LSAB & LSCP Communications", "news@lscp-lsab.example"), to=[BU], html=True,
            subject="LSAB & LSCP Newsletter - Winter 2026",
            mailer="Sample Bulk Mailer 3.1",
            headers=[("List-Id", "Partnership news <news.lscp-lsab.example>"),
                     ("List-Unsubscribe", "<mailto:news-unsubscribe@lscp-lsab.example>")],
            body=(
                "LSAB & LSCP Newsletter - Winter 2026\n\n"
                "* Escalation to Resolution: a reminder of the four steps, and who your SLO is.\n"
                "* Transitions at 17.5: new joint protocol out for consultation.\n"
                "* Safeguarding Adults Week round-up.\n\n"
                "To stop receiving this newsletter, unsubscribe.\n"
            ),
            expect=expect("not-protocol", features=("newsletter", "list-headers", "protocol-words-in-body")),
        ),
        Mail(
            key="lscp-lsab-009", sent="2026-11-20 14:25:00", sender=JOANNE, to=[BU],
            subject=mime.encoded_words("Escalation to Resolution – Stage 1 summary – N.T. ", 26),
            body=(
                "Hello,\n\n"
                "Step 1 (professional to professional) for Noah Tansley-Wick (DOB 12/12/2012): the\n"
                "school and our EH worker agreed the family support plan will include the sibling.\n\n"
                "Outcome: actions agreed\n\n"
                "Joanne Pickering\n"
            ),
            expect=expect("stage-summary", thread="lscp-lsab-C", stage=1, outcome="actions-agreed",
                          child="Noah Tansley-Wick", features=("encoded-word-subject", "en-dash", "trailing-space")),
        ),
    ]
