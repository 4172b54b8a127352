-- SMPP limits per account (docs/smpp.md "Limits"): the account's own ceiling on concurrent
-- binds and on messages per second; NULL = the operator's default (smpp_max_binds,
-- smpp_mps).
ALTER TABLE smpp_credentials ADD COLUMN max_binds {bigint};
ALTER TABLE smpp_credentials ADD COLUMN mps {bigint};

-- One row a bound session, held by the process (`owner`) that serves it and renewed by it
-- while the session lives; a row whose `until` has passed belongs to a process that died and
-- counts no more. Counted per account under its row lock, so the ceiling holds across
-- processes and nodes on one database.
CREATE TABLE smpp_binds (
    id {serial} PRIMARY KEY,
    account_id {bigint} NOT NULL REFERENCES accounts(id),
    owner TEXT NOT NULL,
    until {time} NOT NULL
);
CREATE INDEX smpp_binds_account ON smpp_binds(account_id, until);
CREATE INDEX smpp_binds_owner ON smpp_binds(owner);
