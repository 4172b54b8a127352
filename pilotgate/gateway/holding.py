"""The SMS-pumping defence on the send path (domain/pumping.py): the rules a submit is judged
by, and a request's own sequential numbers held before it is stored. The counters are grown
and judged by the store, in the submit's transaction (storage/sql/velocity.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from pilotgate.domain import pumping
from pilotgate.domain.accounts import Account
from pilotgate.domain.messages import Draft, Status
from pilotgate.domain.tally import Recall
from pilotgate.storage.base import Submitted

from .protecting import Protecting

#: Tells the operator's system of a send's held messages: (account id, their server_ids).
HeldAlert = Callable[[int, Sequence[int]], object]


#: The most `Velocity` a gateway keeps (accounts × addresses seen lately).
_VELOCITIES = 10_000


class Holding(Protecting):
    #: Set by bootstrap when `pumping_alert_url` is (pipeline/held_alerts.py); None: the
    #: operator learns of held traffic from the console and /metrics only.
    held_alert: HeldAlert | None = None
    #: What this process knows of the counters, to spare statements (domain/tally.py);
    #: made with the first judged submit.
    pumping_recall: Recall | None = None
    #: The judged submits' `Velocity` by account and address (a frozen dataclass costs
    #: µs to build, every send); forgotten whole when it grows past `_VELOCITIES`.
    _velocities: dict[tuple[int, str], pumping.Velocity] | None = None

    def velocity(self, account: Account, source: str = "") -> pumping.Velocity | None:
        """What this account's submit is judged by; None when the rules are off (a submit
        then costs no counting at all)."""
        rules = self.policy.pumping
        if not rules:
            return None
        if self.pumping_recall is None or self._velocities is None:
            self.pumping_recall, self._velocities = Recall(), {}
        key = (account.id, source)
        found = self._velocities.get(key)
        if found is None or found.rules is not rules:
            if len(self._velocities) >= _VELOCITIES:
                self._velocities.clear()
            found = self._velocities[key] = pumping.Velocity(
                rules=rules,
                account_id=account.id,
                source=pumping.source_scope(source),
                recall=self.pumping_recall,
            )
        return found

    def sequences(self, drafts: list[Draft]) -> list[Draft]:
        """A request's run of sequential numbers, held (no counter needed: one request)."""
        return pumping.sequences(drafts, self.policy.pumping)

    def as_stored(
        self, account: Account, drafts: Sequence[Draft], stored: Submitted
    ) -> list[Draft]:
        """The drafts as the store kept them: those it held with status 4 (and the operator
        alerted of them)."""
        if not stored.held:
            return list(drafts)
        if self.held_alert is not None:
            self.held_alert(account.id, [stored.server_ids[i] for i in sorted(stored.held)])
        return [
            dataclasses.replace(d, status=Status.HELD) if i in stored.held else d
            for i, d in enumerate(drafts)
        ]
