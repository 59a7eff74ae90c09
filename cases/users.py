"""The workspace's users: names, roles and argon2id password hashes in the case file.

Passwords are hashed with argon2-cffi's ``PasswordHasher`` (argon2id, its default
parameters, RFC 9106); the plain password never reaches the database or the audit
chain. Every change to a user is an audit entry by whoever made it.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from resdesk.cases.models import ROLES, User, utcnow
from resdesk.cases.store import Tx
from resdesk.errors import StoreError, UsageError

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


@functools.cache
def _dummy_hash() -> str:
    """The hash an unknown name is verified against, so a wrong name and a wrong password take
    alike. Made at the first sign-in, not at import: argon2id holds 64 MiB and most of a second,
    which every command importing the case file would pay."""
    return _HASHER.hash("no such user")


class UnknownUser(StoreError):
    """No workspace user has the name a person gave."""

    exit_status = 2

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"There is no workspace user {name!r}.")


@dataclass(frozen=True)
class SignedIn:
    """Who a correct password belongs to: name, role and when the password was last set (UTC)."""

    name: str
    role: str
    password_changed_at: datetime


def generate_password() -> str:
    """A new random password: 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"A workspace password must be at least {MIN_PASSWORD_LENGTH} characters long.")


def _require(tx: Tx, name: str) -> User:
    user = tx.session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise UnknownUser(name)
    return user


def add_user(tx: Tx, name: str, role: str, password: str, *, actor: str) -> User:
    """Create a user with ``role`` (auditor, business-unit or admin); raises ``UsageError`` for a
    taken name, an unknown role or a password shorter than 12 characters."""
    if role not in ROLES:
        raise UsageError(f"The role {role!r} is not one of {', '.join(ROLES)}.")
    if not name or len(name) > 64 or not name.isprintable() or name.strip() != name:
        raise UsageError("A user name must be 1 to 64 printable characters without surrounding spaces.")
    _check_password(password)
    if tx.session.execute(select(User).where(User.name == name)).scalar_one_or_none() is not None:
        raise UsageError(f"There is already a workspace user {name!r}.")
    user = User(name=name, role=role, password_hash=_HASHER.hash(password), disabled=False)
    tx.session.add(user)
    tx.session.flush()
    tx.audit(actor, "user-added", None, {"user": name, "role": role})
    return user


def list_users(tx: Tx) -> list[dict[str, object]]:
    """Every user: name, role, disabled, created and password-set times (ISO 8601, UTC)."""
    return [
        {
            "name": u.name,
            "role": u.role,
            "disabled": u.disabled,
            "created_at": u.created_at.isoformat(),
            "password_changed_at": u.password_changed_at.isoformat(),
        }
        for u in tx.session.execute(select(User).order_by(User.name)).scalars()
    ]


def disable_user(tx: Tx, name: str, *, actor: str) -> None:
    """Refuse the user from now on; their open sessions end at their next request."""
    user = _require(tx, name)
    user.disabled = True
    tx.audit(actor, "user-disabled", None, {"user": name})


def reset_password(tx: Tx, name: str, password: str, *, actor: str) -> None:
    """Give the user a new password and enable them again; their open sessions end."""
    _check_password(password)
    user = _require(tx, name)
    user.password_hash = _HASHER.hash(password)
    user.password_changed_at = utcnow()
    user.disabled = False
    tx.audit(actor, "user-password-reset", None, {"user": name})


def authenticate(tx: Tx, name: str, password: str) -> SignedIn | None:
    """The user whose name and password these are, or None (wrong, unknown or disabled).

    A hash made with older argon2 parameters is re-hashed with the current ones.
    """
    user = tx.session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    try:
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return SignedIn(user.name, user.role, user.password_changed_at)


def current_user(tx: Tx, name: str) -> SignedIn | None:
    """The enabled user of that name, for a session that names them; None when gone or disabled."""
    user = tx.session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None or user.disabled:
        return None
    return SignedIn(user.name, user.role, user.password_changed_at)
