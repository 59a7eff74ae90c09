"""Rendering runs in a worker process that is stopped past its time limit and cannot grow past
its memory limit; the caller gets a RenderError naming the limit and the next render works."""

from __future__ import annotations

import os

import pytest

from resdesk.errors import RenderError
from resdesk.render import RefusedURL
from resdesk.render.worker import RenderLimits, RenderWorker
from tests.render.tools import qpdf_check


@pytest.fixture
def worker():
    made: list[RenderWorker] = []

    def make(**limits) -> RenderWorker:
        made.append(RenderWorker(RenderLimits(**limits)))
        return made[-1]

    yield make
    for each in made:
        each.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_render_past_its_time_limit_is_stopped_and_the_next_one_works(worker, tmp_path):
    """GIVEN a worker allowed 1 s and a document of one 100,000-character word laid out as it is
    (the shape that took WeasyPrint minutes) WHEN it renders THEN a RenderError names the time limit,
    the worker process is gone, and a normal document renders in a fresh worker."""
    renderer = worker(seconds=1.0)
    renderer.run("pdf", "<p>start</p>")
    first = renderer.pid
    with pytest.raises(RenderError, match=r"longer than 1 s .*limits.render_seconds"):
        renderer.run("pdf", "<p>" + "x" * 100_000 + "</p>")
    assert renderer.pid is None and not _alive(first)
    renderer.limits = RenderLimits(seconds=120)
    pdf = renderer.run("pdf", "<p>After the stop</p>")
    qpdf_check(pdf, tmp_path)
    assert renderer.pid not in (None, first)


def test_a_render_past_its_memory_limit_fails_without_harming_the_caller(worker, tmp_path):
    """GIVEN a worker whose address space is capped at 400 MiB and a 30 MB document WHEN it renders
    THEN a RenderError names the memory limit, and the same worker renders the next document."""
    renderer = worker(seconds=300, memory_mb=400)
    with pytest.raises(RenderError, match="limits.render_memory_mb"):
        renderer.run("pdf", "<p>" + "word " * 6_000_000 + "</p>")
    qpdf_check(renderer.run("pdf", "<p>After the refusal</p>"), tmp_path)


def test_the_worker_keeps_refusing_local_files_and_unknown_tasks(worker):
    """GIVEN a document that asks for a local file, and a task the worker does not offer WHEN run
    THEN the first is refused as RefusedURL, naming the file, the second as a RenderError."""
    renderer = worker()
    with pytest.raises(RefusedURL, match="/etc/passwd"):
        renderer.run("pdf", '<img src="file:///etc/passwd">')
    with pytest.raises(RenderError, match="no render task"):
        renderer.run("shell", "ls")


def test_a_pool_lays_out_documents_on_as_many_workers_as_its_size_and_keeps_them_started(tmp_path):
    """GIVEN a render pool of two workers WHEN three threads each render two documents at once THEN every
    document is a valid PDF of its own text, no more than two worker processes ever ran (the third thread
    waited its turn), two did run, and the same two are still running for the next render."""
    from concurrent.futures import ThreadPoolExecutor

    from resdesk.render.worker import RenderPool

    pool = RenderPool(RenderLimits(seconds=120), size=2)
    seen: set[int] = set()

    def render(n: int) -> bytes:
        pdf = pool.run("pdf", f"<p>Document {n}</p>" + "<p>line</p>" * 200)
        seen.update(pool.pids)
        return pdf

    try:
        with ThreadPoolExecutor(max_workers=3) as threads:
            pdfs = list(threads.map(render, range(6)))
        for pdf in pdfs:
            qpdf_check(pdf, tmp_path)
        assert len(seen) == 2 and set(pool.pids) == seen
        pool.run("pdf", "<p>Later</p>")
        assert set(pool.pids) == seen
    finally:
        pool.close()
    assert pool.pids == [] and not any(_alive(pid) for pid in seen)


def test_the_outbox_planning_loads_no_renderer():
    """GIVEN a process that plans and queues mail but renders nothing (a watcher with sending off)
    WHEN it imports the outbox's planning and the render package's views and snapshots THEN neither
    pypdf, docxtpl nor WeasyPrint is loaded; asking the package for a renderer loads its module then."""
    import subprocess
    import sys

    probe = (
        "import sys, resdesk.outbox.plan, resdesk.outbox.due, resdesk.outbox.acknowledgements; "
        "from resdesk.render import NoticeView, RenderLimits; "
        "heavy = lambda: [m for m in ('pypdf', 'docxtpl', 'weasyprint') if m in sys.modules]; "
        "print(','.join(heavy())); "
        "from resdesk.render import check_record; print(','.join(heavy()))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.splitlines()
    assert before == ""
    assert "pypdf" in after
