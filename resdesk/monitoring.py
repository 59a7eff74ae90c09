"""Health and metrics for a running service: ``/healthz`` and ``/metrics`` as one small WSGI app.

``monitoring_app`` answers ``GET /healthz`` (JSON, 200 when healthy, 503 when not; see
``resdesk.cases.health``) and ``GET /metrics`` (Prometheus text: the counters of
``resdesk.cases.metrics`` summed over every service process (``resdesk.counting``), the case-file
gauges read at each scrape, and
``resdesk_token_refresh_failures_total{provider}`` from ``resdesk.signin``). The web interface mounts
the same two routes (``with_monitoring``, used by ``resdesk serve``); ``resdesk watch --metrics-port
PORT`` serves them from the watcher itself.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from resdesk.settings import Settings


def health_report(store, settings: Settings, now: datetime | None = None) -> dict:
    """The health checks as at ``now`` with the thresholds the settings give."""
    from resdesk.cases.health import check_health

    return check_health(store, now or datetime.now(timezone.utc),
                        outbox_stuck_minutes=settings.service.outbox_stuck_minutes,
                        mailbox_silent_minutes=settings.service.mailbox_silent_minutes)


def service_registry(store, settings: Settings, protocols) -> CollectorRegistry:
    """A registry with the counters of every service process (summed from ``service.metrics_dir``, see
    ``resdesk.counting``; this process's own alone when it is empty) and the case file's gauges, read once
    at each scrape (overdue stages counted by the protocols' clocks)."""
    from resdesk.cases import case_summaries, metrics
    from resdesk.counting import SharedCounters, counters_folder, counts_into
    from resdesk.signin.base import TOKEN_REFRESH_FAILURES
    from resdesk.commands.deadline import calendar_for

    def overdue() -> int:
        rows = case_summaries(store, protocols, datetime.now(timezone.utc), lambda p: calendar_for(p, settings))
        return sum(1 for row in rows if row["overdue"])

    registry = CollectorRegistry(auto_describe=False)
    folder = counters_folder(settings)
    if folder is not None and counts_into(folder):
        registry.register(SharedCounters(folder))  # every service process's counters, this one's too
    else:  # this process counts alone, in its own memory
        registry.register(metrics.REGISTRY)
        registry.register(TOKEN_REFRESH_FAILURES)
    registry.register(metrics.CaseFileCollector(store, overdue))
    return registry


def monitoring_app(store, settings: Settings, protocols):
    """The WSGI app answering ``/healthz`` and ``/metrics`` (404 for anything else)."""
    metrics_app = make_wsgi_app(service_registry(store, settings, protocols))

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics_app(environ, start_response)
        if path == "/healthz":
            report = health_report(store, settings)
            body = json.dumps(report, indent=2).encode()
            start_response("200 OK" if report["ok"] else "503 Service Unavailable",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return app


def with_monitoring(app, store, settings: Settings, protocols):
    """``app`` (the workspace) with ``/healthz`` and ``/metrics`` answered before it, unsigned-in, as
    a service manager and Prometheus expect; every other path goes to ``app``. Both carry counts and
    check results only, nothing about a child; restrict them at the reverse proxy if they must not be
    public."""
    monitor = monitoring_app(store, settings, protocols)

    def dispatch(environ, start_response):
        if environ.get("PATH_INFO", "") in ("/healthz", "/metrics"):
            return monitor(environ, start_response)
        return app(environ, start_response)

    return dispatch


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        return  # scrapes are not news


def serve_monitoring(app, port: int, host: str = "127.0.0.1") -> WSGIServer:
    """Serve ``app`` on ``host:port`` from a daemon thread; ``shutdown()`` the result to stop."""
    server = make_server(host, port, app, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="resdesk-metrics", daemon=True).start()
    return server


__all__ = ["health_report", "monitoring_app", "serve_monitoring", "service_registry", "with_monitoring"]
