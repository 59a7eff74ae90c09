"""One slice of IMAP IDLE (RFC 2177) that never leaves a new-mail announcement unread.

The server announces new mail (``* n EXISTS``, ``* n RECENT``) once. Three places can hide
that announcement from a wait on the socket, and ``idle_once`` looks in each:

- imaplib files untagged responses that arrive with IDLE's continuation aside
  (``untagged_responses``) instead of handing them to ``idle_check``;
- lines already read off the socket, into the TLS layer or the connection's reader,
  make the socket look quiet;
- what the server sends while IDLE is being left comes back from ``idle_done``.

A ``BYE`` during IDLE raises ``ConnectionLost`` for the caller to reconnect.
"""

from __future__ import annotations

import ssl

from imapclient import IMAPClient

__all__ = ["ConnectionLost", "idle_once"]

_NEW_MAIL = {b"EXISTS", b"RECENT"}


class ConnectionLost(ConnectionError):
    """The server said BYE, or the socket closed while idling."""


def idle_once(client: IMAPClient, seconds: float) -> bool:
    """Enter IDLE on ``client``'s selected folder, wait at most ``seconds`` for an announcement,
    leave IDLE; True when new mail was announced. Announcements the server sent before this call
    are dropped: the caller has just searched the folder, which covers them. Raises
    ``ConnectionLost`` on BYE; imaplib's own errors pass through."""
    _stashed_new_mail(client)
    client.idle()
    try:
        responses = _stashed_new_mail(client)
        if not responses and not _buffered_input(client):
            responses = client.idle_check(timeout=seconds)
        if _says_bye(responses):
            raise ConnectionLost("the server ended the session during IDLE")
    finally:
        _, trailing = client.idle_done()  # reads whatever the server sent meanwhile
    return _signals_new_mail(responses + list(trailing))


def _signals_new_mail(responses: list[tuple]) -> bool:
    return any(len(r) >= 2 and r[1] in _NEW_MAIL for r in responses)


def _stashed_new_mail(client: IMAPClient) -> list[tuple]:
    """EXISTS/RECENT the server sent before IDLE's continuation: imaplib files them aside
    (``untagged_responses``) instead of handing them to ``idle_check``."""
    stashed = client._imap.untagged_responses
    return [(0, kind) for kind in (b"EXISTS", b"RECENT") if stashed.pop(kind.decode(), None)]


def _buffered_input(client: IMAPClient) -> bool:
    """Whether lines from the server are already read off the socket (into the TLS layer or the
    connection's reader), where a wait for the socket to become readable would not see them."""
    sock = client.socket()
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    reader = getattr(client._imap, "file", None)
    if reader is None or not hasattr(reader, "peek"):
        return False
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(reader.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return False
    finally:
        sock.settimeout(timeout)


def _says_bye(responses: list[tuple]) -> bool:
    return any(r and r[0] == b"BYE" for r in responses)
