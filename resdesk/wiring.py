"""Building the running product from the settings: store, protocol, mail source, watcher."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from resdesk.settings import Settings


@dataclass
class Intake:
    """The parts of a running watcher, ready to use; ``close()`` releases them."""

    settings: Settings
    store: object
    registry: object
    protocol: object
    source: object
    watcher: object
    sender: object = None  # made at the first tick and kept, so its sign-in token is reused

    def close(self) -> None:
        try:
            self.source.close()
        finally:
            try:
                close = getattr(self.watcher.processor, "close", None)
                if close is not None:
                    close()  # its reader process
            finally:
                self.store.close()


def open_store_for(settings: Settings):
    from resdesk.cases import open_store

    database = settings.storage.database
    if database.startswith("sqlite:///") and not database.startswith("sqlite:////"):
        Path(database.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return open_store(database, settings.storage.archive)


def our_addresses(settings: Settings) -> frozenset[str]:
    """The addresses our own mail comes from: mail from them is never acknowledged."""
    addresses = {parseaddr(settings.smtp.sender)[1].lower(), settings.mailbox.username.lower()}
    return frozenset(a for a in addresses if "@" in a)


def configure_rendering(settings: Settings) -> None:
    """Render documents under the settings' limits (``limits.render_seconds``, ``render_memory_mb``)."""
    from resdesk.render.worker import RenderLimits, configure_default_pool

    limits = RenderLimits(settings.limits.render_seconds, settings.limits.render_memory_mb)
    configure_default_pool(limits)


def intake_policy(settings: Settings):
    """How the settings ask mail to be read (``intake.reading.IntakePolicy``): our addresses, the
    senders allowed, the verifier trusted, the size and content limits."""
    from resdesk.intake.limits import InboundLimits
    from resdesk.intake.process import IntakePolicy

    return IntakePolicy(
        our_addresses=our_addresses(settings),
        allowed_sender_domains=tuple(settings.partnership.allowed_sender_domains),
        authserv_id=settings.partnership.authserv_id,
        max_bytes=settings.mailbox.max_message_bytes,
        agency_domains=tuple(settings.partnership.agency_domains.items()),
        business_unit=parseaddr(settings.partnership.business_unit)[1] or None,
        limits=InboundLimits(**settings.limits.model_dump(exclude={"render_seconds", "render_memory_mb"})),
    )


def start_readers(settings: Settings, archive_root: str | Path):
    """The watcher's reader process (``intake.readers.ReaderPool``) for ``settings``, staging what it
    reads in ``archive_root``, started now: its start (about a second, mostly imports) overlaps the
    watcher's own, so a backlog found by the first drain is read from its first batch."""
    from resdesk.intake.readers import ReaderPool

    readers = ReaderPool(intake_policy(settings), archive_root=str(archive_root))
    readers.start()
    return readers


def build_processor(settings: Settings, store, *, ledger=None, clock=None, readers=None):
    """The intake processor for ``settings`` (the watcher's, and the workspace's for releasing
    quarantined mail); given ``readers`` (``start_readers``), it reads large batches in that reader
    process (the watcher's)."""
    from resdesk.intake.ledger import Ledger
    from resdesk.intake.process import IntakeProcessor
    from resdesk.protocols import default_registry

    protocol = default_registry(settings.partnership.protocols_dir).get(settings.partnership.protocol)
    policy = readers.policy if readers is not None else intake_policy(settings)
    return IntakeProcessor(store, ledger or Ledger(store), protocol, policy, clock=clock, readers=readers)


def build_intake(settings: Settings, *, store=None, source=None, worker: str | None = None, clock=None,
                 readers: bool = False) -> Intake:
    """The watcher and its parts for ``settings``; ``clock`` replaces the wall clock (the demo's fixed now);
    ``readers`` reads large batches in a reader process beside the watcher (``resdesk watch``)."""
    from resdesk.intake.ledger import Ledger
    from resdesk.intake.sources import connect_source
    from resdesk.intake.watch import Watcher
    from resdesk.protocols import default_registry

    reader_pool = None
    if readers:  # first, so the reader's start overlaps the rest of the watcher's
        reader_pool = start_readers(settings, store.archive.root if store else settings.storage.archive)
    try:
        configure_rendering(settings)
        registry = default_registry(settings.partnership.protocols_dir)
        protocol = registry.get(settings.partnership.protocol)
        store = store or open_store_for(settings)
        source = source or connect_source(settings.mailbox)
        ledger = Ledger(store)
        processor = build_processor(settings, store, ledger=ledger, clock=clock, readers=reader_pool)
        watcher = Watcher(
            source,
            store,
            processor,
            processed_folder=settings.mailbox.processed_folder,
            quarantine_folder=settings.mailbox.quarantine_folder,
            max_bytes=settings.mailbox.max_message_bytes,
            ledger=ledger,
            worker=worker,
        )
    except BaseException:
        if reader_pool is not None:
            reader_pool.close()  # not left running until the interpreter exits
        raise
    return Intake(settings, store, registry, protocol, source, watcher)


def tick(intake: Intake, now, case_ids=None) -> object:
    """Plan, queue and send what the case file owes now (``resdesk tick``'s work), through the
    pickup folder or the SMTP server the settings name; ``case_ids`` limits the planning to
    those cases (what a drain touched), sending stays whole."""
    from resdesk.outbox.dispatch import default_sender, run_tick

    if intake.sender is None:
        intake.sender = default_sender(intake.settings)
    return run_tick(intake.store, intake.settings, intake.registry, now, intake.sender, case_ids=case_ids)
