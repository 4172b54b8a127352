-- The audit trail: who (actor 'cli' or 'operator:<email>') changed what, and when.
-- Append-only; account_id is NULL for changes of no one account (tariffs).
CREATE TABLE audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    account_id bigint,
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX audit_account ON audit(account_id, id);
