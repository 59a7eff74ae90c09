"""A pickup folder instead of an SMTP server: each outbound message becomes one ``.eml`` file.

The embedded default (``resdesk demo``) and a partnership that hands mail to
another system by folder use it (setting ``smtp.pickup_folder``). It has the SMTP
sender's interface; a message is written atomically (temporary file, fsync,
rename) under a name taken from its Message-ID, so writing it again replaces it
with the same bytes rather than adding a second copy.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Sequence


class FolderSender:
    """Delivers outbound mail into a folder as ``.eml`` files."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path_for(self, message_id: str) -> Path:
        digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:24]
        return self.folder / f"{digest}.eml"

    def send(self, raw: bytes, *, mail_from: str, recipients: Sequence[str], message_id: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_for(message_id)
        envelope = f"X-Envelope-From: <{mail_from}>\r\nX-Envelope-To: {', '.join(f'<{r}>' for r in recipients)}\r\n"
        temporary = target.with_suffix(".tmp")
        with open(temporary, "wb") as handle:
            handle.write(envelope.encode("ascii", "replace") + raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
