-- The audit trail: who (actor 'cli' or 'operator:<email>') changed what, and when (UTC
-- microseconds). Append-only; account_id is NULL for changes of no one account (tariffs).
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    account_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_account ON audit(account_id, id);
