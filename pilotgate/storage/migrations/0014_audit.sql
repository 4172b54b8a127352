-- The audit trail: who (actor 'cli' or 'operator:<email>') changed what, and when.
-- Append-only; account_id is NULL for changes of no one account (tariffs).
CREATE TABLE audit (
    id {serial} PRIMARY KEY,
    at {time} NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    account_id {bigint},
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_account ON audit(account_id, id);
