"""Message bodies sent only as compressed RTF (Outlook's "Rich Text" mode): read from a
``winmail.dat`` and from an Outlook ``.msg``, and hostile streams refused with a reason."""

from __future__ import annotations

import struct
from datetime import datetime, timezone
from email.parser import BytesParser
from email import policy
from pathlib import Path

import pytest
from compressed_rtf import compress
from hypothesis import given, settings
from hypothesis import strategies as st

from resdesk.intake.message import parse_message
from resdesk.intake.outlook_msg import outlook_message
from resdesk.intake.rtfbody import MAX_RTF_BYTES, UnreadableRtf, rtf_body_text
from resdesk.intake.winmail import read_winmail
from tests.intake.compound_file import outlook_msg
from tests.intake.tnef_stream import mail_with_only_winmail, tnef

TNEF = Path(__file__).parent / "tnef"
SUMMARY_RTF = (
    rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss\fcharset0 Arial;}}"
    rb"{\colortbl ;\red0\green0\blue255;}\f0\fs20 Stage 2 call about L.M.\par"
    rb"\par Outcome: \b resolved\b0\par"
    rb"\par {\field{\*\fldinst{HYPERLINK \"https://example.org/\"}}{\fldrslt{details}}}\par "
    rb"Priya Nair\'96Designated Safeguarding Lead\par}"
)


def _rtf_of(tnef_bytes: bytes) -> bytes:
    """The compressed RTF value in a TNEF stream's message properties, found by its tag."""
    at = tnef_bytes.index(struct.pack("<HH", 0x0102, 0x1009)) + 8
    length = struct.unpack_from("<I", tnef_bytes, at)[0]
    return tnef_bytes[at + 4: at + 4 + length]


def _mail_with_winmail(winmail: bytes) -> bytes:
    return mail_with_only_winmail(
        winmail, From="Priya Nair <priya.nair@school.example>", To="inbox@partnership.example",
        Subject="Escalation & Resolution Protocol: Stage 2 Summary", Message_ID="<rtf-1@school.example>",
    )


def _header(size: int, raw_size: int, kind: bytes = b"LZFu") -> bytes:
    return struct.pack("<II4sI", size, raw_size, kind, 0)


# --- the text of an RTF body -----------------------------------------------------------------


def test_the_rtf_body_of_a_real_winmail_dat_is_read_as_text():
    """GIVEN a real winmail.dat whose only body is compressed RTF (rtf.tnef, from tnefparse's tests)
    WHEN it is read
    THEN its body text holds the signature's words, without RTF control words."""
    content = read_winmail((TNEF / "rtf.tnef").read_bytes())
    assert content.body_text is not None
    lines = content.body_text.splitlines()
    assert "Greg Allen" in lines and "Compuware Corporation" in lines and "gallen@numega.com" in lines
    assert "\\par" not in content.body_text and "fonttbl" not in content.body_text
    assert (content.files, content.flaws) == ((), ())


def test_html_encapsulated_in_rtf_is_read_as_its_text_and_the_files_kept():
    """GIVEN a real winmail.dat carrying three files and an HTML body encapsulated in compressed RTF
    WHEN it is read
    THEN the body is the text the HTML shows (umlauts decoded), not its markup or styles, and
    the files are all there."""
    content = read_winmail((TNEF / "umlaut.tnef").read_bytes())
    assert content.body_text is not None and content.body_text.startswith("TEST äöü +-*/~")
    assert "<" not in content.body_text and "font-family" not in content.body_text
    assert [f.filename for f in content.files] == ["TBZ PARIV GmbH.jpg", "image003.jpg", "UmlautAnhang-äüö.txt"]


def test_rtf_is_made_text_the_way_outlook_shows_it():
    """GIVEN a compressed RTF body with a font table, bold, a hyperlink field and an escaped dash
    WHEN it is read
    THEN the lines are the words shown, the link's text kept and its field code gone."""
    assert rtf_body_text(compress(SUMMARY_RTF)).splitlines() == [
        "Stage 2 call about L.M.", "", "Outcome: resolved", "", "details", "Priya Nair–Designated Safeguarding Lead",
    ]


# --- a whole message -------------------------------------------------------------------------


def test_a_mail_whose_only_body_is_rtf_in_winmail_dat_is_read_with_that_text():
    """GIVEN an Outlook mail in Rich Text mode: no text part, only a winmail.dat whose body is a
    stage 2 summary as compressed RTF (made with compressed_rtf's compressor)
    WHEN the message is parsed
    THEN its body text is the summary, outcome line included, with nothing noted against it."""
    msg = parse_message(_mail_with_winmail(tnef(rtf_body=compress(SUMMARY_RTF))))
    assert "Outcome: resolved" in msg.body_text.splitlines()
    assert msg.body_text.startswith("Stage 2 call about L.M.")
    assert [a.filename for a in msg.attachments] == ["winmail.dat"]
    assert (msg.defects, msg.flaws) == ((), ())


def test_an_rtf_only_outlook_msg_is_read_with_that_text():
    """GIVEN an Outlook .msg with no plain or HTML body, only a compressed RTF one
    WHEN it is turned into the message it carries
    THEN that message's body is the RTF's text."""
    data = outlook_msg(
        subject="Escalation & Resolution Protocol: Stage 2 Summary", body=None, sender="priya.nair@school.example",
        sender_name="Priya Nair", to="inbox@partnership.example", sent=datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc),
        rtf_body=compress(SUMMARY_RTF),
    )
    flaws: list[str] = []
    inner = BytesParser(policy=policy.default).parsebytes(outlook_message(data, filename="summary.msg", flaws=flaws))
    assert "Outcome: resolved" in inner.get_body(("plain",)).get_content().splitlines()
    assert flaws == []


# --- hostile and damaged streams -------------------------------------------------------------


@pytest.mark.parametrize("stream, says", [
    (_header(12 + 64, 0xFFFFFFF0) + bytes(64), f"more than the {MAX_RTF_BYTES // 2**20} MB read"),
    (_header(12 + 64, 64 * 8 + 1) + bytes(64), "more than its 64 compressed bytes can hold"),
    (_header(12 + 64, 65, b"MELA") + bytes(64), "more than its 64 compressed bytes can hold"),
    (_header(0xFFFFFFF0, 100) + bytes(64), "compressed bytes, more than"),
    (_header(12 + 64, 100, b"ZZZZ") + bytes(64), "not compressed RTF"),
    (_header(4, 100), "impossible size"),
    (b"LZFu", "shorter than its 16-byte header"),
], ids=["absurd-raw-size", "more-than-lzfu-can-expand", "more-than-stored", "absurd-compressed-size",
        "unknown-type", "size-inside-header", "no-header"])
@pytest.mark.timeout(60)  # a hang guard (decompressing 4 GB would take minutes), not a speed target
def test_an_absurd_declared_size_is_refused_before_decompressing(stream, says):
    """GIVEN a compressed RTF header declaring 4 GB of RTF, more than its bytes can expand to, or
    an impossible size or type
    WHEN it is read
    THEN it is refused with a reason naming the size."""
    with pytest.raises(UnreadableRtf) as caught:
        rtf_body_text(stream)
    assert says in caught.value.reason


@pytest.mark.parametrize("damage, says", [
    (lambda s: s[: len(s) // 2], "cut short"),
    (lambda s: s[:40] + bytes([s[40] ^ 0xFF]) + s[41:], "CRC is invalid"),
], ids=["truncated", "garbled"])
def test_a_damaged_rtf_body_keeps_the_files_and_notes_why(damage, says):
    """GIVEN a winmail.dat holding a Word file and a compressed RTF body that is truncated or garbled
    WHEN the mail carrying it is parsed
    THEN the file is still read, the body is empty, and the flaw says the body could not be read
    and why — not a crash, and no defect that would refuse the message."""
    rtf = damage(compress(SUMMARY_RTF))
    with pytest.raises(UnreadableRtf) as caught:
        rtf_body_text(rtf)
    assert says in caught.value.reason
    content = read_winmail(tnef([("Resolution Notice.docx", b"PK\x03\x04 form")], rtf_body=rtf))
    assert (content.files[0].filename, content.body_text) == ("Resolution Notice.docx", None)
    msg = parse_message(_mail_with_winmail(tnef([("Resolution Notice.docx", b"PK\x03\x04 form")], rtf_body=rtf)))
    assert [a.filename for a in msg.attachments] == ["winmail.dat", "Resolution Notice.docx"]
    assert msg.body_text == "" and msg.defects == ()
    (flaw,) = msg.flaws
    assert "message body inside winmail.dat (compressed RTF) could not be read" in flaw and says in flaw
    assert "the files in it are kept" in flaw


def test_a_damaged_rtf_body_in_an_outlook_msg_leaves_the_rest_of_it_read():
    """GIVEN an Outlook .msg with an attached file and a garbled compressed RTF body
    WHEN it is turned into the message it carries
    THEN the message keeps its subject and file, its body is empty, and the flaw names the .msg."""
    rtf = bytearray(compress(SUMMARY_RTF))
    rtf[40] ^= 0xFF
    data = outlook_msg(
        subject="Stage 2 Summary", body=None, sender="priya.nair@school.example", sender_name="Priya Nair",
        to="inbox@partnership.example", sent=datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc),
        files={"notes.txt": b"notes"}, rtf_body=bytes(rtf),
    )
    flaws: list[str] = []
    inner = BytesParser(policy=policy.default).parsebytes(outlook_message(data, filename="summary.msg", flaws=flaws))
    assert inner["Subject"] == "Stage 2 Summary"
    assert [p.get_filename() for p in inner.iter_attachments()] == ["notes.txt"]
    assert inner.get_body(("plain",)).get_content().strip() == ""
    (flaw,) = flaws
    assert "summary.msg (compressed RTF) could not be read" in flaw and "CRC is invalid" in flaw


@pytest.mark.parametrize("rtf, says", [
    ("{\\rtf1{\\fonttbl" + "\\f1\\fcharset0 x" * 900 + "}}\\f1 Outcome: resolved}", "an entry never ends"),
    ("{\\rtf1{\\fonttbl" + "{\\f1\\fcharset0 Arial;}" * 1_000 + "}\\f1 Outcome: resolved}", "font table is"),
    ("{\\rtf1 Outcome: resolved\\par " + '{\\field{\\*\\fldinst{HYPERLINK "a" ' * 6_000 + "}", None),
], ids=["font-entry-never-ends", "huge-font-table", "hyperlink-fields-on-one-line"])
@pytest.mark.timeout(120)  # a hang guard: unguarded, these shapes backtrack for minutes; not a speed target
def test_rtf_that_would_make_the_converter_backtrack_is_read_or_refused(rtf, says):
    """GIVEN RTF shaped to make striprtf's patterns backtrack for minutes (a 14 KB font table whose
    last entry never ends, a font table of 22 KB, 6,000 unclosed hyperlink fields on one line)
    WHEN it is read
    THEN it is refused with the reason, or read, instead of hanging the reader."""
    stream = compress(rtf.encode(), compressed=False)
    if says is None:
        assert rtf_body_text(stream) == "Outcome: resolved"
    else:
        with pytest.raises(UnreadableRtf) as caught:
            rtf_body_text(stream)
        assert says in caught.value.reason


@settings(max_examples=150, deadline=None)
@given(
    source=st.sampled_from(["rtf.tnef", "umlaut.tnef"]),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8),
    cut=st.none() | st.integers(min_value=0),
)
def test_a_corrupted_rtf_body_is_text_or_unreadable_rtf(source, edits, cut):
    """GIVEN the compressed RTF body of a real winmail.dat with random bytes changed, possibly cut short
    WHEN it is read
    THEN the result is text or UnreadableRtf with a reason, never another exception or a hang."""
    data = bytearray(_rtf_of((TNEF / source).read_bytes()))
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    try:
        assert isinstance(rtf_body_text(bytes(data)), str)
    except UnreadableRtf as exc:
        assert exc.reason
