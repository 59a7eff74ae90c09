"""The workspace's blueprints, in one list: ``create_app`` registers each of them."""

from __future__ import annotations

from resdesk.web import act, admin, alerts, find, quarantine, reports, see
from resdesk.web.auth import install_login

BLUEPRINTS = (find.blueprint, see.blueprint, act.blueprint, quarantine.blueprint, alerts.blueprint, admin.blueprint,
              reports.blueprint)

__all__ = ["BLUEPRINTS", "install_login"]
