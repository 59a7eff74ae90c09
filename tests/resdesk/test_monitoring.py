"""Health, metrics and structured logs of a running watcher."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from io import StringIO

from resdesk.cases.health import check_health
from resdesk.cases.models import Lease, Mailbox, Outbound
from resdesk.cli import main
from resdesk.intake.filing import CORRELATION_ID
from resdesk.logs import configure_logging
from tests.intake.mail import summary

NOW = datetime(2026, 12, 4, 12, tzinfo=timezone.utc)
CHILD = ("Zoë Example", "943 476 5919")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def test_a_running_watcher_serves_health_and_metrics_and_logs_json_without_the_child(tmp_path):
    """GIVEN three stage summaries naming a child (name and NHS number) and a watcher run with --metrics-port and
    JSON logs, sending through a pickup folder WHEN it has filed them THEN /healthz answers 200 with every check ok,
    /metrics counts the messages filed, the ledger and outbox by state, the acknowledgements' latency and the
    overdue stages; every log line is JSON, each filed message's line has a correlation id, and no line names
    the child. WHEN it is stopped THEN `resdesk health` fails the watcher check."""
    inbox = tmp_path / "maildir" / "new"
    inbox.mkdir(parents=True)
    for n in range(3):
        (inbox / f"{1700000000 + n}.M{n}P1.host").write_bytes(summary(
            1, None, n=n, body_extra=f"Child: {CHILD[0]}\nNHS number: {CHILD[1]}\n"))
    port = _free_port()
    env = dict(os.environ, RESDESK_STORAGE__DATABASE=f"sqlite:///{tmp_path / 'case.sqlite3'}",
               RESDESK_STORAGE__ARCHIVE=str(tmp_path / "archive"), RESDESK_MAILBOX__KIND="maildir",
               RESDESK_MAILBOX__PATH=str(tmp_path / "maildir"), RESDESK_SMTP__PICKUP_FOLDER=str(tmp_path / "sent"),
               RESDESK_SERVICE__LOG_FORMAT="json")
    with (tmp_path / "watch.log").open("wb") as log:
        watcher = subprocess.Popen([sys.executable, "-m", "resdesk", "watch", "--metrics-port", str(port)],
                                   cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/metrics")
                # The sent rows are read from the case file, the latency is observed just after each
                # send returns: wait for both, so the scrape never falls between the two.
                if (_metric(body, 'resdesk_outbox_messages{state="sent"}') >= 3
                        and _metric(body, "resdesk_acknowledgement_latency_seconds_count") >= 3):
                    break
            except OSError:
                pass
            assert watcher.poll() is None and time.monotonic() < deadline, (tmp_path / "watch.log").read_text()
            time.sleep(0.2)
        assert _metric(body, 'resdesk_messages_filed_total{state="done"}') == 3
        assert _metric(body, 'resdesk_ledger_messages{state="done"}') == 3
        assert _metric(body, "resdesk_acknowledgement_latency_seconds_count") == 3
        assert "resdesk_overdue_stages " in body and "resdesk_last_mailbox_contact_timestamp_seconds " in body
        status, health = _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(health)["ok"] is True, health
        assert _get(f"http://127.0.0.1:{port}/elsewhere")[0] == 404
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=60) == 0
    lines = (tmp_path / "watch.log").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line is JSON
    filed = [r for r in records if "filed:" in r["message"]]
    assert len(filed) == 3 and all(r["correlation_id"].startswith("msg-") for r in filed)
    assert len({r["correlation_id"] for r in filed}) == 3
    text = "\n".join(lines)
    assert CHILD[0] not in text and CHILD[1] not in text and CHILD[1].replace(" ", "") not in text

    config = tmp_path / "resdesk.toml"
    config.write_text(f'[storage]\ndatabase = "sqlite:///{tmp_path / "case.sqlite3"}"\n')
    assert main(["health", "--config", str(config)]) == 1


def test_an_identifier_in_a_log_line_is_masked_and_carries_the_correlation_id():
    """GIVEN JSON logging WHEN a line quoting an NHS number is written while a message is in hand THEN the number
    is masked and the line carries that message's correlation id."""
    stream = StringIO()
    configure_logging("json", stream)
    token = CORRELATION_ID.set("msg-0123456789abcdef")
    try:
        logging.getLogger("resdesk.watch").error("message 7 failed: field 'NHS number' 943 476 5919 is invalid")
    finally:
        CORRELATION_ID.reset(token)
        configure_logging("text")
    record = json.loads(stream.getvalue())
    assert record["correlation_id"] == "msg-0123456789abcdef" and record["level"] == "ERROR"
    assert "943" not in record["message"] and "[identifier removed]" in record["message"]


def test_health_fails_each_check_for_its_own_reason(store):
    """GIVEN a new case file THEN the watcher and mailbox checks fail; GIVEN a live lease and a recent mailbox read
    THEN all pass; GIVEN a message due for two hours THEN the outbox check fails."""
    report = check_health(store, NOW)
    assert report["checks"]["case_file"]["ok"] and not report["checks"]["watcher"]["ok"]
    assert not report["checks"]["mailbox"]["ok"] and not report["ok"]
    with store.transaction() as tx:
        tx.session.add(Lease(name="mailbox:imap://x:INBOX", holder="host:1:1", expires_at=NOW + timedelta(seconds=60)))
        tx.session.add(Mailbox(account="imap://x", folder="INBOX", uidvalidity="1", seen_at=NOW - timedelta(minutes=1)))
    assert check_health(store, NOW)["ok"] is True
    with store.transaction() as tx:
        tx.session.add(Outbound(idempotency_key="k", message_id="<k@x>", kind="acknowledgement", recipients=["a@x"],
                                subject="s", state="pending", created_at=NOW - timedelta(hours=2)))
    report = check_health(store, NOW)
    assert not report["ok"] and "1 due for over 60 minutes" in report["checks"]["outbox"]["detail"]


def test_a_failed_sign_in_is_counted_by_provider_on_the_metrics_page(sqlite_store):
    """GIVEN the service's metrics WHEN a token request fails with a SignInError THEN
    resdesk_token_refresh_failures_total{provider} goes up by one and the error still reaches the caller."""
    import pytest
    from prometheus_client import generate_latest

    from resdesk.errors import SignInError
    from resdesk.monitoring import service_registry
    from resdesk.protocols import default_registry
    from resdesk.settings import load_settings
    from resdesk.signin.base import counted_failures

    registry = service_registry(sqlite_store, load_settings(environ={}), default_registry())
    before = _metric(generate_latest(registry).decode(), 'resdesk_token_refresh_failures_total{provider="microsoft"}')

    def refused() -> str:
        raise SignInError("The client secret was refused.", step="mailbox.client_secret")

    with pytest.raises(SignInError):
        counted_failures("microsoft", refused)
    after = _metric(generate_latest(registry).decode(), 'resdesk_token_refresh_failures_total{provider="microsoft"}')
    assert after == before + 1


def test_the_workspace_serves_health_and_metrics_beside_its_pages(sqlite_store, tmp_path):
    """GIVEN the app ``resdesk serve`` runs, on a fresh case file WHEN /healthz, /metrics and /cases are asked
    for without signing in THEN health answers JSON with its checks (503: no watcher has read the mailbox yet),
    metrics answers Prometheus text, and the workspace's own pages still send a stranger to sign in."""
    from werkzeug.test import Client

    from resdesk.commands.serve import workspace_app
    from resdesk.settings import load_settings

    settings = load_settings(None, environ={"RESDESK_STORAGE__DATABASE": str(sqlite_store.engine.url),
                                            "RESDESK_WEB__SECURE_COOKIES": "false"})
    client = Client(workspace_app(settings, sqlite_store))
    health = client.get("/healthz")
    report = json.loads(health.get_data(as_text=True))
    assert health.status_code == (200 if report["ok"] else 503) and "checks" in report
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "resdesk_" in metrics.get_data(as_text=True)
    page = client.get("/cases")
    assert page.status_code in (302, 303) and "/login" in page.headers["Location"]


def test_the_workspace_renders_under_the_settings_render_limits(sqlite_store):
    """GIVEN settings with limits.render_seconds 7 and limits.render_memory_mb 900 WHEN the app ``resdesk serve``
    runs is built THEN the shared render worker (which makes the record and report PDFs it serves) uses them."""
    from resdesk.commands.serve import workspace_app
    from resdesk.render import RenderLimits, default_pool
    from resdesk.settings import load_settings

    settings = load_settings(None, environ={"RESDESK_STORAGE__DATABASE": str(sqlite_store.engine.url),
                                            "RESDESK_LIMITS__RENDER_SECONDS": "7",
                                            "RESDESK_LIMITS__RENDER_MEMORY_MB": "900"})
    workspace_app(settings, sqlite_store)
    assert default_pool().limits == RenderLimits(7, 900)
