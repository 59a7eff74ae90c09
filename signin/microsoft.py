"""Microsoft 365 app-only sign-in: client credentials from Entra ID through msal.

The application (an App Registration with ``IMAP.AccessAsApp`` and/or
``SMTP.SendAsApp`` and admin consent) proves itself with a certificate (a PEM
holding the private key, plus its SHA-1 thumbprint as uploaded) or a client
secret, and asks ``{authority}/{tenant_id}`` for a token for
``https://outlook.office365.com/.default`` (OAuth 2.0 client credentials,
RFC 6749 §4.4). msal keeps the token in its own in-memory cache and asks again
once it has less than five minutes left, so every ``token()`` call costs a
request only when one is due.

Entra ID names each failure with an ``AADSTS`` code in its error body; the known
ones become one sentence saying which setting or admin step fixes them.
"""

from __future__ import annotations

import re
from pathlib import Path

import msal
import requests

from resdesk.errors import SignInError
from resdesk.signin.base import counted_failures
from resdesk.signin.http import sign_in_session

__all__ = ["MicrosoftTokens", "OUTLOOK_SCOPE", "DEFAULT_AUTHORITY"]

OUTLOOK_SCOPE = "https://outlook.office365.com/.default"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"


class MicrosoftTokens:
    """Access tokens for Exchange Online as the application ``client_id`` of ``tenant_id``.

    Exactly one of ``client_secret`` and ``client_certificate`` (path to a PEM with the
    private key; ``client_certificate_thumbprint`` its SHA-1 thumbprint in hex) is used.
    ``section`` (``"mailbox"`` or ``"smtp"``) names the settings in error sentences;
    ``ca_file`` adds certificate authorities to trust for the sign-in service.
    Raises ``SignInError``.
    """

    provider = "microsoft"

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        client_certificate: str | None = None,
        client_certificate_thumbprint: str | None = None,
        authority: str = DEFAULT_AUTHORITY,
        scope: str = OUTLOOK_SCOPE,
        section: str = "mailbox",
        ca_file: str | None = None,
        timeout: float = 30.0,
    ):
        self.tenant_id, self.client_id, self.section = tenant_id, client_id, section
        self.scope = scope
        self.authority = f"{authority.rstrip('/')}/{tenant_id}"
        self._credential = self._credential_from(client_secret, client_certificate, client_certificate_thumbprint)
        self._http = sign_in_session(ca_file, timeout)
        self._timeout = timeout
        self._app: msal.ConfidentialClientApplication | None = None
        self.requests_made = 0  # token requests sent to the sign-in service (not cache hits)

    def _credential_from(self, secret: str | None, certificate: str | None, thumbprint: str | None) -> object:
        s = self.section
        if certificate:
            if not thumbprint:
                raise SignInError(
                    f"[{s}] client_certificate is set but client_certificate_thumbprint is not; copy the "
                    "thumbprint shown beside the certificate under the app registration's Certificates & secrets.",
                    step=f"{s}.client_certificate_thumbprint",
                )
            try:
                pem = Path(certificate).read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise SignInError(
                    f"The client certificate {certificate} ([{s}] client_certificate) cannot be read ({exc}).",
                    step=f"{s}.client_certificate",
                ) from None
            if "PRIVATE KEY" not in pem:
                raise SignInError(
                    f"The client certificate {certificate} ([{s}] client_certificate) holds no private key; "
                    "it must be the PEM with the key, not the .cer uploaded to the app registration.",
                    step=f"{s}.client_certificate",
                )
            return {"private_key": pem, "thumbprint": thumbprint.replace(":", "").strip()}
        if secret:
            return secret
        raise SignInError(
            f"[{s}] auth = \"microsoft\" needs a client secret (RESDESK_{s.upper()}__CLIENT_SECRET in the "
            f"environment) or a certificate ([{s}] client_certificate and client_certificate_thumbprint).",
            step=f"{s}.client_secret",
        )

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=self._credential,
                    authority=self.authority,
                    http_client=self._http,
                    timeout=self._timeout,
                    # Skips the check of custom hosts against login.microsoftonline.com's list; the
                    # public, US Government and China hosts are known to msal and never looked up.
                    instance_discovery=False,
                )
            except ValueError as exc:  # the tenant's OpenID configuration was refused (msal keeps the body in the context)
                raise self._explain(_error_from_text(f"{exc.__context__ or ''} {exc}")) from None
            except requests.RequestException as exc:
                raise self._unreachable(exc) from None
        return self._app

    def token(self) -> str:
        """A token for ``scope``: msal's cached one while it has five minutes left, else a new one.
        A failure is counted in ``TOKEN_REFRESH_FAILURES``."""
        return counted_failures(self.provider, self._token)

    def _token(self) -> str:
        app = self._application()
        try:
            cached = app.acquire_token_for_client([self.scope])  # msal looks in its cache first
        except requests.RequestException as exc:
            raise self._unreachable(exc) from None
        except ValueError as exc:
            raise self._explain(_error_from_text(str(exc))) from None
        if cached and cached.get("token_source") == "identity_provider":
            self.requests_made += 1
        if not cached or "access_token" not in cached:
            raise self._explain(cached or {})
        return cached["access_token"]

    def _unreachable(self, exc: Exception) -> SignInError:
        if isinstance(exc, requests.exceptions.SSLError):
            return SignInError(
                f"The Microsoft sign-in service {self.authority} presented a certificate that is not trusted; set "
                f"[{self.section}] authority_ca_file if a proxy on your network re-signs HTTPS.",
                step=f"{self.section}.authority_ca_file",
            )
        return SignInError(
            f"The Microsoft sign-in service {self.authority} cannot be reached ({type(exc).__name__}); "
            f"check [{self.section}] authority and the network.",
            step=f"{self.section}.authority",
        )

    def _explain(self, result: dict) -> SignInError:
        codes = [int(c) for c in result.get("error_codes") or []]
        description = str(result.get("error_description") or result.get("error") or "no reason given")
        if not codes:
            found = re.search(r"AADSTS(\d+)", description)
            codes = [int(found.group(1))] if found else []
        code = codes[0] if codes else None
        s, app, tenant = self.section, self.client_id, self.tenant_id
        sentence = _SENTENCES.get(code) if code is not None else None
        if code == 700027 and "expired" in description.lower():
            sentence = _EXPIRED_CERTIFICATE
        if sentence is None:
            first = description.splitlines()[0].strip()
            sentence = "Microsoft refused to sign in application {app} of tenant {tenant}: " + first.replace("{", "(").replace("}", ")")
        message = sentence.format(s=s, S=s.upper(), app=app, tenant=tenant)
        return SignInError(message, step=_STEPS.get(code, "{s}.client_id").format(s=s), code=f"AADSTS{code}" if code else None)


def _error_from_text(text: str) -> dict:
    """The error body msal quotes in a failed OpenID discovery (an unknown tenant, say)."""
    found = re.search(r"AADSTS(\d+)[^\"]*", text)
    if not found and "Unable to get authority configuration" in text:
        return {"error_codes": [90002], "error_description": text}  # msal's words for an unknown tenant
    if not found:
        return {"error_description": text}
    return {"error_codes": [int(found.group(1))], "error_description": found.group(0)}


_EXPIRED_CERTIFICATE = (
    "The certificate [{s}] client_certificate_thumbprint names for application {app} has expired: make a new "
    "one, upload it under the app registration's Certificates & secrets, and update [{s}] client_certificate and "
    "client_certificate_thumbprint."
)
_SENTENCES = {
    7000215: "The client secret for application {app} is wrong: copy the secret's Value (not its Secret ID) from the "
             "app registration's Certificates & secrets into RESDESK_{S}__CLIENT_SECRET.",
    7000222: "The client secret for application {app} has expired: create a new one under the app registration's "
             "Certificates & secrets and put it in RESDESK_{S}__CLIENT_SECRET.",
    700016: "Tenant {tenant} has no application {app}: set [{s}] client_id to the app registration's Application "
            "(client) ID (not the Enterprise Application's object ID) and check [{s}] tenant_id.",
    90002: "There is no Microsoft 365 tenant {tenant}: set [{s}] tenant_id to the Directory (tenant) ID shown on the "
           "app registration's Overview.",
    65001: "Application {app} has no admin consent: an administrator must open the app registration's API "
           "permissions and choose Grant admin consent (IMAP.AccessAsApp and SMTP.SendAsApp, Office 365 Exchange Online).",
    700027: "Microsoft does not recognise the certificate [{s}] client_certificate_thumbprint names for application "
            "{app}: upload that certificate under the app registration's Certificates & secrets, or correct the thumbprint.",
    700024: "The clock of this machine is off, so Microsoft refused the signed request of application {app}: "
            "synchronise the clock (NTP).",
    1002012: "The requested scope is not valid for application {app}: the scope must be "
             "https://outlook.office365.com/.default.",
}
_STEPS = {
    7000215: "{s}.client_secret", 7000222: "{s}.client_secret", 700016: "{s}.client_id",
    90002: "{s}.tenant_id", 65001: "admin consent", 700027: "{s}.client_certificate",
}
