"""The workspace: a server-rendered web app where the business unit and auditors find, see,
correct and verify cases.

``create_app(settings, store)`` builds the Flask application (sessions, CSRF protection,
the sign-in limit, security headers and every route as a blueprint); ``resdesk serve``
runs it under waitress. Every route states the role it needs (``access.requires``);
every view and download by a user is written to the audit chain.
"""

from resdesk.web.app import Workspace, create_app
from resdesk.web.access import requires

__all__ = ["Workspace", "create_app", "requires"]
