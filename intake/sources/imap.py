"""An IMAP folder as a mail source, through imapclient.

- Transport: ``"ssl"`` (implicit TLS), ``"starttls"``, or ``"none"``, which is
  refused unless the host is a loopback address. Password login, or SASL XOAUTH2
  with a token from ``token_source`` (Microsoft 365, Google Workspace), asked for
  afresh on every connection so a session that outlived its token signs in
  again on reconnect (``imap_session``; see ``resdesk.signin``).
- The folder is SELECTed read-write; its UIDVALIDITY comes from the SELECT.
- ``snapshot`` SELECTs the folder again (a fresh view and a current UIDVALIDITY;
  the implicit close never expunges) then runs ``UID SEARCH NOT KEYWORD
  $Resdesk-Filed``: every message in the folder, ``\\Deleted``-flagged ones
  included, except those already filed by COPY.
- ``fetch`` asks for ``RFC822.SIZE`` and ``FLAGS`` of ``batch_size`` UIDs at a
  time, then ``BODY.PEEK[]`` (which never sets ``\\Seen``) only for messages
  within the size limit, a group of at most ``batch_bytes`` (or one message) at
  a time, so memory stays bounded however large the backlog. (``\\Recent`` is
  left out of the flags: it belongs to one session, not to the message.)
- ``move`` uses ``UID MOVE`` when the server offers MOVE; otherwise ``UID COPY``
  then the ``$Resdesk-Filed`` keyword. It never sends EXPUNGE (a bare EXPUNGE
  would also remove colleagues' ``\\Deleted`` mail). Destination folders are
  created (and subscribed) when missing, named the server's way (``folders.py``:
  its NAMESPACE prefix and LIST delimiter, asked once per connection).
- ``wait`` first asks whether a UID at or above the last snapshot's UIDNEXT is in
  the folder (NOOP, then ``UID SEARCH UID n:*``): the server announces new mail
  only once, possibly in the reply to an earlier FETCH or MOVE. Then it uses
  IDLE when offered (``idle.idle_once``: no announcement is left unread), else
  repeats that check every ``poll_seconds``. The IDLE is sliced: every
  ``wake_check_seconds`` (and at most every ``idle_seconds``, well within the 29
  minutes RFC 2177 allows) it is left, the folder checked again and IDLE
  re-entered, so an announcement a server never sends costs seconds, not the
  whole wait.
- A dropped connection (server restart, ``BYE``, reset, timeout) is reopened
  with exponential backoff (tenacity; ``backoff_seconds`` doubling up to
  ``max_backoff_seconds``, at most ``reconnect_attempts`` tries) and the
  operation is run again; every operation here is safe to repeat. After
  ``reconnect_attempts`` failures an ``IntakeError`` is raised.
"""

from __future__ import annotations

import hashlib
import imaplib
import ipaddress
import ssl
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from imapclient import IMAPClient
from imapclient.util import to_unicode
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from resdesk.intake.sources.folders import FolderNaming, folder_naming
from resdesk.intake.sources.idle import idle_once
from resdesk.intake.sources.base import FILED_KEYWORD, FetchedMessage, MessageRef, check_refs_belong
from resdesk.errors import IntakeError, UsageError
from resdesk.signin import TokenSource
from resdesk.signin.refusals import NOT_CONNECTED, not_connected
from resdesk.intake.sources.imap_session import DROPPED, quietly_close, signed_in

T = TypeVar("T")

def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _groups_of_bytes(sized: list[tuple[int, int]], max_bytes: int, budget: int) -> Iterator[list[tuple[int, int]]]:
    """Consecutive runs of (uid, size) whose downloadable sizes add up to at most ``budget``."""
    group: list[tuple[int, int]] = []
    total = 0
    for uid, size in sized:
        cost = size if size <= max_bytes else 0
        if group and total + cost > budget:
            yield group
            group, total = [], 0
        group.append((uid, size))
        total += cost
    if group:
        yield group


class ImapSource:
    """One folder of an IMAP mailbox, connected on construction."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str | None,
        folder: str = "INBOX",
        *,
        token_source: TokenSource | None = None,
        account: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        idle_seconds: float = 600.0,
        poll_seconds: float = 30.0,
        use_idle: bool = True,
        timeout: float = 30.0,
        batch_size: int = 200,
        batch_bytes: int = 8 * 1024 * 1024,
        reconnect_attempts: int = 6,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        wake_check_seconds: float = 5.0,
    ):
        if security not in {"ssl", "starttls", "none"}:
            raise UsageError(f"IMAP security must be ssl, starttls or none, not '{security}'.")
        if security == "none" and not is_loopback(host):
            raise UsageError(
                f"IMAP without TLS is allowed only to a loopback address; {host} needs ssl or starttls."
            )
        if not 0 < idle_seconds < 29 * 60:
            raise UsageError(f"IDLE must be re-issued within 29 minutes; idle_seconds={idle_seconds} is not.")
        self.host, self.port, self.security = host, port, security
        self.username, self._password, self._tokens = username, password, token_source
        self.folder = folder
        # The ledger's account key: not the port or transport, which may change while the mail stays.
        self.account = account or f"imap://{username}@{host}"
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.idle_seconds, self.poll_seconds, self.use_idle = idle_seconds, poll_seconds, use_idle
        self.wake_check_seconds = wake_check_seconds
        self.timeout, self.batch_size, self.batch_bytes = timeout, batch_size, batch_bytes
        self.reconnect_attempts = reconnect_attempts
        self.backoff_seconds, self.max_backoff_seconds = backoff_seconds, max_backoff_seconds
        self.reconnects = 0
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._can_move = self._can_idle = False
        self._folders: set[str] = set()
        self.naming = FolderNaming()
        self._horizon: int | None = None  # the first UID the last snapshot did not see
        self._call(lambda client: None)

    # -- connection -------------------------------------------------------------------------------

    def _open(self) -> IMAPClient:
        client = signed_in(self.host, self.port, self.security, self.ssl_context, self.timeout, self.username,
                           self._password, self._tokens)
        try:
            capabilities = client.capabilities()
            self.naming = folder_naming(client)
            try:
                selected = client.select_folder(self.folder)
            except (imaplib.IMAP4.abort, imaplib.IMAP4.error) as exc:
                if self._tokens is not None and NOT_CONNECTED in str(exc):
                    raise not_connected(self.username) from None
                if isinstance(exc, imaplib.IMAP4.abort):
                    raise
                raise IntakeError(
                    f"The IMAP folder {self.folder} of {self.account} cannot be opened ({exc})."
                ) from None
        except BaseException:
            quietly_close(client)
            raise
        if self._uidvalidity != int(selected[b"UIDVALIDITY"]):
            self._horizon = None  # the folder was recreated: the last snapshot says nothing now
        self._uidvalidity = int(selected[b"UIDVALIDITY"])
        self._can_move = b"MOVE" in capabilities
        self._can_idle = self.use_idle and b"IDLE" in capabilities
        self._folders = set()
        return client

    def _call(self, operation: Callable[[IMAPClient], T]) -> T:
        """Run ``operation`` on a live connection, reconnecting with backoff when it drops (tenacity:
        ``backoff_seconds`` doubling up to ``max_backoff_seconds``, ``reconnect_attempts`` reconnects);
        ``IntakeError`` once they are spent."""
        retrying = Retrying(
            retry=retry_if_exception_type(DROPPED),
            stop=stop_after_attempt(self.reconnect_attempts + 1),
            wait=wait_exponential(multiplier=self.backoff_seconds, max=self.max_backoff_seconds),
            before_sleep=lambda _: self._drop(),
            sleep=time.sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if self._client is None:
                        self._client = self._open()
                        if attempt.retry_state.attempt_number > 1:
                            self.reconnects += 1
                    return operation(self._client)
        except DROPPED as exc:
            self._drop()
            raise IntakeError(
                f"The IMAP connection to {self.host}:{self.port} was lost and did not come back "
                f"after {self.reconnect_attempts} attempts ({type(exc).__name__}: {exc})."
            ) from None
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def _drop(self) -> None:
        quietly_close(self._client)
        self._client = None

    @property
    def can_move(self) -> bool:
        return self._can_move

    @property
    def can_idle(self) -> bool:
        return self._can_idle

    # -- reading ----------------------------------------------------------------------------------

    def snapshot(self) -> tuple[int, list[str]]:
        def search(client: IMAPClient) -> tuple[int, list[str]]:
            # SELECT again (an implicit close never expunges): a fresh view shows mail others
            # added, and a current UIDVALIDITY even where the folder was recreated under us.
            selected = client.select_folder(self.folder)
            self._uidvalidity = int(selected[b"UIDVALIDITY"])
            uids = sorted(client.search(["NOT", "KEYWORD", FILED_KEYWORD]))
            # Mail with a UID from here on arrived after this snapshot (see wait()).
            self._horizon = max(int(selected.get(b"UIDNEXT", 1)), uids[-1] + 1 if uids else 1)
            return self._uidvalidity, [str(uid) for uid in uids]

        return self._call(search)

    def fetch(self, uids: list[str], max_bytes: int) -> Iterator[FetchedMessage]:
        """Messages in ``uids`` order; stops early if the folder's UIDVALIDITY changes."""
        try:
            numbers = [int(uid) for uid in uids]
        except ValueError:
            raise IntakeError(f"IMAP UIDs are numbers; {uids!r} are not all numbers.") from None
        validity = self._uidvalidity
        for start in range(0, len(numbers), self.batch_size):
            batch = numbers[start:start + self.batch_size]
            current, heads = self._call(
                lambda client: (self._uidvalidity, client.fetch(batch, ["RFC822.SIZE", "FLAGS"]))
            )
            if current != validity:
                return
            present = [(uid, int(heads[uid][b"RFC822.SIZE"])) for uid in batch
                       if b"RFC822.SIZE" in heads.get(uid, {})]  # others were expunged meanwhile
            for group in _groups_of_bytes(present, max_bytes, self.batch_bytes):
                wanted = [uid for uid, size in group if size <= max_bytes]
                current, bodies = self._call(
                    lambda client: (self._uidvalidity, client.fetch(wanted, ["BODY.PEEK[]"]) if wanted else {})
                )
                if current != validity:
                    return
                for uid, size in group:
                    raw = bodies.get(uid, {}).get(b"BODY[]") if size <= max_bytes else None
                    if size <= max_bytes and raw is None:
                        continue  # expunged between the two fetches
                    flags = tuple(to_unicode(f) for f in heads[uid].get(b"FLAGS", ()) if f != b"\\Recent")
                    ref = MessageRef(self.account, self.folder, validity, str(uid))
                    yield FetchedMessage(ref, bytes(raw) if raw is not None else None, size, flags)

    # -- filing -----------------------------------------------------------------------------------

    def _ensure_folder(self, client: IMAPClient, folder: str) -> None:
        if folder in self._folders:
            return
        if not client.folder_exists(folder):
            try:
                client.create_folder(folder)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error:
                if not client.folder_exists(folder):  # else another worker made it first
                    raise IntakeError(f"The IMAP folder {folder} cannot be created on {self.account}.") from None
            client.subscribe_folder(folder)
        self._folders.add(folder)

    def prepare_folder(self, folder: str) -> None:
        """Create (and subscribe) ``folder`` (named the server's way) unless it exists; raises
        ``IntakeError`` if it cannot be."""
        self._call(lambda client: self._ensure_folder(client, self.naming.server_name(folder)))

    def move(self, ref: MessageRef, destination: str) -> None:
        self.move_many([ref], destination)

    def move_many(self, refs: list[MessageRef], destination: str) -> None:
        if not refs:
            return
        check_refs_belong(self, refs)
        uids = [int(ref.uid) for ref in refs]

        def file_messages(client: IMAPClient) -> None:
            for ref in refs:
                if ref.uidvalidity != self._uidvalidity:
                    raise IntakeError(
                        f"Message {ref.uid} was listed under UIDVALIDITY {ref.uidvalidity}; {self.folder} now has "
                        f"{self._uidvalidity}, so it is not moved."
                    )
            server_name = self.naming.server_name(destination)
            self._ensure_folder(client, server_name)
            if self._can_move:
                client.move(uids, server_name)  # one UID MOVE; absent UIDs are a no-op
                return
            flags = client.get_flags(uids)
            todo = [uid for uid in uids if uid in flags and FILED_KEYWORD.encode() not in flags[uid]]
            if todo:  # the rest are gone, or copied already
                client.copy(todo, server_name)
                client.add_flags(todo, [FILED_KEYWORD], silent=True)

        self._call(file_messages)

    def remove_copies(self, folder: str, copies: dict[str, str | None]) -> int:
        """Delete the messages in ``folder`` whose SHA-256 is a key of ``copies`` (retention
        disposal): each is found by its Message-ID (the value), its bytes checked against the
        digest, flagged ``\\Deleted`` and removed with UID EXPUNGE of exactly those UIDs. A copy
        without a Message-ID is not found. Returns how many were deleted."""
        wanted = {message_id: digest for digest, message_id in copies.items() if message_id}

        def remove(client: IMAPClient) -> int:
            if not client.folder_exists(folder):
                return 0
            client.select_folder(folder)
            try:
                doomed: list[int] = []
                for message_id, digest in wanted.items():
                    hits = client.search(["HEADER", "Message-ID", message_id])
                    for uid, data in client.fetch(hits, ["BODY.PEEK[]"]).items() if hits else ():
                        if hashlib.sha256(data[b"BODY[]"]).hexdigest() == digest:
                            doomed.append(uid)
                if doomed:
                    client.delete_messages(doomed, silent=True)
                    client.uid_expunge(doomed)
                return len(doomed)
            finally:
                client.select_folder(self.folder)

        return self._call(remove)

    # -- waiting ----------------------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + max(0.0, timeout)
        reconnects = self.reconnects

        def watch(client: IMAPClient) -> bool:
            while True:
                if self.reconnects != reconnects or self._horizon is None:
                    return True  # mail may have come while we were away, or we never looked
                if self._arrived_since_snapshot(client):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if not self._can_idle:
                    time.sleep(min(self.poll_seconds, left))
                    continue
                if idle_once(client, min(left, self.idle_seconds, self.wake_check_seconds)):
                    return True

        return self._call(watch)

    def _arrived_since_snapshot(self, client: IMAPClient) -> bool:
        """Whether a message newer than the last snapshot is in the folder.

        The server announces new mail once, in the reply to whatever command comes next
        (a FETCH or a MOVE, say), so the announcement alone cannot be relied on here.
        """
        client.noop()  # lets the session see what others added
        return any(uid >= self._horizon for uid in client.search(["UID", f"{self._horizon}:*"]))

    def close(self) -> None:
        if self._client is not None:
            try:
                # A watcher stopped in the middle of a command (SIGTERM during IDLE or a FETCH) has a
                # session in an unknown state: say goodbye, but never wait long for the answer.
                self._client.socket().settimeout(CLOSE_TIMEOUT_SECONDS)
                self._client.logout()
            except (*DROPPED, imaplib.IMAP4.error):
                pass
            quietly_close(self._client)
            self._client = None


CLOSE_TIMEOUT_SECONDS = 2.0
