"""The IMAP mail source against a real Dovecot on loopback."""

from __future__ import annotations

import ssl
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resdesk.intake.sources import FILED_KEYWORD, ImapSource, MailSource
from resdesk.intake.sources.imap import _groups_of_bytes, is_loopback
from resdesk.errors import IntakeError, UsageError
from tests.services.dovecot import DovecotServer, MailUser


def summary(n: int, body: str = "Outcome: escalated") -> bytes:
    return (
        f"From: Practitioner <p{n}@agency.example>\r\n"
        f"To: inbox@partnership.example\r\n"
        f"Subject: Escalation & Resolution Protocol: Stage 1 Summary {n}\r\n"
        f"Message-ID: <m{n}@agency.example>\r\n"
        f"\r\n{body}\r\n"
    ).encode()


def open_source(server: DovecotServer, user: MailUser, security: str = "none", **options) -> ImapSource:
    port = server.ssl_port if security == "ssl" else server.port
    options.setdefault("backoff_seconds", 0.05)
    return ImapSource("127.0.0.1", port, security, user.username, user.password,
                      ssl_context=server.ssl_context(), **options)


@pytest.fixture
def source(dovecot: DovecotServer, mail_user: MailUser):
    opened = open_source(dovecot, mail_user, poll_seconds=600)
    yield opened
    opened.close()


@pytest.mark.parametrize("security", ["ssl", "starttls", "none"])
def test_each_transport_reads_the_folder(dovecot, mail_user, security):
    """GIVEN a message in the inbox
    WHEN the source connects with implicit TLS, STARTTLS, or plain IMAP on loopback
    THEN each lists it under the folder's UIDVALIDITY and fetches the same bytes."""
    uid = dovecot.append(mail_user, summary(1))
    source = open_source(dovecot, mail_user, security)
    try:
        uidvalidity, uids = source.snapshot()
        [message] = list(source.fetch(uids, max_bytes=1_000_000))
    finally:
        source.close()
    assert uids == [str(uid)]
    assert message.ref.uidvalidity == uidvalidity
    assert message.raw == summary(1)
    assert isinstance(source, MailSource)


def test_untrusted_certificate_is_refused_at_once(dovecot, mail_user):
    """GIVEN a server whose certificate no trusted authority signed
    WHEN the source connects over TLS with the system's authorities
    THEN it refuses with an IntakeError naming the certificate, without logging in."""
    with pytest.raises(IntakeError, match="certificate"):
        ImapSource("127.0.0.1", dovecot.ssl_port, "ssl", mail_user.username, mail_user.password,
                   ssl_context=ssl.create_default_context(), backoff_seconds=0.01)


def test_plain_imap_is_refused_for_a_remote_host(mail_user):
    """GIVEN security = none
    WHEN the host is not a loopback address
    THEN the source refuses before connecting."""
    with pytest.raises(UsageError, match="loopback"):
        ImapSource("192.0.2.10", 143, "none", mail_user.username, mail_user.password)


def test_snapshot_and_fetch_in_batches_skip_vanished_and_never_mark_seen(dovecot, mail_user, source):
    """GIVEN five messages
    WHEN they are fetched two at a time (and their bodies one at a time), with one UID that
    does not exist among them
    THEN all five come back in order with their bytes and sizes, the missing UID is skipped,
    and none of them has become \\Seen on the server."""
    uids = [str(dovecot.append(mail_user, summary(n))) for n in range(5)]
    source.batch_size, source.batch_bytes = 2, 10
    uidvalidity, listed = source.snapshot()
    assert listed == uids
    fetched = list(source.fetch(listed[:2] + ["9999"] + listed[2:], max_bytes=1_000_000))
    assert [m.ref.uid for m in fetched] == uids
    assert [m.raw for m in fetched] == [summary(n) for n in range(5)]
    assert all(m.size == len(m.raw) and m.ref.uidvalidity == uidvalidity for m in fetched)
    assert all(b"\\Seen" not in flags for flags in dovecot.folder_uids(mail_user, "INBOX").values())


def test_oversized_message_is_not_downloaded(dovecot, mail_user):
    """GIVEN a small message and one of 300 kB
    WHEN they are fetched with a 100 kB limit
    THEN the big one comes back with its size and no content, and the server's own
    accounting shows that its body was never sent."""
    big = summary(2, body="x" * 300_000)
    dovecot.append(mail_user, summary(1))
    dovecot.append(mail_user, big)
    source = open_source(dovecot, mail_user)
    _, uids = source.snapshot()
    small_message, big_message = list(source.fetch(uids, max_bytes=100_000))
    source.close()
    assert small_message.raw == summary(1)
    assert big_message.oversized and big_message.raw is None
    assert big_message.size == len(big)
    sessions = dovecot.session_logouts(mail_user, count=3)  # two appends and the source
    assert sum(s.get("body_bytes", 0) for s in sessions) < 100_000


def test_move_files_the_message_and_creates_the_folder(dovecot, mail_user, source):
    """GIVEN two messages and no Processed folder
    WHEN one is moved to Resdesk/Processed, twice
    THEN the folder exists holding exactly that message, the inbox keeps the other,
    and the second move changed nothing."""
    first = dovecot.append(mail_user, summary(1))
    second = dovecot.append(mail_user, summary(2))
    _, uids = source.snapshot()
    [message] = list(source.fetch([str(first)], max_bytes=1_000_000))
    source.move(message.ref, "Resdesk/Processed")
    source.move(message.ref, "Resdesk/Processed")
    assert source.can_move
    assert source.snapshot()[1] == [str(second)]
    assert list(dovecot.folder_uids(mail_user, "INBOX")) == [second]
    assert len(dovecot.folder_uids(mail_user, "Resdesk/Processed")) == 1


def test_colleagues_deleted_mail_survives_a_full_run(dovecot, mail_user, source):
    """GIVEN three messages, one flagged \\Deleted by a colleague (not expunged)
    WHEN the source snapshots, fetches, waits and files the other two
    THEN the deleted-flagged message is listed, still in the inbox with its flag, and
    nothing was expunged anywhere."""
    kept = dovecot.append(mail_user, summary(1), flags=("\\Deleted",))
    others = [dovecot.append(mail_user, summary(n)) for n in (2, 3)]
    _, uids = source.snapshot()
    assert str(kept) in uids
    for message in source.fetch(uids, max_bytes=1_000_000):
        if message.ref.uid != str(kept):
            source.move(message.ref, "Resdesk/Processed")
    assert "\\Deleted" in next(m.flags for m in source.fetch([str(kept)], 1_000_000))
    source.wait(0.2)
    source.close()
    assert dovecot.folder_uids(mail_user, "INBOX") == {kept: (b"\\Deleted",)}
    assert len(dovecot.folder_uids(mail_user, "Resdesk/Processed")) == len(others)
    assert sum(s.get("expunged", 0) for s in dovecot.session_logouts(mail_user, count=1)) == 0


def test_without_move_the_message_is_copied_and_flagged(dovecot_without_idle):
    """GIVEN a server that lacks MOVE and a message flagged \\Deleted by a colleague
    WHEN the source files another message
    THEN a copy is in Processed, the original stays in the inbox flagged $Resdesk-Filed
    and drops out of the snapshot, and the colleague's message is untouched."""
    user = dovecot_without_idle.new_user()
    kept = dovecot_without_idle.append(user, summary(1), flags=("\\Deleted",))
    filed = dovecot_without_idle.append(user, summary(2))
    source = open_source(dovecot_without_idle, user)
    try:
        assert not source.can_move
        [message] = list(source.fetch([str(filed)], 1_000_000))
        source.move(message.ref, "Resdesk/Processed")
        source.move(message.ref, "Resdesk/Processed")
        assert source.snapshot()[1] == [str(kept)]
    finally:
        source.close()
    inbox = dovecot_without_idle.folder_uids(user, "INBOX")
    assert inbox[kept] == (b"\\Deleted",)
    assert FILED_KEYWORD.encode() in inbox[filed]
    assert len(dovecot_without_idle.folder_uids(user, "Resdesk/Processed")) == 1


@pytest.mark.parametrize("security", ["none", "ssl"])
def test_idle_wakes_wait_when_mail_arrives(dovecot, mail_user, security):
    """GIVEN a source waiting with IDLE and a polling interval of ten minutes
    WHEN a colleague's connection appends a message
    THEN wait() returns True within two seconds, so it was the server's push."""
    colleague = dovecot.client(mail_user)
    source = open_source(dovecot, mail_user, security, poll_seconds=600)
    try:
        assert source.can_idle
        source.snapshot()
        timer = threading.Timer(0.1, colleague.append, args=("INBOX", summary(1)))
        timer.start()
        woke = source.wait(timeout=2.0)
        timer.join()
        assert woke
        assert len(source.snapshot()[1]) == 1
    finally:
        colleague.logout()
        source.close()


def test_mail_announced_during_other_work_still_ends_the_wait(dovecot, mail_user, source):
    """GIVEN a snapshot, then new mail arriving while the source files an earlier message
    (so the server announces it in the reply to MOVE)
    WHEN the source then waits
    THEN wait() returns True at once rather than idling past the new mail."""
    first = dovecot.append(mail_user, summary(1))
    source.snapshot()
    second = dovecot.append(mail_user, summary(2))
    [message] = list(source.fetch([str(first)], 1_000_000))
    source.move(message.ref, "Resdesk/Processed")
    assert source.wait(timeout=1.0)
    assert source.snapshot()[1] == [str(second)]


def test_idle_is_reissued_until_the_wait_ends(dovecot, mail_user):
    """GIVEN a source whose IDLE lasts 0.2 seconds at a time and that never polls
    WHEN mail arrives after several IDLE periods have passed
    THEN the re-issued IDLE still reports it and wait() returns True."""
    source = open_source(dovecot, mail_user, idle_seconds=0.2, poll_seconds=600)
    try:
        source.snapshot()
        timer = threading.Timer(0.8, dovecot.append, args=(mail_user, summary(1)))
        timer.start()
        woke = source.wait(timeout=5.0)
        timer.join()
        assert woke
    finally:
        source.close()


def test_wait_times_out_when_nothing_arrives(source):
    """GIVEN an empty inbox WHEN the source waits briefly THEN wait() returns False."""
    source.snapshot()
    assert source.wait(timeout=0.3) is False


def test_polling_fallback_without_idle(dovecot_without_idle):
    """GIVEN a server that does not offer IDLE
    WHEN the source waits with a short polling interval and mail arrives
    THEN wait() notices it by polling and returns True."""
    user = dovecot_without_idle.new_user()
    source = open_source(dovecot_without_idle, user, poll_seconds=0.1)
    try:
        assert not source.can_idle
        source.snapshot()
        timer = threading.Timer(0.2, dovecot_without_idle.append, args=(user, summary(1)))
        timer.start()
        woke = source.wait(timeout=5.0)
        timer.join()
        assert woke
        assert len(source.snapshot()[1]) == 1
    finally:
        source.close()


@pytest.mark.parametrize("folder", ["INBOX", "Shared/Escalations"])
def test_uidvalidity_changes_when_the_folder_is_recreated(dovecot, mail_user, folder):
    """GIVEN a watched folder holding a message, as the source saw it
    WHEN the folder is deleted and recreated and new mail arrives at the same low UID
    THEN the source reports a new UIDVALIDITY, and a move of the old reference is refused
    rather than filing the new message that now holds that UID."""
    dovecot.append(mail_user, summary(1), folder=folder)
    source = open_source(dovecot, mail_user, folder=folder)
    try:
        old_validity, [old_uid] = source.snapshot()
        [old] = list(source.fetch([old_uid], 1_000_000))
        dovecot.recreate_folder(mail_user, folder)
        new_uid = dovecot.append(mail_user, summary(2), folder=folder)
        new_validity, uids = source.snapshot()
        assert new_validity != old_validity
        assert uids == [str(new_uid)] == [old_uid]
        with pytest.raises(IntakeError, match="UIDVALIDITY"):
            source.move(old.ref, "Resdesk/Processed")
        assert source.snapshot()[1] == uids
    finally:
        source.close()


def test_reconnects_after_the_session_is_dropped(dovecot, mail_user, source):
    """GIVEN a connected source
    WHEN the server drops its session (doveadm kick) and mail arrives meanwhile
    THEN the next call reconnects and sees the new mail."""
    source.snapshot()
    dovecot.kick(mail_user)
    uid = dovecot.append(mail_user, summary(1))
    assert source.snapshot()[1] == [str(uid)]
    assert source.reconnects == 1


def test_wait_reconnects_when_dropped_while_idling(dovecot, mail_user, source):
    """GIVEN a source idling in wait()
    WHEN the server drops the session
    THEN wait() reconnects and returns True (mail may have come meanwhile), and the source works."""
    source.snapshot()
    timer = threading.Timer(0.2, dovecot.kick, args=(mail_user,))
    timer.start()
    woke = source.wait(timeout=10.0)
    timer.join()
    assert woke and source.reconnects == 1
    uid = dovecot.append(mail_user, summary(1))
    assert source.snapshot()[1] == [str(uid)]


def test_reconnects_with_backoff_across_a_server_restart(dovecot, mail_user, source):
    """GIVEN a connected source
    WHEN the server goes down and comes back a moment later
    THEN the source keeps retrying and continues once the server is back."""
    uid = dovecot.append(mail_user, summary(1))
    source.snapshot()
    dovecot.pause()
    restart = threading.Timer(0.5, dovecot.resume)
    restart.start()
    try:
        assert source.snapshot()[1] == [str(uid)]
    finally:
        restart.join()
    assert source.reconnects == 1


def test_gives_up_when_the_server_stays_down(dovecot, mail_user):
    """GIVEN a connected source with two reconnect attempts
    WHEN the server goes down and stays down
    THEN the next call raises an IntakeError saying the connection did not come back."""
    source = open_source(dovecot, mail_user, reconnect_attempts=2, backoff_seconds=0.01)
    dovecot.pause()
    try:
        with pytest.raises(IntakeError, match="did not come back"):
            source.snapshot()
    finally:
        dovecot.resume()
        source.close()


def test_wrong_password_is_an_intake_error(dovecot_without_idle):
    """GIVEN a wrong password WHEN the source logs in THEN an IntakeError says the login was refused."""
    # Last, and on the spare server: Dovecot slows the next login from an address that failed one.
    user = dovecot_without_idle.new_user()
    with pytest.raises(IntakeError, match="refused the login"):
        ImapSource("127.0.0.1", dovecot_without_idle.port, "none", user.username, "not-the-password")


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True), ("LocalHost", True),
    ("10.0.0.1", False), ("imap.partnership.example", False), ("localhost.example", False), ("::ffff:8.8.8.8", False),
])
def test_loopback_hosts(host, loopback):
    """GIVEN a host name or address WHEN asked whether plain IMAP may go to it THEN only loopback may."""
    assert is_loopback(host) is loopback


@given(st.lists(st.integers(min_value=0, max_value=5000), max_size=40),
       st.integers(min_value=0, max_value=6000), st.integers(min_value=1, max_value=8000))
def test_body_groups_keep_order_and_stay_within_budget(sizes, max_bytes, budget):
    """GIVEN messages of any sizes, any size limit and any byte budget
    WHEN they are grouped for downloading bodies
    THEN the groups hold every message once in order, and a group holding more than one
    message downloads at most the budget."""
    sized = list(enumerate(sizes, start=1))
    groups = list(_groups_of_bytes(sized, max_bytes, budget))
    assert [item for group in groups for item in group] == sized
    for group in groups:
        assert group
        if len(group) > 1:
            assert sum(size for _, size in group if size <= max_bytes) <= budget
