"""The statements that move an account's money, written once for every role that moves it
(a credit, the group commit of submit, the VIBERSMS fallback, a refusal's refund). Each runs
beside its ledger row in one transaction, so the ledger's sum is the balance."""

#: A ledger row: (account_id, amount, kind, ref, note, created).
from __future__ import annotations

LEDGER = (
    "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
#: (amount, account_id, amount): credit the account (a negative amount debits) unless its
#: balance would go below zero; its new balance, or no row.
CREDIT = (
    "UPDATE accounts SET balance = balance + %s WHERE id = %s AND balance + %s >= 0 "
    "RETURNING balance"
)
