"""Prometheus metrics of this process, and the queue gauges read from the database at scrape
time (so those are the same whichever process answers `/metrics`).

Counters are per process: with `serve --workers N` each scrape sees the process that answered
it; the queue gauges are global because they come from the database.
"""

from __future__ import annotations

import functools

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from pilotgate.storage.base import QueueStats

REGISTRY = CollectorRegistry(auto_describe=True)

API_REQUESTS = Counter(
    "pilotgate_api_requests",
    "API requests by command and result (ok, or the error code).",
    ["command", "result"],
    registry=REGISTRY,
)
MESSAGES_ACCEPTED = Counter(
    "pilotgate_messages_accepted",
    "Messages stored by send, by channel and initial status.",
    ["channel", "status"],
    registry=REGISTRY,
)
HANDOVERS = Counter(
    "pilotgate_handovers",
    "Messages handed to a connector.",
    ["connector"],
    registry=REGISTRY,
)
CALLBACKS = Counter(
    "pilotgate_callbacks",
    "Callback attempts by outcome (acknowledged, retry, given_up).",
    ["outcome"],
    registry=REGISTRY,
)
PRUNED = Counter(
    "pilotgate_pruned",
    "Rows removed by retention: messages, inbound, ledger (folded into carried rows).",
    ["kind"],
    registry=REGISTRY,
)
REFUSALS = Counter(
    "pilotgate_refusals",
    "Messages a connector refused, for good (final) or for now (retry).",
    ["connector", "kind"],
    registry=REGISTRY,
)
RECEIPTS = Counter(
    "pilotgate_receipts",
    "Final part receipts from links: matched to a message, or kept until one is known.",
    ["connector", "result"],
    registry=REGISTRY,
)
INBOUND = Counter(
    "pilotgate_inbound",
    "Inbound SMS from links: stored, or dropped for an unknown destination number.",
    ["connector", "result"],
    registry=REGISTRY,
)
DEBUG_MAIL = Counter(
    "pilotgate_debug_mail",
    "Debug mails (debug=): sent, failed, or not sent (bad_address, rate_limited, backlog).",
    ["result"],
    registry=REGISTRY,
)
LINK_BOUND = Gauge(
    "pilotgate_link_bound",
    "1 while this process holds the link and it is bound.",
    ["connector"],
    registry=REGISTRY,
)
QUEUE = Gauge(
    "pilotgate_queue_messages",
    "Messages not yet final, by status (0 accepted, 1 handed over, 3 scheduled, 4 held).",
    ["status"],
    registry=REGISTRY,
)
OLDEST_DUE = Gauge(
    "pilotgate_queue_oldest_due_seconds",
    "Age of the oldest accepted message that is due and not yet handed over.",
    registry=REGISTRY,
)
RATE_REFUSALS = Counter(
    "pilotgate_rate_refusals",
    "API requests refused for their account's requests per second (223, HTTP 429).",
    registry=REGISTRY,
)
SHAPED = Counter(
    "pilotgate_shaped_messages",
    "Claimed messages put back in the queue for their account's messages per second.",
    registry=REGISTRY,
)
HANDOVER_UNKNOWN = Counter(
    "pilotgate_handover_unknown",
    "Messages this process ended as hand-over unknown (-1, 606) after a worker died.",
    registry=REGISTRY,
)
IN_DOUBT = Gauge(
    "pilotgate_messages_in_doubt",
    "Messages claimed by a worker whose lease ran out before it recorded the hand-over; "
    "they end as hand-over unknown (-1, 606) after handover_unknown_after.",
    registry=REGISTRY,
)
UNKNOWN_TOTAL = Gauge(
    "pilotgate_messages_handover_unknown",
    "Messages that ended as hand-over unknown (-1, 606), all processes, ever.",
    registry=REGISTRY,
)
HELD = Gauge(
    "pilotgate_held_messages",
    "Messages held as suspected SMS pumping (status 4), waiting for the operator to release "
    "or reject them (console: Held; `pilotgate held list`).",
    registry=REGISTRY,
)
HELD_ALERTS = Counter(
    "pilotgate_held_alerts",
    "Operator callbacks for held traffic (pumping_alert_url): sent, failed, or skipped "
    "(the account's quiet time, a full backlog).",
    ["result"],
    registry=REGISTRY,
)
CALLBACK_BACKLOG = Gauge(
    "pilotgate_callback_backlog",
    "Callback jobs not yet acknowledged or given up (all, and those already due).",
    ["due"],
    registry=REGISTRY,
)

SMPP_BINDS = Gauge(
    "pilotgate_smpp_binds",
    "Customers' SMPP binds live on this process, by bind type.",
    ["bind"],
    registry=REGISTRY,
)
SMPP_WINDOW = Gauge(
    "pilotgate_smpp_window_used",
    "Requests in flight across the customers' SMPP binds on this process (their windows in use).",
    registry=REGISTRY,
)
SMPP_SENDS = Counter(
    "pilotgate_smpp_sends",
    "submit_sm and submit_multi taken from customers' SMPP binds on this process (past the "
    "window and the rate); its rate() is the msgs/s the console shows per bind.",
    registry=REGISTRY,
)
SMPP_DELIVERIES = Counter(
    "pilotgate_smpp_deliveries",
    "deliver_sm to customers' binds (receipt or inbound) by result: answered (status 0), "
    "refused (an error answer or none: retried), expired (dropped past smpp_receipt_validity).",
    ["result"],
    registry=REGISTRY,
)
SMPP_BIND_REFUSALS = Counter(
    "pilotgate_smpp_bind_refusals",
    "Customers' SMPP binds refused on this process, by reason: password (wrong password, "
    "unknown system_id, locked out), account (blocked, address not allowed, busy), binds "
    "(past the account's concurrent binds or not counted).",
    ["reason"],
    registry=REGISTRY,
)
SMPP_WAITING = Gauge(
    "pilotgate_smpp_deliveries_waiting",
    "Receipts and inbound SMS waiting for a customer's receiving SMPP bind, all processes.",
    registry=REGISTRY,
)


@functools.lru_cache(maxsize=1024)
def counter(metric: Counter, *values: str) -> Counter:
    """`metric.labels(*values)`, looked up once: `labels()` checks and joins the values
    under a lock on every call, which the hot path paid up to three times a single send
    (~2 µs, docs/performance.md, "Fourth pass"). The child is the one `labels()` returns;
    nothing here ever removes one."""
    return metric.labels(*values)


def exposition(stats: QueueStats, smpp_waiting: int = 0) -> bytes:
    """The text exposition format, with the queue gauges set from `stats`."""
    SMPP_WAITING.set(smpp_waiting)
    QUEUE.labels("0").set(stats.accepted)
    QUEUE.labels("1").set(stats.handed_over)
    QUEUE.labels("3").set(stats.scheduled)
    QUEUE.labels("4").set(stats.held)
    HELD.set(stats.held)
    OLDEST_DUE.set(stats.oldest_due_seconds)
    CALLBACK_BACKLOG.labels("all").set(stats.callbacks_pending)
    CALLBACK_BACKLOG.labels("due").set(stats.callbacks_due)
    IN_DOUBT.set(stats.in_doubt)
    UNKNOWN_TOTAL.set(stats.handover_unknown)
    return generate_latest(REGISTRY)
