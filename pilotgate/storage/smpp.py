"""The records of what the SMPP server needs from storage: credentials and limits
(`SmppStore`, storage/sql/smpp.py; migrations 0017_smpp and 0019_smpp_limits) and the live
binds; the deliver_sm owed to binds are `SmppDeliveryStore`'s (storage/sql/smpp_deliveries.py;
0018)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppCredentials:
    account_id: int
    system_id: str
    password_hash: str
    changed: datetime
    #: The account's own limits (None: the operator's default).
    max_binds: int | None = None
    mps: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppBindSeen:
    """A live bound session as the console shows it (migration 0026_smpp_seen)."""

    id: int
    account_id: int
    #: The process serving it (host:pid:random).
    owner: str
    #: transmitter, receiver or transceiver; "" for a row an older node wrote.
    bind_type: str
    address: str
    since: datetime | None
    #: Requests in flight and thousandths of a message per second, as of the last renewal.
    window_used: int
    mps_milli: int
