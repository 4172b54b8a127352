-- SMPP credentials (docs/smpp.md, "PilotGate as an SMSC"): the system_id a customer's system
-- binds with and the argon2 hash of its SMPP password, at most one pair per account.
CREATE TABLE smpp_credentials (
    account_id {bigint} PRIMARY KEY REFERENCES accounts(id),
    system_id TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    changed {time} NOT NULL
);
