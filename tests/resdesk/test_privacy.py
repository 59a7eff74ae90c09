"""Nothing personal in the default output of `resdesk watch` and `resdesk tick`, nor in their logs:
no child's name, identifier or date of birth, and no inbound subject (it often names the child)."""

from __future__ import annotations

import mailbox
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from tests.render.casefile import write_config

FORM = (Path(__file__).resolve().parents[2] / "samples" / "forms" / "resolution-notice" / "email.txt").read_text()
PERSONAL = ["Amelia", "Hart", "943-476-5919", "9434765919", "943 476 5919", "09/07/2014", "2014-07-09", "9 July 2014"]


def _mail(subject: str, body: str, n: int) -> bytes:
    message = EmailMessage()
    message["From"] = "Priya Natarajan <p.natarajan@northmoor.sch.example>"
    message["To"] = "escalations@partnership.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 14 Dec 2026 10:00:00 +0000"
    message["Message-ID"] = f"<privacy-{n}@northmoor.sch.example>"
    message.set_content(body)
    return message.as_bytes()


def _run(tmp_path: Path, *args: str) -> str:
    """Run a command as the service manager would, its output and log lines kept in a file."""
    out = tmp_path / "output.txt"
    with out.open("a") as sink:
        subprocess.run([sys.executable, "-m", "resdesk", *args], stdout=sink, stderr=sink, timeout=600)
    return out.read_text()


def test_watch_and_tick_say_nothing_personal_by_default(tmp_path, smtp_server):
    """GIVEN a Resolution Notice typed into a message whose subject names the child (Amelia Hart), with her
    NHS number and date of birth, and a second message whose form gives a date of birth in the future
    WHEN `resdesk watch --once` and then `resdesk tick` run without --json
    THEN neither their output nor any log line holds her name, identifier, date of birth or the subject,
    while the acknowledgement still went out."""
    inbox = mailbox.Maildir(tmp_path / "maildir", create=True)
    inbox.add(_mail("Resolution Notice for Amelia Hart (DOB 09/07/2014)", FORM, 1))
    inbox.add(_mail("Resolution Notice for Amelia Hart", FORM.replace("09/07/2014", "09/07/2099"), 2))
    config = write_config(tmp_path, smtp_server, maildir=tmp_path / "maildir")

    _run(tmp_path, "watch", "--config", str(config), "--once")
    said = _run(tmp_path, "tick", "--config", str(config), "--now", "2026-12-14T11:00")

    assert "handled 2 message(s)" in said
    assert [word for word in [*PERSONAL, "Resolution Notice for"] if word in said] == []
    assert any("p.natarajan@northmoor.sch.example" in m.rcpt_tos for m in smtp_server.messages)
