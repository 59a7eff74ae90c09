"""``resdesk watch [--config FILE] [--once [--now WHEN]]``: run the mail watcher."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="run the mail watcher",
        description="Watch the shared mailbox: record every message exactly once, file it, and keep each "
        "case's timeline. With --once, drain what is there and exit.",
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--once", action="store_true", help="drain the mailbox and exit")
    parser.add_argument("--json", action="store_true", help="print what was handled as one JSON document")
    parser.add_argument("--now", metavar="WHEN",
                        help="with --once: drain as if it were this time (ISO 8601, local time unless a zone is "
                        "given): the time given to mail without a usable Date, and the time the stage clock and "
                        "the outbox count at (default: now)")
    parser.add_argument("--metrics-port", metavar="PORT", type=int,
                        help="serve /healthz and /metrics (Prometheus) on this port while watching")
    parser.add_argument("--metrics-host", metavar="HOST", default="127.0.0.1",
                        help="the address to serve them on (default 127.0.0.1)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import faulthandler
    import signal
    import threading

    from resdesk.counting import share_counters
    from resdesk.settings import load_settings

    settings = load_settings(args.config)
    share_counters(settings)  # before the intake is imported: it makes the counters

    from resdesk.logs import configure_logging
    from resdesk.output import print_json
    from resdesk.progress import ProgressBar
    from resdesk.wiring import build_intake

    clock = _fixed_clock(args)
    configure_logging(settings.service.log_format)  # our own progress; libraries only when they warn
    intake = build_intake(settings, readers=True, clock=clock)
    try:
        monitoring = _serve_metrics(intake, args)
    except BaseException:
        intake.close()  # its reader process too
        raise
    threading.Thread(target=_remove_stale_temporary_files, args=(intake.store.archive,), daemon=True,
                     name="resdesk-archive-sweep").start()
    stop = threading.Event()

    def on_stop(signum, frame) -> None:
        """SIGTERM or Ctrl-C: finish the message in hand, then stop and release the lease. Only a
        wait for new mail is interrupted; a transaction never is."""
        stop.set()
        if intake.watcher.waiting:
            raise KeyboardInterrupt

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` writes every thread's stack to stderr
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    bar = ProgressBar("draining")
    after_batch, after_drain = _tick_after_drain(intake, clock)
    try:
        report = intake.watcher.run(
            once=args.once,
            stop=stop,
            progress=bar,
            after_drain=after_drain,
            after_batch=after_batch,
            wait_seconds=min(settings.mailbox.idle_seconds, 60.0),
        )
    except KeyboardInterrupt:
        return 0
    finally:
        bar.finish()
        if monitoring is not None:
            monitoring.shutdown()
        intake.close()
    summary = {
        "seen": report.seen,
        "filed": report.filed,
        "moved_late": report.moved_late,
        "uidvalidity_changed": report.uidvalidity_changed,
        "drain_seconds": round(report.seconds, 3),  # from each snapshot to its last move, added up
    }
    if args.json:
        print_json(summary)
    else:
        filed = ", ".join(f"{count} {state}" for state, count in report.filed.items() if count) or "nothing new"
        print(f"resdesk: handled {report.seen} message(s): {filed}.")
    return 0


def _remove_stale_temporary_files(archive) -> None:
    """Beside the watcher, once at its start: the temporary files a watcher killed mid-batch left in
    the archive (``Archive.remove_stale_temporary_files``), logged if there were any."""
    import logging

    removed = archive.remove_stale_temporary_files()
    if removed:
        logging.getLogger("resdesk.watch").info(
            "removed %d temporary file(s) a stopped watcher had left in the archive", removed)


def _fixed_clock(args):
    """The clock ``--now`` sets, or None for the wall clock; ``UsageError`` without ``--once`` (a
    watcher that keeps running cannot stay at one moment)."""
    if args.now is None:
        return None
    from resdesk.errors import UsageError
    from resdesk.protocols import parse_when

    if not args.once:
        raise UsageError("--now needs --once: a watcher that keeps running counts at the time it is.")
    now = parse_when(args.now, what="--now time")
    return lambda: now


def _serve_metrics(intake, args):
    """/healthz and /metrics from this process, when --metrics-port is given."""
    if args.metrics_port is None:
        return None
    from resdesk.monitoring import monitoring_app, serve_monitoring

    try:
        return serve_monitoring(monitoring_app(intake.store, intake.settings, intake.registry),
                                args.metrics_port, args.metrics_host)
    except OSError as exc:
        from resdesk.errors import UsageError

        intake.close()
        raise UsageError(f"The metrics port {args.metrics_host}:{args.metrics_port} cannot be used "
                         f"({exc.strerror}).") from None


def _tick_after_drain(intake, clock=None):
    """(after each batch, after each drain): send what the case file now owes. The cases each fetch
    batch touched are planned as soon as it is recorded (acknowledgements, notices), so a backlog's
    first messages are answered before its last are read; after the drain, the whole case file every five minutes (reminders and
    overdue alerts, whose time comes without any mail), a page at a time with a look at the
    mailbox between pages: new mail stops the pass until it is drained and acknowledged, then the
    pass goes on where it stopped (``outbox.sweep``). ``clock`` gives the time the outbox plans at
    (default: the wall clock); what a batch touched is always found by the wall clock."""
    if not intake.settings.smtp.enabled:
        return None, None
    from datetime import datetime, timezone

    from resdesk.errors import IntakeError
    from resdesk.outbox.dispatch import touched_since
    from resdesk.outbox.sweep import WholeFileSweep
    from resdesk.wiring import tick

    def wall() -> datetime:
        return datetime.now(timezone.utc)

    planning_time = clock or wall
    state = {"since": wall()}
    sweep = WholeFileSweep(intake.store)

    def touched(report=None, *, always: bool = False) -> None:
        since = wall()
        case_ids = touched_since(intake.store, state["since"])
        if case_ids or always:  # after a batch that touched no case there is nothing to plan
            tick(intake, planning_time(), case_ids=case_ids)
        state["since"] = since

    def after(report) -> None:
        touched(always=True)
        while (page := sweep.next_page()) is not None:
            tick(intake, planning_time(), case_ids=page)
            try:
                if intake.watcher.source.wait(0):
                    return  # mail came: drain and acknowledge it, then carry on with the pass
            except IntakeError:
                return  # the mailbox is out of reach: the next drain reports it and retries

    return touched, after
