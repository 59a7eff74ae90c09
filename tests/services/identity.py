"""A sign-in service on loopback over HTTPS that answers as Entra ID and Google's token endpoint do.

``IdentityServer.start()`` serves, on 127.0.0.1 with a certificate from a test
``TestAuthority`` (trusted through its ``ca_file`` only):

- Entra ID: ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (msal's tenant
  discovery; an unknown tenant gets AADSTS90002 as Entra answers) and
  ``POST /{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials``, the
  application proving itself with a client secret or a client assertion (a JWT
  signed with its certificate's key, ``x5t`` the SHA-1 thumbprint). Refusals carry
  Entra's error bodies: AADSTS700016 unknown application, AADSTS7000215 wrong
  secret, AADSTS700027 unknown or expired certificate, AADSTS65001 no admin consent.
- Google: ``POST /token`` with ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``
  and a service account's signed assertion (RFC 7523); ``unauthorized_client`` where
  domain-wide delegation is not granted, ``invalid_grant`` for an unknown user.

Access tokens are RS256 JWTs signed with this server's key (``public_pem``); their
``email`` claim names the mailbox the application may open: for Microsoft the one
its ``Add-MailboxPermission`` granted (``register_app(mailbox=...)``), for Google the
impersonated ``sub``. Dovecot and the test SMTP server check them offline with that
key, as Exchange and Gmail check theirs. ``requests`` records every path asked.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509

from tests.services.dovecot import HOST
from tests.services.tls import ClientCertificate, TestAuthority, new_key, private_pem, public_pem

KEY_ID = "resdesk-test-signing-key"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class App:
    """An app registration: its credentials, its consent, and the mailbox Exchange lets it open."""

    client_id: str
    mailbox: str
    secret: str | None = None
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)  # SHA-1 thumbprint (hex) -> certificate
    consented: bool = True


@dataclass
class ServiceAccount:
    """A Google service account: its key, and whether domain-wide delegation was granted."""

    client_email: str
    key_id: str
    public_pem: bytes
    key_file: Path
    delegated: bool = True


class IdentityServer:
    """One running sign-in service; ``stop()`` ends it."""

    def __init__(self, authority: TestAuthority, *, token_seconds: int = 3600):
        self.authority = authority
        self.token_seconds = token_seconds
        self.signing_key = new_key()
        self.public_pem = public_pem(self.signing_key)
        self.tenants: dict[str, dict[str, App]] = {}
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.workspace_users: set[str] = set()
        self.requests: list[str] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self.port}"

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> "IdentityServer":
        cert, key = self.authority.server_certificate("identity")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = ThreadingHTTPServer((HOST, 0), _handler_for(self))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- what the directory holds -----------------------------------------------------------------

    def register_app(self, tenant: str, mailbox: str, *, secret: str | None = None,
                     certificate: ClientCertificate | None = None, consented: bool = True) -> App:
        """An app registration in ``tenant`` with FullAccess on ``mailbox``."""
        app = App(str(uuid.uuid4()), mailbox, secret=secret, consented=consented)
        if certificate is not None:
            app.certificates[certificate.thumbprint] = certificate.certificate
        with self._lock:
            self.tenants.setdefault(tenant, {})[app.client_id] = app
        return app

    def add_tenant(self) -> str:
        tenant = str(uuid.uuid4())
        with self._lock:
            self.tenants[tenant] = {}
        return tenant

    def service_account(self, folder: Path, *, delegated: bool = True) -> ServiceAccount:
        """A service account and its JSON key file (as the Cloud console gives it) in ``folder``."""
        key = new_key()
        key_id = uuid.uuid4().hex
        email = f"resdesk-{key_id[:8]}@partnership-project.iam.gserviceaccount.com"
        key_file = folder / f"service-account-{key_id[:8]}.json"
        key_file.write_text(json.dumps({
            "type": "service_account", "project_id": "partnership-project", "private_key_id": key_id,
            "private_key": private_pem(key).decode(), "client_email": email, "client_id": str(int(key_id[:12], 16)),
            "auth_uri": f"{self.base_url}/o/oauth2/auth", "token_uri": f"{self.base_url}/token",
        }))
        account = ServiceAccount(email, key_id, public_pem(key), key_file, delegated)
        with self._lock:
            self.service_accounts[email] = account
        return account

    def token_requests(self) -> int:
        with self._lock:
            return sum(1 for path in self.requests if path.endswith("/token"))

    def access_token(self, mailbox: str, *, seconds: int | None = None, issuer: str = "test", subject: str = "app") -> str:
        """A token for ``mailbox`` signed with this server's key (what a token request would return)."""
        now = int(time.time())
        claims = {"iss": issuer, "sub": subject, "email": mailbox, "iat": now, "nbf": now - 1,
                  "exp": now + (self.token_seconds if seconds is None else seconds), "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": "default"})

    # -- answers ----------------------------------------------------------------------------------

    def answer(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(path)
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["token"]:
            return self._google_token(form)
        tenant = parts[0]
        if tenant not in self.tenants:
            return 400, _entra_error("invalid_tenant", 90002, f"Tenant '{tenant}' not found. Check to make sure you "
                                     "have the correct tenant ID and are signing into the correct cloud.")
        if method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            base = f"{self.base_url}/{tenant}"
            return 200, {
                "token_endpoint": f"{base}/oauth2/v2.0/token", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0", "jwks_uri": f"{base}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "tenant_region_scope": "EU",
            }
        if method == "POST" and parts[1:] == ["oauth2", "v2.0", "token"]:
            return self._entra_token(tenant, form)
        return 404, {"error": "not_found"}

    def _entra_token(self, tenant: str, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("grant_type") != "client_credentials":
            return 400, _entra_error("unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        app = self.tenants[tenant].get(form.get("client_id", ""))
        if app is None:
            return 400, _entra_error("unauthorized_client", 700016, f"Application with identifier "
                                     f"'{form.get('client_id')}' was not found in the directory '{tenant}'.")
        if "client_assertion" in form:
            refusal = self._check_assertion(tenant, app, form)
            if refusal:
                return 401, refusal
        elif not app.secret or form.get("client_secret") != app.secret:
            return 401, _entra_error("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                                     f"being sent in the request is the client secret value, not the client secret ID, "
                                     f"for a secret added to app '{app.client_id}'.")
        if form.get("scope") != "https://outlook.office365.com/.default":
            return 400, _entra_error("invalid_scope", 1002012, f"The provided value for scope {form.get('scope')} is not valid.")
        if not app.consented:
            return 400, _entra_error("invalid_grant", 65001, "The user or administrator has not consented to use the "
                                     f"application with ID '{app.client_id}'. Send an interactive authorization request "
                                     "for this user and resource.")
        token = self.access_token(app.mailbox, issuer=f"https://sts.windows.net/{tenant}/",
                                  subject=app.client_id)
        return 200, {"token_type": "Bearer", "expires_in": self.token_seconds, "ext_expires_in": self.token_seconds,
                     "access_token": token}

    def _check_assertion(self, tenant: str, app: App, form: dict[str, str]) -> dict | None:
        assertion = form["client_assertion"]
        header = jwt.get_unverified_header(assertion)
        thumbprint = base64.urlsafe_b64decode(header.get("x5t", "") + "==").hex().upper()
        certificate = app.certificates.get(thumbprint)
        if form.get("client_assertion_type") != ASSERTION_TYPE or certificate is None:
            return _entra_error("invalid_client", 700027, "Client assertion failed signature validation. "
                                "[Reason - The key was not found.]")
        if certificate.not_valid_after_utc.timestamp() < time.time():
            return _entra_error("invalid_client", 700027, "Client assertion contains an invalid signature. "
                                f"[Reason - The key used is expired., Thumbprint of key used by client: '{thumbprint}']")
        try:
            jwt.decode(assertion, certificate.public_key(), algorithms=["RS256", "PS256"],
                       audience=f"{self.base_url}/{tenant}/oauth2/v2.0/token", issuer=app.client_id)
        except jwt.InvalidTokenError as exc:
            return _entra_error("invalid_client", 700027, f"Client assertion failed signature validation. [Reason - {exc}]")
        return None

    def _google_token(self, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("grant_type") != JWT_BEARER:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
        assertion = form.get("assertion", "")
        claims = jwt.decode(assertion, options={"verify_signature": False})
        account = self.service_accounts.get(claims.get("iss", ""))
        if account is None or jwt.get_unverified_header(assertion).get("kid") != account.key_id:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        try:
            # Google expects its own token endpoint as the audience wherever the request is sent.
            claims = jwt.decode(assertion, account.public_pem, algorithms=["RS256"],
                                audience="https://oauth2.googleapis.com/token")
        except jwt.InvalidTokenError:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if not account.delegated or "https://mail.google.com/" not in claims.get("scope", "").split():
            return 401, {"error": "unauthorized_client", "error_description": "Client is unauthorized to retrieve "
                         "access tokens using this method, or client not authorized for any of the scopes requested."}
        if claims.get("sub") not in self.workspace_users:
            return 400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"}
        return 200, {"access_token": self.access_token(claims["sub"], issuer="https://accounts.google.com"),
                     "expires_in": self.token_seconds, "token_type": "Bearer"}


def _entra_error(error: str, code: int, text: str) -> dict:
    trace = str(uuid.uuid4())
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {uuid.uuid4()} "
                             f"Timestamp: {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}",
        "error_codes": [code], "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": trace, "correlation_id": str(uuid.uuid4()),
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


def _handler_for(server: IdentityServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            form = {key: values[0] for key, values in parse_qs(body).items()}
            status, payload = server.answer(method, urlsplit(self.path).path, form)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's names
            self._reply("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._reply("POST")

        def log_message(self, format: str, *args) -> None:  # quiet
            pass

    return Handler
