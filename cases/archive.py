"""The archive folder: raw messages and documents stored under their SHA-256.

Content-addressed, so writing the same bytes twice is harmless; every file is
written to a temporary name, flushed to disk, then renamed into place, so a
reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from resdesk.errors import StoreError


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Archive:
    """A folder of content-addressed files: ``messages/ab/abcd….eml``, ``documents/ab/abcd….pdf``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path_for(self, section: str, digest: str, suffix: str) -> Path:
        return self.root / section / digest[:2] / f"{digest}{suffix}"

    def put(self, section: str, content: bytes, suffix: str) -> tuple[str, Path]:
        """Store ``content``; return its SHA-256 and where it lies."""
        digest = sha256_hex(content)
        target = self.path_for(section, digest, suffix)
        if target.exists() and target.stat().st_size == len(content):
            return digest, target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(content)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            directory = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            raise StoreError(f"The archive folder {self.root} cannot be written ({exc.strerror}).") from None
        return digest, target

    def put_message(self, raw: bytes) -> tuple[str, Path]:
        """Archive a raw message as ``.eml``."""
        return self.put("messages", raw, ".eml")

    def put_document(self, content: bytes, filename: str) -> tuple[str, Path]:
        """Archive a document, keeping its file extension."""
        suffix = Path(filename).suffix.lower()
        if not suffix.replace(".", "").isalnum() or len(suffix) > 10:
            suffix = ".bin"
        return self.put("documents", content, suffix)

    def read(self, path: str | Path) -> bytes:
        return Path(path).read_bytes()
