"""Sandwell's shared inbox (scsp_business@sandwell.example): a level-of-need dispute that
reaches the SCSP Chair, with the Appendix 3 escalation template as a filled PDF from stage 2,
a case settled at stage 1, an agency's quarterly Appendix 4 log, an old-style out-of-office,
a forum agenda that is not protocol mail, and a password-protected template with its password.
"""

from __future__ import annotations

import attachments as files
import automatic
import mime
from corpus import Mail, Mailbox, expect, template

MAILBOX = Mailbox(
    protocol="sandwell",
    business_unit=("SCSP Business Unit", "scsp_business@sandwell.example"),
    mx="mx.sandwell.example",
    allowed_sender_domains=("sandwell.example", "childrenstrust.example", "police.example", "nhs.example",
                            "school.example"),
)
BU = MAILBOX.business_unit

GURPREET = ("Gurpreet Sandhu", "g.sandhu@school.example")
LEANNE = ("Leanne Price", "leanne.price@childrenstrust.example")
OKONJO = ("Mrs Janet Okonjo", "j.okonjo@school.example")
SALLY = ("Sally Brookes", "sally.brookes@childrenstrust.example")
CHAIR = ("SCSP Independent Chair", "scsp.chair@sandwell.example")
SIAN = ("Siân Powell", "sian.powell@nhs.example")
PAUL = ("Paul Ahmed", "paul.ahmed@childrenstrust.example")

RUBY = "Ruby Moonpenny"
TOBIAS = "Tobias Quince"
PROTECTED_SUBJECT = "Escalation & Resolution - stage 2 - escalation template (password protected) - T.Q."


def _escalation_pdf() -> bytes:
    concern = files.record(
        "escalation-concern",
        child_name=RUBY,
        child_dob="19/12/2013",
        child_address="12 Sample Row, Oldbury B69 0ZZ",
        raised_by_name="Janet Okonjo",
        raised_by_email="j.okonjo@school.example",
        raised_by_role_agency="Headteacher, Oakfield Primary School (sample)",
        other_professionals=(
            "Gurpreet Sandhu, DSL, Oakfield Primary (sample); Leanne Price, Team Manager, "
            "Sandwell Children's Trust (sample); Paul Ahmed, Head of Service, Sandwell Children's Trust (sample)"
        ),
        current_level_of_need="child-in-need",
        perceived_level_of_need="child-protection",
        disagreement_details=(
            "School believe Ruby's repeated disclosures of physical chastisement and the injury seen on "
            "29/10 meet the threshold for a strategy discussion. The Trust is continuing the CIN plan. "
            "Stage 1 (02/11) and the stage 2 meeting (10/11) did not agree."
        ),
        discussion_date="10/11/2026",
        methodology="Stage 2 meeting of Heads of Service, Teams, 10/11/2026",
        lessons_learned="To follow once resolved.",
        completed_by="Janet Okonjo",
        completed_date="10/11/2026",
    )
    return files.filled_pdf("escalation-concern", concern)


def _summary_log_docx() -> bytes:
    log = files.record(
        "summary-log",
        agency="Oakfield Primary School (sample)",
        entries=[
            {"escalation_number": "OPS-2026-03", "child_name": RUBY, "child_dob": "19/12/2013", "child_age": "12",
             "concern": "Physical chastisement disclosures", "level_of_need": "child-in-need",
             "disagreement_summary": "School seek a strategy discussion; Trust continuing CIN plan",
             "action_taken": "Stage 1 on 02/11, stage 2 on 10/11 with Appendix 3 template",
             "outcome": "Escalated to stage 3"},
            {"escalation_number": "OPS-2026-02", "child_name": "Billy Tansy", "child_dob": "01/09/2016",
             "child_age": "10", "concern": "Neglect - hygiene and attendance", "level_of_need": "early-help",
             "disagreement_summary": "Early help assessment not started after 6 weeks",
             "action_taken": "Stage 1 discussion with EH team manager", "outcome": "Resolved at stage 1"},
        ],
    )
    return files.filled_docx("summary-log", log, "Gurpreet Sandhu", "2026-11-30T15:40:00Z")


def _protected_pdf() -> bytes:
    concern = files.record(
        "escalation-concern",
        child_name=TOBIAS,
        child_dob="17/05/2018",
        raised_by_name="Siân Powell",
        raised_by_email="sian.powell@nhs.example",
        raised_by_role_agency="School Nurse Team Leader, NHS Trust (sample)",
        current_level_of_need="early-help",
        perceived_level_of_need="child-in-need",
        disagreement_details="Health consider the weight loss and missed appointments meet the threshold for "
        "a child in need assessment; the Trust's front door advised early help.",
        discussion_date="01/12/2026",
        completed_by="Siân Powell",
        completed_date="01/12/2026",
    )
    return files.password_protected_pdf("escalation-concern", concern, "Sandwell2026")


def messages() -> list[Mail]:
    return [
        Mail(
            key="sandwell-001", sent="2026-11-02 16:20:00", sender=GURPREET, to=[LEANNE], cc=[BU],
            subject="Escalation & Resolution - stage 1 summary (line managers) - R.M.",
            body=(
                "Leanne,\n\n"
                "Stage 1 summary for Ruby Moonpenny (DOB 19/12/2013), as agreed on the phone:\n\n"
                "School's view: the bruise seen on 29/10 and Ruby's account mean a strategy discussion\n"
                "is needed. Trust's view: continue the CIN plan and review at the next CIN meeting.\n"
                "Not agreed.\n\n"
                "Outcome: escalated\n\n"
                "Gurpreet Sandhu\n"
                "DSL, Oakfield Primary School (sample)\n"
            ),
            expect=expect("stage-summary", thread="sandwell-A", stage=1, outcome="escalated", child=RUBY),
        ),
        Mail(
            key="sandwell-002", sent="2026-11-05 11:00:00", sender=LEANNE, to=[GURPREET], cc=[BU, PAUL],
            reply_to="sandwell-001",
            subject="RE: Escalation & Resolution - stage 1 summary (line managers) - R.M.",
            body=(
                "Hi Gurpreet, noted - I have passed this to Paul Ahmed (Head of Service) for stage 2.\n\n"
                "Leanne Price | Team Manager | Sandwell Children's Trust (sample)\n"
            ),
            expect=expect("reply", thread="sandwell-A", child=RUBY, features=("reply-keeps-summary-subject", "in-reply-to",)),
        ),
        Mail(
            key="sandwell-003", sent="2026-11-06 09:00:00", sender=LEANNE, to=[BU], mailer="Sample Groupware 7.2",
            subject="Out of Office: RE: Escalation template received - R.M.",
            headers=[("In-Reply-To", "<scsp-ack-20261106-01@sandwell.example>"), *automatic.LEGACY_OOO_HEADERS],
            body=(
                "I am out of the office until Tuesday 10 November. For urgent matters please contact\n"
                "the duty team on 0121 000 0200.\n\nLeanne Price\n"
            ),
            expect=expect("automatic", automatic="out-of-office", thread="sandwell-A",
                          features=("legacy-auto-reply-headers", "no-auto-submitted", "protocol-words-in-subject"),
                          notes="Marked only by X-Autoreply/Precedence: auto_reply, as older servers do."),
        ),
        Mail(
            key="sandwell-004", sent="2026-11-09 13:10:00", sender=SIAN, to=[("Duty Team", "duty@childrenstrust.example")],
            cc=[BU], subject="escalation and resolution stage 1 summary",
            body=(
                "Hello,\n\n"
                "Stage 1 summary re Amara Ashgrove (DOB 04/04/2009): health asked for the school nurse to\n"
                "be invited to the CIN meeting on 12/11. Your TM agreed on the phone today.\n\n"
                "Outcome: Resolved.\n\n"
                "Siân Powell\nSchool Nurse Team Leader (sample)\n"
            ),
            expect=expect("stage-summary", thread="sandwell-B", stage=1, outcome="resolved", child="Amara Ashgrove",
                          features=("lower-case-subject", "non-ascii-name", "outcome-full-stop")),
        ),
        Mail(
            key="sandwell-005", sent="2026-11-10 15:30:00", sender=OKONJO, to=[BU], cc=[PAUL, GURPREET],
            reply_to="sandwell-002",
            subject="RE: Escalation - stage 2 - Multi-Agency Escalation of Safeguarding Concern template - R.M.",
            body=(
                "Dear SCSP Business Unit,\n\n"
                "Please find attached the Multi-Agency Escalation of Safeguarding Concern template for\n"
                "Ruby, following today's stage 2 meeting with Paul Ahmed. We did not reach agreement\n"
                "and the school will escalate to stage 3.\n\n"
                "Outcome: Escalated\n\n"
                "Mrs J Okonjo\nHeadteacher, Oakfield Primary School (sample)\n"
            ),
            attachments=[mime.attachment("SCSP Escalation Template - RM.pdf", files.PDF_TYPE, _escalation_pdf())],
            expect=expect("filled-template", thread="sandwell-A", stage=2, outcome="escalated", child=RUBY,
                          template=template("escalation-concern", "pdf", "SCSP Escalation Template - RM.pdf"),
                          features=("acroform", "in-reply-to")),
        ),
        Mail(
            key="sandwell-006", sent="2026-11-17 17:45:00", sender=SALLY, to=[BU], cc=[OKONJO, PAUL],
            reply_to="sandwell-005",
            subject=mime.encoded_words("SCSP Escalation Policy – Stage 3 summary – Directors – R.M.", 24),
            body=(
                "Dear colleagues,\n\n"
                "Stage 3 - Directors' discussion, 17/11/2026, Sally Brookes (Director of Operations,\n"
                "Sandwell Children's Trust) and the Director of Education (sample).\n\n"
                "We agreed a strategy discussion is not now required as the CIN plan has been\n"
                "strengthened, but the school does not accept this. The matter will go to the SCSP\n"
                "Chair.\n\n"
                "Outcome: escalated\n\n"
                "Sally Brookes\n"
            ),
            expect=expect("stage-summary", thread="sandwell-A", stage=3, outcome="escalated", child=RUBY,
                          features=("encoded-word-subject", "en-dash", "in-reply-to")),
        ),
        Mail(
            key="sandwell-007", sent="2026-11-27 12:20:00", sender=CHAIR, to=[OKONJO, SALLY], cc=[BU],
            reply_to="sandwell-006",
            subject="SCSP Chair - Escalation and Resolution Stage 4 summary - R.M.",
            body=(
                "Dear Mrs Okonjo, Ms Brookes\n\n"
                "I met with you both and the SCSP Business Manager on 26/11 (stage 4).\n\n"
                "Decision: a strategy discussion will be held by 01/12/2026, chaired by the Trust, with\n"
                "the school and the school nurse invited. The Business Unit will record the learning\n"
                "for the next SCSP learning bulletin.\n\n"
                "Outcome: resolved\n\n"
                "Independent Chair, Sandwell Children's Safeguarding Partnership (sample)\n"
            ),
            expect=expect("stage-summary", thread="sandwell-A", stage=4, outcome="resolved", child=RUBY,
                          features=("in-reply-to",)),
        ),
        Mail(
            key="sandwell-008", sent="2026-11-30 15:45:00", sender=GURPREET, to=[BU],
            subject="Agency Escalation Summary Log - Oakfield Primary - Q3",
            body="Hello, please find attached our escalation summary log for this quarter.\n\nGurpreet\n",
            attachments=[mime.attachment("Escalation Summary Log Q3 - Oakfield.docx", files.DOCX_TYPE,
                                         _summary_log_docx())],
            expect=expect("filled-template",
                          template=template("summary-log", "docx", "Escalation Summary Log Q3 - Oakfield.docx"),
                          features=("periodic-return",), acknowledge=False,
                          notes="Appendix 4 return: filed for the business unit without a case, so no stage "
                                "changes and no acknowledgement (acknowledgements are sent on cases)."),
        ),
        Mail(
            key="sandwell-009", sent="2026-12-01 10:00:00", sender=("SCSP Events", "events@sandwell.example"),
            to=[BU], html=True,
            subject="Agenda: Sandwell safeguarding leads forum - Tuesday 8 December",
            body=(
                "Safeguarding leads forum - Tuesday 8 December, 10:00-12:00, Council House (sample)\n\n"
                "1. Welcome and minutes\n2. Learning from local reviews\n3. Neglect strategy refresh\n"
                "4. AOB\n\nJoin on Teams: https://teams.example/l/meetup-join/sample\n"
            ),
            expect=expect("not-protocol", features=("agenda", "html-alternative")),
        ),
        Mail(
            key="sandwell-010", sent="2026-12-01 14:05:00", sender=SIAN, to=[BU],
            cc=[("Duty Team", "duty@childrenstrust.example")],
            subject=PROTECTED_SUBJECT,
            body=(
                "Dear Business Unit,\n\n"
                "Please find attached the Multi-Agency Escalation of Safeguarding Concern template for\n"
                "Tobias Quince following this morning's stage 2 meeting. The document is password\n"
                "protected; the password will follow in a separate email.\n\n"
                "Outcome: escalated\n\n"
                "Siân Powell\nSchool Nurse Team Leader (sample)\n"
            ),
            attachments=[mime.attachment("Escalation template - TQ (protected).pdf", files.PDF_TYPE,
                                         _protected_pdf())],
            expect=expect("filled-template", thread="sandwell-C", stage=2, outcome="escalated", child=TOBIAS,
                          template=template("escalation-concern", "pdf", "Escalation template - TQ (protected).pdf"),
                          reason="form-error", features=("password-protected-pdf", "non-ascii-name"),
                          notes="The form opens only with a password: refused, and the sender asked for a copy "
                                "without one. The password arrives in sandwell-011 and is never used."),
        ),
        Mail(
            key="sandwell-011", sent="2026-12-01 14:07:00", sender=SIAN, to=[BU], reply_to="sandwell-010",
            subject="RE: " + PROTECTED_SUBJECT,
            body="Password: Sandwell2026\n\nSiân\n",
            expect=expect("reply", thread="sandwell-C", child=TOBIAS, reason="answers-quarantined",
                          features=("in-reply-to", "password-in-body"),
                          notes="It answers a message held in quarantine, so it is held beside it for a person."),
        ),
    ]
