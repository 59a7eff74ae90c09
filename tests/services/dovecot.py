"""A real Dovecot IMAP server on loopback, private to one test session.

``DovecotServer.start()`` writes its own configuration into a private folder,
runs ``dovecot -F -c CONF`` in the foreground and waits for the greeting; mail
is stored as Maildirs owned by an unprivileged user (``resdesk-mail``, created
when the tests run as root). One server listens on two ports of 127.0.0.1:

- ``port``: plain IMAP, offering STARTTLS (so ``security = "none"`` and
  ``"starttls"`` both run against it);
- ``ssl_port``: IMAP over TLS (``security = "ssl"``).

The certificate is self-signed for 127.0.0.1 and made with ``openssl`` at start;
``ssl_context()`` trusts exactly it. ``capabilities=`` replaces what the server
advertises (``imap_capability``), which is how the tests get a server without
IDLE or MOVE. ``layout=`` picks how the personal namespace names folders
(``LAYOUTS``): ``"slash"`` (delimiter ``/``), ``"maildir++"`` (Dovecot's default
Maildir++ delimiter ``.``, as Cyrus has too) or ``"courier"`` (delimiter ``.``
under the personal namespace ``INBOX.``). Users live in passwd-files with ``{PLAIN}`` passwords; each
``new_user()`` is a fresh, empty mailbox. With ``oauth2=True`` the server also
accepts AUTHENTICATE XOAUTH2 (and OAUTHBEARER): Dovecot's ``oauth2`` passdb checks
the bearer JWT offline (``introspection_mode = local``) against the public keys
given to ``trust_oauth2_key`` and its expiry, and takes the user from its
``email`` claim, as Exchange Online and Gmail accept only a token for the mailbox.
"""

from __future__ import annotations

import email.message
import itertools
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
MAIL_USER = "resdesk-mail"
HOST = "127.0.0.1"

# Dovecot 2.3's post-login capabilities, less IDLE and MOVE: a server of the kind
# that makes the mail source fall back to polling and to COPY plus a flag.
CAPABILITIES_WITHOUT_IDLE_OR_MOVE = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES "
    "WITHIN CONTEXT=SEARCH LIST-STATUS BINARY SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW "
    "STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE"
)


#: The personal namespace of each folder layout, as written in dovecot.conf.
LAYOUTS = {
    "slash": "  separator = /\n",
    "maildir++": "",  # Maildir++'s own delimiter, "."
    "courier": "  separator = .\n  prefix = INBOX.\n",
}


@dataclass(frozen=True)
class MailUser:
    """A mailbox on the server: log in with ``username`` and ``password``."""

    username: str
    password: str


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def ensure_mail_user() -> tuple[int, int]:
    """The (uid, gid) mail is stored as: ``resdesk-mail`` as root, else ourselves."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    for _attempt in range(20):
        try:
            entry = pwd.getpwnam(MAIL_USER)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            # Parallel test workers may race here: useradd then fails ("exists", or the
            # passwd file is locked by the other's useradd), and the lookup is simply retried.
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", MAIL_USER],
                check=False, capture_output=True,
            )
            time.sleep(0.1)
    raise RuntimeError(f"The test mail user {MAIL_USER} could not be created.")


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "server.crt", folder / "server.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _children(pid: int) -> list[int]:
    """The ids of ``pid``'s child processes (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class DovecotServer:
    """One running Dovecot; ``stop()`` ends it and removes its folder."""

    def __init__(self, capabilities: str | None = None, *, oauth2: bool = False, layout: str = "slash"):
        self.capabilities = capabilities
        self.oauth2 = oauth2
        self.layout = LAYOUTS[layout]
        self.root = Path(tempfile.mkdtemp(prefix="resdesk-dovecot-"))
        self.root.chmod(0o755)  # the login and mail users must reach their sockets and mail
        self.config = self.root / "dovecot.conf"
        self.passwd = self.root / "passwd"
        self.mail_root = self.root / "mail"
        self.log = self.root / "dovecot.log"
        self.port = 0
        self.ssl_port = 0
        self.cert = self.root / "server.crt"
        self.oauth2_keys = self.root / "oauth2-keys"
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> "DovecotServer":
        uid, gid = ensure_mail_user()
        self.mail_root.mkdir()
        os.chown(self.mail_root, uid, gid)
        self.passwd.mkdir()
        self.cert, key = _self_signed_certificate(self.root)
        for attempt in range(3):  # a port found free may be taken before Dovecot binds it
            self.port = free_port()
            self.ssl_port = next(port for port in iter(free_port, None) if port != self.port)
            self.config.write_text(self._config_text(uid, gid, key))
            try:
                self.resume()
                return self
            except RuntimeError:
                self.pause()
                if attempt == 2:
                    raise
        return self

    def stop(self) -> None:
        self.pause()
        shutil.rmtree(self.root, ignore_errors=True)

    def pause(self) -> None:
        """Stop the server process (as a crash or restart would), keeping its mail and ports."""
        if self._process is not None and self._process.poll() is None:
            children = _children(self._process.pid)  # sessions outlive the master otherwise
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._process = None

    def resume(self) -> None:
        """Start the server process (again) and wait until it greets."""
        with (self.root / "stderr.log").open("ab") as stderr:  # a pipe nobody reads could fill up
            self._process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=stderr
            )
        self._await_greeting()

    def _config_text(self, uid: int, gid: int, key: Path) -> str:
        me = pwd.getpwuid(os.geteuid()).pw_name
        login_user, internal_user = ("dovenull", "dovecot") if os.geteuid() == 0 else (me, me)
        capability = f"protocol imap {{\n  imap_capability = {self.capabilities}\n}}\n" if self.capabilities else ""
        return f"""\
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = resdesk-test-{self.port}
log_path = {self.log}
listen = {HOST}
protocols = imap
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
first_valid_gid = 1
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.oauth2 else ""}
auth_failure_delay = 0
auth_verbose = yes
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
{self.layout}}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {self.passwd}/%u
}}
{self._oauth2_passdb()}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.mail_root}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil {{
    mode = 0666
  }}
}}
{capability}"""

    def _oauth2_passdb(self) -> str:
        """A passdb that accepts XOAUTH2/OAUTHBEARER bearer tokens: JWTs checked here, offline.

        Dovecot looks the signing key up in ``oauth2_keys/<azp>/<alg>/<kid>`` (a key
        dictionary; the file holds the public key's PEM) and takes the user from the
        token's ``email`` claim, which must equal the name the client logs in as.
        """
        if not self.oauth2:
            return ""
        self.oauth2_keys.mkdir(exist_ok=True)
        conf = self.root / "dovecot-oauth2.conf.ext"
        conf.write_text(
            "introspection_mode = local\n"
            f"local_validation_key_dict = fs:posix:prefix={self.oauth2_keys}/\n"
            "username_attribute = email\n"
        )
        # Exchange Online ends a session whose application may not open the mailbox with "User is
        # authenticated but not connected"; a post-login script says the same for marked users.
        (self.root / "not-connected").mkdir(exist_ok=True)
        script = self.root / "postlogin.sh"
        script.write_text(
            "#!/bin/sh\n"
            f'if [ -e "{self.root}/not-connected/$USER" ]; then\n'
            '  printf "* BYE User is authenticated but not connected.\\r\\n"\n'
            "  exit 0\n"
            "fi\n"
            'exec "$@"\n'
        )
        script.chmod(0o755)
        return (
            f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {conf}\n}}\n"
            "service imap {\n  executable = imap imap-postlogin\n}\n"
            f"service imap-postlogin {{\n  executable = script-login {script}\n"
            "  unix_listener imap-postlogin {\n  }\n}\n"
        )

    def refuse_connection_after_login(self, user: MailUser) -> None:
        """End ``user``'s sessions just after login as Exchange does when the application has no
        FullAccess on the mailbox ("User is authenticated but not connected")."""
        (self.root / "not-connected" / user.username).write_text("")

    def trust_oauth2_key(self, public_pem: bytes, *, azp: str = "default", alg: str = "RS256", kid: str = "default") -> None:
        """Accept tokens signed by the key whose public half is ``public_pem``."""
        folder = self.oauth2_keys / azp / alg
        folder.mkdir(parents=True, exist_ok=True)
        (folder / kid).write_bytes(public_pem)

    def _await_greeting(self, deadline_seconds: float = 20.0) -> None:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                errors = (self.root / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"Dovecot exited at start: {errors} {self.log_text()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"Dovecot did not greet on port {self.port}: {self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    # -- users and mail ---------------------------------------------------------------------------

    def new_user(self) -> MailUser:
        """A fresh user with an empty mailbox.

        Each user has a passwd-file of its own (``passwd/<user>``), read when it logs in.
        """
        user = MailUser(f"user{next(self._names)}@partnership.example", f"secret-{os.urandom(4).hex()}")
        (self.passwd / user.username).write_text(f"{user.username}:{{PLAIN}}{user.password}\n")
        return user

    def mailbox_environment(self, user: MailUser, security: str = "none") -> dict[str, str]:
        """``RESDESK_MAILBOX__*`` variables that point the product at ``user``'s inbox here."""
        return {
            "RESDESK_MAILBOX__KIND": "imap",
            "RESDESK_MAILBOX__HOST": HOST,
            "RESDESK_MAILBOX__PORT": str(self.ssl_port if security == "ssl" else self.port),
            "RESDESK_MAILBOX__SECURITY": security,
            "RESDESK_MAILBOX__CA_FILE": str(self.cert),
            "RESDESK_MAILBOX__USERNAME": user.username,
            "RESDESK_MAILBOX__PASSWORD": user.password,
        }

    def client(self, user: MailUser) -> IMAPClient:
        """A logged-in plain-IMAP connection, as a colleague's mail program would have."""
        client = IMAPClient(HOST, port=self.port, ssl=False, timeout=10)
        client.login(user.username, user.password)
        return client

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    def append(
        self, user: MailUser, message: bytes | email.message.Message, folder: str = "INBOX",
        flags: tuple[str, ...] = (),
    ) -> int:
        """Deliver ``message`` into ``folder`` (created if missing); returns its UID."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=flags)
        # APPENDUID (RFC 4315): b'[APPENDUID <uidvalidity> <uid>] Append completed.'
        return int(response.split(b"]")[0].split()[-1])

    def append_many(self, user: MailUser, messages: list[bytes], folder: str = "INBOX") -> list[int]:
        """Deliver many messages over one connection (a backlog); returns their UIDs in order."""
        uids = []
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in messages:
                response = client.append(folder, raw)
                uids.append(int(response.split(b"]")[0].split()[-1]))
        return uids

    def recreate_folder(self, user: MailUser, folder: str) -> None:
        """Delete and create ``folder`` again, which gives it a new UIDVALIDITY."""
        with self.client(user) as client:
            if folder.upper() == "INBOX":
                # INBOX cannot be deleted over IMAP; remove its mail and index (keeping Dovecot's
                # dovecot-uidvalidity counter) so that Dovecot starts it anew.
                client.logout()
                self.kick(user)
                maildir = self.mail_root / user.username / "Maildir"
                for path in [maildir / "new", maildir / "cur", maildir / "tmp", maildir / "dovecot-uidlist",
                             *maildir.glob("dovecot.index*")]:
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
                return
            client.delete_folder(folder)
            client.create_folder(folder)

    def kick(self, user: MailUser) -> None:
        """Disconnect every session of ``user``, as a server restart or a network drop would."""
        subprocess.run([DOVEADM, "-c", str(self.config), "kick", user.username], check=True, capture_output=True)

    def session_logouts(self, user: MailUser, count: int, timeout: float = 10.0) -> list[dict[str, int]]:
        """The counters Dovecot logs when each of ``user``'s sessions ends (``body_bytes``...).

        Waits until at least ``count`` sessions have ended (the log is written a moment after).
        """
        deadline = time.monotonic() + timeout
        while True:
            ended = [
                {k: int(v) for k, v in (pair.split("=", 1) for pair in line.split() if "=" in pair) if v.isdigit()}
                for line in self.log_text().splitlines()
                if f"imap({user.username})" in line and "Disconnected" in line
            ]
            if len(ended) >= count or time.monotonic() > deadline:
                return ended
            time.sleep(0.05)

    def folder_uids(self, user: MailUser, folder: str) -> dict[int, tuple[bytes, ...]]:
        """Every message in ``folder`` (deleted-flagged ones too) as UID → flags."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                return {}
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()} if uids else {}
