"""Counters shared by the service processes (``service.metrics_dir``, ``resdesk.counting``): what a watcher
and a tick count is served by ``resdesk serve``'s /metrics, and the case file's gauges are served once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from resdesk.counting import counters_folder
from resdesk.settings import Settings
from tests.intake.mail import summary
from tests.resdesk.test_monitoring import _free_port, _get, _metric


def _run(args: list[str], tmp_path: Path, env: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "resdesk", *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr


def _scrape(port: int, server: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            status, body = _get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            return body
        except OSError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def test_serve_sums_the_counters_of_a_watcher_and_a_tick_and_serves_gauges_once(tmp_path):
    """GIVEN three stage summaries filed by a `resdesk watch --once` process with sending off, then a separate
    `resdesk tick` process that sends their acknowledgements, both counting into the default folder, then a
    second tick that folds the ended processes' files into one per kind
    WHEN a `resdesk serve` process is scraped THEN its /metrics counts the watcher's three messages filed and
    the tick's three acknowledgements sent and their latencies, nothing lost or doubled by the folding, and
    the outbox gauge read from the case file is one family saying three sent, not a sum over the processes."""
    inbox = tmp_path / "maildir" / "new"
    inbox.mkdir(parents=True)
    for n in range(3):
        (inbox / f"{1700000000 + n}.M{n}P1.host").write_bytes(summary(1, None, n=n))
    env = dict(os.environ, RESDESK_STORAGE__DATABASE=f"sqlite:///{tmp_path / 'case.sqlite3'}",
               RESDESK_STORAGE__ARCHIVE=str(tmp_path / "archive"), RESDESK_MAILBOX__KIND="maildir",
               RESDESK_MAILBOX__PATH=str(tmp_path / "maildir"), RESDESK_SMTP__PICKUP_FOLDER=str(tmp_path / "sent"))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    folder = tmp_path / "var" / "metrics"
    _run(["watch", "--once"], tmp_path, dict(env, RESDESK_SMTP__ENABLED="false"))
    _run(["tick"], tmp_path, env)
    assert len(list((tmp_path / "sent").glob("*.eml"))) == 3
    # The tick folded the watcher's ended files into one; its own stay until the next tick.
    assert sorted(path.name for path in folder.glob("counter_*.db"))[-1] == "counter_ended.db"
    assert len(list(folder.glob("counter_*.db"))) == 2
    _run(["tick"], tmp_path, env)  # nothing to send; folds the first tick's files
    assert [path.name for path in folder.glob("counter_*.db")] == ["counter_ended.db"]
    assert len(list(folder.glob("histogram_*.db"))) == 2  # the files folded, and this tick's own

    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        server = subprocess.Popen([sys.executable, "-m", "resdesk", "serve", "--port", str(port)],
                                  cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        body = _scrape(port, server, log)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert _metric(body, 'resdesk_messages_filed_total{state="done"}') == 3
    assert _metric(body, 'resdesk_outbound_sent_total{kind="acknowledgement"}') == 3
    assert _metric(body, "resdesk_acknowledgement_latency_seconds_count") == 3
    assert body.count("# TYPE resdesk_outbox_messages gauge") == 1
    assert _metric(body, 'resdesk_outbox_messages{state="sent"}') == 3


def test_an_empty_metrics_dir_turns_sharing_off(tmp_path):
    """GIVEN ``service.metrics_dir`` empty, or a relative folder WHEN its folder is asked for THEN none, or the
    folder made absolute (every service started in one working folder names the same one)."""
    assert counters_folder(Settings.model_validate({"service": {"metrics_dir": ""}})) is None
    assert counters_folder(Settings()) == (Path.cwd() / "var" / "metrics").resolve()


def test_folding_leaves_the_files_of_running_processes(tmp_path):
    """GIVEN counter files of this process, of a running process and of one that has ended WHEN the folder is
    folded THEN only the ended one's file goes, into ``counter_ended.db``, and the sum over the folder is kept."""
    from prometheus_client.mmap_dict import MmapedDict, mmap_key
    from prometheus_client.multiprocess import MultiProcessCollector

    from resdesk.counting import fold_ended

    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    try:
        for pid in (os.getpid(), running.pid, ended.pid):
            values = MmapedDict(str(tmp_path / f"counter_{pid}.db"))
            values.write_value(mmap_key("resdesk_outbound_sent", "resdesk_outbound_sent_total", ["kind"],
                                        ["acknowledgement"], "Messages sent, by kind."), 2.0, 0.0)
            values.close()
        assert fold_ended(tmp_path) == 1
        names = sorted(path.name for path in tmp_path.glob("*.db"))
    finally:
        running.kill()
        running.wait()
    assert names == sorted(["counter_ended.db", f"counter_{os.getpid()}.db", f"counter_{running.pid}.db"])
    [metric] = MultiProcessCollector.merge([str(path) for path in tmp_path.glob("*.db")])
    assert [sample.value for sample in metric.samples] == [6.0]
