"""Real tools for render tests: qpdf, pdftotext, LibreOffice, and a listening socket."""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path


def qpdf_check(pdf: bytes, tmp_path: Path, name: str = "doc.pdf") -> str:
    """Run ``qpdf --check``; return its output, failing the test on any error."""
    path = tmp_path / name
    path.write_bytes(pdf)
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "text.pdf") -> str:
    """The text poppler's pdftotext extracts, whitespace collapsed to single spaces."""
    path = tmp_path / name
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return " ".join(result.stdout.decode("utf-8").split())


def squash(text: str) -> str:
    return " ".join(text.split())


def libreoffice_text(files: dict[str, bytes], workdir: Path) -> dict[str, str]:
    """Open Word files in a real LibreOffice (private profile) and save them as text.

    Returns name -> the document's text, whitespace collapsed. Table cells come
    out one per line, so a value in a narrow column is not interleaved.
    """
    src = workdir / "docx"
    out = workdir / "pdf"
    src.mkdir()
    out.mkdir()
    for name, content in files.items():
        (src / name).write_bytes(content)
    profile = (workdir / "lo-profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "txt:Text (encoded):UTF8",
            "--outdir",
            str(out),
            *[str(src / name) for name in files],
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )
    return {
        name: squash((out / (Path(name).stem + ".txt")).read_text(encoding="utf-8-sig")) for name in files
    }


class CountingListener:
    """A TCP socket on a free loopback port that counts every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def free_port() -> int:
    """A loopback port nobody is listening on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
