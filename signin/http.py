"""The HTTP session both providers sign in through (requests).

``ca_file`` is passed with every request: requests lets ``REQUESTS_CA_BUNDLE`` in
the environment override a session's own ``verify``, which would silently drop a
certificate authority the settings name. Proxies from the environment still apply.
"""

from __future__ import annotations

import functools

import requests

__all__ = ["sign_in_session"]


def sign_in_session(ca_file: str | None, timeout: float) -> requests.Session:
    """A session that verifies against ``ca_file`` (else the system's authorities), with ``timeout`` seconds."""
    session = requests.Session()
    options: dict[str, object] = {"timeout": timeout}
    if ca_file:
        session.verify = ca_file
        options["verify"] = ca_file
    session.request = functools.partial(session.request, **options)  # type: ignore[method-assign]
    return session
