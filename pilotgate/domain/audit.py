"""The audit trail: who changed what through an operator use case, and when (UTC).

One `audit` table holds every change, money moves included (docs/decisions.md "One audit
trail"): the ledger's note stays what the customer reads, the audit row says who made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: The actor of every change made with the `pilotgate` command line.
CLI = "cli"
#: The actor of the config file's [[connector]] and [[route]] tables, applied at start.
CONFIG = "config"
#: Longest detail kept; the rest of a long reason or note is cut.
DETAIL_LENGTH = 500


def operator(email: str) -> str:
    """The actor of a change made in the console by the operator logged in as `email`."""
    return f"operator:{email}"


def customer(email: str) -> str:
    """The actor of a change a customer made to their own account in the cabinet."""
    return f"customer:{email}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    id: int
    at: datetime  # UTC
    actor: str  # "cli", "config", "operator:<email>" or "customer:<email>"
    action: str  # e.g. "account.create", "account.credit", "sender.approve"
    account_id: int | None  # the account the change concerns; None for tariffs
    detail: str  # what changed, in a few words ("+10.00 operator top-up")
