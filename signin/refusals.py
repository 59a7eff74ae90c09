"""What it means when a mail server refuses a token the sign-in service just gave.

Each function returns the ``SignInError`` for one known refusal, one sentence naming
the administrator's step that fixes it (Exchange Online's and Gmail's own advice).
"""

from __future__ import annotations

from resdesk.errors import SignInError

__all__ = ["NOT_CONNECTED", "SMTP_AUTH_DISABLED", "refused_token", "not_connected", "smtp_auth_disabled"]

NOT_CONNECTED = "User is authenticated but not connected"  # Exchange Online, after a successful XOAUTH2
SMTP_AUTH_DISABLED = "5.7.139"  # Exchange Online: SMTP AUTH is turned off for the mailbox (or the tenant)

_REFUSED_STEP = {
    "microsoft": "register the application's service principal in Exchange Online (New-ServicePrincipal with the "
                 "Enterprise Application's object ID) and give it FullAccess on {mailbox} (Add-MailboxPermission)"
                 "{smtp}; changes can take an hour to apply.",
    "google": "check the service account's client ID is allowed https://mail.google.com/ under domain-wide "
              "delegation and that {mailbox} has IMAP turned on in the Admin console.",
}


def refused_token(protocol: str, server: str, provider: str, mailbox: str, reply: str) -> SignInError:
    """The IMAP or SMTP ``server`` refused a valid ``provider`` token for ``mailbox`` (AUTHENTICATE failed)."""
    smtp = ", and check the app has SMTP.SendAsApp with admin consent" if protocol == "SMTP" else ""
    step = _REFUSED_STEP.get(provider, _REFUSED_STEP["microsoft"]).format(mailbox=mailbox, smtp=smtp)
    return SignInError(
        f"The {protocol} server {server} refused the {provider} token for {mailbox} ({reply.strip()}) although "
        f"sign-in succeeded: {step}",
        step="mailbox permission",
    )


def not_connected(mailbox: str) -> SignInError:
    """Exchange accepted the token but has no mailbox ``mailbox`` the application may open."""
    return SignInError(
        f"The IMAP server signed the application in but did not connect it to {mailbox} (\"{NOT_CONNECTED}\"): "
        "check [mailbox] username is the shared mailbox's address and that the application's service principal "
        "has FullAccess on it (Add-MailboxPermission).",
        step="mailbox permission",
    )


def smtp_auth_disabled(mailbox: str) -> SignInError:
    """Exchange refused SMTP AUTH for ``mailbox`` because it is turned off there."""
    return SignInError(
        f"SMTP AUTH is turned off for {mailbox}: an Exchange administrator must run Set-CASMailbox -Identity "
        f"{mailbox} -SmtpClientAuthenticationDisabled $false (and allow it for the organisation if it is off there).",
        step="SMTP AUTH",
    )
