-- Retention (docs/retention.md): each account's one `carried` ledger row, found without
-- reading the account's whole ledger. Built without blocking the ledger's writers.
CREATE INDEX {concurrently} IF NOT EXISTS ledger_carried ON ledger(account_id) WHERE kind = 'carried';
