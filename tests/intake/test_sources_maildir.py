"""The Maildir mail source against a real Maildir on disk."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resdesk.intake.sources import MaildirSource, MailSource
from resdesk.intake.sources.maildir import flags_of, folder_path, unique_name
from resdesk.errors import IntakeError


def deliver(root: Path, name: str, raw: bytes, *, info: str | None = None) -> Path:
    """Put a message into the Maildir as a delivery agent does (tmp/, then new/ or cur/)."""
    tmp = root / "tmp" / name
    tmp.write_bytes(raw)
    target = root / "new" / name if info is None else root / "cur" / f"{name}:2,{info}"
    os.rename(tmp, target)
    return target


def message(n: int, body: str = "Outcome: resolved") -> bytes:
    return f"From: p{n}@agency.example\nSubject: Stage 2 Summary {n}\n\n{body}\n".encode()


def all_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file() and p.parent.name in {"new", "cur"})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "maildir"


def test_snapshot_lists_new_and_cur_not_tmp(root):
    """GIVEN a Maildir with a message in new/, one in cur/ and a half-written one in tmp/
    WHEN the source takes a snapshot
    THEN it lists the two delivered ones by unique name, in delivery order, under a UIDVALIDITY
    that another source on the same Maildir also reports."""
    source = MaildirSource(root)
    deliver(root, "1700000001.M1P1.host", message(1))
    deliver(root, "1700000002.M2P1.host", message(2), info="S")
    (root / "tmp" / "1700000003.M3P1.host").write_bytes(b"partial")
    uidvalidity, uids = source.snapshot()
    assert uids == ["1700000001.M1P1.host", "1700000002.M2P1.host"]
    assert MaildirSource(root).snapshot()[0] == uidvalidity
    assert isinstance(source, MailSource)


def test_snapshot_keeps_delivery_order_within_one_second(root):
    """GIVEN two messages delivered in the same second, 95 and 123,456 microseconds past it
    (names that sort the other way round as text, since the microseconds are not zero-padded)
    WHEN the source takes a snapshot THEN the earlier delivery comes first, so a stage summary
    is read before the reply to it."""
    source = MaildirSource(root)
    deliver(root, "1700000000.M123456P7Q2.host", message(2))
    deliver(root, "1700000000.M95P7Q1.host", message(1))
    deliver(root, "1699999999.M999999P7Q9.host", message(0))
    deliver(root, "not-a-delivery-name", message(3))
    _, uids = source.snapshot()
    assert uids == ["1699999999.M999999P7Q9.host", "1700000000.M95P7Q1.host",
                    "1700000000.M123456P7Q2.host", "not-a-delivery-name"]


def test_uidvalidity_changes_when_the_maildir_is_recreated(root):
    """GIVEN a Maildir the source has read
    WHEN the Maildir is removed and made again
    THEN the source reports a different UIDVALIDITY, and an old reference is not moved."""
    source = MaildirSource(root)
    deliver(root, "1700000001.M1P1.host", message(1))
    old_validity, uids = source.snapshot()
    [old] = list(source.fetch(uids, 1_000_000))
    shutil.rmtree(root)
    source = MaildirSource(root)
    deliver(root, "1700000001.M1P1.host", message(9))
    new_validity, new_uids = source.snapshot()
    assert new_validity != old_validity and new_uids == uids
    with pytest.raises(IntakeError, match="UIDVALIDITY"):
        source.move(old.ref, "Resdesk/Processed")
    assert source.snapshot()[1] == uids


def test_fetch_reads_bytes_flags_and_skips_vanished_and_oversized(root):
    """GIVEN a seen message, a new one and a big one
    WHEN they are fetched with a limit below the big one's size, along with a name that is gone
    THEN the small ones come back with their bytes and flags, the big one with its size only,
    and the missing one is skipped."""
    source = MaildirSource(root)
    deliver(root, "1700000001.M1P1.host", message(1), info="ST")
    deliver(root, "1700000002.M2P1.host", message(2))
    deliver(root, "1700000003.M3P1.host", message(3, "x" * 5000))
    _, uids = source.snapshot()
    fetched = list(source.fetch(uids[:1] + ["gone"] + uids[1:], max_bytes=1000))
    assert [m.ref.uid for m in fetched] == uids
    assert fetched[0].raw == message(1) and fetched[0].flags == ("\\Seen", "\\Deleted")
    assert fetched[1].raw == message(2) and fetched[1].flags == ()
    assert fetched[2].raw is None and fetched[2].size == len(message(3, "x" * 5000))


def test_fetch_finds_a_message_a_mail_program_moved_to_cur(root):
    """GIVEN a snapshot listing a message in new/
    WHEN a mail program moves it to cur/ (marking it seen) before it is fetched
    THEN the source still fetches it, with its new flags."""
    source = MaildirSource(root)
    path = deliver(root, "1700000001.M1P1.host", message(1))
    _, uids = source.snapshot()
    os.rename(path, root / "cur" / f"{path.name}:2,S")
    [fetched] = list(source.fetch(uids, 1_000_000))
    assert fetched.raw == message(1) and fetched.flags == ("\\Seen",)


def test_move_files_into_a_maildir_plus_plus_folder_and_deletes_nothing(root):
    """GIVEN three messages, one flagged deleted (T) by a colleague
    WHEN the other two are moved to Resdesk/Processed (one of them twice)
    THEN they sit in .Resdesk.Processed under the same file names, the colleague's stays in
    the inbox, the snapshot lists only it, and no file has disappeared."""
    source = MaildirSource(root)
    deliver(root, "1700000001.M1P1.host", message(1), info="T")
    deliver(root, "1700000002.M2P1.host", message(2))
    deliver(root, "1700000003.M3P1.host", message(3), info="S")
    before = all_files(root)
    _, uids = source.snapshot()
    for fetched in source.fetch(uids[1:], 1_000_000):
        source.move(fetched.ref, "Resdesk/Processed")
        source.move(fetched.ref, "Resdesk/Processed")
    processed = root / ".Resdesk.Processed"
    assert (processed / "maildirfolder").exists()
    assert sorted(p.name for p in (processed / "new").iterdir()) == ["1700000002.M2P1.host"]
    assert sorted(p.name for p in (processed / "cur").iterdir()) == ["1700000003.M3P1.host:2,S"]
    assert source.snapshot()[1] == ["1700000001.M1P1.host"]
    assert all_files(root) == before
    assert MaildirSource(root, "Resdesk/Processed").snapshot()[1] == uids[1:]


def test_move_never_overwrites_another_message(root):
    """GIVEN a message whose file name already exists in the destination with other content
    WHEN it is moved THEN the move is refused and both messages are still there."""
    source = MaildirSource(root)
    deliver(root, "1700000001.M1P1.host", message(1))
    MaildirSource(root, "Resdesk/Processed")
    deliver(root / ".Resdesk.Processed", "1700000001.M1P1.host", message(2))
    _, uids = source.snapshot()
    [fetched] = list(source.fetch(uids, 1_000_000))
    with pytest.raises(IntakeError, match="already exists"):
        source.move(fetched.ref, "Resdesk/Processed")
    assert (root / "new" / "1700000001.M1P1.host").read_bytes() == message(1)
    assert (root / ".Resdesk.Processed" / "new" / "1700000001.M1P1.host").read_bytes() == message(2)


def test_wait_notices_a_delivery(root):
    """GIVEN a source that has taken a snapshot
    WHEN another process delivers a message while it waits
    THEN wait() returns True and the next snapshot lists the message."""
    source = MaildirSource(root, poll_seconds=0.05)
    source.snapshot()
    timer = threading.Timer(0.1, deliver, args=(root, "1700000001.M1P1.host", message(1)))
    timer.start()
    woke = source.wait(timeout=5.0)
    timer.join()
    assert woke
    assert source.snapshot()[1] == ["1700000001.M1P1.host"]


def test_wait_notices_the_maildir_being_recreated(root):
    """GIVEN a source that has taken a snapshot of a message
    WHEN the Maildir is removed and made again with a message of the same name
    THEN wait() returns True, and the next snapshot has a new UIDVALIDITY."""
    source = MaildirSource(root, poll_seconds=0.05)
    deliver(root, "1700000001.M1P1.host", message(1))
    old_validity, _ = source.snapshot()
    shutil.rmtree(root)
    assert source.wait(timeout=5.0)
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    deliver(root, "1700000001.M1P1.host", message(2))
    assert source.wait(timeout=5.0)
    assert source.snapshot()[0] != old_validity


def test_a_removed_maildir_is_an_intake_error(root):
    """GIVEN a source on a Maildir WHEN the Maildir is removed THEN a snapshot raises an IntakeError."""
    source = MaildirSource(root)
    shutil.rmtree(root)
    with pytest.raises(IntakeError, match="removed"):
        source.snapshot()


def test_wait_times_out_when_nothing_arrives(root):
    """GIVEN a snapshot of an unchanged Maildir WHEN the source waits briefly THEN it returns False."""
    source = MaildirSource(root, poll_seconds=0.05)
    source.snapshot()
    assert source.wait(timeout=0.2) is False


def test_a_folder_name_that_cannot_be_stored_is_refused(root):
    """GIVEN a destination with a dot or an empty part WHEN a source is opened on it THEN it is refused."""
    for folder in ["Resdesk/../x", "Resdesk//Processed", "a.b"]:
        with pytest.raises(IntakeError, match="cannot be stored"):
            MaildirSource(root, folder)


@given(st.text(min_size=1, max_size=40))
def test_folder_paths_never_leave_the_maildir(folder):
    """GIVEN any folder name WHEN it is mapped to a directory
    THEN it is refused or it is the Maildir itself or a direct child starting with a dot."""
    root = Path("/srv/maildir")
    try:
        path = folder_path(root, folder)
    except IntakeError:
        return
    assert path == root or (path.parent == root and path.name.startswith(".") and path.name not in {".", ".."})


_NAMES = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":/"), min_size=1)


@given(_NAMES, st.sets(st.sampled_from("DFPRST")))
def test_unique_name_and_flags_round_trip(name, letters):
    """GIVEN any unique name and any set of standard flag letters
    WHEN they are written as a cur/ file name and read back
    THEN the unique name and one IMAP flag per letter come back."""
    file_name = f"{name}:2,{''.join(sorted(letters))}"
    assert unique_name(file_name) == name
    assert len(flags_of(file_name)) == len(letters)
