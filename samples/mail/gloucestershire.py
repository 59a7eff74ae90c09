"""Gloucestershire's shared inbox (gscp@gloucestershire.example): a threshold dispute that
climbs all four stages to the GSCP Executive, a stage 1 summary on the product's Word
template, a zip bomb, a spoofed head of service, and an invitation that is not protocol mail.
"""

from __future__ import annotations

import attachments as files
import mime
from corpus import Mail, Mailbox, expect, template

MAILBOX = Mailbox(
    protocol="gloucestershire",
    business_unit=("GSCP Business Unit", "gscp@gloucestershire.example"),
    mx="mx.gloucestershire.example",
    allowed_sender_domains=("gloucestershire.example", "police.example", "nhs.example", "school.example"),
)
BU = MAILBOX.business_unit

BETHAN = ("Bethan Rees", "bethan.rees@nhs.example")
OWEN = ("Owen Clarke", "owen.clarke@gloucestershire.example")
HELEN = ("Helen Ashdown", "helen.ashdown@nhs.example")
RHIANNON = ("Rhiannon Vaughan", "rhiannon.vaughan@gloucestershire.example")
PRIYA = ("Dr Priya Natarajan", "priya.natarajan@nhs.example")
MARK = ("Mark Dunmore", "m.dunmore@school.example")
MASH = ("MASH Service Manager", "mash.manager@gloucestershire.example")

MABEL = "Mabel Puddleford"
THEO = "Theo Nettlefold"


def _stage_summary_docx() -> bytes:
    summary = files.record(
        "stage-summary",
        protocol="gloucestershire",
        stage=1,
        meeting_date="12/11/2026",
        attendees="Mark Dunmore (DSL, Severn Vale School - sample); Owen Clarke (Practice Manager, CSC - sample)",
        summary=(
            "Theo Nettlefold (DOB 15/06/2010). School disagreed with the decision not to hold a strategy "
            "discussion after Theo's disclosure on 10/11. Owen reviewed the contact record with the DSL; "
            "the disclosure was not in the MASH record. Strategy discussion held 12/11."
        ),
        outcome="resolved",
        actions=[
            {"action": "Add the 10/11 disclosure to the MASH record", "owner": "Owen Clarke",
             "timeline": "12/11/2026", "completed": "Yes"},
            {"action": "School to send future disclosures via the online referral form",
             "owner": "Mark Dunmore", "timeline": "Ongoing", "completed": None},
        ],
    )
    return files.filled_docx("stage-summary", summary, "Mark Dunmore", "2026-11-12T13:51:00Z")


def messages() -> list[Mail]:
    return [
        Mail(
            key="gloucestershire-001", sent="2026-11-03 12:10:00", sender=BETHAN, to=[OWEN], cc=[BU],
            subject="GSCP Escalation Protocol: Stage One summary (resolving disputes) - ref MP",
            body=(
                "Hi Owen\n\n"
                "Thank you for speaking with me this morning about Mabel Puddleford (DOB 08/08/2020).\n\n"
                "I am concerned that the MASH outcome (advice and information) does not reflect the\n"
                "home conditions I saw on 30/10 and the missed 2-year review. You felt the family's\n"
                "engagement with the nursery is protective. We have not been able to agree within the\n"
                "24 hours.\n\n"
                "Outcome: escalated\n\n"
                "Bethan Rees\n"
                "Health Visitor, 0-19 Service (sample)\n"
            ),
            expect=expect("stage-summary", thread="gloucestershire-A", stage=1, outcome="escalated", child=MABEL,
                          features=("stage-word-number", "no-seed-subject")),
        ),
        Mail(
            key="gloucestershire-002", sent="2026-11-05 15:45:00", sender=HELEN, to=[OWEN, RHIANNON],
            cc=[BU, MASH, BETHAN], reply_to="gloucestershire-001",
            subject="RE: GSCP Escalation Protocol: Stage Two summary (informal dispute procedure) - ref MP",
            body=(
                "All,\n\n"
                "Stage two (informal dispute procedure) - summary of today's call between the Group\n"
                "Manager and myself as Named Nurse. As this is a dispute about threshold I have copied\n"
                "in the MASH Service Manager as the protocol asks.\n\n"
                "We agreed the facts but not the threshold: health see this as a child in need\n"
                "referral, CSC as early help.\n\n"
                "Outcome: Escalated\n"
                "Next: stage 3, formal escalation.\n\n"
                "Helen Ashdown\n"
                "Named Nurse Safeguarding Children (sample)\n"
            ),
            expect=expect("stage-summary", thread="gloucestershire-A", stage=2, outcome="escalated", child=MABEL,
                          features=("in-reply-to", "threshold-dispute", "stage-word-number")),
        ),
        Mail(
            key="gloucestershire-003", sent="2026-11-10 17:10:00", sender=RHIANNON, to=[BU], cc=[HELEN, PRIYA],
            reply_to="gloucestershire-002",
            subject="FW: GSCP Escalation Protocol - Stage 3 summary (Formal Escalation) - MP",
            body=(
                "To the GSCP Business Unit, for your record of formal escalations.\n\n"
                "Stage 3 discussion held 10/11/2026 between myself (Head of Service, CSC) and\n"
                "Dr Natarajan (Designated Nurse). We remain unable to agree the threshold for Mabel\n"
                "Puddleford. I am referring this to the GSCP Executive.\n\n"
                "Outcome: escalated\n\n"
                "Rhiannon Vaughan\n"
                "Head of Service, Children's Social Care (sample)\n\n"
                "________________________________\n"
                "From: Helen Ashdown <helen.ashdown@nhs.example>\n"
                "Sent: 05 November 2026 15:45\n"
                "Subject: RE: GSCP Escalation Protocol: Stage Two summary (informal dispute procedure) - ref MP\n\n"
                "Outcome: Escalated\n"
                "Next: stage 3, formal escalation.\n"
            ),
            expect=expect("stage-summary", thread="gloucestershire-A", stage=3, outcome="escalated", child=MABEL,
                          features=("fw-prefix", "forwarded-text-quoted", "in-reply-to"),
                          notes="The forwarded stage 2 text below the new summary must not be read as this stage."),
        ),
        Mail(
            key="gloucestershire-004", sent="2026-11-12 14:00:00", sender=MARK, to=[OWEN], cc=[BU],
            subject="Stage 1 Summary - TN - form attached",
            body="Owen,\n\nPlease see attached the stage 1 summary form as discussed.\n\nMark\n",
            attachments=[mime.attachment("Stage summary TN.docx", files.DOCX_TYPE, _stage_summary_docx())],
            expect=expect("filled-template", thread="gloucestershire-B", stage=1, outcome="resolved", child=THEO,
                          template=template("stage-summary", "docx", "Stage summary TN.docx"),
                          features=("word-content-controls",),
                          notes="The child's name is only inside the summary text of the form."),
        ),
        Mail(
            key="gloucestershire-005", sent="2026-11-13 09:20:00", sender=OWEN, to=[MARK], cc=[BU],
            reply_to="gloucestershire-004",
            subject="RE: Stage 1 Summary - TN - form attached",
            body="Thanks Mark, agreed and closed from our side.\n\nOwen\n",
            expect=expect("reply", thread="gloucestershire-B", child=THEO, features=("in-reply-to",)),
        ),
        Mail(
            key="gloucestershire-006", sent="2026-11-16 10:35:00", sender=("J Smith", "j.smith@school.example"),
            to=[BU], subject="Stage 2 summary - escalation",
            body="Please find the stage 2 escalation summary attached.\n",
            attachments=[mime.attachment("Escalation_Summary_Stage2.docx", files.DOCX_TYPE, files.zip_bomb_docx())],
            expect=expect("hostile", reason="hostile-attachment", features=("zip-bomb",),
                          notes=f"word/document.xml inflates to {files.ZIP_BOMB_BYTES} bytes from about 33 KB."),
        ),
        Mail(
            key="gloucestershire-007", sent="2026-11-18 13:00:00", sender=PRIYA, to=[BU], cc=[RHIANNON],
            reply_to="gloucestershire-003",
            subject=mime.encoded_words("GSCP Escalation Protocol – Stage 4 summary – Executive outcome (MP)", 30,
                                       mid_word=True),
            body=(
                "Dear colleagues\n\n"
                "The GSCP Executive considered the escalation for M.P. (DOB 08/08/2020) on 18/11.\n\n"
                "Outcome: Actions agreed\n\n"
                "1. CSC to complete a child and family assessment - Rhiannon Vaughan - by 02/12/2026\n"
                "2. Health visitor to attend the assessment visit - Bethan Rees - by 02/12/2026\n"
                "3. Independent Scrutineer to review the MASH threshold guidance - by 31/01/2027\n\n"
                "Priya\n\n"
                "Dr Priya Natarajan\n"
                "Designated Nurse, ICB (sample)\n"
            ),
            expect=expect("stage-summary", thread="gloucestershire-A", stage=4, outcome="actions-agreed", child=MABEL,
                          features=("encoded-word-subject", "encoded-word-split-mid-word", "en-dash", "in-reply-to")),
        ),
        Mail(
            key="gloucestershire-008", sent="2026-11-19 07:12:00",
            sender=("Rhiannon Vaughan <rhiannon.vaughan@gloucestershire.example>", "rvaughan.hos@outlook-mail.example"),
            to=[BU], subject="GSCP Escalation Protocol - Stage 3 summary - updated form",
            auth=("mx.gloucestershire.example;\n\tspf=softfail smtp.mailfrom=outlook-mail.example;\n"
                  "\tdkim=none;\n\tdmarc=none header.from=outlook-mail.example"),
            body=(
                "Hi,\n\n"
                "I have updated the stage 3 form, please download it from the link below and\n"
                "log in with your council account to view:\n\n"
                "  https://outlook-mail.example/forms/stage3?view=1\n\n"
                "Rhiannon\n"
            ),
            expect=expect("spoofed", reason="spoofed-sender",
                          features=("address-in-display-name", "domain-not-allowed", "spf-softfail")),
        ),
        Mail(
            key="gloucestershire-009", sent="2026-11-25 16:00:00",
            sender=("DSL Network", "dsl.network@school.example"), to=[BU],
            subject="Invitation: Designated Safeguarding Leads network meeting - 3 December",
            body=(
                "Dear colleagues,\n\n"
                "The next DSL network meeting is on Thursday 3 December, 13:30-15:30, on Teams.\n"
                "Agenda: online safety update; Operation Encompass; Q&A with the GSCP Business Unit.\n\n"
                "Please reply to confirm attendance.\n\n"
                "DSL Network (sample)\n"
            ),
            expect=expect("not-protocol", features=("invitation",)),
        ),
    ]
