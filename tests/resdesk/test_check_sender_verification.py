"""``resdesk check`` warns when no receiving server is named for Authentication-Results."""

from __future__ import annotations

from resdesk.cli import main
from tests.render.casefile import write_config


def test_check_warns_when_authserv_id_is_not_set(tmp_path, smtp_server, capsys):
    """GIVEN a working Maildir set-up without partnership.authserv_id WHEN `resdesk check` runs THEN the
    sender-verification step warns, naming the setting and what to set it to, and the check still passes;
    with the setting, the step passes naming the server."""
    status = main(["check", "--config", str(write_config(tmp_path, smtp_server, maildir=tmp_path / "maildir"))])
    out = capsys.readouterr().out
    assert status == 0, out
    (line,) = [line for line in out.splitlines() if "sender verification" in line]
    assert line.startswith("WARN  sender verification: partnership.authserv_id is not set")
    assert "receiving mail server's id" in line

    status = main(["check", "--config", str(write_config(
        tmp_path, smtp_server, maildir=tmp_path / "maildir", partnership='authserv_id = "mx.oldham.example"'))])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "PASS  sender verification: Authentication-Results from mx.oldham.example are read" in out
