"""The SMS-pumping defence on the send path (domain/pumping.py): the rules a submit is judged
by, and a request's own sequential numbers held before it is stored. The counters are grown
and judged by the store, in the submit's transaction (storage/sql/velocity.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pilotgate.domain import pumping
from pilotgate.domain.accounts import Account
from pilotgate.domain.messages import Draft, Status
from pilotgate.storage.base import Submitted

from .protecting import Protecting


class Holding(Protecting):
    def velocity(self, account: Account, source: str = "") -> pumping.Velocity | None:
        """What this account's submit is judged by; None when the rules are off (a submit
        then costs no counting at all)."""
        rules = self.policy.pumping
        if not rules:
            return None
        return pumping.Velocity(
            rules=rules, account_id=account.id, source=pumping.source_scope(source)
        )

    def sequences(self, drafts: list[Draft]) -> list[Draft]:
        """A request's run of sequential numbers, held (no counter needed: one request)."""
        return pumping.sequences(drafts, self.policy.pumping)

    @staticmethod
    def as_stored(drafts: Sequence[Draft], stored: Submitted) -> list[Draft]:
        """The drafts as the store kept them: those it held with status 4."""
        if not stored.held:
            return list(drafts)
        return [
            dataclasses.replace(d, status=Status.HELD) if i in stored.held else d
            for i, d in enumerate(drafts)
        ]
