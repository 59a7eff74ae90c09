"""The service's Prometheus metrics: counters the watcher and the tick record as they work, and gauges
read from the case file at each scrape (so every process's work counts, whichever serves ``/metrics``).

Recorded by the process doing the work (``REGISTRY``; with prometheus-client's multiprocess mode on,
as ``resdesk serve``, ``watch`` and ``tick`` turn it on, in that process's file of the shared folder, so
``/metrics`` sums every process):

``resdesk_messages_filed_total{state}``             messages the watcher filed, by ledger state
``resdesk_acknowledgement_latency_seconds``         from a message's arrival in the ledger to its
                                                    acknowledgement being sent (histogram)
``resdesk_outbound_sent_total{kind}`` / ``_failed_total{kind}``   messages sent, or given up on

Read from the case file (``CaseFileCollector``), once per scrape, never summed over processes:

``resdesk_ledger_messages{state}``                  messages in the ledger by state (``quarantined`` …)
``resdesk_outbox_messages{state}``                  outbox rows by state (pending, sent, failed, unconfirmed…)
``resdesk_overdue_stages``                          cases whose current stage is overdue (from ``overdue()``)
``resdesk_last_mailbox_contact_timestamp_seconds``  when a watcher last read a mailbox (UNIX time)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from resdesk.cases.models import Mailbox, Message, Outbound
from resdesk.cases.store import Store

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_FILED = Counter(
    "resdesk_messages_filed", "Messages the watcher filed, by ledger state.", ["state"], registry=REGISTRY
)
ACK_LATENCY = Histogram(
    "resdesk_acknowledgement_latency_seconds",
    "Seconds from a message's arrival in the ledger to its acknowledgement being sent.",
    buckets=(5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600),
    registry=REGISTRY,
)
OUTBOUND_SENT = Counter("resdesk_outbound_sent", "Messages sent, by kind.", ["kind"], registry=REGISTRY)
OUTBOUND_FAILED = Counter("resdesk_outbound_failed", "Messages given up on, by kind.", ["kind"], registry=REGISTRY)

def acknowledgement_sent(received_at: datetime | None, sent_at: datetime) -> None:
    """Record one acknowledgement's latency (both times timezone-aware)."""
    if received_at is not None:
        ACK_LATENCY.observe(max(0.0, (sent_at - received_at).total_seconds()))


class CaseFileCollector:
    """Gauges read from the case file at each scrape; ``overdue()`` counts the overdue stages."""

    def __init__(self, store: Store, overdue: Callable[[], int] | None = None):
        self.store = store
        self.overdue = overdue

    def describe(self):
        return []

    def collect(self):
        ledger = GaugeMetricFamily("resdesk_ledger_messages", "Messages in the ledger, by state.", labels=["state"])
        outbox = GaugeMetricFamily("resdesk_outbox_messages", "Outbox rows, by state.", labels=["state"])
        with self.store.transaction() as tx:
            for state, count in tx.session.execute(select(Message.state, func.count()).group_by(Message.state)):
                ledger.add_metric([state], count)
            for state, count in tx.session.execute(select(Outbound.state, func.count()).group_by(Outbound.state)):
                outbox.add_metric([state], count)
            contact = tx.session.execute(select(func.max(Mailbox.seen_at))).scalar_one()
        yield ledger
        yield outbox
        if contact is not None:
            if contact.tzinfo is None:  # an aggregate bypasses the column type
                from datetime import timezone

                contact = contact.replace(tzinfo=timezone.utc)
            yield GaugeMetricFamily("resdesk_last_mailbox_contact_timestamp_seconds",
                                    "When a watcher last read a mailbox (UNIX time).", value=contact.timestamp())
        if self.overdue is not None:
            yield GaugeMetricFamily("resdesk_overdue_stages", "Cases whose current stage is overdue.",
                                    value=self.overdue())


__all__ = ["ACK_LATENCY", "MESSAGES_FILED", "OUTBOUND_FAILED", "OUTBOUND_SENT", "REGISTRY", "CaseFileCollector",
           "acknowledgement_sent"]
