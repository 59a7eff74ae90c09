"""Write the demo's sample mail: one Maildir per partnership under ``samples/maildir/`` and
``samples/mail/expected.json`` saying what the product should make of each message.

    python samples/mail/generate.py            # rewrite the committed samples
    python samples/mail/generate.py --out DIR  # write DIR/maildir/... and DIR/expected.json

Everything is fixed (dates, Message-IDs, boundaries, file names), so two runs write the
same bytes. Filled templates come from the product's own form writers (``forms``),
so after a change to the templates, run this again and commit the result.
"""

from __future__ import annotations

import argparse
import json
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gloucestershire  # noqa: E402
import haringey  # noqa: E402
import lscp_lsab  # noqa: E402
import oldham  # noqa: E402
import sandwell  # noqa: E402
from corpus import deliver  # noqa: E402

PARTNERSHIPS = (oldham, haringey, gloucestershire, sandwell, lscp_lsab)
SAMPLES = HERE.parent
MAILDIR_SUFFIX = "resdesk-samples"


def _summary(data: bytes) -> dict:
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    return {"from": str(parsed["From"]), "subject": str(parsed["Subject"]), "date": str(parsed["Date"])}


def build() -> tuple[dict[str, bytes], dict]:
    """Every Maildir file (path relative to the maildir root -> bytes) and the expectations."""
    files: dict[str, bytes] = {}
    mailboxes: dict[str, dict] = {}
    entries: list[dict] = []
    seq = 0
    for module in PARTNERSHIPS:
        box = module.MAILBOX
        mails = sorted(module.messages(), key=lambda m: (m.sent_at, m.key))
        by_key = {m.key: m for m in mails}
        mailboxes[box.protocol] = {
            "maildir": f"samples/maildir/{box.protocol}",
            "business_unit": box.business_unit[1],
            "authserv_id": box.mx,
            "allowed_sender_domains": list(box.allowed_sender_domains),
        }
        for mail in mails:
            seq += 1
            data, received = deliver(mail, box, by_key, seq)
            name = f"{box.protocol}/new/{int(received.timestamp())}.{seq:03d}.{MAILDIR_SUFFIX}"
            files[name] = data
            entries.append({
                "file": name,
                "protocol": box.protocol,
                "message_id": mail.message_id,
                "delivered": received.isoformat(),
                **_summary(data),
                **mail.expect,
            })
    return files, {"mailboxes": mailboxes, "messages": entries}


def write(maildir: Path, expected_path: Path) -> int:
    """Write the Maildirs under ``maildir`` and the expectations to ``expected_path``."""
    files, expected = build()
    for box in expected["mailboxes"]:
        for sub in ("new", "cur", "tmp"):
            (maildir / box / sub).mkdir(parents=True, exist_ok=True)
            keep = maildir / box / sub / ".gitkeep"
            if sub != "new" and not keep.exists():
                keep.write_bytes(b"")
        for stale in (maildir / box / "new").iterdir():
            if stale.name.endswith(MAILDIR_SUFFIX) and f"{box}/new/{stale.name}" not in files:
                stale.unlink()
    for name, data in files.items():
        (maildir / name).write_bytes(data)
    text = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    expected_path.write_text(text, encoding="utf-8")
    return len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="write DIR/maildir and DIR/expected.json instead of the committed samples")
    args = parser.parse_args(argv)
    if args.out is None:
        count = write(SAMPLES / "maildir", HERE / "expected.json")
    else:
        count = write(args.out / "maildir", args.out / "expected.json")
    print(f"{count} messages written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
