"""Google Workspace sign-in: a service account with domain-wide delegation, through google-auth.

The service account's key file (JSON, as the Cloud console gives it) signs a JWT
assertion (RFC 7523) whose subject is the shared mailbox, for the scope
``https://mail.google.com/``; the token endpoint is the file's own
``token_uri``. An administrator must have allowed the service account's client
ID that scope under Admin console → Security → API controls → Domain-wide
delegation. Tokens are reused until less than google-auth's refresh threshold
(3 min 45 s) of their hour is left.
"""

from __future__ import annotations

import json
import threading

import requests
from google.auth import exceptions as google_exceptions
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from resdesk.errors import SignInError
from resdesk.signin.base import counted_failures
from resdesk.signin.http import sign_in_session

__all__ = ["GoogleTokens", "GMAIL_SCOPE"]

GMAIL_SCOPE = "https://mail.google.com/"


class GoogleTokens:
    """Access tokens for ``mailbox`` through the service account in ``service_account_file``.

    ``section`` names the settings in error sentences; ``ca_file`` adds certificate
    authorities to trust for the token endpoint. Raises ``SignInError``.
    """

    provider = "google"

    def __init__(
        self,
        service_account_file: str,
        mailbox: str,
        *,
        scope: str = GMAIL_SCOPE,
        section: str = "mailbox",
        ca_file: str | None = None,
        timeout: float = 30.0,
    ):
        self.section, self.mailbox, self.file = section, mailbox, service_account_file
        try:
            credentials = service_account.Credentials.from_service_account_file(
                service_account_file, scopes=[scope], subject=mailbox
            )
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise SignInError(
                f"The service account key file {service_account_file} ([{section}] service_account_file) "
                f"cannot be used ({type(exc).__name__}: {exc}); download a JSON key for the service account "
                "from the Cloud console.",
                step=f"{section}.service_account_file",
            ) from None
        self._credentials = credentials
        self._request = Request(sign_in_session(ca_file, timeout))
        self._timeout = timeout
        self._lock = threading.Lock()
        self.requests_made = 0

    def token(self) -> str:
        """The current token, refreshed first when it is missing or close to expiry. A failure is
        counted in ``TOKEN_REFRESH_FAILURES``."""
        return counted_failures(self.provider, self._token)

    def _token(self) -> str:
        with self._lock:
            if not self._credentials.valid:
                try:
                    self._credentials.refresh(self._request)
                except google_exceptions.TransportError as exc:
                    raise SignInError(
                        f"Google's token endpoint {self._credentials._token_uri} cannot be reached ({exc}); "
                        "check the network and the key file's token_uri.",
                        step=f"{self.section}.service_account_file",
                    ) from None
                except google_exceptions.RefreshError as exc:
                    raise self._explain(exc) from None
                self.requests_made += 1
            return self._credentials.token

    def _explain(self, exc: google_exceptions.RefreshError) -> SignInError:
        body = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
        error = str(body.get("error") or str(exc.args[0] if exc.args else exc).split(":")[0])
        description = str(body.get("error_description") or exc)
        client_id = getattr(self._credentials, "_service_account_email", "the service account")
        s = self.section
        if error == "unauthorized_client":
            message = (
                f"The service account {client_id} may not act for {self.mailbox}: an administrator must add its "
                "client ID with the scope https://mail.google.com/ under Admin console → Security → API controls "
                "→ Domain-wide delegation."
            )
            step = "domain-wide delegation"
        elif error == "invalid_grant" and "user" in description.lower():
            message = (
                f"Google Workspace has no mailbox {self.mailbox}: set [{s}] username to the shared mailbox's "
                "address in your domain."
            )
            step = f"{s}.username"
        elif error == "invalid_grant" and "signature" in description.lower():
            message = (
                f"The key in {self.file} was deleted or revoked: create a new JSON key for {client_id} in the "
                f"Cloud console and point [{s}] service_account_file at it."
            )
            step = f"{s}.service_account_file"
        else:
            message = f"Google refused to sign in {client_id} for {self.mailbox}: {error}: {description}."
            step = f"{s}.service_account_file"
        return SignInError(message, step=step, code=error)
